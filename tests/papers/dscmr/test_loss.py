"""DSCMR's J1, J2, J3 and their sum against direct NumPy computations on a small batch."""
import math

import numpy as np
import paddle
import pytest

from ppcls_repro.papers.dscmr.loss import (DSCMRLoss, common_space_loss, half_cosine, label_space_loss,
                                      modality_invariance_loss, one_hot)

N, D, C = 5, 7, 3
LABELS = np.array([0, 2, 1, 2, 0])


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    arrays = {"u": rng.standard_normal((N, D)), "v": rng.standard_normal((N, D)),
              "p_img": rng.standard_normal((N, C)), "p_txt": rng.standard_normal((N, C))}
    return {k: a.astype(np.float32) for k, a in arrays.items()}


def tensors(batch):
    return {k: paddle.to_tensor(a) for k, a in batch.items()}


def onehot_np():
    return np.eye(C)[LABELS]


def j1_np(p_img, p_txt, y):
    # one loop per sample: the Euclidean distance of each prediction to its one-hot label, averaged
    return (sum(math.dist(p_img[i], y[i]) for i in range(N)) / N
            + sum(math.dist(p_txt[i], y[i]) for i in range(N)) / N)


def j2_np(u, v, y):
    def nll(a, b):
        total = 0.0
        for i in range(N):
            for j in range(N):
                gamma = float(a[i] @ b[j]) / (np.linalg.norm(a[i]) * np.linalg.norm(b[j])) / 2
                same = float(LABELS[i] == LABELS[j])
                total += math.log(1 + math.exp(gamma)) - same * gamma
        return total / (N * N)
    return nll(u, u) + nll(u, v) + nll(v, v)


def j3_np(u, v):
    return sum(math.dist(u[i], v[i]) for i in range(N)) / N


def test_one_hot_from_indices():
    np.testing.assert_array_equal(one_hot(paddle.to_tensor(LABELS), C).numpy(), onehot_np())
    assert one_hot(paddle.to_tensor(LABELS[:, None]), C).shape == [N, C]


def test_j1_matches_numpy(batch):
    t = tensors(batch)
    got = float(label_space_loss(t["p_img"], t["p_txt"], paddle.to_tensor(onehot_np(), dtype="float32")))
    assert got == pytest.approx(j1_np(batch["p_img"], batch["p_txt"], onehot_np()), rel=1e-5)


def test_j1_is_zero_for_perfect_predictions():
    y = paddle.to_tensor(onehot_np(), dtype="float32")
    assert float(label_space_loss(y, y, y)) == 0.0


def test_j2_matches_numpy(batch):
    t = tensors(batch)
    got = float(common_space_loss(t["u"], t["v"], paddle.to_tensor(onehot_np(), dtype="float32")))
    assert got == pytest.approx(j2_np(batch["u"], batch["v"], onehot_np()), rel=1e-5)


def test_half_cosine_is_half_the_cosine_and_safe_on_zero_vectors(batch):
    gamma = half_cosine(paddle.to_tensor(batch["u"]), paddle.to_tensor(batch["v"])).numpy()
    u, v = batch["u"], batch["v"]
    expected = (u @ v.T) / np.outer(np.linalg.norm(u, axis=1), np.linalg.norm(v, axis=1)) / 2
    np.testing.assert_allclose(gamma, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(gamma).max() <= 0.5 + 1e-6
    zero = half_cosine(paddle.zeros([2, D]), paddle.to_tensor(u)).numpy()
    assert np.all(zero == 0.0)


def test_j2_prefers_features_that_agree_with_labels():
    # features equal to the one-hot labels (same class: cos 1, other class: cos 0) beat flipped ones
    y = paddle.to_tensor(onehot_np(), dtype="float32")
    assert float(common_space_loss(y, y, y)) < float(common_space_loss(y, 1.0 - y, y))


def test_j3_matches_numpy(batch):
    t = tensors(batch)
    got = float(modality_invariance_loss(t["u"], t["v"]))
    assert got == pytest.approx(j3_np(batch["u"], batch["v"]), rel=1e-5)


def test_composite_is_j1_plus_alpha_j2_plus_beta_j3(batch):
    t = tensors(batch)
    terms = DSCMRLoss(alpha=1e-3, beta=1e-1)(t["u"], t["v"], t["p_img"], t["p_txt"], paddle.to_tensor(LABELS))
    y = onehot_np()
    j1 = j1_np(batch["p_img"], batch["p_txt"], y)
    j2, j3 = j2_np(batch["u"], batch["v"], y), j3_np(batch["u"], batch["v"])
    assert float(terms["j1"]) == pytest.approx(j1, rel=1e-5)
    assert float(terms["j2"]) == pytest.approx(j2, rel=1e-5)
    assert float(terms["j3"]) == pytest.approx(j3, rel=1e-5)
    assert float(terms["loss"]) == pytest.approx(j1 + 1e-3 * j2 + 1e-1 * j3, rel=1e-5)


def test_composite_backpropagates_into_every_input(batch):
    t = {k: paddle.to_tensor(a, stop_gradient=False) for k, a in batch.items()}
    DSCMRLoss()(t["u"], t["v"], t["p_img"], t["p_txt"], paddle.to_tensor(LABELS))["loss"].backward()
    for name, tensor in t.items():
        assert tensor.grad is not None and float(paddle.abs(tensor.grad).sum()) > 0, name


def test_negative_weights_are_refused():
    with pytest.raises(ValueError, match="alpha and beta must be non-negative"):
        DSCMRLoss(alpha=-1.0)
