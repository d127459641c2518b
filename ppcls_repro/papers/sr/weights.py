"""The SR authors' released MATLAB weights (``tools/import_weights.py``).

SRCNN (the authors' SRCNN test package, ``SRCNN.m``): ``weights_conv1`` [k1*k1, n1],
``weights_conv2`` [n1, k2*k2, n2], ``weights_conv3`` [n2, k3*k3], ``biases_conv1..3`` [n, 1]; any
of 9-1-5, 9-3-5, 9-5-5 and any width. FSRCNN and FSRCNN-s (``FSRCNN.m``): cells ``weights_conv``
({conv: [c_in, k*k, c_out]}, the deconvolution [1, 81, d]), ``biases_conv`` and ``prelu_conv`` (one
slope per layer, shared by its channels; broadcast here to the suite's per-channel PReLU); d, s and
m are read from the shapes. The scale comes from the config (the files do not record it).

Each k x k filter is a column of k*k values that the MATLAB code reshapes column-major and applies
with ``imfilter`` (a correlation, as Paddle's convolution): element ``a + k*b`` is the filter's
row a, column b. The deconvolution scatters each LR pixel's filter onto the HR grid unflipped, as
Paddle's transposed convolution does. The authors test with edge-replicating padding
(``imfilter(..., 'same', 'replicate')``): FSRCNN imports with ``padding_mode: replicate`` (the suite's
SRCNN always pads that way at test time). Deconvolution geometry: the authors' ``deconv.m`` puts LR
pixel i's kernel centre at HR ``scale * i`` ("corner", as the tests' port of it checks), and so does
their x4 model; their x3 model's kernels sit one HR pixel further, at ``3i + 1`` (the suite's
"centred": 33.1554 dB on Set5 here, 26.3085 in the corner geometry). ``deconv_alignment`` is
therefore "corner" for every scale but 3 (x2 is the same either way). Only the x3 files were here to
score; the x4 placement is the measurement recorded with the shared reference files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.data.matlab import load_mat, variable_shapes
from ppcls_repro.engine.importing import ImportedWeights
from ppcls_repro.registry import WEIGHT_FORMATS
from ppcls_repro.utils.errors import DataError

SRCNN_KEYS = {f"{kind}_conv{i}" for kind in ("weights", "biases") for i in (1, 2, 3)}
FSRCNN_KEYS = {"weights_conv", "biases_conv", "prelu_conv"}


def matlab_filters(columns: np.ndarray, c_in: int, c_out: int) -> np.ndarray:
    """[c_in, k*k, c_out] MATLAB filter columns -> Paddle conv weights [c_out, c_in, k, k]."""
    size = int(round(np.sqrt(columns.shape[1])))
    if size * size != columns.shape[1]:
        raise ValueError(f"{columns.shape[1]} values per filter is not a square kernel")
    # value a + size * b is row a, column b (MATLAB's column-major reshape): C order splits it as (b, a)
    kernels = columns.reshape(c_in, size, size, c_out).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(kernels.transpose(3, 0, 1, 2)).astype(np.float32)


def _column(values: Any, size: int, what: str, path: Path) -> np.ndarray:
    array = np.asarray(values, np.float64).reshape(-1)
    if array.size != size:
        raise DataError(f"{path}: {what} has {array.size} values, expected {size}")
    return array.astype(np.float32)


@WEIGHT_FORMATS.register
class SRCNNMatlab:
    """SRCNN from the authors' MATLAB test package (``x2.mat``, ``x3.mat``, ``x4.mat``)."""

    model = "SRCNN"

    @staticmethod
    def recognise(path: Path) -> bool:
        return SRCNN_KEYS <= set(variable_shapes(path))

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        mat = load_mat(path)
        w1, w2, w3 = (np.asarray(mat[f"weights_conv{i}"], np.float64) for i in (1, 2, 3))
        if w1.ndim != 2 or w3.ndim != 2 or w2.ndim not in (2, 3):
            raise DataError(f"{path}: SRCNN weights of shapes {w1.shape}, {w2.shape}, {w3.shape}; expected "
                            "[k1*k1, n1], [n1, k2*k2, n2] and [n2, k3*k3]")
        n1, n2 = w1.shape[1], w3.shape[0]
        w2 = w2.reshape(w2.shape[0], -1, n2)  # MATLAB drops a trailing singleton: 1x1 filters are [n1, 1, n2]
        try:
            weights = {"conv1.weight": matlab_filters(w1[None], 1, n1),
                       "conv2.weight": matlab_filters(w2, n1, n2),
                       "conv3.weight": matlab_filters(w3[:, :, None], n2, 1)}
        except ValueError as err:
            raise DataError(f"{path}: {err}") from None
        for i, n in ((1, n1), (2, n2), (3, 1)):
            weights[f"conv{i}.bias"] = _column(mat[f"biases_conv{i}"], n, f"biases_conv{i}", path)
        weights["scale"] = np.asarray([arch["scale"]], np.int64)
        sizes = tuple(int(weights[f"conv{i}.weight"].shape[-1]) for i in (1, 2, 3))
        return ImportedWeights(weights=weights, arch={"kernel_sizes": list(sizes), "channels": [n1, n2],
                                                      "in_channels": 1},
                               description=f"SRCNN {'-'.join(map(str, sizes))} ({n1}, {n2} filters), MATLAB v5")


