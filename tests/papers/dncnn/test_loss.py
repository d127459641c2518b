"""DnCNN's loss (losses/dncnn.py): the official sum of squared errors / 2, gradient = output - target."""
import numpy as np
import paddle
import pytest

from ppcls_repro.papers.dncnn.loss import SumSquaredErrorLoss


def test_sum_of_squared_error_over_two_and_its_gradient():
    rng = np.random.default_rng(0)
    pred_np, target_np = rng.random((3, 1, 5, 5)), rng.random((3, 1, 5, 5))
    pred = paddle.to_tensor(pred_np.astype("float32"), stop_gradient=False)
    loss = SumSquaredErrorLoss()(pred, paddle.to_tensor(target_np.astype("float32")))
    assert float(loss) == pytest.approx(0.5 * ((pred_np - target_np) ** 2).sum(), rel=1e-5)
    loss.backward()
    np.testing.assert_allclose(pred.grad.numpy(), pred_np - target_np, atol=1e-6)


def test_mean_per_sample_is_eq_1_of_the_paper():
    pred, target = paddle.ones([4, 1, 2, 2]), paddle.zeros([4, 1, 2, 2])
    assert float(SumSquaredErrorLoss(per_sample="mean")(pred, target)) == pytest.approx(2.0)
