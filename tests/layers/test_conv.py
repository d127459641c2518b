"""The oneDNN convolutions (layers/onednn.py) against Paddle's own conv2d, and the dispatch of layers/conv.py."""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from ppcls_repro.layers import conv, onednn
from ppcls_repro.registry import MODELS
from tests.test_registry_contract import TINY_MODELS

pytestmark = pytest.mark.skipif(not onednn.available(), reason="the Paddle wheel's libdnnl.so.3 did not load")

# (input NCHW, weight OIHW, stride, padding, bias): the shapes of this project's models and odd ones.
PROBLEMS = [
    ((4, 64, 20, 20), (64, 64, 3, 3), 1, 1, True),   # DnCNN's middle layers
    ((4, 1, 33, 33), (64, 1, 9, 9), 1, 0, True),     # SRCNN f1 (one input channel)
    ((4, 64, 25, 25), (32, 64, 1, 1), 1, 0, True),   # SRCNN f2 (1x1)
    ((4, 32, 25, 25), (1, 32, 5, 5), 1, 0, True),    # SRCNN f3 (one output channel)
    ((8, 16, 32, 32), (32, 16, 3, 3), 2, 1, False),  # a ResNet stage's first convolution
    ((8, 16, 32, 32), (32, 16, 1, 1), 2, 0, False),  # a projection shortcut
    ((2, 3, 64, 64), (64, 3, 7, 7), 2, 3, False),    # the ImageNet stem
    ((3, 5, 11, 13), (7, 5, 3, 3), 1, 1, True),      # sizes no kernel blocks evenly
]


def _run(problem, fast: bool, grad_out: np.ndarray | None = None):
    x_shape, w_shape, stride, padding, has_bias = problem
    rng = np.random.default_rng(0)
    x = paddle.to_tensor(rng.standard_normal(x_shape).astype("float32"), stop_gradient=False)
    w = paddle.to_tensor(0.1 * rng.standard_normal(w_shape).astype("float32"), stop_gradient=False)
    b = paddle.to_tensor(rng.standard_normal(w_shape[0]).astype("float32"), stop_gradient=False) if has_bias else None
    if fast:
        y = onednn.conv2d(x, w, b, (stride, stride), (padding, padding))
    else:
        y = F.conv2d(x, w, b, stride=stride, padding=padding)
    if grad_out is None:
        grad_out = rng.standard_normal(y.shape).astype("float32")
    (y * paddle.to_tensor(grad_out)).sum().backward()
    grads = [x.grad.numpy(), w.grad.numpy()] + ([b.grad.numpy()] if has_bias else [])
    return y.numpy(), grads, grad_out


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: f"{p[0]}x{p[1]}s{p[2]}p{p[3]}")
def test_values_and_gradients_equal_paddles_conv2d(problem):
    y_plain, grads_plain, grad_out = _run(problem, fast=False)
    y_fast, grads_fast, _ = _run(problem, fast=True, grad_out=grad_out)
    assert y_fast.shape == y_plain.shape
    for fast, plain in zip([y_fast, *grads_fast], [y_plain, *grads_plain]):
        # float32 sums in another order: relative to the tensor's largest value
        assert np.abs(fast - plain).max() <= 1e-5 * np.abs(plain).max()


def test_the_same_inputs_give_the_same_bits():
    first, second = _run(PROBLEMS[0], fast=True), _run(PROBLEMS[0], fast=True)
    for a, b in zip([first[0], *first[1]], [second[0], *second[1]]):
        assert np.array_equal(a, b)


def test_an_input_without_gradient_gets_none_and_weights_still_learn():
    x = paddle.rand([2, 1, 12, 12])  # stop_gradient: the first layer's input
    w = paddle.create_parameter([4, 1, 3, 3], "float32")
    onednn.conv2d(x, w, None, (1, 1), (1, 1)).sum().backward()
    assert x.grad is None
    expected = [F.unfold(x, 3, paddings=1).numpy().sum(axis=(0, 2))] * 4  # dL/dw = sum of every patch
    np.testing.assert_allclose(w.grad.numpy().reshape(4, 9), expected, rtol=1e-5)


def test_a_non_contiguous_input_is_read_correctly():
    x = paddle.rand([2, 8, 8, 3]).transpose([0, 3, 1, 2])
    w = paddle.rand([4, 3, 3, 3])
    np.testing.assert_allclose(conv.conv2d(x, w, None, 1, 1).numpy(), F.conv2d(x, w, padding=1).numpy(),
                               rtol=1e-5, atol=1e-5)


def _calls(monkeypatch) -> list:
    calls = []
    real = onednn.conv2d
    monkeypatch.setattr(onednn, "conv2d", lambda *args: calls.append(args[3:]) or real(*args))
    return calls


