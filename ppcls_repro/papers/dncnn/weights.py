"""The DnCNN authors' released models (``tools/import_weights.py``).

MatConvNet (``model/specifics/sigma=*.mat``, the blind gray model; MATLAB v7.3 or v5): ``net.layers``
alternates ``conv`` and ``relu`` layers, BatchNorm already merged into the convolutions, every conv
with a bias; weights in MATLAB order [h, w, c_in, c_out] applied as a correlation with zero padding 1
(``vl_nnconv``), tested as ``output = input - net(input)`` on [0, 1] images (``Demo_test_DnCNN.m``).
The suite's DnCNN keeps a BatchNorm after every middle conv: it is imported as the identity plus the
merged bias (weight 1, mean 0, variance ``1 - epsilon``, bias = the conv's bias), and the last conv
gets its bias (``final_bias: true``).

PyTorch (``TrainingCodes/dncnn_pytorch/models/*/model.pth``, a whole pickled ``DnCNN`` module, or its
state dict): ``dncnn.<i>.*`` is the suite's ``body.<i>.*`` layer for layer (the suite's DnCNN follows
that code); BatchNorm's ``running_mean``/``running_var`` become ``_mean``/``_variance``. Read by
``data/torch_files.py``: nothing in the pickle runs.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.data.matlab import load_mat, variable_shapes
from ppcls_repro.data.torch_files import is_torch_file, state_dict_in, state_dict_or_nothing
from ppcls_repro.engine.importing import ImportedWeights
from ppcls_repro.registry import WEIGHT_FORMATS
from ppcls_repro.utils.errors import DataError

TORCH_KEY = re.compile(r"^dncnn\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$")
BN_NAMES = {"weight": "weight", "bias": "bias", "running_mean": "_mean", "running_var": "_variance"}


def _layers(path: Path) -> list[dict[str, Any]]:
    net = load_mat(path).get("net")
    if not isinstance(net, dict) or "layers" not in net:
        raise DataError(f"{path}: no MatConvNet 'net' with 'layers'")
    return [layer for layer in np.asarray(net["layers"], object).reshape(-1)]


@WEIGHT_FORMATS.register
class DnCNNMatConvNet:
    """DnCNN as the authors released it for MATLAB (MatConvNet simplenn, BatchNorm merged)."""

    model = "DnCNN"

    @staticmethod
    def recognise(path: Path) -> bool:
        return "net" in variable_shapes(path) and not is_torch_file(path)

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        layers = _layers(path)
        types = [str(layer.get("type", "?")) if isinstance(layer, dict) else "?" for layer in layers]
        if not types or set(types) - {"conv", "relu"} or types[-1] != "conv" or types[0] != "conv":
            raise DataError(f"{path}: layers {'-'.join(types[:6])}...: only conv and relu layers (BatchNorm merged) "
                            "are supported")
        convs = [layer for layer in layers if layer["type"] == "conv"]
        if any(float(np.asarray(c.get("pad", 1)).reshape(-1)[0]) != 1 or
               float(np.asarray(c.get("stride", 1)).reshape(-1)[0]) != 1 for c in convs):
            raise DataError(f"{path}: DnCNN convolutions have pad 1 and stride 1")
        kernels = []
        try:
            for conv in convs:
                weight, bias = (np.asarray(w, np.float32) for w in np.asarray(conv["weights"], object).reshape(-1)[:2])
                weight = weight.reshape(weight.shape + (1,) * (4 - weight.ndim))  # MATLAB drops c_out = 1
                kernels.append((weight.transpose(3, 2, 0, 1), bias.reshape(-1)))  # -> [c_out, c_in, h, w]
        except (KeyError, ValueError, TypeError) as err:
            raise DataError(f"{path}: a conv layer without [h, w, c_in, c_out] weights and a bias ({err})") from None
        depth, channels, in_channels = len(kernels), kernels[0][0].shape[0], kernels[0][0].shape[1]
        epsilon = float(arch.get("bn_epsilon", 1e-4))
        weights: dict[str, np.ndarray] = {"body.0.weight": kernels[0][0], "body.0.bias": kernels[0][1]}
        for i, (kernel, bias) in enumerate(kernels[1:-1]):
            conv, bn = 2 + 3 * i, 3 + 3 * i
            weights[f"body.{conv}.weight"] = kernel
            weights.update({f"body.{bn}.weight": np.ones(channels, np.float32), f"body.{bn}.bias": bias,
                            f"body.{bn}._mean": np.zeros(channels, np.float32),
                            f"body.{bn}._variance": np.full(channels, 1.0 - epsilon, np.float32)})
        last = 3 * (depth - 2) + 2
        weights[f"body.{last}.weight"], weights[f"body.{last}.bias"] = kernels[-1]
        return ImportedWeights(
            weights=weights,
            arch={"depth": depth, "channels": int(channels), "in_channels": int(in_channels), "residual": True,
                  "final_bias": True},
            description=f"DnCNN depth {depth}, MatConvNet with BatchNorm merged (imported as identity BN + bias)")


def batchnorm_layers(state: dict[str, Any]) -> set[int]:
    """The indices ``i`` of ``dncnn.<i>`` that are BatchNorm layers (they have running statistics)."""
    return {int(TORCH_KEY.match(k).group(1)) for k in state if TORCH_KEY.match(k) and k.endswith("running_mean")}


def suite_key(key: str, bn_layers: set[int]) -> str | None:
    """The suite's name of the authors' ``dncnn.<i>.*`` tensor (None for ``num_batches_tracked``)."""
    index, name = TORCH_KEY.match(key).groups()
    if name == "num_batches_tracked":
        return None
    return f"body.{index}.{BN_NAMES[name] if int(index) in bn_layers else name}"


@WEIGHT_FORMATS.register
class DnCNNPyTorch:
    """DnCNN from the authors' PyTorch training code: the pickled module or its state dict."""

    model = "DnCNN"

    @staticmethod
    def recognise(path: Path) -> bool:
        return any(TORCH_KEY.match(key) for key in state_dict_or_nothing(path))

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        state, kind = state_dict_in(path)
        unknown = sorted(key for key in state if not TORCH_KEY.match(key))
        if unknown:
            raise DataError(f"{path}: entries that are not DnCNN's dncnn.<i>.*: {', '.join(unknown[:4])}")
        bn_layers = batchnorm_layers(state)
        weights = {suite_key(key, bn_layers): value.astype(np.float32) for key, value in state.items()
                   if suite_key(key, bn_layers) is not None}
        convs = sorted(int(k.split(".")[1]) for k in weights if k.endswith(".weight") and weights[k].ndim == 4)
        first = weights[f"body.{convs[0]}.weight"]
        return ImportedWeights(
            weights=weights,
            arch={"depth": len(convs), "channels": int(first.shape[0]), "in_channels": int(first.shape[1]),
                  "residual": True, "final_bias": f"body.{convs[-1]}.bias" in weights},
            description=f"DnCNN depth {len(convs)}, PyTorch {kind}")
