"""Hyperspectral scene classification inference (HybridSN): a cube in, the classification map out.

The exported net classifies one ``[1, bands, window, window]`` window of the PCA-reduced cube
(softmax appended). ``HyperspectralMap`` reproduces the training data's preparation
(``ppcls_repro/papers/hybridsn/data.py``) on a whole cube read from a ``.mat`` file: the PCA that the
config's Eval dataset applies to its scene (``HSIWindows.inference_facts``; mean, axes and variances saved beside
the model: ``pca_mean.npy``, ``pca_components.npy``, ``pca_variance.npy``; so export needs the
data), zero padding by ``window // 2`` after PCA, then the window centred on every pixel, in
batches. Each cube writes ``<stem>_map.png`` (one colour per class, legend in the log) and
``<stem>_map.npy`` (the class of every pixel, 1-based like the ground truth files).

Every pixel is classified, also those the ground truth leaves unlabelled (the paper's maps show the
labelled pixels only: mask with the ground truth to compare).
"""
from __future__ import annotations

import colorsys
from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.data.matlab import read_mat, variable_shapes
from ppcls_repro.deploy.pipeline import Net, Pipeline
from ppcls_repro.deploy.predictor import ModelDirError, ShapeRange
from ppcls_repro.papers.hybridsn import data as hsi
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import save_image
from ppcls_repro.utils.logger import get_logger


