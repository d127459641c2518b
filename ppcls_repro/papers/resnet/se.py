"""The squeeze-and-excitation block (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018,
https://arxiv.org/abs/1709.01507), shared by every SE variant (SE-ResNet here; SE-ResNeXt,
SE-Inception would reuse it unchanged).

Section 3 / Fig. 3 of the paper: squeeze by global average pooling (Eq. 2), excite with
FC(C -> C/r) -> ReLU -> FC(C/r -> C) -> sigmoid (Eq. 3), then rescale each channel (Eq. 4).
The FC layers have biases, as in the authors' released Caffe models; with them SE-ResNet-50 has
28.09M parameters (the paper, Section 4: ~28.1M).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.layers.pooling import global_average_pool


class SqueezeExcitation(nn.Layer):
    """Channel attention for an NCHW tensor; ``reduction`` is the paper's ratio r (16 there).

    The hidden width is ``channels // reduction``, at least 1 (a 16-channel CIFAR block with
    r = 16 keeps a single hidden unit: that is what the paper's setting gives, not a bug).
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        if reduction < 1:
            raise ValueError(f"SE reduction must be >= 1, got {reduction}")
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        squeezed = global_average_pool(x)  # Eq. 2: global average pooling, [N, C]
        excited = F.sigmoid(self.fc2(F.relu(self.fc1(squeezed))))  # Eq. 3
        return x * excited.unsqueeze([2, 3])  # Eq. 4: channel-wise rescaling
