"""DnCNN's loss (Zhang et al., TIP 2017, eq. (1)): l = 1/(2N) sum_i ||R(y_i) - (y_i - x_i)||_F^2.

The official PyTorch training code (cszn/DnCNN, ``main_train.py``, class ``sum_squared_error``)
computes ``mse_loss(reduction='sum') / 2`` over the batch, i.e. eq. (1) *without* the 1/N (the
batch is 128): the gradient of each pixel is simply (output - target). With Adam the constant
scale barely matters (Adam divides it out, up to its epsilon), but we keep the official value so
the logged loss and Adam's epsilon act as in the code that produced the paper's numbers.
With residual learning the model returns y - R(y), so ``output - clean`` equals R(y) - (y - x).
"""
from __future__ import annotations

from typing import Literal

import paddle
import paddle.nn as nn

from ppcls_repro.registry import LOSSES


@LOSSES.register
class SumSquaredErrorLoss(nn.Layer):
    """``sum((pred - target)^2) / 2`` (``per_sample: mean`` divides by the batch size, eq. (1)).

    Args:
        per_sample: "sum" sums over the batch (the official code, no 1/N); "mean" divides by the batch
            size (eq. (1)). Default: "sum".
    """

    def __init__(self, per_sample: Literal["sum", "mean"] = "sum") -> None:
        super().__init__()
        self.per_sample = per_sample

    def forward(self, pred: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
        loss = 0.5 * paddle.sum(paddle.square(pred - target))
        return loss / pred.shape[0] if self.per_sample == "mean" else loss
