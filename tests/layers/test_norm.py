"""BatchNorm2D on oneDNN (layers/norm.py) against Paddle's: outputs, gradients and running statistics."""
from __future__ import annotations

import numpy as np
import paddle
import pytest

from ppcls_repro.layers import onednn
from ppcls_repro.layers.norm import BatchNorm2D

pytestmark = pytest.mark.skipif(not onednn.available(), reason="the Paddle wheel's libdnnl.so.3 did not load")


def _run(fast: bool, training: bool, shape=(8, 16, 10, 10), steps: int = 2):
    rng = np.random.default_rng(0)
    bn = BatchNorm2D(shape[1], momentum=0.95, epsilon=1e-4)
    bn.weight.set_value(rng.random(shape[1]).astype("float32") + 0.5)
    bn.bias.set_value(rng.standard_normal(shape[1]).astype("float32"))
    bn.train() if training else bn.eval()
    onednn.set_enabled(fast)
    try:
        outputs = []
        for _ in range(steps):  # the second step normalises with the first's running update in place
            x = paddle.to_tensor((rng.standard_normal(shape) * 2 + 1).astype("float32"), stop_gradient=False)
            y = bn(x)
            (y * paddle.to_tensor(rng.standard_normal(shape).astype("float32"))).sum().backward()
            outputs += [y.numpy(), x.grad.numpy()]
        return outputs + [bn.weight.grad.numpy(), bn.bias.grad.numpy(), bn._mean.numpy(), bn._variance.numpy()]
    finally:
        onednn.set_enabled(True)


@pytest.mark.parametrize("training", [True, False], ids=["batch statistics", "running statistics"])
def test_outputs_gradients_and_running_statistics_equal_paddles(training):
    for fast, plain in zip(_run(True, training), _run(False, training)):
        assert np.abs(fast - plain).max() <= 1e-5 * np.abs(plain).max()


def test_the_running_update_is_paddles_with_the_biased_variance():
    bn = BatchNorm2D(3, momentum=0.9)
    x = np.random.default_rng(1).standard_normal((4, 3, 5, 5)).astype("float32") * 2 + 1
    bn(paddle.to_tensor(x))
    np.testing.assert_allclose(bn._mean.numpy(), 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(bn._variance.numpy(), 0.9 + 0.1 * x.var(axis=(0, 2, 3)), rtol=1e-5)


def test_other_settings_take_paddles_op(monkeypatch):
    calls = []
    monkeypatch.setattr(onednn, "batch_norm", lambda *args: calls.append(args))
    x = paddle.rand([2, 3, 4, 4])
    frozen = BatchNorm2D(3, use_global_stats=True)
    frozen(x)
    BatchNorm2D(3, data_format="NHWC")(x.transpose([0, 2, 3, 1]))
    assert calls == []
    assert list(BatchNorm2D(3).state_dict()) == list(paddle.nn.BatchNorm2D(3).state_dict())
