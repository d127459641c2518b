"""ImageNet ResNets a user has downloaded, as PyTorch state dicts (``tools/import_weights.py``).

torchvision's ``resnet18/34/50/101/152`` (``conv1``, ``bn1``, ``layer1..4``, ``fc``): the same layer
names as this suite's ResNet but ``downsample.0/1`` (here ``shortcut.conv/bn``); BatchNorm running
statistics become ``_mean``/``_variance``; fully connected weights are [out, in] in PyTorch and
[in, out] in Paddle (transposed). torchvision's bottleneck strides its 3x3 convolution ("ResNet
v1.5"), not the 1x1 as the paper and the suite's default: imported with ``stride_in_1x1: false``.

timm's ``legacy_seresnet50`` (the port of the SENet authors' Caffe model: ``layer0.conv1``,
``se_module.fc1/fc2`` as 1x1 convolutions, ``last_linear``): the stride on the first 1x1, as the
suite's default. The depth is read from the blocks per stage, the classes from the classifier.
Read by ``data/torch_files.py``: nothing in the file runs.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.data.torch_files import state_dict_in, state_dict_or_nothing
from ppcls_repro.engine.importing import ImportedWeights
from ppcls_repro.papers.resnet.resnet import IMAGENET_LAYOUTS, BasicBlock
from ppcls_repro.registry import WEIGHT_FORMATS
from ppcls_repro.utils.errors import DataError

BN_NAMES = {"running_mean": "_mean", "running_var": "_variance"}


def _depth(blocks: list[int], bottleneck: bool, path: Path) -> int:
    for depth, (block, counts) in IMAGENET_LAYOUTS.items():
        if list(counts) == blocks and (block is not BasicBlock) == bottleneck:
            return depth
    raise DataError(f"{path}: {blocks} {'bottleneck' if bottleneck else 'basic'} blocks per stage is no ResNet "
                    f"of depth {', '.join(map(str, IMAGENET_LAYOUTS))}")


def _blocks(state: dict[str, np.ndarray], pattern: str) -> list[int]:
    found: dict[int, set[int]] = {}
    for key in state:
        match = re.match(pattern, key)
        if match:
            found.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    return [len(found.get(stage, ())) for stage in (1, 2, 3, 4)]


def suite_key(key: str, renames: list[tuple[str, str]] = ()) -> str | None:
    """The suite's name of a PyTorch state-dict key: ``renames`` (regex, replacement) applied in order,
    BatchNorm's running statistics renamed; None for ``num_batches_tracked`` (Paddle keeps no such count)."""
    if key.endswith("num_batches_tracked"):
        return None
    for old, new in renames:
        key = re.sub(old, new, key)
    head, _, leaf = key.rpartition(".")
    return f"{head}.{BN_NAMES.get(leaf, leaf)}"


def _rename(key: str, value: np.ndarray, renames: list[tuple[str, str]]) -> tuple[str, np.ndarray] | None:
    name = suite_key(key, renames)
    return None if name is None else (name, value)


@WEIGHT_FORMATS.register
class TorchvisionResNet:
    """torchvision's ImageNet ResNet-18/34/50/101/152 state dict (e.g. ``resnet50-0676ba61.pth``)."""

    model = "ResNet"

    @staticmethod
    def recognise(path: Path) -> bool:
        state = state_dict_or_nothing(path)
        return {"conv1.weight", "fc.weight", "layer1.0.conv1.weight"} <= set(state)

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        state, _ = state_dict_in(path)
        bottleneck = "layer1.0.conv3.weight" in state
        depth = _depth(_blocks(state, r"^layer(\d)\.(\d+)\.conv1\.weight$"), bottleneck, path)
        weights = {}
        for key, value in state.items():
            renamed = _rename(key, value, [(r"\.downsample\.0\.", ".shortcut.conv."),
                                           (r"\.downsample\.1\.", ".shortcut.bn.")])
            if renamed:
                weights[renamed[0]] = renamed[1]
        weights["fc.weight"] = np.ascontiguousarray(state["fc.weight"].T)
        return ImportedWeights(
            weights=weights,
            arch={"depth": depth, "num_classes": int(state["fc.weight"].shape[0]), "in_channels": 3,
                  "stride_in_1x1": False, "groups": 1, "width_per_group": 64, "se_reduction": None},
            description=f"torchvision ResNet-{depth} state dict (stride on the 3x3 convolution)")


@WEIGHT_FORMATS.register
class TimmLegacySEResNet:
    """timm's ``legacy_seresnet50`` state dict (the SENet authors' Caffe model, ported)."""

    model = "SEResNet"

    @staticmethod
    def recognise(path: Path) -> bool:
        state = state_dict_or_nothing(path)
        return {"layer0.conv1.weight", "last_linear.weight", "layer1.0.se_module.fc1.weight"} <= set(state)

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        state, _ = state_dict_in(path)
        depth = _depth(_blocks(state, r"^layer(\d)\.(\d+)\.conv1\.weight$"), True, path)
        weights = {}
        for key, value in state.items():
            renamed = _rename(key, value, [(r"^layer0\.", ""), (r"\.downsample\.0\.", ".shortcut.conv."),
                                           (r"\.downsample\.1\.", ".shortcut.bn."), (r"\.se_module\.", ".se."),
                                           (r"^last_linear\.", "fc.")])
            if renamed:
                name, value = renamed
                if re.search(r"\.se\.fc\d\.weight$", name):  # 1x1 conv [out, in, 1, 1] -> Linear [in, out]
                    value = value.reshape(value.shape[0], value.shape[1]).T
                weights[name] = np.ascontiguousarray(value)
        weights["fc.weight"] = np.ascontiguousarray(state["last_linear.weight"].T)
        hidden, channels = state["layer1.0.se_module.fc1.weight"].shape[:2]
        return ImportedWeights(
            weights=weights,
            arch={"depth": depth, "num_classes": int(state["last_linear.weight"].shape[0]), "in_channels": 3,
                  "reduction": int(channels // hidden), "stride_in_1x1": True, "groups": 1, "width_per_group": 64},
            description=f"timm legacy SE-ResNet-{depth} state dict (the authors' Caffe model, stride on the 1x1)")
