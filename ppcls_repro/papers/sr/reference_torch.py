"""PyTorch twins of SRCNN and FSRCNN for ``tools/align.py`` and ``tools/benchmark_train.py``.

This project's own re-writing in PyTorch of the two networks as the papers and ``srcnn.py`` /
``fsrcnn.py`` describe them (so ``independent: false``): SRCNN's three convolutions, unpadded in
training and padded by edge replication at test time; FSRCNN's conv + per-channel PReLU layers (zero or
edge-replicating padding) and its 9x9 transposed convolution, whose padding and output padding are
derived here from the kernel-centre rule (``centred``: LR pixel i's centre tap at HR row
``scale * i + (scale - 1) // 2``; ``corner``: at ``scale * i``) rather than taken from ``fsrcnn.py``.
The tensor names are the suite's (PReLU slopes: ``weight`` here, ``_weight`` in Paddle). With
``--weights`` an authors' MATLAB file is converted by the suite's importer (``weights.py``) and both
sides start from it. ``srcnn_speed_case`` and ``fsrcnn_speed_case`` pair the suite's training step with
the twin for the training-speed table; ``srcnn_inference_twin`` and ``fsrcnn_inference_twin`` are the
exported nets in PyTorch for the latency table (``tools/benchmark_latency.py``). Imports torch: never imported by the package
(``ppcls_repro.alignment_references``, ``ppcls_repro.train_speed``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.io
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from ppcls_repro.engine.alignment import ALIGNMENT_REFERENCES, Batch, Implementation, Problem, imported_start
from ppcls_repro.engine.reference_torch import TorchSide, generic_loss, inference_module, supervised_speed_case
from ppcls_repro.engine.speed import SpeedCase, batch_size, sample_shape
from ppcls_repro.papers.sr.matlab import fsrcnn_m, srcnn_m
from ppcls_repro.registry import MODELS


class TorchSRCNN(tnn.Module):
    """SRCNN f1-f2-f3: ReLU after the first two layers; no padding in training (``pad_in_training``
    pads there too), edge-replicating padding in eval mode."""

    def __init__(self, kernel_sizes: tuple[int, int, int] = (9, 1, 5), channels: tuple[int, int] = (64, 32),
                 in_channels: int = 1, pad_in_training: bool = False) -> None:
        super().__init__()
        widths = (in_channels, *channels, in_channels)
        self.conv1, self.conv2, self.conv3 = (tnn.Conv2d(widths[i], widths[i + 1], kernel_sizes[i]) for i in range(3))
        self.pad_in_training = pad_in_training

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate((self.conv1, self.conv2, self.conv3)):
            half = conv.kernel_size[0] // 2
            if half and (self.pad_in_training or not self.training):
                x = tF.pad(x, (half,) * 4, mode="replicate")
            x = conv(x)
            if i < 2:
                x = tF.relu(x)
        return x


class TorchConvPReLU(tnn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, padding_mode: str) -> None:
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, kernel, padding=kernel // 2, padding_mode=padding_mode)
        self.prelu = tnn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(self.conv(x))


class TorchFSRCNN(tnn.Module):
    """FSRCNN(d, s, m): 5x5 extract, 1x1 shrink, m 3x3 mappings, 1x1 expand, each with PReLU, then the
    9x9 transposed convolution with stride ``scale``, output exactly ``scale`` x the input."""

    def __init__(self, scale: int, d: int = 56, s: int = 12, m: int = 4, in_channels: int = 1,
                 padding_mode: str = "zeros", deconv_alignment: str = "centred") -> None:
        super().__init__()
        self.extract = TorchConvPReLU(in_channels, d, 5, padding_mode)
        self.shrink = TorchConvPReLU(d, s, 1, padding_mode)
        self.mapping = tnn.ModuleList([TorchConvPReLU(s, s, 3, padding_mode) for _ in range(m)])
        self.expand = TorchConvPReLU(s, d, 1, padding_mode)
        # Centre tap of LR pixel i at HR row scale * i + 4 - padding; the output size scale * h fixes
        # output_padding = scale + 2 * padding - 9.
        centre = (scale - 1) // 2 if deconv_alignment == "centred" else 0
        padding = 4 - centre
        self.deconv = tnn.ConvTranspose2d(d, in_channels, 9, stride=scale, padding=padding,
                                          output_padding=scale + 2 * padding - 9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shrink(self.extract(x))
        for layer in self.mapping:
            x = layer(x)
        return self.deconv(self.expand(x))


def suite_key(key: str) -> str:
    """The suite's name of a twin's tensor: the same, but Paddle's PReLU calls its slopes ``_weight``."""
    return key[:-len("prelu.weight")] + "prelu._weight" if key.endswith("prelu.weight") else key


