"""DnCNN: Zhang, Zuo, Chen, Meng, Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep CNN
for Image Denoising", IEEE TIP 26(7), 2017 (https://arxiv.org/abs/1608.03981). Sections used:

- III-A (network depth) and III-B (architecture), Fig. 1: ``depth`` convolutional layers, 3x3 with
  64 channels: Conv+ReLU, (depth - 2) x [Conv+BN+ReLU], Conv to ``in_channels``. Zero padding keeps
  every feature map the input's size. DnCNN-S: depth 17; DnCNN-B (blind): depth 20.
- III-B residual learning: the net R predicts the noise v = y - x and the denoised image is
  ``y - R(y)`` (``residual=True``). ``residual=False`` is the plain net of Fig. 2 (the output is the
  estimate of x directly), the paper's ablation.
- IV-A: initialisation and batch normalisation follow the authors' code. We follow the official
  PyTorch training code (cszn/DnCNN, TrainingCodes/dncnn_pytorch/main_train.py), which reproduced the
  paper (BSD68 sigma 25: 29.24 dB vs 29.23): every conv weight ``orthogonal_`` (gain 1, the kernel
  flattened to out x in*k*k), the first conv's bias 0, the later convs without bias (BN follows, or
  the output), BN weight 1 and bias 0, ``BatchNorm2d(eps=1e-4, momentum=0.95)``.

BN momentum. PyTorch updates ``running = (1 - m) * running + m * batch``; Paddle updates
``running = m * running + (1 - m) * batch``. The official m = 0.95 (PyTorch: the running statistics
are almost the last batch's) is therefore Paddle's ``bn_momentum=0.05`` (the default here).

Values are in [0, 1] (gray / 255); the noise is never clipped. Deviations: none in the network.
``init="kaiming"`` (He normal, the paper's own reference [29] for deep ReLU nets) is offered and
labelled as a deviation where used.
"""
from __future__ import annotations

from typing import Literal

import paddle
import paddle.nn as nn

from ppcls_repro.layers.conv import Conv2D, ReLU
from ppcls_repro.registry import MODELS, Positive
from ppcls_repro.utils.spec import ExportSpec


@MODELS.register
class DnCNN(nn.Layer):
    """DnCNN with ``depth`` conv layers; ``residual`` subtracts the predicted noise from the input.

    Args:
        depth: number of 3x3 conv layers, >= 3 (DnCNN-S: 17, DnCNN-B: 20). Default: 17.
        channels: channels of the hidden layers. Default: 64.
        in_channels: image channels (1 for gray). Default: 1.
        residual: return the input minus the net's output (residual learning); False returns the output
            itself (the plain net, the paper's ablation). Default: True.
        init: conv weights orthogonal ("orthogonal", the official code) or He normal ("kaiming", a
            deviation); the first conv's bias 0. Default: "orthogonal".
        bn_momentum: BN momentum in [0, 1), Paddle's convention (0.05 = PyTorch's 0.95 of the official
            code). Default: 0.05.
        bn_epsilon: BN epsilon, > 0. Default: 1e-4.
        final_bias: give the last conv a bias (the authors' MatConvNet models, whose BN is merged into
            biased convolutions, have one); the training code's last conv has none. Default: False.
    """

    def __init__(self, depth: Positive = 17, channels: Positive = 64, in_channels: Positive = 1, residual: bool = True,
                 init: Literal["orthogonal", "kaiming"] = "orthogonal", bn_momentum: float = 0.05,
                 bn_epsilon: float = 1e-4, final_bias: bool = False) -> None:
        super().__init__()
        if depth < 3:
            raise ValueError(f"DnCNN depth must be >= 3 (first, middle and last layers), got {depth}")
        if not 0.0 <= bn_momentum < 1.0 or bn_epsilon <= 0.0:
            raise ValueError(f"DnCNN BN settings: momentum in [0, 1) (Paddle's convention), epsilon > 0; "
                             f"got momentum={bn_momentum}, epsilon={bn_epsilon}")
        self.depth = depth
        self.in_channels = in_channels
        self.residual = residual
        layers: list[nn.Layer] = [_conv(in_channels, channels, init, bias=True), ReLU()]
        for _ in range(depth - 2):
            layers += [_conv(channels, channels, init, bias=False),
                       nn.BatchNorm2D(channels, momentum=bn_momentum, epsilon=bn_epsilon),
                       ReLU()]
        layers.append(_conv(channels, in_channels, init, bias=final_bias))
        self.body = nn.Sequential(*layers)

    @property
    def halo(self) -> int:
        """Receptive radius: each 3x3 layer sees one more pixel on every side."""
        return self.depth

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.body(x)
        return x - out if self.residual else out

    def export_spec(self) -> ExportSpec:
        """Exported in eval mode (BN uses its running statistics); batch, height and width dynamic.
        The net takes the noisy image in [0, 1] and returns the denoised one; a pixel depends on
        input pixels within ``halo`` of it, so tiles overlapping by ``halo`` equal the whole image."""
        return ExportSpec(
            inputs=[paddle.static.InputSpec([None, self.in_channels, None, None], "float32", "image")],
            pipeline={"name": "Denoise", "channels": self.in_channels, "halo": self.halo,
                      "value_range": [0.0, 1.0]})


def _conv(cin: int, cout: int, init: str, bias: bool) -> Conv2D:
    weight = nn.initializer.Orthogonal() if init == "orthogonal" else nn.initializer.KaimingNormal()
    return Conv2D(cin, cout, 3, padding=1, weight_attr=paddle.ParamAttr(initializer=weight),
                     bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)) if bias else False)
