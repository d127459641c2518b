"""PyTorch twin of HybridSN for ``tools/align.py``.

This project's own re-writing in PyTorch of the network of Section II and its layer table
(``independent: false``): three unpadded 3-D convolutions 8@(7,3,3), 16@(5,3,3), 32@(3,3,3) (spectral
depth first) with ReLU, the 3-D maps folded into the channels of a 2-D map, one 3x3 convolution with
64 filters and ReLU, then FC 256, FC 128 (ReLU and dropout after each) and FC classes; the loss is the
config's cross entropy. The fold is channel-major, ``(channel, depth) -> channel * depth_size + depth``,
the order ``model.py`` states; the official Keras code is depth-major, a permutation of ``conv2d``'s
input channels and ``fc1``'s input rows that ``tests/papers/hybridsn/test_reference.py`` checks
against fixtures of the authors' code. The tensor names are the suite's.

Dropout: the backward and train checks run with ``Arch.dropout`` 0 on both sides. The two frameworks
draw different masks from different generators, and the masks are not inputs either side takes;
dropout (the inverted kind in both, ``upscale_in_train``) is the one layer these checks leave out,
and the summary says so. The forward check is in eval mode, where dropout is the identity anyway.
Imports torch: never imported by the package (``ppcls_repro.alignment_references``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from ppcls_repro.engine.alignment import ALIGNMENT_REFERENCES, Batch, Implementation, Problem
from ppcls_repro.engine.reference_torch import TorchSide, generic_loss
from ppcls_repro.registry import MODELS, ConfigError

SPECTRAL_KERNELS = (7, 5, 3)  # the paper's three 3-D kernels' depth; each is 3x3 in space
FILTERS = (8, 16, 32)


class TorchHybridSN(tnn.Module):
    """HybridSN for ``[N, 1, bands, window, window]`` windows -> ``[N, num_classes]`` logits."""

    def __init__(self, num_classes: int, bands: int, window: int, dropout: float) -> None:
        super().__init__()
        channels, convs = 1, []
        for filters, depth in zip(FILTERS, SPECTRAL_KERNELS):
            convs.append(tnn.Conv3d(channels, filters, (depth, 3, 3)))
            channels = filters
        self.conv3d = tnn.ModuleList(convs)
        depth_left = bands - sum(k - 1 for k in SPECTRAL_KERNELS)
        side = window - 2 * (len(SPECTRAL_KERNELS) + 1)
        self.conv2d = tnn.Conv2d(channels * depth_left, 64, 3)
        self.fc1, self.fc2 = tnn.Linear(64 * side * side, 256), tnn.Linear(256, 128)
        self.fc3 = tnn.Linear(128, num_classes)
        self.dropout = tnn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.conv3d:
            x = tF.relu(conv(x))
        n, c, d, h, w = x.shape
        x = x.reshape(n, c * d, h, w)  # channel-major: channel c, depth d -> 2-D channel c * D + d
        x = torch.flatten(tF.relu(self.conv2d(x)), 1)
        x = self.dropout(tF.relu(self.fc1(x)))
        x = self.dropout(tF.relu(self.fc2(x)))
        return self.fc3(x)


@ALIGNMENT_REFERENCES.register
class HybridSNTwin:
    """HybridSN: this project's PyTorch twin (``TorchHybridSN``), dropout off in training."""

    models = ("HybridSN",)
    independent = False
    description = ("PyTorch twin of HybridSN (this project's, Section II's layer table; channel-major fold); "
                   "Arch.dropout 0 on both sides, the frameworks' dropout masks cannot be made equal")

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        if weights_file is not None:
            raise ConfigError("--weights: HybridSN has no authors' weight file this suite imports; the authors' "
                              "outputs are checked by tests/papers/hybridsn/test_reference.py")
        self.arch = MODELS.with_defaults(cfg["Arch"], "Arch")

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        cfg["Arch"] = {**cfg["Arch"], "dropout": 0.0}
        return cfg, None

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Whitened-PCA-like windows: standard normal values."""
        shape = (batch_size, 1, self.arch["bands"], self.arch["window"], self.arch["window"])
        return rng.standard_normal(shape).astype(np.float32)

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        labels = rng.integers(0, self.arch["num_classes"], batch_size).astype(np.int64)
        return self.example_input(rng, batch_size), labels

    def implementation(self, problem: Problem) -> Implementation:
        arch = MODELS.with_defaults(problem.cfg["Arch"], "Arch")
        build = lambda: TorchHybridSN(arch["num_classes"], arch["bands"], arch["window"], arch["dropout"])  # noqa: E731
        return TorchSide(build, lambda key: key, generic_loss(problem.cfg["Loss"]), problem).implementation()
