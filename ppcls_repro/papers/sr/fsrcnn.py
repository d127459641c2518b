"""FSRCNN: Dong, Loy, Tang, "Accelerating the Super-Resolution Convolutional Neural Network".

ECCV 2016, https://arxiv.org/abs/1608.00367. Parts used (by name; section numbers not checked here):
- the FSRCNN network: feature extraction Conv5x5(d), shrinking Conv1x1(s), mapping m x Conv3x3(s),
  expanding Conv1x1(d), each followed by a PReLU with one slope per channel, then a 9x9
  deconvolution with stride ``scale`` and no activation. FSRCNN is (d, s, m) = (56, 12, 4)
  (12,464 weights), FSRCNN-s is (32, 5, 1) (3,937 weights); the paper counts weights only,
  not biases or PReLU slopes.
- its cost analysis: the input is the original LR image, not a bicubic-upscaled one, so every layer
  but the last runs at LR size.
- the training strategy: convolutions initialised for PReLU as He et al. (ICCV 2015), the
  deconvolution from N(0, 0.001^2), biases 0; PReLU slopes start at 0.25 (He et al.'s value).
  The per-layer learning rates (1e-3 convolutions, 1e-4 deconvolution) are ``Optimizer.param_lr``.
- SR for different upscaling factors: x2/x4 reuse every layer of the x3 model and retrain only
  the deconvolution (``Global.pretrained_prefixes`` + ``Optimizer.trainable`` in the configs).
- the training samples: zero padding in all layers, in training and at test time alike
  (``padding_mode="replicate"`` pads the convolutions by edge replication instead, as the SRCNN
  authors' test code does; measured 0.03 dB lower on Set5 x3, see the README).

Input: the LR luminance in [0, 1], N x 1 x h x w. Output: the HR luminance, N x 1 x (scale h) x
(scale w), exactly, for any h and w.

Deconvolution geometry (``deconv_geometry``). Paddle's transposed convolution gives
``H_out = (H_in - 1) * stride - 2 * padding + (k - 1) + output_padding + 1`` (checked in the
tests) and places the kernel's centre tap for LR pixel i at HR row ``scale * i + c``, with
``c = (k - 1) / 2 - padding``. MATLAB's bicubic shrink (the data protocol) puts the centre of LR
pixel i at HR coordinate ``scale * i + (scale - 1) / 2``. We take ``padding = 4 - (scale - 1) // 2``
and ``output_padding = (scale + 1) % 2`` (x2: 4/1, x3: 3/0, x4: 3/1): the output is exactly
``scale`` times the input and ``c = (scale - 1) // 2``, i.e. the kernel centre sits on the LR
pixel's centre for odd scales and half an HR pixel up-left of it for even scales, where no
integer position is exact; the learned (not constrained symmetric) 9x9 kernel absorbs that
half pixel, and a bilinear kernel centred at tap ``4 + 0.5`` reproduces a ramp exactly (tested).
The often-used padding 4 / output_padding ``scale - 1`` has the same size but puts the centre
``(scale - 1) // 2`` HR pixels further up-left (one pixel at x3).

Deviations: the deconvolution outputs ``scale * h`` pixels where the paper's Caffe layer gives
``scale * h - scale + 1`` (it crops ``scale - 1`` rows of the HR sub-image to fit); the training
labels here are the full ``scale * f_sub`` HR sub-images. ``init="he_relu"`` drops the PReLU
slope from the He initialisation (a = 0, std 3% larger), as Caffe's "msra" filler does; it is not
the paper's. The optimiser and schedule are the configs' (their comments list those deviations).
The convolutions, the deconvolution and PReLU are ``layers/conv.py``'s: oneDNN's kernels in dygraph
on CPU (``layers/onednn.py``), Paddle's ops elsewhere; the same functions either way.
"""
from __future__ import annotations

from typing import Literal

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.layers.conv import PReLU, conv2d, conv2d_transpose
from ppcls_repro.registry import MODELS, Positive
from ppcls_repro.utils.spec import ExportSpec

DECONV_KERNEL = 9
PRELU_INIT = 0.25  # He et al.'s initial slope, also Caffe's PReLU default


