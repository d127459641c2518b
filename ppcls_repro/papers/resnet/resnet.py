"""ResNet: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
https://arxiv.org/abs/1512.03385.

Two families, both registered and built by name from ``Arch``:
- ``ResNet(depth=18|34|50|101|152)``: the ImageNet networks of Table 1. A 7x7/2 convolution and a
  3x3/2 max-pool, four stages of 64/128/256/512 base channels (strides 1, 2, 2, 2), global
  average pooling and a fully connected layer. 18/34 stack basic blocks (two 3x3 convolutions);
  50/101/152 stack bottleneck blocks (1x1, 3x3, 1x1 with 4x expansion, Fig. 5 right).
  Shortcuts are option B (Section 3.3 / 4.1): identity, and a 1x1 projection + BN where the shape
  changes.
- ``CifarResNet(depth=6n+2)``: the CIFAR-10 networks of Section 4.2: a 3x3 convolution with 16
  filters, three stages of n basic blocks with 16/32/64 filters on 32x32/16x16/8x8 maps (the
  first block of stages 2 and 3 has stride 2), global average pooling, a fully connected layer.
  Shortcuts are option A: identity, subsampled and zero-padded in channels where the shape
  changes, so shortcuts have no parameters (20/32/44/56/110 layers: 0.27M/0.46M/0.66M/0.85M/1.7M).

Sections used: 3.2 (identity shortcuts, projections), 3.3 (architectures, option A/B), 3.4
(batch normalization after every convolution and before the activation, He initialisation, no
dropout), 4.1 (Table 1, bottlenecks), 4.2 (the CIFAR architecture and option A).

The models return logits (no softmax): the loss applies log-softmax, and export may append a
softmax for inference. The SE variants of SENet (``senet.py``) reuse these blocks with
``se_reduction`` set; the plain ResNets leave it ``None``.

Choices and deviations (each a constructor argument whose default is the paper's net):
- ``stride_in_1x1=True`` (ImageNet bottlenecks) is the paper's block: the first 1x1 convolution
  of a downsampling bottleneck has stride 2 (this is what Table 1's 3.8/7.6/11.3 GFLOPs count).
  ``False`` puts the stride in the 3x3 convolution, the torchvision / PaddleClas "ResNet V1.5"
  block (more FLOPs: 4.1/7.8/11.5 G, ~0.5% better top-1). Parameter counts are identical.
- ``groups`` and ``width_per_group`` give ResNeXt-style grouped bottlenecks (Xie et al. 2017,
  not in this paper); the defaults 1 and 64 are the paper's bottleneck.
- ``in_channels`` lets the CIFAR nets read 1-channel images (MNIST); the paper uses 3.
- Option A zero channels are appended after the identity channels, as in the authors'
  group's Torch code (fb.resnet.torch, shortcutType 'A'); which channels are zero does not
  change the function class.
- Initialisation: convolutions use He et al. 2015's normal init with fan-in (the paper cites
  [13] without saying which fan); BN starts at gamma 1, beta 0; the paper does not state the
  FC initialisation, so Paddle's default (Xavier-uniform weights, zero bias) is used.
"""
from __future__ import annotations

from typing import Literal

import paddle
import paddle.nn as nn