@WEIGHT_FORMATS.register
class FSRCNNMatlab:
    """FSRCNN or FSRCNN-s from the authors' MATLAB test package (``FSRCNN/x3.mat``, ``FSRCNN-s/x3.mat``, ...)."""

    model = "FSRCNN"

    @staticmethod
    def recognise(path: Path) -> bool:
        return FSRCNN_KEYS <= set(variable_shapes(path))

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        mat = load_mat(path)
        convs, biases, slopes = (np.asarray(mat[key], object).reshape(-1) for key in
                                 ("weights_conv", "biases_conv", "prelu_conv"))
        if not len(convs) == len(biases) == len(slopes) or len(convs) < 4:
            raise DataError(f"{path}: FSRCNN cells of {len(convs)}, {len(biases)}, {len(slopes)} layers; expected "
                            "one weight, bias and PReLU entry per layer, at least 4 layers")
        shapes = [np.asarray(w).reshape(np.asarray(w).shape + (1,) * (3 - np.asarray(w).ndim)).shape
                  for w in convs]
        d, s, m = shapes[0][2], shapes[1][2], len(convs) - 4
        names = ["extract", "shrink", *(f"mapping.{i}" for i in range(m)), "expand"]
        weights: dict[str, np.ndarray] = {}
        try:
            for name, w, b, slope, shape in zip(names, convs, biases, slopes, shapes):
                c_in, _, c_out = shape
                weights[f"{name}.conv.weight"] = matlab_filters(np.asarray(w, np.float64).reshape(shape), c_in, c_out)
                weights[f"{name}.conv.bias"] = _column(b, c_out, f"biases_conv of {name}", path)
                weights[f"{name}.prelu._weight"] = np.full(c_out, _column(slope, 1, f"prelu_conv of {name}", path)[0],
                                                           np.float32)
            deconv = np.asarray(convs[-1], np.float64).reshape(shapes[-1])  # [1, 81, d]
            if shapes[-1][0] != 1 or shapes[-1][2] != d:
                raise ValueError(f"the deconvolution is {shapes[-1]}, expected [1, 81, {d}]")
            # Paddle's transposed-conv layout [in = d, out = 1, 9, 9]
            weights["deconv.weight"] = matlab_filters(deconv.transpose(2, 1, 0), d, 1).transpose(1, 0, 2, 3).copy()
        except ValueError as err:
            raise DataError(f"{path}: {err}") from None
        weights["deconv.bias"] = _column(biases[-1], 1, "biases_conv of the deconvolution", path)
        weights["scale"] = np.asarray([arch["scale"]], np.int64)
        kind = "FSRCNN-s" if (d, s, m) == (32, 5, 1) else "FSRCNN"
        return ImportedWeights(
            weights=weights,
            arch={"d": int(d), "s": int(s), "m": int(m), "in_channels": 1, "padding_mode": "replicate",
                  "deconv_alignment": "centred" if arch["scale"] == 3 else "corner"},
            description=f"{kind} ({d}, {s}, {m}), MATLAB v5, tested with edge-replicating padding")
