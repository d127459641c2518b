"""DSCMR's objective (Zhen et al., CVPR 2019, section 3): J = J1 + alpha * J2 + beta * J3.

With U, V the common-space features of n paired images and texts, P^T U, P^T V their label-space
predictions and Y the one-hot labels:

- J1, discrimination in the label space: ``mean_i ||P^T u_i - y_i||_2 + mean_i ||P^T v_i - y_i||_2``.
- J2, discrimination in the common space, the negative log-likelihood of the label similarities
  S_ij = y_i . y_j under p(S_ij = 1) = sigmoid(Gamma_ij) with Gamma_ij = cos(a_i, b_j) / 2:
  ``mean_ij [log(1 + exp(Gamma_ij)) - S_ij Gamma_ij]`` summed over the image-image, image-text and
  text-text pairs of the batch (every ordered pair, i = j included).
- J3, modality invariance: ``mean_i ||u_i - v_i||_2``.

Normalisation. The paper writes J1 as (1/n)||P^T U - Y||_F and J3 as (1/n)||U - V||_F. The official
code (penghu-cs/DSCMR, ``train_model.calc_loss``), which produced the paper's numbers, computes
instead the mean over samples of the per-sample (row) L2 norm, not squared:
``((pred - label) ** 2).sum(1).sqrt().mean()`` and ``((u - v) ** 2).sum(1).sqrt().mean()``. We follow
the official code, as alpha = 1e-3 and beta = 1e-1 were tuned for that scale; for a batch of one the
two agree. J2 averages over all n x n pairs in both. The cosine denominator is clamped at 1e-6 as in
the official code, so an all-zero feature gives Gamma = 0 instead of NaN.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.registry import LOSSES


def one_hot(labels: paddle.Tensor, num_classes: int) -> paddle.Tensor:
    """Class indices [N] (or [N, 1]) -> float one-hot [N, num_classes]."""
    return F.one_hot(labels.reshape([-1]).astype("int64"), num_classes).astype("float32")


def row_norm_mean(diff: paddle.Tensor) -> paddle.Tensor:
    """Mean over rows of each row's Euclidean norm (the official code's normalisation)."""
    return paddle.sqrt((diff * diff).sum(axis=1)).mean()


def label_space_loss(pred_img: paddle.Tensor, pred_txt: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
    """J1: label-space distance of both modalities' predictions to the one-hot labels ``target``."""
    return row_norm_mean(pred_img - target) + row_norm_mean(pred_txt - target)


def half_cosine(a: paddle.Tensor, b: paddle.Tensor) -> paddle.Tensor:
    """Gamma_ij = cos(a_i, b_j) / 2, the norm product clamped at 1e-6."""
    norms = paddle.sqrt((a * a).sum(axis=1, keepdim=True)) @ paddle.sqrt((b * b).sum(axis=1, keepdim=True)).T
    return (a @ b.T) / paddle.clip(norms, min=1e-6) / 2.0


def pair_nll(a: paddle.Tensor, b: paddle.Tensor, sim: paddle.Tensor) -> paddle.Tensor:
    """Mean over all (i, j) of log(1 + exp(Gamma_ij)) - S_ij * Gamma_ij."""
    gamma = half_cosine(a, b)
    return (F.softplus(gamma) - sim * gamma).mean()


def common_space_loss(u: paddle.Tensor, v: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
    """J2: pairwise label-similarity NLL over image-image, image-text and text-text pairs."""
    sim = target @ target.T
    return pair_nll(u, u, sim) + pair_nll(u, v, sim) + pair_nll(v, v, sim)


def modality_invariance_loss(u: paddle.Tensor, v: paddle.Tensor) -> paddle.Tensor:
    """J3: distance between the common-space features of each image and its paired text."""
    return row_norm_mean(u - v)


@LOSSES.register
class DSCMRLoss(nn.Layer):
    """J1 + alpha J2 + beta J3, called on the model's outputs and the class indices of the pairs.

    Returns a dict with the total ``loss`` (what is minimised) and ``j1``, ``j2``, ``j3`` for the log.

    Args:
        alpha: weight of J2 (common-space discrimination), >= 0; the paper's / official code's 1e-3.
            Default: 1e-3.
        beta: weight of J3 (modality invariance), >= 0; the paper's / official code's 1e-1. Default: 1e-1.
    """

    def __init__(self, alpha: float = 1e-3, beta: float = 1e-1) -> None:
        super().__init__()
        if alpha < 0 or beta < 0:
            raise ValueError(f"DSCMRLoss alpha and beta must be non-negative, got {alpha}, {beta}")
        self.alpha = alpha
        self.beta = beta

    def forward(self, u: paddle.Tensor, v: paddle.Tensor, pred_img: paddle.Tensor, pred_txt: paddle.Tensor,
                labels: paddle.Tensor) -> dict[str, paddle.Tensor]:
        target = one_hot(labels, pred_img.shape[1])
        j1 = label_space_loss(pred_img, pred_txt, target)
        j2 = common_space_loss(u, v, target)
        j3 = modality_invariance_loss(u, v)
        return {"loss": j1 + self.alpha * j2 + self.beta * j3, "j1": j1, "j2": j2, "j3": j3}
