"""The convolutions and activations every model of this project uses: oneDNN on CPU in dygraph, Paddle's ops elsewhere.

``conv2d`` / ``Conv2D``, ``conv2d_transpose``, ``relu`` / ``ReLU`` and ``PReLU`` (subclasses of
``paddle.nn.Conv2D``, ``nn.ReLU`` and ``nn.PReLU``: the same parameters and state dicts) run float32
NCHW tensors (convolutions: groups 1, dilation 1) through ``layers/onednn.py`` when ``onednn.applies``
(CPU, dygraph, the library loaded).
Everything else (GPU: cuDNN; static graphs, so exported models; other dtypes, groups, dilations or
padding modes) takes Paddle's own op unchanged, with the bias added by ``layers/bias.py``.

The switch: ``PPCLS_REPRO_FAST_CPU=0`` in the environment (``utils/cpu.py``), or
``onednn.set_enabled(False)``, turns the oneDNN path off (for comparisons, or if a Paddle release
ships a library this binding cannot use).
"""
from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn

from ppcls_repro.layers import onednn
from ppcls_repro.layers.bias import add_channel_bias


def _pair(value: int | list[int] | tuple[int, ...]) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None  # per-side padding: Paddle's op


def conv2d(x: paddle.Tensor, weight: paddle.Tensor, bias: paddle.Tensor | None = None,
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> paddle.Tensor:
    """``F.conv2d(x, weight, bias, stride, padding)`` for NCHW input (groups 1, dilation 1)."""
    strides, paddings = _pair(stride), _pair(padding)
    if strides and paddings and len(x.shape) == 4 and onednn.applies(x, weight):
        return onednn.conv2d(x, weight, bias, strides, paddings)
    return add_channel_bias(F.conv2d(x, weight, None, stride=stride, padding=padding), bias)


def conv2d_transpose(x: paddle.Tensor, weight: paddle.Tensor, bias: paddle.Tensor | None = None,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                     output_padding: int | tuple[int, int] = 0) -> paddle.Tensor:
    """``F.conv2d_transpose(x, weight, bias, stride, padding, output_padding)`` (IOHW weight, groups 1)."""
    strides, paddings, extra = _pair(stride), _pair(padding), _pair(output_padding)
    if strides and paddings and extra and len(x.shape) == 4 and onednn.applies(x, weight) \
            and all(o <= p for o, p in zip(extra, paddings)):  # oneDNN pads after by p - o >= 0
        return onednn.conv2d_transpose(x, weight, bias, strides, paddings, extra)
    out = F.conv2d_transpose(x, weight, None, stride=stride, padding=padding, output_padding=output_padding)
    return add_channel_bias(out, bias)


class Conv2D(nn.Conv2D):
    """``paddle.nn.Conv2D`` whose dygraph CPU forward is oneDNN's where it applies."""

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        plain = (self._groups == 1 and list(self._dilation) == [1, 1] and self._padding_mode == "zeros"
                 and self._data_format == "NCHW" and self._padding_algorithm == "EXPLICIT")
        padding = _pair(self._updated_padding)
        if plain and padding and len(x.shape) == 4 and onednn.applies(x, self.weight):
            return onednn.conv2d(x, self.weight, self.bias, _pair(self._stride), padding)
        return super().forward(x)


def relu(x: paddle.Tensor) -> paddle.Tensor:
    """``F.relu(x)``; oneDNN's where it applies (values and gradients bit for bit the same)."""
    if onednn.applies(x):
        return onednn.relu(x)
    return F.relu(x)


class ReLU(nn.ReLU):
    """``paddle.nn.ReLU`` computed by ``relu`` above."""

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return relu(x)


class PReLU(nn.PReLU):
    """``paddle.nn.PReLU`` whose dygraph CPU forward with one slope per channel is oneDNN's."""

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        per_channel = (self._num_parameters > 1 and self._data_format == "NCHW" and len(x.shape) == 4
                       and x.shape[1] == self._num_parameters)
        if per_channel and onednn.applies(x, self._weight):
            return onednn.prelu(x, self._weight)
        return super().forward(x)