from ppcls_repro.layers.conv import Conv2D, relu
from ppcls_repro.layers.pooling import global_average_pool, subsample
from ppcls_repro.papers.resnet.se import SqueezeExcitation
from ppcls_repro.registry import MODELS, Positive
from ppcls_repro.utils.spec import ExportSpec, WithSoftmax


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> Conv2D:
    """3x3 convolution, padding 1, no bias (a BN follows every convolution)."""
    return Conv2D(in_channels, out_channels, 3, stride=stride, padding=1, groups=groups,
                     weight_attr=_he_init(), bias_attr=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> Conv2D:
    return Conv2D(in_channels, out_channels, 1, stride=stride, weight_attr=_he_init(), bias_attr=False)


def _he_init() -> paddle.ParamAttr:
    return paddle.ParamAttr(initializer=nn.initializer.KaimingNormal())


class ZeroPadShortcut(nn.Layer):
    """Option A: the identity, subsampled by ``stride`` and zero-padded to ``out_channels``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"option A cannot shrink channels ({in_channels} -> {out_channels})")
        self.stride = stride
        self.extra = out_channels - in_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.stride > 1:
            x = subsample(x, self.stride)
        if not self.extra:
            return x
        # Zero channels appended by concatenation, not F.pad over the channel axis: the exported
        # program with that pad corrupts the heap under Paddle 3.3's oneDNN inference kernels
        # (malloc abort; measured on this CPU build), while concat runs and is the same function.
        zeros = paddle.zeros([x.shape[0], self.extra, x.shape[2], x.shape[3]], dtype=x.dtype)
        return paddle.concat([x, zeros], axis=1)


class ProjectionShortcut(nn.Layer):
    """Option B (where the shape changes): a strided 1x1 convolution and BN (Eq. 2's W_s)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv = conv1x1(in_channels, out_channels, stride)
        self.bn = nn.BatchNorm2D(out_channels)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.bn(self.conv(x))


def make_shortcut(kind: str, in_channels: int, out_channels: int, stride: int) -> nn.Layer | None:
    """``None`` (identity) when the shape is kept, else an option A or B shortcut."""
    if stride == 1 and in_channels == out_channels:
        return None
    if kind == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    return ProjectionShortcut(in_channels, out_channels, stride)


class BasicBlock(nn.Layer):
    """Two 3x3 convolutions (Fig. 5 left); ``channels`` is the block's width and output."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 shortcut: Literal["A", "B"] = "B", se_reduction: int | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2D(channels)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2D(channels)
        self.se = SqueezeExcitation(channels, se_reduction) if se_reduction else None
        self.shortcut = make_shortcut(shortcut, in_channels, channels, stride)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:  # SENet: rescale the residual branch before the addition
            out = self.se(out)
        identity = x if self.shortcut is None else self.shortcut(x)
        return relu(out + identity)


class Bottleneck(nn.Layer):
    """1x1 reduce, 3x3, 1x1 expand x4 (Fig. 5 right); output ``4 * channels``."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1, stride_in_1x1: bool = True,
                 groups: int = 1, width_per_group: int = 64, se_reduction: int | None = None) -> None:
        super().__init__()
        width = int(channels * width_per_group / 64) * groups
        out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, width, stride if stride_in_1x1 else 1)
        self.bn1 = nn.BatchNorm2D(width)
        self.conv2 = conv3x3(width, width, 1 if stride_in_1x1 else stride, groups)
        self.bn2 = nn.BatchNorm2D(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2D(out_channels)
        self.se = SqueezeExcitation(out_channels, se_reduction) if se_reduction else None
        self.shortcut = make_shortcut("B", in_channels, out_channels, stride)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = relu(self.bn1(self.conv1(x)))
        out = relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        identity = x if self.shortcut is None else self.shortcut(x)
        return relu(out + identity)


# depth -> (block, blocks per stage), Table 1
IMAGENET_LAYOUTS: dict[int, tuple[type[nn.Layer], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


@MODELS.register
class ResNet(nn.Layer):
    """ImageNet ResNet-18/34/50/101/152 (Table 1), option B shortcuts, logits out.

    ``se_reduction`` adds an SE block to every residual branch (use ``SEResNet`` in configs).

    Args:
        depth: number of layers: 18 or 34 (basic blocks), 50, 101 or 152 (bottlenecks). Default: 50.
        num_classes: number of classes (the size of the logits). Default: 1000.
        in_channels: channels of the input images (3 for RGB). Default: 3.
        stride_in_1x1: True puts a downsampling bottleneck's stride 2 in its first 1x1 convolution (the paper's
            block), False in its 3x3 convolution ("ResNet V1.5"); ignored by 18/34. Default: True.
        groups: groups of every bottleneck's 3x3 convolution (ResNeXt-style; 1 is the paper's); must stay 1 for
            18/34. Default: 1.
        width_per_group: width of one 3x3 group in the first stage, doubling per stage (bottleneck width is
            groups x that); 64 is the paper's; must stay 64 for 18/34. Default: 64.
        se_reduction: ratio r of an SE block on every residual branch, >= 1; None adds no SE blocks. Default: None.
    """

    def __init__(self, depth: Literal[18, 34, 50, 101, 152] = 50, num_classes: Positive = 1000,
                 in_channels: Positive = 3, stride_in_1x1: bool = True, groups: Positive = 1,
                 width_per_group: Positive = 64, se_reduction: Positive | None = None) -> None:
        super().__init__()
        if depth not in IMAGENET_LAYOUTS:
            raise ValueError(f"ResNet depth must be one of {sorted(IMAGENET_LAYOUTS)}, got {depth}")
        block, counts = IMAGENET_LAYOUTS[depth]
        if block is BasicBlock and (groups != 1 or width_per_group != 64):
            raise ValueError(f"ResNet-{depth} has basic blocks: groups and width_per_group apply "
                             "to bottleneck nets (50/101/152) only")
        self.depth = depth
        self.conv1 = Conv2D(in_channels, 64, 7, stride=2, padding=3, weight_attr=_he_init(),
                               bias_attr=False)
        self.bn1 = nn.BatchNorm2D(64)
        self.maxpool = nn.MaxPool2D(3, stride=2, padding=1)
        if block is Bottleneck:
            options = dict(stride_in_1x1=stride_in_1x1, groups=groups, width_per_group=width_per_group,
                           se_reduction=se_reduction)
        else:
            options = dict(shortcut="B", se_reduction=se_reduction)
        in_ch = 64
        stages = []
        for i, (count, channels) in enumerate(zip(counts, (64, 128, 256, 512))):
            stage, in_ch = _stage(block, in_ch, channels, count, 1 if i == 0 else 2, options)
            stages.append(stage)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.maxpool(relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(global_average_pool(x))

    def export_spec(self) -> ExportSpec:
        """Class probabilities (softmax appended) of [N, in_channels, 224, 224] crops, batch dynamic."""
        return classification_spec(self, self.conv1.weight.shape[1], INPUT_SIZE_IMAGENET)


@MODELS.register
class CifarResNet(nn.Layer):
    """CIFAR-10 ResNet with 6n+2 layers (Section 4.2): 20, 32, 44, 56, 110, 1202; logits out.

    ``shortcut="A"`` is the paper's choice for these nets; ``"B"`` (projections) is offered for
    comparison. ``se_reduction`` adds SE blocks (use ``SECifarResNet`` in configs).

    Args:
        depth: number of layers, 6n+2 with n >= 1 basic blocks per stage (20, 32, 44, 56, 110, ...). Default: 20.
        num_classes: number of classes (the size of the logits). Default: 10.
        in_channels: channels of the input images (3 for CIFAR, 1 for MNIST). Default: 3.
        shortcut: "A" (identity, subsampled and zero-padded in channels; the paper's for CIFAR) or "B" (1x1
            projection + BN where the shape changes). Default: "A".
        se_reduction: ratio r of an SE block on every residual branch, >= 1; None adds no SE blocks. Default: None.
    """

    def __init__(self, depth: Positive = 20, num_classes: Positive = 10, in_channels: Positive = 3,
                 shortcut: Literal["A", "B"] = "A", se_reduction: Positive | None = None) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet depth must be 6n+2 (20, 32, 44, 56, 110, ...), got {depth}")
        n = (depth - 2) // 6
        self.depth = depth
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2D(16)
        options = dict(shortcut=shortcut, se_reduction=se_reduction)
        in_ch = 16
        stages = []
        for i, channels in enumerate((16, 32, 64)):
            stage, in_ch = _stage(BasicBlock, in_ch, channels, n, 1 if i == 0 else 2, options)
            stages.append(stage)
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(global_average_pool(x))

    def export_spec(self) -> ExportSpec:
        """Class probabilities (softmax appended) of [N, in_channels, 32, 32] images (CIFAR, MNIST
        padded by 2), batch dynamic."""
        return classification_spec(self, self.conv1.weight.shape[1], INPUT_SIZE_CIFAR)


# Input sizes of the exported nets: what the Eval transforms produce (the nets themselves are
# fully convolutional up to the global pooling, but the deployed pipeline feeds exactly this).
INPUT_SIZE_IMAGENET = (224, 224)
INPUT_SIZE_CIFAR = (32, 32)


def classification_spec(model: nn.Layer, in_channels: int, size: tuple[int, int]) -> ExportSpec:
    """Export of a logits classifier as ``WithSoftmax`` for the ``Classification`` pipeline."""
    if in_channels not in (1, 3):
        raise ValueError(f"{type(model).__name__} with in_channels={in_channels} has no image pipeline (1 or 3)")
    return ExportSpec(
        inputs=[paddle.static.InputSpec([None, in_channels, *size], "float32", "image")],
        pipeline={"name": "Classification", "num_classes": model.fc.weight.shape[1], "channels": in_channels,
                  "input_size": list(size)},
        network=WithSoftmax(model))


def _stage(block: type[nn.Layer], in_channels: int, channels: int, count: int, stride: int,
           options: dict) -> tuple[nn.Sequential, int]:
    """``count`` blocks; the first one changes stride/width. Returns the stage and its output width."""
    blocks = []
    for i in range(count):
        blocks.append(block(in_channels, channels, stride if i == 0 else 1, **options))
        in_channels = channels * block.expansion
    return nn.Sequential(*blocks), in_channels
