"""SRCNN: Dong, Loy, He, Tang, "Image Super-Resolution Using Deep Convolutional Networks".

ECCV 2014 (https://arxiv.org/abs/1501.00092 is the TPAMI 2016 extension). Sections used:
- 3.1 (ECCV) / 3.1 (TPAMI): three convolutions f1-f2-f3 with n1, n2 filters, ReLU after the
  first two, a linear last layer; the base model is 9-1-5 with n1=64, n2=32 (9-5-5 is TPAMI's best).
- 4.1 / 4.1: training on 33x33 Y-channel sub-images whose 21x21 centres are the labels:
  the convolutions have no padding in training, so the output is the label's size.
  At test time every layer is padded so that the output keeps the input size, by replicating the
  edge pixels, as the authors' test code does (``imfilter(..., 'same', 'replicate')`` in SRCNN.m);
  zero padding darkens a border band wider than the ``scale`` pixels shaved before scoring
  (measured on one checkpoint: 0.54 dB lower Set5 x3 PSNR).
- 3.3 / 3.3: weights drawn from N(0, 0.001^2), biases 0 (``init="paper"``).

The input is the bicubic-upscaled luminance in [0, 1]; the output is the restored luminance.

Deviations: none in the network. ``init="kaiming"`` (He normal) is offered for Adam and labelled
as a deviation where a config uses it: Adam's steps have the learning rate's size whatever the
gradient, so from the paper's N(0, 0.001^2) weights the biases soon outweigh the weights and push
units into the dead ReLU zone (``tools/dead_units.py``: 38 of 96 units never active on Set5 after
2 epochs; releases/srcnn_x3/dead_units.log).
Learning rates and the optimiser are set in the config (the paper's per-layer rates are ``Optimizer.param_lr``).
"""
from __future__ import annotations

from typing import Literal

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.layers.conv import conv2d, relu
from ppcls_repro.registry import MODELS, Positive
from ppcls_repro.utils.spec import ExportSpec


@MODELS.register
class SRCNN(nn.Layer):
    """Three-layer SRCNN; ``kernel_sizes=(9, 1, 5)`` and ``channels=(64, 32)`` is the 9-1-5 base model.

    ``scale`` is the upscaling factor the weights are trained for (the input is already upscaled).

    Args:
        scale: upscaling factor the weights are for, kept in the state dict so that a checkpoint of
            another scale is refused. Required.
        kernel_sizes: filter sizes (f1, f2, f3) in pixels, all odd. Default: (9, 1, 5).
        channels: filters (n1, n2) of the first two layers. Default: (64, 32).
        in_channels: image channels: 1 for Y (the paper), 3 for RGB (export takes only 1 or 3). Default: 1.
        init: weights from N(0, 0.001^2) ("paper") or He normal ("kaiming", a deviation); biases 0.
            Default: "paper".
        pad_in_training: pad every layer by edge replication in training too (output the input's size);
            False trains unpadded (output smaller by ``border`` per side). Eval always pads. Default: False.
    """

    def __init__(self, scale: Positive, kernel_sizes: tuple[Positive, Positive, Positive] = (9, 1, 5),
                 channels: tuple[Positive, Positive] = (64, 32), in_channels: Positive = 1,
                 init: Literal["paper", "kaiming"] = "paper",
                 pad_in_training: bool = False) -> None:
        super().__init__()
        if any(k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"SRCNN kernel sizes must be odd to keep the centre aligned, got {kernel_sizes}")
        widths = (in_channels, *channels, in_channels)
        self.kernel_sizes = tuple(kernel_sizes)
        self.in_channels = in_channels
        self.pad_in_training = pad_in_training
        # The weights do not depend on the scale, but a model trained for x3 is wrong for x2:
        # keeping it in the state dict lets loading refuse a checkpoint of another scale.
        self.register_buffer("scale", paddle.to_tensor([scale], dtype="int64"), persistable=True)
        self.conv1, self.conv2, self.conv3 = (
            nn.Conv2D(widths[i], widths[i + 1], kernel_sizes[i], weight_attr=_weight_attr(init),
                      bias_attr=nn.initializer.Constant(0.0))
            for i in range(3))

    @property
    def border(self) -> int:
        """Pixels lost on each side by the unpadded (training) convolutions: (33 - 21) / 2 = 6."""
        return sum(k // 2 for k in self.kernel_sizes)

    def multiply_adds(self, lr_height: int, lr_width: int) -> int:
        """Multiply-adds to upscale one LR image of ``lr_height x lr_width``, counted as the FSRCNN
        paper does: every weight runs once per pixel of its layer's output, and all three layers
        run at HR size, so weights x HR pixels (9-1-5: 8,032 per HR pixel). Biases not counted."""
        scale = int(self.scale.numpy()[0])
        weights = sum(int(conv.weight.numel()) for conv in (self.conv1, self.conv2, self.conv3))
        return weights * lr_height * scale * lr_width * scale

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.layer_outputs(x)[-1]

    def hidden_features(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """The ReLU outputs of the first two layers (for dead-unit checks: ``tools/dead_units.py``)."""
        return self.layer_outputs(x)[:2]

    def layer_outputs(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Each layer's output: the two ReLU feature maps, then the restored image."""
        pad = self.pad_in_training or not self.training
        outputs = []
        for i, conv in enumerate((self.conv1, self.conv2, self.conv3)):
            half = conv._kernel_size[0] // 2
            if pad and half:
                x = F.pad(x, [half] * 4, mode="replicate")
            x = conv2d(x, conv.weight, conv.bias)
            if i < 2:
                x = relu(x)
            outputs.append(x)
        return outputs

    def export_spec(self) -> ExportSpec:
        """Exported in eval mode (edge-replicating padding, output the input's size): batch, height and
        width are dynamic. The net sees the bicubic-upscaled image in [0, 1]: the BT.601 luminance
        (the paper) when ``in_channels`` is 1, RGB when it is 3. A pixel depends on input pixels
        within ``border`` of it, so tiles overlapping by ``border`` reproduce the whole image."""
        if self.in_channels not in (1, 3):
            raise ValueError(f"SRCNN with in_channels={self.in_channels} has no image pipeline (1: Y, 3: RGB)")
        scale = int(self.scale.numpy()[0])
        return ExportSpec(
            inputs=[paddle.static.InputSpec([None, self.in_channels, None, None], "float32", "image")],
            pipeline={"name": "SuperResolution", "scale": scale, "upsample_input": True, "halo": self.border,
                      "net_input": "y_bt601" if self.in_channels == 1 else "rgb", "value_range": [0.0, 1.0]})


def _weight_attr(init: str) -> paddle.ParamAttr:
    if init == "paper":
        return paddle.ParamAttr(initializer=nn.initializer.Normal(mean=0.0, std=1e-3))
    return paddle.ParamAttr(initializer=nn.initializer.KaimingNormal())