def test_conv2d_layer_dispatches_only_what_onednn_computes(monkeypatch):
    calls = _calls(monkeypatch)
    x = paddle.rand([1, 4, 9, 9])
    for layer in (conv.Conv2D(4, 4, 3, padding=1, stride=2), conv.Conv2D(4, 4, 3, padding=1, groups=2),
                  conv.Conv2D(4, 4, 3, padding=2, dilation=2), conv.Conv2D(4, 4, 3, padding=1, padding_mode="reflect"),
                  conv.Conv2D(4, 4, 3, padding=[0, 1, 1, 0])):
        plain = paddle.nn.Conv2D(4, 4, 3, padding=layer._padding, stride=layer._stride, groups=layer._groups,
                                 dilation=layer._dilation, padding_mode=layer._padding_mode)
        plain.set_state_dict(layer.state_dict())
        np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-6)
        assert list(layer.state_dict()) == list(plain.state_dict())
    assert calls == [((2, 2), (1, 1))]  # groups, dilation, reflect and per-side padding: Paddle's op


def test_the_switch_and_static_graphs_take_paddles_op(monkeypatch):
    calls = _calls(monkeypatch)
    layer, x = conv.Conv2D(2, 3, 3, padding=1), paddle.rand([1, 2, 6, 6])
    expected = layer(x).numpy()
    assert len(calls) == 1
    onednn.set_enabled(False)
    try:
        np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    finally:
        onednn.set_enabled(True)
    static = paddle.jit.to_static(layer, input_spec=[paddle.static.InputSpec([None, 2, 6, 6], "float32")],
                                  full_graph=True)
    np.testing.assert_allclose(static(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert len(calls) == 1  # neither the switched-off call nor the traced program used oneDNN


@pytest.mark.parametrize("name", ["SRCNN", "FSRCNN", "DnCNN", "CifarResNet", "ResNet", "HybridSN"])
def test_every_convolutional_model_trains_the_same_on_both_paths(name, monkeypatch):
    calls = _calls(monkeypatch)
    paddle.seed(0)
    model = MODELS.build({"name": name, **TINY_MODELS[name]}, name)
    model.eval()  # BatchNorm on running statistics: batch statistics of 2 samples amplify float noise
    shape = {"HybridSN": [2, 1, 15, 9, 9], "ResNet": [2, 3, 64, 64], "CifarResNet": [2, 3, 16, 16]}.get(name, [2, 1, 16, 16])
    x = paddle.to_tensor(np.random.default_rng(0).random(shape).astype("float32"))
    results = []
    for enabled in (False, True):
        onednn.set_enabled(enabled)
        try:
            out = model(x)
            out.square().mean().backward()
        finally:
            onednn.set_enabled(True)
        grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters() if p.grad is not None}
        model.clear_gradients()
        results.append((out.numpy(), grads))
    (out_plain, grads_plain), (out_fast, grads_fast) = results
    assert calls, f"{name} never reached the oneDNN convolution"
    np.testing.assert_allclose(out_fast, out_plain, rtol=1e-4, atol=1e-5)
    assert grads_fast.keys() == grads_plain.keys()
    for key in grads_plain:
        scale = max(np.abs(grads_plain[key]).max(), 1e-8)
        assert np.abs(grads_fast[key] - grads_plain[key]).max() <= 1e-3 * scale, key


# (input, IOHW weight, stride, padding, output_padding, bias): FSRCNN's x3/x2/x4 deconvolutions and an odd one.
TRANSPOSED = [
    ((4, 56, 7, 7), (56, 1, 9, 9), 3, 3, 0, True),
    ((4, 56, 10, 10), (56, 1, 9, 9), 2, 4, 1, True),
    ((4, 56, 6, 6), (56, 1, 9, 9), 4, 3, 1, False),
    ((2, 5, 4, 5), (5, 3, 3, 3), 2, 1, 1, True),
]


def _gradients(forward, inputs: list[np.ndarray], grad_seed: int = 1):
    tensors = [paddle.to_tensor(a, stop_gradient=False) for a in inputs]
    y = forward(*tensors)
    grad = np.random.default_rng(grad_seed).standard_normal(y.shape).astype("float32")
    (y * paddle.to_tensor(grad)).sum().backward()
    return [y.numpy()] + [t.grad.numpy() for t in tensors]


def _assert_close(fast: list[np.ndarray], plain: list[np.ndarray], tolerance: float = 1e-5) -> None:
    for f, p in zip(fast, plain):
        assert f.shape == p.shape
        assert np.abs(f - p).max() <= tolerance * np.abs(p).max()


@pytest.mark.parametrize("problem", TRANSPOSED, ids=lambda p: f"{p[0]}s{p[2]}p{p[3]}o{p[4]}")
def test_transposed_convolution_equals_paddles(problem):
    x_shape, w_shape, stride, padding, extra, has_bias = problem
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(x_shape).astype("float32"), 0.1 * rng.standard_normal(w_shape).astype("float32")]
    if has_bias:
        inputs.append(rng.standard_normal(w_shape[1]).astype("float32"))

    def plain(x, w, b=None):
        return F.conv2d_transpose(x, w, b, stride=stride, padding=padding, output_padding=extra)

    def fast(x, w, b=None):
        return onednn.conv2d_transpose(x, w, b, (stride, stride), (padding, padding), (extra, extra))
    _assert_close(_gradients(fast, inputs), _gradients(plain, inputs))


