"""Hyperspectral scenes for HybridSN (Roy et al., GRSL 2019): readers, PCA, windows, splits, synthetic cube.

The pipeline of the paper (Sections 2-3) and of its official code:
1. read the cube ``(rows, cols, bands)`` and the label map ``(rows, cols)``, 0 = unlabelled, from the
   standard .mat files (``SCENES``): MATLAB v5 through scipy, v7.3 (HDF5) through h5py, whose
   arrays come out with the axes reversed (MATLAB is column-major) and are transposed back;
2. PCA with whitening to ``pca_components`` (30 for Indian Pines, 15 for Pavia University and
   Salinas), fitted on every pixel of the scene (the paper) or on the training pixels only
   (``pca_fit: train``, which keeps test spectra out of the projection too);
3. zero padding by ``window // 2`` (after PCA, so the padding is the whitened mean) and one
   ``window x window`` window around each labelled pixel; unlabelled pixels are never samples;
4. a split of the labelled pixels, a deterministic function of (label map, seed, settings), so
   the Train and Eval datasets, built separately from one config, agree:
   - ``random``: the paper's stratified split, ``train_ratio`` of every class to training;
   - ``disjoint``: square blocks of ``block_size`` pixels go wholly to training or to test
     (greedy, seeded, aiming at ``train_ratio`` of every class; of 64 seeded visiting orders the
     one leaving the fewest test pixels in classes without training pixels is kept), then every
     test pixel within ``window // 2`` pixels (Chebyshev distance) of a training pixel is moved
     to a guard band used for nothing: no training window contains a test pixel. The guard costs
     test pixels, never training ones (Indian Pines, blocks of 37, split_seed 345: 3,356 train,
     2,805 test, 4,088 guard pixels; 12 classes on both sides, 47 test pixels in untrained classes).

Windows are cut lazily in ``__getitem__`` from the padded PCA cube, which is cached in
``cache_dir`` (``.npy``, keyed by every setting that changes it), so the second dataset of a run
loads it at once. Peak memory for Indian Pines (145 x 145 x 200, cache miss, PCA on all pixels),
measured in a fresh process with tracemalloc / growth of ru_maxrss: 73 / 92 MiB reading an
IP-sized uint16 cube from a v5 .mat file, 57 / 76 MiB generating the synthetic cube (the float32
cube is 16 MiB; PCA works in float64 chunks of 8,192 pixels). The dataset then keeps only the
padded 30-band cube, 3.3 MiB, and a cache hit costs 4 MiB. Materialising every window at once as
the official code does would take 10,249 x 25 x 25 x 30 float32 = 733 MiB (twice that in float64).

The synthetic stand-in (``synthetic: true``): a cube generated from a seed on the real label map
(class spectra in confusable groups, within-class variants mixed by smooth spatial fields,
illumination and soil fields, per-band noise). It exercises the whole pipeline where the real
cube is missing; every run on it is labelled "synthetic cube on the IP map" and is never a
reproduction of the paper's numbers.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from paddle.io import Dataset
from scipy.ndimage import gaussian_filter, maximum_filter

from ppcls_repro.data.download import DataSource
from ppcls_repro.data.matlab import read_mat
from ppcls_repro.data.splits import class_quota, stratified_pick
from ppcls_repro.registry import DATASETS, Positive
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.files import atomic_write, sha256_file, write_bytes_atomic
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.spec import DataFacts

SCENES_URL = "https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes"


@dataclasses.dataclass(frozen=True)
class SceneSpec:
    """One standard scene: its files, MATLAB variable names, shape and classes."""
    name: str
    short: str  # IP, PU, SA: how results name the scene
    cube_file: str
    cube_key: str
    gt_file: str
    gt_key: str
    shape: tuple[int, int, int]  # rows, cols, bands
    labelled: int  # labelled pixels in the ground truth
    pca_components: int  # the paper's
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


SCENES: dict[str, SceneSpec] = {
    "IndianPines": SceneSpec(
        "IndianPines", "IP", "Indian_pines_corrected.mat", "indian_pines_corrected",
        "Indian_pines_gt.mat", "indian_pines_gt", (145, 145, 200), 10249, 30,
        ("Alfalfa", "Corn-notill", "Corn-mintill", "Corn", "Grass-pasture", "Grass-trees",
         "Grass-pasture-mowed", "Hay-windrowed", "Oats", "Soybean-notill", "Soybean-mintill",
         "Soybean-clean", "Wheat", "Woods", "Buildings-Grass-Trees-Drives", "Stone-Steel-Towers")),
    "PaviaU": SceneSpec(
        "PaviaU", "PU", "PaviaU.mat", "paviaU", "PaviaU_gt.mat", "paviaU_gt", (610, 340, 103), 42776, 15,
        ("Asphalt", "Meadows", "Gravel", "Trees", "Painted metal sheets", "Bare Soil", "Bitumen",
         "Self-Blocking Bricks", "Shadows")),
    "Salinas": SceneSpec(
        "Salinas", "SA", "Salinas_corrected.mat", "salinas_corrected", "Salinas_gt.mat", "salinas_gt",
        (512, 217, 204), 54129, 15,
        ("Brocoli_green_weeds_1", "Brocoli_green_weeds_2", "Fallow", "Fallow_rough_plow", "Fallow_smooth",
         "Stubble", "Celery", "Grapes_untrained", "Soil_vinyard_develop", "Corn_senesced_green_weeds",
         "Lettuce_romaine_4wk", "Lettuce_romaine_5wk", "Lettuce_romaine_6wk", "Lettuce_romaine_7wk",
         "Vinyard_untrained", "Vinyard_vertical_trellis")),
}

# Pixel roles in a split map.
UNLABELLED, TRAIN, TEST, GUARD = 0, 1, 2, 3


# ----------------------------------------------------------------------------------------------
# Readers


def read_ground_truth(path: Path, key: str, spec: SceneSpec, check_shape: bool = True) -> np.ndarray:
    """The label map as int64, 0 = unlabelled, 1..num_classes; shape checked against ``spec``."""
    gt = read_mat(path, key)
    if gt.ndim != 2:
        raise DataError(f"{path}: '{key}' has shape {gt.shape}, expected a 2-D label map")
    if check_shape and gt.shape != spec.shape[:2]:
        raise DataError(f"{path}: '{key}' has shape {gt.shape}, expected {spec.shape[:2]} for {spec.name}")
    if not np.issubdtype(gt.dtype, np.integer) and not np.array_equal(gt, np.round(gt)):
        raise DataError(f"{path}: '{key}' holds non-integer labels")
    gt = gt.astype(np.int64)
    if gt.min() < 0 or gt.max() > spec.num_classes:
        raise DataError(f"{path}: '{key}' labels span {gt.min()}..{gt.max()}, expected 0..{spec.num_classes} "
                        f"({spec.name} has {spec.num_classes} classes)")
    if not (gt > 0).any():
        raise DataError(f"{path}: '{key}' has no labelled pixel")
    return gt


def read_cube(path: Path, key: str, spec: SceneSpec, rows_cols: tuple[int, int],
              check_shape: bool = True) -> np.ndarray:
    """The cube as float32 ``(rows, cols, bands)``; it must cover the label map pixel for pixel."""
    cube = read_mat(path, key)
    if cube.ndim != 3:
        raise DataError(f"{path}: '{key}' has shape {cube.shape}, expected (rows, cols, bands)")
    if check_shape and cube.shape != spec.shape:
        raise DataError(f"{path}: '{key}' has shape {cube.shape}, expected {spec.shape} for {spec.name}")
    if cube.shape[:2] != rows_cols:
        raise DataError(f"{path}: '{key}' is {cube.shape[0]}x{cube.shape[1]} pixels but the label map is "
                        f"{rows_cols[0]}x{rows_cols[1]}")
    return finite_float32(cube, path, key)


def finite_float32(cube: np.ndarray, path: Path, key: str) -> np.ndarray:
    """``cube`` as float32; a NaN or infinite value is an error naming the file and variable."""
    cube = cube.astype(np.float32)
    if not np.isfinite(cube).all():
        raise DataError(f"{path}: '{key}' holds NaN or infinite values")
    return cube


# ----------------------------------------------------------------------------------------------
# PCA with whitening


# The PCA's arrays as export saves them beside the model (the HyperspectralMap pipeline reads them)
PCA_FILES = {"mean": "pca_mean.npy", "components": "pca_components.npy", "variance": "pca_variance.npy"}


@dataclasses.dataclass
class PCA:
    """Principal axes of a set of spectra; ``transform`` projects (and whitens) them."""
    mean: np.ndarray  # [bands]
    components: np.ndarray  # [k, bands], unit rows, by decreasing variance
    variance: np.ndarray  # [k], variance along each axis (ddof=1, as scikit-learn)
    explained_ratio: np.ndarray  # [k]
    whiten: bool

    def transform(self, pixels: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """``[n, bands]`` -> ``[n, k]`` float32; whitened components have unit variance on the fit set."""
        scale = 1.0 / np.sqrt(self.variance) if self.whiten else np.ones_like(self.variance)
        out = np.empty((pixels.shape[0], self.components.shape[0]), np.float32)
        for start in range(0, pixels.shape[0], chunk):
            block = pixels[start:start + chunk].astype(np.float64) - self.mean
            out[start:start + chunk] = (block @ self.components.T) * scale
        return out


def fit_pca(pixels: np.ndarray, components: int, whiten: bool = True, chunk: int = 8192) -> PCA:
    """PCA of ``[n, bands]`` spectra from the covariance (float64, accumulated in chunks)."""
    n, bands = pixels.shape
    if not 1 <= components <= bands:
        raise DataError(f"pca_components must be in 1..{bands} (the cube's bands), got {components}")
    if n <= components:
        raise DataError(f"PCA needs more than {components} pixels to fit {components} components, got {n}")
    mean = np.zeros(bands)
    for start in range(0, n, chunk):
        mean += pixels[start:start + chunk].astype(np.float64).sum(axis=0)
    mean /= n
    scatter = np.zeros((bands, bands))
    for start in range(0, n, chunk):
        block = pixels[start:start + chunk].astype(np.float64) - mean
        scatter += block.T @ block
    eigval, eigvec = np.linalg.eigh(scatter / (n - 1))
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = np.clip(eigval[order], 0.0, None), eigvec[:, order]
    axes = eigvec[:, :components].T
    # A deterministic sign: the largest loading of every axis is positive.
    axes *= np.sign(axes[np.arange(components), np.abs(axes).argmax(axis=1)])[:, None]
    variance = eigval[:components]
    if whiten and variance[-1] <= 1e-12 * max(variance[0], 1e-300):
        raise DataError(f"the spectra span fewer than {components} dimensions: cannot whiten "
                        f"{components} components (use fewer pca_components)")
    return PCA(mean=mean, components=axes, variance=variance,
               explained_ratio=variance / eigval.sum(), whiten=whiten)


# ----------------------------------------------------------------------------------------------
# Padding and windows


def pad_cube(cube: np.ndarray, margin: int) -> np.ndarray:
    """``(rows, cols, k)`` -> zero-padded ``(k, rows + 2 margin, cols + 2 margin)`` float32 (band first)."""
    rows, cols, k = cube.shape
    padded = np.zeros((k, rows + 2 * margin, cols + 2 * margin), np.float32)
    padded[:, margin:margin + rows, margin:margin + cols] = cube.transpose(2, 0, 1)
    return padded


def cut_window(padded: np.ndarray, row: int, col: int, window: int) -> np.ndarray:
    """The ``(k, window, window)`` window centred on scene pixel ``(row, col)`` (a view of ``padded``)."""
    return padded[:, row:row + window, col:col + window]


# ----------------------------------------------------------------------------------------------
# Splits: maps of UNLABELLED / TRAIN / TEST / GUARD


def random_split(gt: np.ndarray, train_ratio: float, seed: int) -> np.ndarray:
    """The paper's split: ``round(train_ratio * n_c)`` random pixels of every class c train, the rest test.

    A class with at least two pixels keeps at least one on each side.
    """
    _check_ratio(train_ratio)
    flat = gt.reshape(-1)
    labelled = np.flatnonzero(flat > 0)
    roles = np.where(flat > 0, TEST, UNLABELLED).astype(np.int8)
    roles[labelled[stratified_pick(flat[labelled], lambda n: class_quota(n, train_ratio), seed)]] = TRAIN
    return roles.reshape(gt.shape)


def block_split(gt: np.ndarray, train_ratio: float, seed: int, block_size: int, margin: int,
                tries: int = 64) -> np.ndarray:
    """A spatially disjoint split: whole blocks to train or test, then a guard band around training.

    Blocks are visited in a seeded random order; a block goes to training when that brings the
    training counts closer to ``train_ratio`` of every class (the sum over classes of
    |count - target| / target decreases), so every class is stratified as far as whole blocks
    allow. Then each test pixel within ``margin`` (Chebyshev) of a training pixel becomes GUARD:
    with ``margin = window // 2`` no training window contains a test pixel. Of ``tries`` visiting
    orders (seeded by ``seed``), the split kept has the fewest test pixels of classes without
    training pixels, then the most classes on both sides, then training counts closest to target.
    """
    _check_ratio(train_ratio)
    if block_size < 1 or margin < 0:
        raise DataError(f"block_size must be >= 1 and margin >= 0, got {block_size} and {margin}")
    rows, cols = gt.shape
    per_row = -(-cols // block_size)
    block = (np.arange(rows)[:, None] // block_size) * per_row + np.arange(cols)[None, :] // block_size
    num_classes = int(gt.max())
    counts = np.zeros((int(block.max()) + 1, num_classes + 1), np.int64)
    np.add.at(counts, (block.reshape(-1), gt.reshape(-1)), 1)
    counts = counts[:, 1:]
    target = train_ratio * counts.sum(axis=0)
    weight = 1.0 / np.maximum(target, 1.0)
    best, best_rank = None, None
    for attempt in range(tries):
        chosen = _greedy_blocks(counts, target, weight, np.random.default_rng([seed, attempt]))
        roles = _roles_from_blocks(gt, chosen[block], margin)
        rank = _split_rank(gt, roles, target, weight)
        if best_rank is None or rank < best_rank:
            best, best_rank = roles, rank
    return best


def _greedy_blocks(counts: np.ndarray, target: np.ndarray, weight: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    chosen = np.zeros(len(counts), bool)
    have = np.zeros(counts.shape[1])
    for b in rng.permutation(len(counts)):
        if counts[b].any() and (np.abs(have - target) - np.abs(have + counts[b] - target)) @ weight > 0:
            chosen[b] = True
            have += counts[b]
    return chosen


def _roles_from_blocks(gt: np.ndarray, train_area: np.ndarray, margin: int) -> np.ndarray:
    labelled = gt > 0
    train = labelled & train_area
    test = labelled & ~train_area
    roles = np.full(gt.shape, UNLABELLED, np.int8)
    roles[train], roles[test] = TRAIN, TEST
    roles[test & within(train, margin)] = GUARD
    return roles


def _split_rank(gt: np.ndarray, roles: np.ndarray, target: np.ndarray, weight: np.ndarray) -> tuple:
    classes = int(gt.max()) + 1
    n_train = np.bincount(gt[roles == TRAIN], minlength=classes)[1:]
    n_test = np.bincount(gt[roles == TEST], minlength=classes)[1:]
    untrained = int(n_test[n_train == 0].sum())
    return untrained, -int(((n_train > 0) & (n_test > 0)).sum()), float(np.abs(n_train - target) @ weight)


def within(mask: np.ndarray, margin: int) -> np.ndarray:
    """Pixels within Chebyshev distance ``margin`` of a True pixel of ``mask`` (a square dilation)."""
    if margin == 0:
        return mask.copy()
    return maximum_filter(mask.astype(np.uint8), size=2 * margin + 1, mode="constant", cval=0) > 0


def _check_ratio(train_ratio: float) -> None:
    if not 0.0 < train_ratio < 1.0:
        raise DataError(f"train_ratio must be in (0, 1), got {train_ratio}")


def stratified_subset(labels: np.ndarray, max_samples: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ~``max_samples`` items, every class in proportion (at least one each)."""
    if max_samples >= labels.size:
        return np.arange(labels.size)
    return stratified_pick(labels, lambda n: min(n, max(1, int(np.floor(max_samples * n / labels.size + 0.5)))),
                           seed)


