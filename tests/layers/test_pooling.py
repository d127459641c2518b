import numpy as np
import paddle
import pytest

from ppcls_repro.layers.pooling import global_average_pool, subsample


@pytest.mark.parametrize("shape, stride", [((3, 4, 8, 8), 2), ((2, 3, 7, 9), 2), ((2, 2, 9, 9), 3)])
def test_subsample_and_its_gradient_equal_the_strided_slice(shape, stride):
    x_np = np.random.default_rng(0).standard_normal(shape).astype("float32")
    results = []
    for fast in (True, False):
        x = paddle.to_tensor(x_np, stop_gradient=False)
        y = subsample(x, stride) if fast else x[:, :, ::stride, ::stride]
        w = paddle.to_tensor(np.arange(np.prod(y.shape), dtype="float32").reshape(y.shape))
        (y * w).sum().backward()
        results.append((y.numpy(), x.grad.numpy()))
    for fast, plain in zip(*results):
        assert np.array_equal(fast, plain)  # copies only: bit for bit


def test_global_average_pool_and_its_gradient():
    x_np = np.random.default_rng(1).standard_normal((4, 3, 5, 6)).astype("float32")
    x = paddle.to_tensor(x_np, stop_gradient=False)
    y = global_average_pool(x)
    np.testing.assert_allclose(y.numpy(), x_np.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    (y * paddle.to_tensor(np.arange(12, dtype="float32").reshape(4, 3))).sum().backward()
    expected = np.broadcast_to(np.arange(12, dtype="float32").reshape(4, 3, 1, 1) / 30, x_np.shape)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