def test_prelu_values_and_input_gradient_are_bitwise_and_slopes_close():
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((6, 5, 4, 7)).astype("float32"), rng.random(5).astype("float32")]
    fast, plain = _gradients(onednn.prelu, inputs), _gradients(F.prelu, inputs)
    assert np.array_equal(fast[0], plain[0]) and np.array_equal(fast[1], plain[1])
    _assert_close(fast[2:], plain[2:])


def test_prelu_layer_takes_onednn_only_per_channel(monkeypatch):
    calls = []
    real = onednn.prelu
    monkeypatch.setattr(onednn, "prelu", lambda *args: calls.append(args[0].shape) or real(*args))
    x = paddle.randn([2, 4, 3, 3])
    per_channel, single = conv.PReLU(4, init=0.1), conv.PReLU(1, init=0.1)
    np.testing.assert_array_equal(per_channel(x).numpy(), F.prelu(x, per_channel._weight).numpy())
    np.testing.assert_array_equal(single(x).numpy(), F.prelu(x, single._weight).numpy())
    assert calls == [[2, 4, 3, 3]]
    assert list(per_channel.state_dict()) == list(paddle.nn.PReLU(4).state_dict())


def test_transposed_padding_paddle_pads_more_than_onednn_can_takes_paddles_op(monkeypatch):
    calls = _calls(monkeypatch)
    monkeypatch.setattr(onednn, "conv2d_transpose", lambda *args: calls.append("transposed"))
    x, w = paddle.rand([1, 2, 4, 4]), paddle.rand([2, 3, 3, 3])
    out = conv.conv2d_transpose(x, w, None, stride=2, padding=0, output_padding=1)  # after-padding -1
    np.testing.assert_allclose(out.numpy(), F.conv2d_transpose(x, w, stride=2, output_padding=1).numpy(), rtol=1e-6)
    assert calls == []


def test_library_objects_are_freed_with_their_owner(monkeypatch):
    lib = onednn._library()
    destroyed = []
    for name in ("dnnl_memory_desc_destroy", "dnnl_memory_destroy", "dnnl_primitive_destroy",
                 "dnnl_primitive_desc_destroy"):
        real = getattr(lib.lib, name)
        monkeypatch.setattr(lib.lib, name, lambda handle, real=real, name=name: destroyed.append(
            (name, handle.value)) or real(handle))
    problem = onednn.Problem((1, 2, 5, 5), (3, 2, 3, 3), (1, 1), (1, 1), (1, 1), True)
    convolution = onednn._Convolution(lib, problem)
    owned = [(name, handle.value) for name, handle in convolution.owned]
    layouts = [convolution.src, convolution.dst]
    layout_owned = [(name, h.value) for layout in layouts for name, h in layout.owned]
    assert {name for name, _ in owned} == {"dnnl_memory_desc_destroy", "dnnl_memory_destroy",
                                           "dnnl_primitive_destroy", "dnnl_primitive_desc_destroy"}
    del convolution, layouts
    assert set(owned) | set(layout_owned) <= set(destroyed)  # everything the two kinds of owner made
    assert len(destroyed) == len(set(destroyed))  # and each once


def test_primitives_are_built_per_thread_count():
    x, w = paddle.rand([1, 3, 7, 7]), paddle.rand([2, 3, 3, 3])
    onednn._convolution.cache_clear()
    try:
        for threads in (1, 2, 1):
            paddle.base.core.set_num_threads(threads)
            onednn.conv2d(x, w, None, (1, 1), (1, 1))
        info = onednn._convolution.cache_info()
        assert (info.misses, info.hits) == (2, 1)
    finally:
        paddle.base.core.set_num_threads(1)


def test_relu_and_its_gradient_are_bitwise_paddles_and_zero_passes_no_gradient():
    x_np = np.random.default_rng(0).standard_normal((3, 4, 5, 6)).astype("float32")
    x_np[0, 0, 0, :3] = 0.0
    results = []
    for fast in (True, False):
        x = paddle.to_tensor(x_np, stop_gradient=False)
        y = onednn.relu(x) if fast else F.relu(x)
        (y * paddle.to_tensor(np.arange(x_np.size, dtype="float32").reshape(x_np.shape))).sum().backward()
        results.append((y.numpy(), x.grad.numpy()))
    for fast, plain in zip(*results):
        assert np.array_equal(fast, plain)
    assert not results[0][1][0, 0, 0, :3].any()
    assert isinstance(conv.ReLU(), paddle.nn.ReLU)


def test_frozen_weights_get_no_gradient_and_the_input_still_does():
    x = paddle.rand([2, 3, 6, 6])
    x.stop_gradient = False
    layer = conv.Conv2D(3, 4, 3, padding=1)
    layer.weight.stop_gradient = layer.bias.stop_gradient = True
    layer(x).sum().backward()
    assert layer.weight.grad is None and layer.bias.grad is None
    expected = F.conv2d_transpose(paddle.ones([2, 4, 6, 6]), layer.weight, padding=1)
    np.testing.assert_allclose(x.grad.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
