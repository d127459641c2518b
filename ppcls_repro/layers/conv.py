"""The 2-D convolution every model of this project uses: oneDNN on CPU in dygraph, Paddle's op elsewhere.

``conv2d`` and ``Conv2D`` (a ``paddle.nn.Conv2D`` with the same parameters and state dict) run
float32 NCHW convolutions with groups 1 and dilation 1 through ``layers/onednn.py`` when the tensors
are on the CPU, Paddle is in dygraph mode and the library loaded. Everything else (GPU: cuDNN;
static graphs, so exported models; other dtypes, groups or dilations) takes Paddle's own
``conv2d`` unchanged, with the bias added by ``layers/bias.py``.

The switch: ``PPCLS_REPRO_FAST_CPU=0`` in the environment (``utils/cpu.py``), or ``set_onednn(False)``,
turns the oneDNN path off (for comparisons, or if a Paddle release ships a library this binding
cannot use).
"""
from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn

from ppcls_repro.layers import onednn
from ppcls_repro.layers.bias import add_channel_bias
from ppcls_repro.utils.cpu import fast_cpu_enabled

_enabled = fast_cpu_enabled()


def set_onednn(enabled: bool) -> None:
    """Turn the CPU oneDNN convolutions on or off for the whole process."""
    global _enabled
    _enabled = enabled


def onednn_enabled() -> bool:
    return _enabled


def _pair(value: int | list[int] | tuple[int, ...]) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None  # asymmetric or per-side padding: Paddle's op


def _uses_onednn(x: paddle.Tensor, weight: paddle.Tensor) -> bool:
    return (_enabled and paddle.in_dynamic_mode() and x.place.is_cpu_place() and len(x.shape) == 4
            and x.dtype == paddle.float32 and weight.dtype == paddle.float32 and onednn.available())


def conv2d(x: paddle.Tensor, weight: paddle.Tensor, bias: paddle.Tensor | None = None,
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> paddle.Tensor:
    """``F.conv2d(x, weight, bias, stride, padding)`` for NCHW input (groups 1, dilation 1)."""
    strides, paddings = _pair(stride), _pair(padding)
    if strides is not None and paddings is not None and _uses_onednn(x, weight):
        return onednn.conv2d(x, weight, bias, strides, paddings)
    return add_channel_bias(F.conv2d(x, weight, None, stride=stride, padding=padding), bias)


class Conv2D(nn.Conv2D):
    """``paddle.nn.Conv2D`` whose dygraph CPU forward is ``conv2d`` above where it applies."""

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        plain = (self._groups == 1 and list(self._dilation) == [1, 1] and self._padding_mode == "zeros"
                 and self._data_format == "NCHW" and self._padding_algorithm == "EXPLICIT")
        if plain and _pair(self._updated_padding) is not None and _uses_onednn(x, self.weight):
            return onednn.conv2d(x, self.weight, self.bias, _pair(self._stride), _pair(self._updated_padding))
        return super().forward(x)
