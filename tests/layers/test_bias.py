import numpy as np
import paddle

from ppcls_repro.layers.bias import add_channel_bias


def test_gradients_equal_the_broadcast_add():
    x_np = np.random.default_rng(0).standard_normal((3, 4, 5, 6)).astype("float32")
    b_np = np.random.default_rng(1).standard_normal(4).astype("float32")
    w = paddle.to_tensor(np.random.default_rng(2).standard_normal((3, 4, 5, 6)).astype("float32"))
    grads = []
    for fast in (True, False):
        x = paddle.to_tensor(x_np, stop_gradient=False)
        b = paddle.to_tensor(b_np, stop_gradient=False)
        out = add_channel_bias(x, b) if fast else x + b.reshape([1, -1, 1, 1])
        (out * w).sum().backward()
        grads.append((out.numpy(), x.grad.numpy(), b.grad.numpy()))
    assert np.array_equal(grads[0][0], grads[1][0])  # the same float sums, bit for bit
    for fast, plain in zip(*grads):
        np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads[0][2], w.numpy().sum(axis=(0, 2, 3)), rtol=1e-5)


def test_no_bias_is_identity():
    x = paddle.ones([1, 2, 3, 3])
    assert add_channel_bias(x, None) is x
