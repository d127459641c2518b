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
    conv.set_onednn(False)
    try:
        np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    finally:
        conv.set_onednn(True)
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
        conv.set_onednn(enabled)
        try:
            out = model(x)
            out.square().mean().backward()
        finally:
            conv.set_onednn(True)
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