class _SRTwin:
    """What the SRCNN and FSRCNN twins share: the importer for ``--weights``, MSE (the config's loss)."""

    description: ClassVar[str]
    independent = False

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        self.weights_file = weights_file
        self.cfg = cfg
        self.arch = MODELS.with_defaults(cfg["Arch"], "Arch")
        if weights_file is not None:
            self.description += f", both sides starting from the authors' weights ({Path(weights_file).name})"

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        cfg, weights = imported_start(cfg, self.weights_file)
        self.suite_alignment = cfg["Arch"].get("deconv_alignment")
        return cfg, weights

    def module(self, arch: dict[str, Any]) -> tnn.Module:
        raise NotImplementedError

    def authors_output(self, image: np.ndarray, mat: dict[str, Any]) -> tuple[np.ndarray, int]:
        """The authors' MATLAB procedure (``matlab.py``) on one 2-D image; the HR border it is allowed to
        differ by."""
        raise NotImplementedError

    def authors_check(self, problem: Problem, suite: Implementation) -> dict[str, Any] | None:
        """With an authors' ``.mat`` file: the suite's eval-mode output against their test procedure
        re-done in NumPy on the file's arrays (read here, not through the importer), per image of the
        forward check's input, inside the border the procedures may differ by; absolute, 1e-5."""
        if self.weights_file is None or Path(self.weights_file).suffix != ".mat":
            return None
        mat = scipy.io.loadmat(str(self.weights_file))
        ours = suite.forward(problem.forward_input)
        diff, border = 0.0, 0
        for k in range(len(ours)):
            theirs, border = self.authors_output(problem.forward_input[k, 0].astype(np.float64), mat)
            inner = (slice(border, theirs.shape[0] - border), slice(border, theirs.shape[1] - border))
            diff = max(diff, float(np.max(np.abs(ours[k, 0][inner] - theirs[inner]))))
        return {"max_abs_diff": diff, "threshold": 1e-5, "passed": diff <= 1e-5, "dtype": "float32",
                "reference": f"the authors' MATLAB test procedure re-done in NumPy (papers/sr/matlab.py) on "
                             f"{Path(self.weights_file).name}", "border_excluded": border}

    def implementation(self, problem: Problem) -> Implementation:
        arch = MODELS.with_defaults(problem.cfg["Arch"], "Arch")
        return TorchSide(lambda: self.module(arch), suite_key, generic_loss(problem.cfg["Loss"]),
                         problem).implementation()


