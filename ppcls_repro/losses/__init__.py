"""Losses, registered by name; each is a ``paddle.nn.Layer`` called as ``loss(pred, target)``."""
from __future__ import annotations

from typing import Literal

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.registry import LOSSES


@LOSSES.register
class MSELoss(nn.Layer):
    """Mean squared error (the SR papers' loss; they average over pixels and samples).

    Args:
        reduction: "mean" (average over every element of the batch) or "sum" (their sum). Default: "mean".
    """

    def __init__(self, reduction: Literal["mean", "sum"] = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, pred: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
        return F.mse_loss(pred, target, reduction=self.reduction)


@LOSSES.register
class CrossEntropyLoss(nn.Layer):
    """Cross entropy on logits (log-softmax is applied here, never in the model).

    Args:
        label_smoothing: label-smoothing epsilon, in [0, 1]; 0 is the plain cross entropy. Default: 0.0.
    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        return F.cross_entropy(logits, label.reshape([-1]).astype("int64"),
                               label_smoothing=self.label_smoothing)
