"""BatchNorm2D for this project's models: oneDNN on CPU in dygraph (``layers/onednn.py``), Paddle's op elsewhere.

Why: Paddle's CPU batch-norm kernels run on one thread; with the convolutions on oneDNN they were
42% of ResNet-20's op time at 2 threads (README, Speed). Same parameters, buffers and state dict as
``paddle.nn.BatchNorm2D``, the same running-statistics update (biased batch variance).
"""
from __future__ import annotations

import paddle
from paddle import nn

from ppcls_repro.layers import onednn


class BatchNorm2D(nn.BatchNorm2D):
    """``paddle.nn.BatchNorm2D`` whose dygraph CPU forward is oneDNN's for NCHW float32 input."""

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        plain = (self._data_format == "NCHW" and len(x.shape) == 4 and self._use_global_stats is None
                 and self.weight is not None and self.bias is not None)
        if plain and onednn.applies(x, self.weight):
            return onednn.batch_norm(x, self.weight, self.bias, self._mean, self._variance, self._momentum,
                                     self._epsilon, self.training)
        return super().forward(x)
