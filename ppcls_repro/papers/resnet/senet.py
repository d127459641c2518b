"""SENet: Hu, Shen, Albanie, Sun, Wu, "Squeeze-and-Excitation Networks", CVPR 2018 (TPAMI 2019),
https://arxiv.org/abs/1709.01507.

SE-ResNets for both families, built from the ResNet blocks of ``resnet.py`` with the SE
block of ``layers/se.py`` on every residual branch, after its last BN and before the addition
with the shortcut (Section 4, Fig. 3 "SE-ResNet module"). Everything else is the ResNet of the
same depth, so SE-ResNet-50 differs from ResNet-50 only by the SE blocks (28.09M vs 25.56M
parameters; the paper's Section 4 gives ~28.1M).

Sections used (TPAMI version): 3 (the SE block, Eq. 2-4), 4 (integration into ResNet, Fig. 3;
model complexity), 5 (implementation: r = 16), 6.1 (ImageNet, Table 2; the CIFAR-10/100
experiments with ResNet-110/164), 7.1 (the reduction-ratio ablation).

Choices and deviations:
- ``SEResNet`` defaults to ``stride_in_1x1=True`` like the authors' released Caffe models (the
  original ResNet block); ``False`` gives the torchvision/PaddleClas "V1.5" variant.
- CIFAR: the paper states no other r for its CIFAR experiments than the r = 16 used throughout,
  and ``SECifarResNet`` keeps 16 by default. On the 16/32/64-channel CIFAR blocks that leaves 1/2/4 hidden units; several
  reimplementations use r = 4 or 8 there instead. ``reduction`` is a config key
  (``-o Arch.reduction=8``); configs/se_resnet110_cifar10.yaml uses the paper's 16.
- The CIFAR SE-ResNet-164 (bottleneck CIFAR nets) is not built here: only the basic-block CIFAR
  family of the ResNet paper is (SE-ResNet-110 against ResNet-110 is the CIFAR-10 comparison of the SENet paper).
"""
from __future__ import annotations

from typing import Literal

from ppcls_repro.papers.resnet.resnet import CifarResNet, ResNet
from ppcls_repro.registry import MODELS, Positive


@MODELS.register
class SEResNet(ResNet):
    """SE-ResNet-18/34/50/101/152 for ImageNet; ``reduction`` is the paper's r.

    Args:
        depth: number of layers: 18 or 34 (basic blocks), 50, 101 or 152 (bottlenecks). Default: 50.
        num_classes: number of classes (the size of the logits). Default: 1000.
        in_channels: channels of the input images (3 for RGB). Default: 3.
        reduction: SE reduction ratio r, >= 1 (the paper's 16); an SE block's hidden width is
            ``channels // r``, at least 1. Default: 16.
        stride_in_1x1: True puts a downsampling bottleneck's stride 2 in its first 1x1 convolution (the
            authors' Caffe models), False in its 3x3 convolution ("V1.5"); ignored by 18/34. Default: True.
        groups: groups of every bottleneck's 3x3 convolution (ResNeXt-style); must stay 1 for 18/34. Default: 1.
        width_per_group: width of one 3x3 group in the first stage, doubling per stage (bottleneck width is
            groups x that); must stay 64 for 18/34. Default: 64.
    """

    def __init__(self, depth: Literal[18, 34, 50, 101, 152] = 50, num_classes: Positive = 1000,
                 in_channels: Positive = 3, reduction: Positive = 16, stride_in_1x1: bool = True,
                 groups: Positive = 1, width_per_group: Positive = 64) -> None:
        super().__init__(depth=depth, num_classes=num_classes, in_channels=in_channels,
                         stride_in_1x1=stride_in_1x1, groups=groups, width_per_group=width_per_group,
                         se_reduction=reduction)


@MODELS.register
class SECifarResNet(CifarResNet):
    """SE-ResNet with 6n+2 layers for CIFAR (SE-ResNet-110 in Table 4), option A shortcuts.

    Args:
        depth: number of layers, 6n+2 with n >= 1 basic blocks per stage (110: SE-ResNet-110). Default: 110.
        num_classes: number of classes (the size of the logits). Default: 10.
        in_channels: channels of the input images (3 for CIFAR, 1 for MNIST). Default: 3.
        reduction: SE reduction ratio r, >= 1 (the paper's 16); the hidden width is ``channels // r``, at
            least 1 (1/2/4 units in the 16/32/64-channel stages at r = 16). Default: 16.
        shortcut: "A" (identity, subsampled and zero-padded in channels; the ResNet paper's for CIFAR) or "B"
            (1x1 projection + BN where the shape changes). Default: "A".
    """

    def __init__(self, depth: Positive = 110, num_classes: Positive = 10, in_channels: Positive = 3,
                 reduction: Positive = 16, shortcut: Literal["A", "B"] = "A") -> None:
        super().__init__(depth=depth, num_classes=num_classes, in_channels=in_channels,
                         shortcut=shortcut, se_reduction=reduction)