@PIPELINES.register
class HyperspectralMap(Pipeline):
    """Keys: the model states ``num_classes``, ``bands`` (PCA components) and ``window``; the data
    states ``whiten``, ``input_bands`` (of the raw cube), ``cube_key`` and ``class_names``;
    ``window_batch`` is the number of windows per predictor run (default 256)."""

    input_suffixes = (".mat",)
    facts_from_data = True

    def __init__(self, num_classes: int, bands: int, window: int, input_bands: int, whiten: bool,
                 cube_key: str, class_names: list[str] | None = None, window_batch: int = 256) -> None:
        if window < 1 or window % 2 == 0 or window_batch < 1:
            raise ValueError(f"HyperspectralMap: window must be odd and window_batch >= 1, got {window}, {window_batch}")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"HyperspectralMap: {len(class_names)} class_names for {num_classes} classes")
        self.num_classes, self.bands, self.window, self.input_bands = num_classes, bands, window, input_bands
        self.whiten, self.cube_key, self.class_names, self.window_batch = whiten, cube_key, class_names, window_batch
        self.pca: hsi.PCA | None = None

    def load_assets(self, model_dir: Path) -> None:
        arrays = {}
        for part, name in hsi.PCA_FILES.items():
            if not (model_dir / name).is_file():
                raise ModelDirError(f"{model_dir}: {name} is missing (export writes the scene's PCA there)")
            arrays[part] = np.load(model_dir / name)
        if arrays["components"].shape != (self.bands, self.input_bands) or arrays["mean"].shape != (self.input_bands,):
            raise ModelDirError(f"{model_dir}: PCA files do not fit {self.input_bands} bands -> {self.bands} components")
        self.pca = hsi.PCA(mean=arrays["mean"], components=arrays["components"], variance=arrays["variance"],
                           explained_ratio=np.zeros_like(arrays["variance"]), whiten=self.whiten)

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        if len(inputs) != 1 or inputs[0].get("shape", [])[1:] != [1, self.bands, self.window, self.window]:
            raise ModelDirError(f"HyperspectralMap needs one [N, 1, {self.bands}, {self.window}, {self.window}] "
                                f"input, the model has {inputs}")

    def output_paths(self, path: Path, out_dir: Path) -> list[Path]:
        return [out_dir / f"{path.stem}_map.png", out_dir / f"{path.stem}_map.npy"]

    def read_cube(self, path: Path) -> np.ndarray:
        """The ``(rows, cols, input_bands)`` float32 cube of a .mat file (``cube_key``, or its only 3-D array)."""
        key = self.cube_key
        cubes = [name for name, shape in variable_shapes(path).items() if len(shape) == 3]
        if key not in cubes and len(cubes) == 1:
            key = cubes[0]
        cube = read_mat(path, key)  # names an unreadable file
        if cube.ndim != 3 or cube.shape[2] != self.input_bands:
            raise DataError(f"{path}: '{key}' has shape {cube.shape}; the model takes (rows, cols, "
                            f"{self.input_bands}) cubes")
        return hsi.finite_float32(cube, path, key)

    def classify(self, cube: np.ndarray, net: Net, batch: int) -> np.ndarray:
        """The 0-based class of every pixel of a ``(rows, cols, input_bands)`` cube."""
        rows, cols, _ = cube.shape
        reduced = self.pca.transform(cube.reshape(-1, self.input_bands)).reshape(rows, cols, -1)
        padded = hsi.pad_cube(reduced, self.window // 2)
        windows = np.lib.stride_tricks.sliding_window_view(padded, (self.window, self.window), axis=(1, 2))
        labels = np.empty(rows * cols, np.int64)
        for start in range(0, rows * cols, batch):
            r, c = np.divmod(np.arange(start, min(start + batch, rows * cols)), cols)
            x = np.ascontiguousarray(windows[:, r, c].transpose(1, 0, 2, 3))[:, None]
            labels[start:start + len(r)] = net([x.astype(np.float32)])[0].argmax(axis=1)
        return labels.reshape(rows, cols)

    def predict(self, cube: np.ndarray, net: Net, batch_size: int = 1) -> np.ndarray:
        """A ``(rows, cols, input_bands)`` cube -> the class of every pixel, 1-based uint16 like the
        ground truth (what ``process`` saves as ``<stem>_map.npy``; ``ppcls_repro.load``)."""
        cube = np.asarray(cube)
        if cube.ndim != 3 or cube.shape[2] != self.input_bands or not np.issubdtype(cube.dtype, np.number):
            raise DataError(f"expected a numeric (rows, cols, {self.input_bands}) cube, got {cube.dtype} {list(cube.shape)}")
        cube = hsi.finite_float32(cube, Path("the cube"), "array")
        labels = self.classify(cube, net, batch_size if batch_size > 1 else self.window_batch)
        return (labels + 1).astype(np.uint16)

    def process(self, path: Path, net: Net, out_dir: Path, batch_size: int) -> list[Path]:
        labels = self.classify(self.read_cube(path), net, batch_size if batch_size > 1 else self.window_batch)
        png, npy = self.output_paths(path, out_dir)
        save_image(palette(self.num_classes)[labels], png)
        np.save(npy, (labels + 1).astype(np.uint16))
        counts = np.bincount(labels.reshape(-1), minlength=self.num_classes)
        names = self.class_names or [str(k + 1) for k in range(self.num_classes)]
        get_logger().info(f"{path.name}: {labels.shape[0]}x{labels.shape[1]} map; pixels per class: " + ", ".join(
            f"{k + 1} {names[k]} {int(n)}" for k, n in enumerate(counts) if n))
        return [png, npy]

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        cube = self.read_cube(path)[:self.window, :self.window]
        reduced = self.pca.transform(cube.reshape(-1, self.input_bands)).reshape(*cube.shape[:2], -1)
        padded = hsi.pad_cube(reduced, self.window // 2)
        return [np.ascontiguousarray(padded[None, None, :, :self.window, :self.window])]

    def shape_range(self, inputs: list[dict[str, Any]], batch_size: int) -> ShapeRange:
        shape = [1, self.bands, self.window, self.window]
        most = max(batch_size, self.window_batch)
        return {inputs[0]["name"]: ([1, *shape], [most, *shape], [most, *shape])}


def palette(count: int) -> np.ndarray:
    """``count`` distinct RGB colours (uint8), evenly spaced hues at two brightness levels."""
    colours = [colorsys.hsv_to_rgb(k / count, 0.85, 1.0 if k % 2 == 0 else 0.7) for k in range(count)]
    return np.round(np.array(colours) * 255).astype(np.uint8)

