"""DnCNN's reference for ``tools/align.py``: the authors' PyTorch model (``independent: true``) or a twin.

With ``--weights`` the authors' ``model.pth`` (cszn/DnCNN, ``TrainingCodes/dncnn_pytorch``: a whole
pickled ``DnCNN`` module) gives the reference its structure and its weights: the layer list of its
``dncnn`` Sequential is read from the pickle (``data/torch_files.py``, nothing in it runs) and rebuilt
from ``torch.nn`` with the recorded settings (channels, kernel, padding, bias, BatchNorm eps and
momentum), the weights are loaded into it as the file has them, and the forward is the authors'
``DnCNN.forward`` (``y - dncnn(y)``, ``main_train.py``). The suite's side gets the same file through its
importer (``weights.py``), so a mapping error there shows. The loss is the authors' ``sum_squared_error``
(``mse_loss(reduction='sum') / 2``). Without a file the layer list is built here from the config, as
``main_train.py`` builds it (the twin: ``independent: false``). ``dncnn_speed_case`` pairs the suite's
training step with that twin for the training-speed table; ``dncnn_inference_twin`` is the twin holding
the suite's weights for the latency table (``tools/benchmark_latency.py``). Imports torch: never imported by the package.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from ppcls_repro.data.torch_files import Opaque, load_torch_file, state_dict_in
from ppcls_repro.engine.alignment import ALIGNMENT_REFERENCES, Batch, Implementation, Problem, imported_start
from ppcls_repro.engine.reference_torch import TorchLoss, TorchSide, inference_module, supervised_speed_case
from ppcls_repro.engine.speed import SpeedCase, batch_size, sample_shape
from ppcls_repro.papers.dncnn.weights import batchnorm_layers, suite_key
from ppcls_repro.registry import LOSSES, MODELS, ConfigError
from ppcls_repro.utils.errors import DataError


class AuthorsDnCNN(tnn.Module):
    """The authors' ``DnCNN`` module: a ``dncnn`` Sequential; the output is ``y - dncnn(y)``
    (``residual=False``: ``dncnn(y)``, the plain net of the paper's ablation, not in their code)."""

    def __init__(self, layers: list[tnn.Module], residual: bool = True) -> None:
        super().__init__()
        self.dncnn = tnn.Sequential(*layers)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dncnn(x)
        return x - out if self.residual else out


def layers_from_config(arch: dict[str, Any]) -> list[tnn.Module]:
    """``main_train.py``'s layer list: conv (bias) + ReLU, (depth - 2) x [conv, BN, ReLU], conv.
    BatchNorm momentum in PyTorch's convention (1 - Paddle's)."""
    width, cin = arch["channels"], arch["in_channels"]
    layers: list[tnn.Module] = [tnn.Conv2d(cin, width, 3, padding=1, bias=True), tnn.ReLU()]
    for _ in range(arch["depth"] - 2):
        layers += [tnn.Conv2d(width, width, 3, padding=1, bias=False),
                   tnn.BatchNorm2d(width, eps=arch["bn_epsilon"], momentum=1.0 - arch["bn_momentum"]), tnn.ReLU()]
    layers.append(tnn.Conv2d(width, cin, 3, padding=1, bias=arch["final_bias"]))
    return layers


def layers_from_file(path: Path) -> list[tnn.Module]:
    """The pickled module's ``dncnn`` layers rebuilt with the settings the pickle records."""
    root = load_torch_file(path)
    try:
        sequence = root.state["_modules"]["dncnn"].state["_modules"]
    except (AttributeError, KeyError, TypeError):
        raise DataError(f"{path}: not a pickled DnCNN module with a 'dncnn' Sequential") from None
    return [_layer(layer, f"{path}: dncnn.{index}") for index, layer in sequence.items()]


def _layer(layer: Opaque, where: str) -> tnn.Module:
    kind, state = layer.global_name.rpartition(".")[2], layer.state
    if kind == "Conv2d":
        return tnn.Conv2d(state["in_channels"], state["out_channels"], tuple(state["kernel_size"]),
                          stride=tuple(state["stride"]), padding=tuple(state["padding"]),
                          dilation=tuple(state["dilation"]), groups=state["groups"],
                          bias=state["_parameters"].get("bias") is not None)
    if kind == "BatchNorm2d":
        return tnn.BatchNorm2d(state["num_features"], eps=state["eps"], momentum=state["momentum"],
                               affine=state["affine"], track_running_stats=state["track_running_stats"])
    if kind == "ReLU":
        return tnn.ReLU()
    raise DataError(f"{where}: layer {layer.global_name} is not one of DnCNN's (Conv2d, BatchNorm2d, ReLU)")


def authors_loss(node: dict[str, Any]) -> TorchLoss:
    """``sum_squared_error`` of ``main_train.py`` (``per_sample: mean`` divides by the batch, eq. (1))."""
    per_sample = LOSSES.with_defaults(node, "Loss")["per_sample"]

    def loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        value = tF.mse_loss(pred, target, reduction="sum") / 2
        return value / pred.shape[0] if per_sample == "mean" else value
    return loss


@ALIGNMENT_REFERENCES.register
class DnCNNReference:
    """DnCNN: the authors' PyTorch model with ``--weights model.pth``, else this project's twin."""

    models = ("DnCNN",)

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        self.cfg, self.weights_file = cfg, weights_file
        self.arch = MODELS.with_defaults(cfg["Arch"], "Arch")
        self.independent = weights_file is not None and bool(self.arch["residual"])
        if weights_file is None:
            self.description = "PyTorch twin of DnCNN (this project's, main_train.py's layer list)"
        else:
            self.description = (f"the DnCNN authors' PyTorch model ({Path(weights_file).name}): its layers and "
                                f"weights, their forward and sum_squared_error loss")
            if not self.arch["residual"]:
                self.description += " (forward without the residual subtraction: not the authors')"

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        depth = cfg["Arch"].get("depth", self.arch["depth"])
        cfg, weights = imported_start(cfg, self.weights_file)
        if self.weights_file is not None:
            if cfg["Arch"]["depth"] != depth:
                raise ConfigError(f"Arch.depth: {self.weights_file} is a depth-{cfg['Arch']['depth']} DnCNN, "
                                  f"the config's is {depth}")
            cfg["Arch"]["residual"] = self.arch["residual"]
        return cfg, weights

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        return self.example_batch(rng, batch_size)[0]

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """Clean patches of the config's size in [0, 1] and the same with Gaussian noise of its sigma."""
        node = self.cfg["DataLoader"]["Train"]["dataset"]
        size, sigma = node.get("patch_size", 40), node.get("sigma") or 25.0
        clean = rng.random((batch_size, self.arch["in_channels"], size, size), dtype=np.float32)
        noisy = clean + rng.standard_normal(clean.shape).astype(np.float32) * np.float32(sigma / 255.0)
        return noisy, clean

    def implementation(self, problem: Problem) -> Implementation:
        arch = MODELS.with_defaults(problem.cfg["Arch"], "Arch")
        if self.weights_file is None:
            names = AuthorsDnCNN(layers_from_config(arch)).state_dict()
            layers, torch_state = (lambda: layers_from_config(arch)), None
        else:
            torch_state = state_dict_in(self.weights_file)[0]
            names, file = torch_state, self.weights_file
            layers = (lambda: layers_from_file(file))
        bn_layers = batchnorm_layers(names)
        return TorchSide(lambda: AuthorsDnCNN(layers(), arch["residual"]),
                         lambda key: suite_key(key, bn_layers), authors_loss(problem.cfg["Loss"]), problem,
                         torch_state).implementation()


def dncnn_speed_case(cfg: dict[str, Any]) -> SpeedCase:
    """DnCNN's training iteration on noisy/clean patches of the config's size and batch, Paddle and the
    twin (``main_train.py``'s layers, the authors' loss)."""
    reference = DnCNNReference(cfg, None)
    arch = reference.arch
    batch = reference.example_batch(np.random.default_rng(cfg["Global"]["seed"]), batch_size(cfg))
    names = AuthorsDnCNN(layers_from_config(arch)).state_dict()
    bn_layers = batchnorm_layers(names)
    # the paper's names: DnCNN-S has 17 layers, DnCNN-B 20
    name = {17: "DnCNN-S", 20: "DnCNN-B"}.get(arch["depth"], f"DnCNN depth {arch['depth']}")
    name += "" if arch["residual"] else " (plain)"
    label = f"{name}, {len(batch[0])} x {sample_shape(batch[0])}"
    return supervised_speed_case(cfg, "dncnn", label, batch,
                                 lambda: AuthorsDnCNN(layers_from_config(arch), arch["residual"]),
                                 lambda key: suite_key(key, bn_layers), authors_loss(cfg["Loss"]))


def dncnn_inference_twin(cfg: dict[str, Any], weights: dict[str, np.ndarray]) -> tnn.Module:
    """The exported DnCNN in PyTorch: ``main_train.py``'s layers in eval mode (BatchNorm with its running
    statistics), the authors' forward (``y - dncnn(y)``), holding the suite's ``weights``."""
    arch = MODELS.with_defaults(cfg["Arch"], "Arch")
    module = AuthorsDnCNN(layers_from_config(arch), arch["residual"])
    bn_layers = batchnorm_layers(module.state_dict())
    return inference_module(module, weights, lambda key: suite_key(key, bn_layers))