# ----------------------------------------------------------------------------------------------
# Synthetic stand-in cube


def synthetic_cube(gt: np.ndarray, bands: int, seed: int, noise: float = 0.01) -> np.ndarray:
    """A float32 ``(rows, cols, bands)`` cube on label map ``gt``, generated from ``seed``.

    Reflectance-like spectra (scaled by 10,000 like the AVIRIS scenes): classes come in groups of
    three sharing a parent spectrum (as Indian Pines' corn, grass and soybean classes) and differ
    from it by a few per cent; each class has a second variant mixed in by a smooth spatial field;
    smooth illumination and soil-abundance fields vary across the scene; ``noise`` is the per-band
    Gaussian noise in reflectance units. Unlabelled pixels are a mixture of two background spectra.
    """
    gt = np.asarray(gt).astype(np.int64)  # unsigned maps: gt - 1 must not wrap around
    rng = np.random.default_rng(seed)
    rows, cols = gt.shape
    num_classes = int(gt.max())
    wl = np.linspace(0.0, 1.0, bands)
    parents = [_smooth_spectrum(rng, wl) for _ in range(-(-num_classes // 3))]
    classes = np.stack([parents[c // 3] * (1 + 0.06 * _smooth_wiggle(rng, wl)) for c in range(num_classes)])
    variants = classes * (1 + 0.05 * np.stack([_smooth_wiggle(rng, wl) for _ in range(num_classes)]))
    soil, bg1, bg2 = (_smooth_spectrum(rng, wl) for _ in range(3))
    mix = _sigmoid(2.0 * _field(rng, (rows, cols), 5.0))[..., None]  # variant share
    light = (1.0 + 0.08 * _field(rng, (rows, cols), 12.0))[..., None]
    dirt = (0.25 * _sigmoid(1.5 * _field(rng, (rows, cols), 9.0)))[..., None]
    cube = np.empty((rows, cols, bands), np.float32)
    for top in range(0, rows, 16):  # row blocks: float64 temporaries stay a few MB
        part = slice(top, top + 16)
        label = np.clip(gt[part] - 1, 0, None)
        own = (1 - mix[part]) * classes[label] + mix[part] * variants[label]
        background = (1 - mix[part]) * bg1 + mix[part] * bg2
        pure = np.where((gt[part] > 0)[..., None], own, background)
        block = light[part] * ((1 - dirt[part]) * pure + dirt[part] * soil)
        block += noise * rng.standard_normal(block.shape)
        cube[part] = 10000.0 * block
    return cube


def _smooth_spectrum(rng: np.random.Generator, wl: np.ndarray) -> np.ndarray:
    """A positive, smooth, vegetation/soil-like reflectance curve in about [0.05, 0.6]."""
    curve = rng.uniform(0.1, 0.25) + rng.uniform(-0.1, 0.1) * wl
    for _ in range(4):
        centre, width, height = rng.uniform(0, 1), rng.uniform(0.04, 0.2), rng.uniform(-0.1, 0.25)
        curve = curve + height * np.exp(-0.5 * ((wl - centre) / width) ** 2)
    return np.clip(curve, 0.05, 0.6)


def _smooth_wiggle(rng: np.random.Generator, wl: np.ndarray) -> np.ndarray:
    """A smooth curve in [-1, 1] along the spectrum (how a class departs from its group)."""
    curve = sum(rng.uniform(-1, 1) * np.sin(np.pi * (f * wl + rng.uniform(0, 2))) for f in (1, 2, 3, 5))
    return curve / max(np.abs(curve).max(), 1e-12)


def _field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """A smooth random field with zero mean and unit standard deviation (spatial texture)."""
    field = gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
    return (field - field.mean()) / max(field.std(), 1e-12)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------------------------
# The dataset


@dataclasses.dataclass(frozen=True)
class Scene:
    """A prepared scene: the padded PCA cube, the label map and the split roles, shared by both splits."""
    padded: np.ndarray  # (k, rows + 2 m, cols + 2 m) float32
    gt: np.ndarray  # (rows, cols) int64, 0 = unlabelled
    roles: np.ndarray  # (rows, cols) int8: UNLABELLED / TRAIN / TEST / GUARD
    pca: PCA  # the reduction applied to the cube (export saves it beside the model)

    @property
    def explained(self) -> float:
        """Variance share kept by PCA."""
        return float(self.pca.explained_ratio.sum())


@DATASETS.register
class HSIWindows(Dataset):
    """Windows around the labelled pixels of one split of a hyperspectral scene (HybridSN's input).

    Items: ``input`` ``(1, k, window, window)`` float32 (k = PCA components), ``target`` the 0-based
    class, ``pixel`` the (row, col) in the scene.

    Args:
        root: folder holding the scene's files (``SCENES`` names them). Required.
        split: "train" or "test": the split's training or test pixels (guard pixels are in neither). Required.
        scene: "IndianPines", "PaviaU" or "Salinas": the ``SCENES`` entry (files, variables, shape, classes).
            Default: "IndianPines".
        window: side of the square window in pixels, odd; the cube is zero-padded by ``window // 2``,
            which is also the guard band of the disjoint split. Default: 25.
        pca_components: PCA components k, 1 to the cube's bands; None = the scene table's value (30 for
            Indian Pines, 15 for Pavia University and Salinas). Default: None.
        whiten: scale every PCA component to unit variance on the pixels PCA is fitted on. Default: True.
        pca_fit: "all" fits PCA on every pixel of the scene (the paper), "train" on the training pixels only.
            Default: "all".
        split_mode: "random" (the paper's stratified random split) or "disjoint" (whole blocks to train or
            test, then the guard band). Default: "random".
        train_ratio: fraction of every class's labelled pixels for training, in (0, 1) (with "disjoint", the
            target that whole blocks approach). Default: 0.3.
        split_seed: seed of the split, and of the ``max_samples`` subset. Default: 345.
        block_size: side of the square blocks in pixels, >= 1; used by split_mode "disjoint" only. Default: 37.
        synthetic: replace the cube by ``synthetic_cube`` on the real label map (a stand-in, never a result of
            the paper). Default: False.
        synthetic_seed: seed of the synthetic cube. Default: 0.
        synthetic_bands: bands of the synthetic cube; None = the scene table's band count. Default: None.
        cube_file: cube file name in ``root``; None = the scene table's. A cube_file or gt_file of one's own
            turns off the check against the table's shape (cube and label map are still checked against each
            other). Default: None.
        cube_key: MATLAB variable of the cube; None = the scene table's. Default: None.
        gt_file: label-map file name in ``root``; None = the scene table's. Default: None.
        gt_key: MATLAB variable of the label map; None = the scene table's. Default: None.
        max_samples: keep a seeded, class-stratified subset of about this many windows of the split (at least
            one per class; quick runs); None = every window. Default: None.
        cache_dir: folder where the padded PCA cube and its PCA are cached (``.npy``), so the other split of
            a run loads them at once. Default: "dataset/cache".
    """

    inference_pipeline = "HyperspectralMap"

    # Train and Eval are built separately from the same scene: these must agree (config check)
    same_across_splits = ("root", "scene", "window", "pca_components", "whiten", "pca_fit", "split_mode",
                          "train_ratio", "split_seed", "block_size", "synthetic", "synthetic_seed",
                          "synthetic_bands", "cube_file", "cube_key", "gt_file", "gt_key")

    def __init__(self, root: str, split: Literal["train", "test"],
                 scene: Literal["IndianPines", "PaviaU", "Salinas"] = "IndianPines",
                 window: Positive = 25, pca_components: Positive | None = None, whiten: bool = True,
                 pca_fit: Literal["all", "train"] = "all",
                 split_mode: Literal["random", "disjoint"] = "random", train_ratio: float = 0.3,
                 split_seed: int = 345, block_size: Positive = 37,
                 synthetic: bool = False, synthetic_seed: int = 0, synthetic_bands: Positive | None = None,
                 cube_file: str | None = None, cube_key: str | None = None,
                 gt_file: str | None = None, gt_key: str | None = None,
                 max_samples: Positive | None = None, cache_dir: str = "dataset/cache") -> None:
        if window < 1 or window % 2 == 0:
            raise DataError(f"window must be odd (a window centred on its pixel), got {window}")
        self.spec = SCENES[scene]
        self.split, self.window, self.margin = split, window, window // 2
        self.components = pca_components or self.spec.pca_components
        self.class_names = self.spec.class_names
        self.num_classes = self.spec.num_classes
        custom = gt_file is not None or cube_file is not None  # other files: the table's shapes do not apply
        gt_path = Path(root) / (gt_file or self.spec.gt_file)
        gt = read_ground_truth(gt_path, gt_key or self.spec.gt_key, self.spec, check_shape=not custom)
        roles, split_text = make_split(gt, split_mode, train_ratio, split_seed, block_size, self.margin)
        settings = {"version": 2, "scene": scene, "window": window, "components": self.components,
                    "whiten": whiten, "pca_fit": pca_fit, "gt": sha256_file(gt_path),
                    "gt_key": gt_key or self.spec.gt_key}  # the file's checksum does not say which variable
        if pca_fit == "train":
            settings["train_pixels"] = hashlib.sha256((roles == TRAIN).tobytes()).hexdigest()
        if synthetic:
            bands = synthetic_bands or self.spec.shape[2]
            settings["synthetic"] = {"seed": synthetic_seed, "bands": bands}
            load = functools.partial(synthetic_cube, gt, bands, synthetic_seed)
        else:
            cube_path = Path(root) / (cube_file or self.spec.cube_file)
            settings["cube"] = self._cube_checksum(cube_path)
            settings["cube_key"] = cube_key or self.spec.cube_key
            load = functools.partial(read_cube, cube_path, cube_key or self.spec.cube_key, self.spec,
                                     gt.shape, check_shape=not custom)
        self.scene = prepare_scene(load, gt, roles, settings, Path(cache_dir), self.margin)
        role = TRAIN if split == "train" else TEST
        pixels = np.argwhere(roles == role)
        labels = gt[pixels[:, 0], pixels[:, 1]] - 1
        if max_samples is not None:
            keep = stratified_subset(labels, max_samples, split_seed)
            pixels, labels = pixels[keep], labels[keep]
        if len(pixels) == 0:
            raise DataError(f"{gt_path}: the {split_mode} split leaves no {split} pixels "
                            f"(train_ratio {train_ratio}, block_size {block_size})")
        self.pixels, self.labels = pixels.astype(np.int64), labels.astype(np.int64)
        what = f"synthetic cube on the {self.spec.short} map" if synthetic else f"{scene} cube"
        pca_text = f"PCA {self.components} {'whitened ' if whiten else ''}fitted on {pca_fit} pixels"
        subset = f" (stratified subset, max_samples {max_samples})" if max_samples is not None else ""
        self.description = f"{what}; split: {split_text}; {pca_text}; window {window}"
        self.source = DataSource(
            kind="sample" if synthetic else "real", path=Path(root),
            name=what if synthetic else scene,
            note=f"{self.description}; {split}: {len(self.pixels)} pixels{subset}")
        self._log(roles, gt)

    def _cube_checksum(self, path: Path) -> str:
        if not path.is_file():
            raise DataError(f"{path}: file not found; put the {self.spec.name} cube ({self.spec.cube_file}, "
                            f"variable '{self.spec.cube_key}') there, from {SCENES_URL}, or run the "
                            "synthetic stand-in (dataset option synthetic: true)")
        return sha256_file(path)

    def _log(self, roles: np.ndarray, gt: np.ndarray) -> None:
        counts = {name: int((roles == code).sum()) for name, code in (("train", TRAIN), ("test", TEST),
                                                                      ("guard", GUARD))}
        per_class = np.bincount(self.labels, minlength=self.num_classes).tolist()
        get_logger().info(f"HSIWindows {self.split}: {len(self)} windows; {self.description}; "
                          f"PCA keeps {self.scene.explained:.2%} of the variance; labelled {int((gt > 0).sum())}: "
                          f"{counts}; {self.split} per class {per_class}")

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        row, col = self.pixels[index]
        return {"input": self.window_at(row, col)[None], "target": self.labels[index], "pixel": self.pixels[index]}

    def window_at(self, row: int, col: int) -> np.ndarray:
        """A contiguous float32 copy of the window centred on scene pixel ``(row, col)``."""
        return np.ascontiguousarray(cut_window(self.scene.padded, int(row), int(col), self.window))

    @classmethod
    def inference_facts(cls, args: dict[str, Any]) -> DataFacts:
        """The scene's PCA, the very one this dataset applies (so export needs the data), and the
        raw cube's band count, variable name and class names."""
        try:
            data = cls(**args)
        except DataError as err:
            raise DataError(f"DataLoader.Eval.dataset: export of HybridSN saves the scene's PCA, so it needs "
                            f"the data: {err}") from None
        pca = data.scene.pca
        facts = {"input_bands": int(pca.mean.shape[0]), "whiten": bool(pca.whiten),
                 "cube_key": args["cube_key"] or data.spec.cube_key, "class_names": list(data.spec.class_names)}
        return DataFacts(facts, {PCA_FILES["mean"]: pca.mean, PCA_FILES["components"]: pca.components,
                                 PCA_FILES["variance"]: pca.variance})

    @property
    def gt(self) -> np.ndarray:
        return self.scene.gt

    @property
    def roles(self) -> np.ndarray:
        return self.scene.roles


def make_split(gt: np.ndarray, mode: str, train_ratio: float, seed: int, block_size: int,
               margin: int) -> tuple[np.ndarray, str]:
    """The split roles of every pixel and a one-line description that every result carries."""
    if mode == "random":
        roles = random_split(gt, train_ratio, seed)
        return roles, f"random stratified {train_ratio:.0%} train / {1 - train_ratio:.0%} test, split_seed {seed}"
    roles = block_split(gt, train_ratio, seed, block_size, margin)
    return roles, (f"spatially disjoint: {block_size}x{block_size} blocks, {train_ratio:.0%} of each class "
                   f"aimed at train, split_seed {seed}, guard band {margin} px "
                   f"({int((roles == GUARD).sum())} test pixels dropped)")


def prepare_scene(load: Callable[[], np.ndarray], gt: np.ndarray, roles: np.ndarray, settings: dict, cache_dir: Path,
                  margin: int) -> Scene:
    """The padded PCA cube and its PCA from the cache, or computed from ``load()`` and cached (atomically)."""
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    cache = cache_dir / f"hsi_{settings['scene']}_{key}.npy"
    meta = cache.with_suffix(".json")
    pca_file = cache.with_suffix(".pca.npz")
    if cache.is_file() and meta.is_file() and pca_file.is_file():
        return Scene(padded=np.load(cache), gt=gt, roles=roles, pca=_read_pca(pca_file))
    cube = load()
    rows, cols, bands = cube.shape
    flat = cube.reshape(-1, bands)
    fit_on = flat if settings["pca_fit"] == "all" else flat[(roles == TRAIN).reshape(-1)]
    pca = fit_pca(fit_on, settings["components"], settings["whiten"])
    reduced = pca.transform(flat).reshape(rows, cols, -1)
    del cube, flat, fit_on
    padded = pad_cube(reduced, margin)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(cache) as tmp, open(tmp, "wb") as handle:
        np.save(handle, padded)
    with atomic_write(pca_file) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **dataclasses.asdict(pca))
    info = {"settings": settings, "explained": float(pca.explained_ratio.sum()), "variance": pca.variance.tolist()}
    write_bytes_atomic(meta, json.dumps(info, indent=1).encode())  # written last: it marks the cache complete
    get_logger().info(f"cached the padded PCA cube {padded.shape} and its PCA in {cache}")
    return Scene(padded=padded, gt=gt, roles=roles, pca=pca)


def _read_pca(path: Path) -> PCA:
    with np.load(path) as arrays:
        return PCA(mean=arrays["mean"], components=arrays["components"], variance=arrays["variance"],
                   explained_ratio=arrays["explained_ratio"], whiten=bool(arrays["whiten"]))
