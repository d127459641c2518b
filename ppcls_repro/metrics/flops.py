"""Multiply-add counting for Paddle networks (the "FLOPs" of ResNet's Table 1).

``count_macs`` runs one forward pass on a zero input with forward hooks on every ``nn.Conv2D``
and ``nn.Linear`` and adds up their multiply-adds per image:
- convolution: output elements x (input channels / groups) x kernel height x kernel width;
- fully connected: input features x output features (per row).
Only these two layer types are counted, which is the convention of He et al. (Table 1:
"FLOPs" = multiply-adds of the conv and fc layers, 1.8/3.6/3.8/7.6/11.3 x10^9 for
ResNet-18/34/50/101/152 at 224x224). Batch norm, ReLU, pooling, the residual additions and
bias additions are left out (they are <1% of the total for these nets). Layers called through
the functional API (``F.conv2d`` on a layer's weight) are not seen by the hooks.
"""
from __future__ import annotations

import dataclasses

import paddle
import paddle.nn as nn

from ppcls_repro.utils.modes import eval_mode


@dataclasses.dataclass
class MacReport:
    """Multiply-adds per image: the total, by layer type, and per layer (structured name)."""
    total: int
    by_type: dict[str, int]
    per_layer: dict[str, int]

    @property
    def gmacs(self) -> float:
        return self.total / 1e9


def conv2d_macs(layer: nn.Conv2D, output: paddle.Tensor) -> int:
    """Multiply-adds of one convolution for one image, from its output shape."""
    in_channels = layer.weight.shape[1]  # already divided by groups: [out, in/groups, kh, kw]
    kernel = layer.weight.shape[2] * layer.weight.shape[3]
    per_image = int(output.numel()) // int(output.shape[0])
    return per_image * in_channels * kernel


def linear_macs(layer: nn.Linear, output: paddle.Tensor) -> int:
    """Multiply-adds of one fully connected layer for one image (weight is [in, out] in Paddle)."""
    in_features, out_features = layer.weight.shape
    rows_per_image = int(output.numel()) // int(output.shape[0]) // out_features
    return rows_per_image * in_features * out_features


@paddle.no_grad()
def count_macs(model: nn.Layer, input_shape: tuple[int, ...] = (3, 224, 224)) -> MacReport:
    """Multiply-adds of conv and fc layers for one image of ``input_shape`` (C, H, W)."""
    per_layer: dict[str, int] = {}
    by_type: dict[str, int] = {"conv": 0, "fc": 0}
    handles = []
    for name, layer in model.named_sublayers():
        if isinstance(layer, nn.Conv2D):
            counter, kind = conv2d_macs, "conv"
        elif isinstance(layer, nn.Linear):
            counter, kind = linear_macs, "fc"
        else:
            continue
        handles.append(layer.register_forward_post_hook(_recorder(name, kind, counter, per_layer, by_type)))
    try:
        with eval_mode(model):
            model(paddle.zeros([1, *input_shape], dtype="float32"))
    finally:
        for handle in handles:
            handle.remove()
    return MacReport(total=sum(by_type.values()), by_type=by_type, per_layer=per_layer)


def _recorder(name: str, kind: str, counter, per_layer: dict[str, int], by_type: dict[str, int]):
    def hook(layer: nn.Layer, inputs: tuple, output: paddle.Tensor) -> None:
        macs = counter(layer, output)
        per_layer[name] = per_layer.get(name, 0) + macs  # a layer called twice counts twice
        by_type[kind] += macs
    return hook
