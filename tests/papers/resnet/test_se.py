"""The squeeze-and-excitation block against a numpy transcription of Eq. 2-4."""
import numpy as np
import paddle
import pytest

from ppcls_repro.papers.resnet.se import SqueezeExcitation


def test_se_block_matches_equations_2_to_4():
    paddle.seed(3)
    se = SqueezeExcitation(12, reduction=4)
    x = paddle.randn([2, 12, 5, 7])
    z = x.numpy().mean(axis=(2, 3))  # squeeze
    w1, b1, w2, b2 = (p.numpy() for p in (se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias))
    s = 1 / (1 + np.exp(-(np.maximum(z @ w1 + b1, 0) @ w2 + b2)))  # excitation
    np.testing.assert_allclose(se(x).numpy(), x.numpy() * s[:, :, None, None], rtol=1e-5, atol=1e-6)
    assert se.fc1.weight.shape == [12, 3]


def test_se_rejects_a_zero_reduction():
    with pytest.raises(ValueError, match="reduction"):
        SqueezeExcitation(8, reduction=0)
