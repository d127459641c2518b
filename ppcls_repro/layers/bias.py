"""A per-channel bias add whose gradient is cheap on Paddle's CPU kernels.

Measured on this project's 2-core CPU (one run, SRCNN 9-1-5, batch 128 of 33x33): the broadcast
``x + b[None, :, None, None]`` and its generic reduce-grad took ~40% of a training step; computing
the bias gradient as two plain reductions makes the whole step 1.36x faster. The forward add is
also laid out as [N*C, H*W] + [N*C, 1], which Paddle runs ~3x faster than the 4-D broadcast (SRCNN
batch 16: 1.28x per step, one run with the CPU otherwise idle). The outputs are the same bit for
bit; the bias gradient up to float summation order. Static graphs (export) use the plain add.
"""
from __future__ import annotations

import paddle
from paddle.autograd import PyLayer


class _ChannelBiasAdd(PyLayer):
    @staticmethod
    def forward(ctx, x: paddle.Tensor, bias: paddle.Tensor) -> paddle.Tensor:
        # As [N*C, H*W] + [N*C, 1]: the same sums as the 4-D broadcast, which takes a ~3x slower kernel.
        n, c, h, w = x.shape
        rows = bias.reshape([1, c]).expand([n, c]).reshape([n * c, 1])
        return (x.reshape([n * c, h * w]) + rows).reshape([n, c, h, w])

    @staticmethod
    def backward(ctx, grad: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        n, c, h, w = grad.shape
        return grad, grad.reshape([n, c, h * w]).sum(axis=2).sum(axis=0)


def add_channel_bias(x: paddle.Tensor, bias: paddle.Tensor | None) -> paddle.Tensor:
    """``x + bias`` over the channel axis of an NCHW tensor."""
    if bias is None:
        return x
    if paddle.in_dynamic_mode() and not bias.stop_gradient:
        return _ChannelBiasAdd.apply(x, bias)
    return x + bias.reshape([1, -1, 1, 1])