def deconv_geometry(scale: int, kernel: int = DECONV_KERNEL,
                    alignment: Literal["centred", "corner"] = "centred") -> tuple[int, int]:
    """(padding, output_padding) that make the transposed convolution output ``scale`` x its input.

    ``centred``: the kernel centre of LR pixel i at HR row ``scale * i + (scale - 1) // 2``, inside
    that pixel's block (the module docstring). ``corner``: at ``scale * i`` (padding ``(k - 1) / 2``,
    output_padding ``scale - 1``), where the authors' released x2 and x4 models put it (x2: the same).
    """
    if scale < 1 or (scale - 1) // 2 > (kernel - 1) // 2:
        raise ValueError(f"FSRCNN scale must be between 1 and {kernel + 1} for a {kernel}x{kernel} "
                         f"deconvolution, got {scale}")
    shift = (scale - 1) // 2 if alignment == "centred" else 0
    padding = (kernel - 1) // 2 - shift
    output_padding = scale + 2 * padding - kernel  # solves H_out = scale * H_in; < stride
    return padding, output_padding


class ConvPReLU(nn.Layer):
    """A 'same' convolution (zero or edge-replicating padding) followed by a per-channel PReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, init: str,
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        self.conv = nn.Conv2D(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                              weight_attr=_conv_weight_attr(init),
                              bias_attr=nn.initializer.Constant(0.0))
        self.prelu = PReLU(num_parameters=out_channels, init=PRELU_INIT)
        self.padding = kernel_size // 2
        self.padding_mode = padding_mode

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.padding_mode == "replicate" and self.padding:
            x = conv2d(F.pad(x, [self.padding] * 4, mode="replicate"), self.conv.weight, self.conv.bias)
        else:
            x = conv2d(x, self.conv.weight, self.conv.bias, padding=self.padding)
        return self.prelu(x)


@MODELS.register
class FSRCNN(nn.Layer):
    """FSRCNN(d, s, m) for one upscaling factor; ``FSRCNN(3)`` is the paper's x3 FSRCNN and
    ``FSRCNN(3, d=32, s=5, m=1)`` its FSRCNN-s.

    Parameter prefixes (used by ``Optimizer.trainable`` and ``Global.pretrained_prefixes``):
    ``extract``, ``shrink``, ``mapping``, ``expand``, ``deconv``; the buffer ``scale`` records the
    factor so that strict loading refuses weights trained for another one.

    Args:
        scale: upscaling factor, 1 to 10 (the stride of the 9x9 deconvolution). Required.
        d: channels of the feature extraction and expanding layers, >= 1. Default: 56.
        s: channels of the shrinking and mapping layers, >= 1. Default: 12.
        m: number of 3x3 mapping layers, >= 0. Default: 4.
        in_channels: image channels: 1 for Y (the paper), 3 for RGB (export takes only 1 or 3). Default: 1.
        init: convolutions He-initialised for PReLU slope 0.25 ("paper") or slope 0 ("he_relu", Caffe's
            "msra", not the paper's); the deconvolution is N(0, 0.001^2) either way. Default: "paper".
        padding_mode: padding of the convolutions (not the deconvolution): "zeros" (the paper) or
            "replicate" (edge replication). Default: "zeros".
        deconv_alignment: where the 9x9 deconvolution puts LR pixel i's kernel centre: "centred" at HR
            ``scale * i + (scale - 1) // 2`` (trained here), "corner" at ``scale * i`` (the authors' released
            x2/x4 models; x2 is the same either way). Default: "centred".
    """

    def __init__(self, scale: Positive, d: Positive = 56, s: Positive = 12, m: int = 4, in_channels: Positive = 1,
                 init: Literal["paper", "he_relu"] = "paper",
                 padding_mode: Literal["zeros", "replicate"] = "zeros",
                 deconv_alignment: Literal["centred", "corner"] = "centred") -> None:
        super().__init__()
        if min(d, s, in_channels) < 1 or m < 0:
            raise ValueError(f"FSRCNN needs d, s >= 1 and m >= 0, got d={d}, s={s}, m={m}")
        self.padding, self.output_padding = deconv_geometry(scale, alignment=deconv_alignment)
        self.register_buffer("scale", paddle.to_tensor([scale], dtype="int64"), persistable=True)
        self.extract = ConvPReLU(in_channels, d, 5, init, padding_mode)
        self.shrink = ConvPReLU(d, s, 1, init, padding_mode)
        self.mapping = nn.LayerList([ConvPReLU(s, s, 3, init, padding_mode) for _ in range(m)])
        self.expand = ConvPReLU(s, d, 1, init, padding_mode)
        # Weight shape [d, in_channels, 9, 9] (Paddle's transposed-conv layout: in, out, k, k).
        self.deconv = nn.Conv2DTranspose(
            d, in_channels, DECONV_KERNEL, stride=scale, padding=self.padding,
            output_padding=self.output_padding,
            weight_attr=paddle.ParamAttr(initializer=nn.initializer.Normal(mean=0.0, std=1e-3)),
            bias_attr=nn.initializer.Constant(0.0))
        self.upscale = scale
        self.in_channels = in_channels

    @property
    def halo(self) -> int:
        """LR pixels on each side of an LR block that its HR output depends on: 2 (5x5) + 1 per
        3x3 mapping layer + the LR reach of the deconvolution (tested by perturbation)."""
        step, reach = self.upscale, DECONV_KERNEL - 1
        # HR pixel s*q + t (0 <= t < s) reads LR pixels q + ceil((t + p - 8) / s) .. q + floor((t + p) / s).
        deconv = max((step - 1 + self.padding) // step, (reach - self.padding) // step)
        return 2 + len(self.mapping) + deconv

    def multiply_adds(self, lr_height: int, lr_width: int) -> int:
        """Multiply-adds to upscale one LR image of ``lr_height x lr_width``, the paper's complexity
        ``(25d + sd + 9ms^2 + ds + 81d) x S_LR``: every layer, the deconvolution included, costs its
        weight count per LR pixel (each LR pixel's d features spread over a 9x9 HR footprint).
        Biases and PReLU slopes not counted."""
        weights = sum(int(p.numel()) for name, p in self.named_parameters()
                      if name.endswith("conv.weight") or name == "deconv.weight")
        return weights * lr_height * lr_width

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.shrink(self.extract(x))
        for layer in self.mapping:
            x = layer(x)
        return self.upsample(self.expand(x))

    def export_spec(self) -> ExportSpec:
        """Exported as trained (zero padding in every layer, output exactly ``scale`` x the input); batch,
        height and width are dynamic. The net takes the small LR image in [0, 1], not an upscaled one:
        the BT.601 luminance (the paper) when ``in_channels`` is 1, RGB when it is 3. Tiles of the LR
        input overlapping by ``halo`` pixels reproduce the whole-image output."""
        if self.in_channels not in (1, 3):
            raise ValueError(f"FSRCNN with in_channels={self.in_channels} has no image pipeline (1: Y, 3: RGB)")
        return ExportSpec(
            inputs=[paddle.static.InputSpec([None, self.in_channels, None, None], "float32", "image")],
            pipeline={"name": "SuperResolution", "scale": self.upscale, "upsample_input": False, "halo": self.halo,
                      "net_input": "y_bt601" if self.in_channels == 1 else "rgb", "value_range": [0.0, 1.0]})

    def upsample(self, features: paddle.Tensor) -> paddle.Tensor:
        """The deconvolution: d LR feature maps -> the HR image, exactly ``scale`` times larger."""
        return conv2d_transpose(features, self.deconv.weight, self.deconv.bias, stride=self.upscale,
                                padding=self.padding, output_padding=self.output_padding)


def _conv_weight_attr(init: str) -> paddle.ParamAttr:
    # He et al. (2015) for PReLU: std = sqrt(2 / ((1 + a^2) * fan_in)), fan_in = k * k * c_in.
    slope = PRELU_INIT if init == "paper" else 0.0
    return paddle.ParamAttr(initializer=nn.initializer.KaimingNormal(
        negative_slope=slope, nonlinearity="leaky_relu"))