def _uniform(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.random(shape, dtype=np.float32)


@ALIGNMENT_REFERENCES.register
class SRCNNTwin(_SRTwin):
    """SRCNN: this project's PyTorch twin (``TorchSRCNN``)."""

    models = ("SRCNN",)
    description = "PyTorch twin of SRCNN (this project's, ppcls_repro/papers/sr/reference_torch.py)"

    def module(self, arch: dict[str, Any]) -> tnn.Module:
        return TorchSRCNN(tuple(arch["kernel_sizes"]), tuple(arch["channels"]), arch["in_channels"],
                          arch["pad_in_training"])

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        return _uniform(rng, batch_size, self.arch["in_channels"], 24, 24)

    def authors_output(self, image: np.ndarray, mat: dict[str, Any]) -> tuple[np.ndarray, int]:
        return srcnn_m(image, mat), 0  # SRCNN.m pads by edge replication, as the imported network does

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """The config's sub-images (33 -> 21 for 9-1-5: unpadded convolutions)."""
        node = self.cfg["DataLoader"]["Train"]["dataset"]
        channels = self.arch["in_channels"]
        size, label = node.get("input_size", 33), node.get("label_size", 21)
        if self.arch["pad_in_training"]:
            label = size
        return _uniform(rng, batch_size, channels, size, size), _uniform(rng, batch_size, channels, label, label)


@ALIGNMENT_REFERENCES.register
class FSRCNNTwin(_SRTwin):
    """FSRCNN and FSRCNN-s: this project's PyTorch twin (``TorchFSRCNN``)."""

    models = ("FSRCNN",)
    description = "PyTorch twin of FSRCNN (this project's, ppcls_repro/papers/sr/reference_torch.py)"

    def module(self, arch: dict[str, Any]) -> tnn.Module:
        return TorchFSRCNN(arch["scale"], arch["d"], arch["s"], arch["m"], arch["in_channels"], arch["padding_mode"],
                           arch["deconv_alignment"])

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        return _uniform(rng, batch_size, self.arch["in_channels"], 12, 12)

    def authors_output(self, image: np.ndarray, mat: dict[str, Any]) -> tuple[np.ndarray, int]:
        """``FSRCNN.m``'s output in the suite's geometry: deconv.m puts LR pixel i's kernel centre at HR
        ``scale * i``; the imported x3 model puts it ``(scale - 1) // 2`` further (``weights.py``: the
        authors' x3 kernels are trained for that place), so their output is moved by as much. Measured
        on the authors' FSRCNN_x3.mat: 1.2 apart unmoved, 1.1e-6 moved."""
        scale = self.arch["scale"]
        theirs = fsrcnn_m(image, mat, scale)
        shift = (scale - 1) // 2 if self.suite_alignment == "centred" else 0
        moved = np.pad(theirs, ((shift, 0), (shift, 0)), mode="edge")[:theirs.shape[0], :theirs.shape[1]]
        return moved, 2 * scale + shift  # deconv.m's edge padding reaches 2 x scale HR pixels

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """The config's LR sub-images (7x7 at x3) and their HR labels (scale x larger)."""
        lr_size = self.cfg["DataLoader"]["Train"]["dataset"].get("lr_size", 7)
        channels, scale = self.arch["in_channels"], self.arch["scale"]
        return (_uniform(rng, batch_size, channels, lr_size, lr_size),
                _uniform(rng, batch_size, channels, lr_size * scale, lr_size * scale))


def srcnn_speed_case(cfg: dict[str, Any]) -> SpeedCase:
    """SRCNN's training iteration on the config's sub-images and batch size, Paddle and the twin."""
    twin = SRCNNTwin(cfg, None)
    batch = twin.example_batch(np.random.default_rng(cfg["Global"]["seed"]), batch_size(cfg))
    kernels = "-".join(str(k) for k in twin.arch["kernel_sizes"])
    return supervised_speed_case(cfg, "srcnn", f"SRCNN {kernels}, {len(batch[0])} x {sample_shape(batch[0])}", batch,
                                 lambda: twin.module(twin.arch), suite_key, generic_loss(cfg["Loss"]))


def fsrcnn_speed_case(cfg: dict[str, Any]) -> SpeedCase:
    """FSRCNN's training iteration on the config's LR sub-images and batch size, Paddle and the twin."""
    twin = FSRCNNTwin(cfg, None)
    batch = twin.example_batch(np.random.default_rng(cfg["Global"]["seed"]), batch_size(cfg))
    arch = twin.arch
    label = f"FSRCNN ({arch['d']},{arch['s']},{arch['m']}) x{arch['scale']}, {len(batch[0])} x {sample_shape(batch[0])}"
    return supervised_speed_case(cfg, "fsrcnn", label, batch, lambda: twin.module(arch), suite_key,
                                 generic_loss(cfg["Loss"]))


def srcnn_inference_twin(cfg: dict[str, Any], weights: dict[str, np.ndarray]) -> tnn.Module:
    """The exported SRCNN in PyTorch: ``TorchSRCNN`` in eval mode (edge-replicating padding, output the
    input's size) holding the suite's ``weights``."""
    twin = SRCNNTwin(cfg, None)
    return inference_module(twin.module(twin.arch), weights, suite_key)


def fsrcnn_inference_twin(cfg: dict[str, Any], weights: dict[str, np.ndarray]) -> tnn.Module:
    """The exported FSRCNN in PyTorch: ``TorchFSRCNN`` (the config's padding, output ``scale`` x the
    input) holding the suite's ``weights``."""
    twin = FSRCNNTwin(cfg, None)
    return inference_module(twin.module(twin.arch), weights, suite_key)
