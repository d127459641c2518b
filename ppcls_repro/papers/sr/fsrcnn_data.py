"""FSRCNN data (Dong, Loy, Tang, ECCV 2016, "Implementation details") on the SRCNN protocol (``sr_protocol.py``).

- ``FSRCNNPatches``: training pairs of an LR sub-image (``lr_size`` x ``lr_size``, the network
  input, *not* upscaled) and its HR label (``scale * lr_size`` square). Every training image is
  augmented as the paper's data augmentation: rotated by 0/90/180/270 degrees and downscaled by
  1.0/0.9/0.8/0.7/0.6 with MATLAB bicubic (rounded to uint8, as the augmented images were saved),
  5 x 4 = 20 versions ("19 times more images"). Each version then follows the SRCNN protocol:
  uint8 Y, modcrop, LR = unrounded MATLAB bicubic shrink by ``scale``.
- ``SRLowResImageFolder``: whole images for evaluation: small LR Y as input, HR Y as target, the
  bicubic-upscaled Y (the baseline, key ``bicubic``) and bicubic CbCr for colour panels.

Alignment. The LR sub-image at LR rows/cols ``[r, r + f)`` is paired with HR ``[s r, s (r + f))``:
MATLAB's shrink maps LR pixel i onto HR pixels ``[s i, s i + s)`` (its centre at
``s i + (s - 1) / 2``), and FSRCNN's deconvolution (``fsrcnn.py``) puts LR pixel i's output
in exactly that block, so the label needs no offset (the tests check it with a ramp).

Sub-image sizes: the paper ("Training samples") uses LR 10/7/6 for x2/x3/x4 (``lr_size``) with Caffe-cropped
HR labels of 19/19/21; our deconvolution returns the full ``scale * lr_size`` (20/21/24). The
stride ``k`` is not given a value in the paper; the configs use 4 on the LR grid (see their notes).

Cache: the augmented LR and HR images (not the sub-images, which would be ~0.4-1.9 GB in float32
for T91 alone) are written once to HDF5, keyed by the augmentation settings and the images'
sha256; sub-images are cut on the fly, so changing ``lr_size`` or ``stride`` needs no rebuild.
Values are float32 in [0, 1] (Y / 255), CHW.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from paddle.io import Dataset

from ppcls_repro.data.cache import cached_arrays
from ppcls_repro.data.download import DataSource
from ppcls_repro.data.download import resolve_source
from ppcls_repro.data.imresize import imresize
from ppcls_repro.papers.sr.datasets import SRImageFolder
from ppcls_repro.papers.sr.protocol import bicubic_downscale, check_scale, luminance_uint8, modcrop
from ppcls_repro.registry import DATASETS, Positive
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import list_images
from ppcls_repro.utils.images import load_as_matlab, quantize_uint8
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.progress import track

PAPER_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6)  # the paper's augmentation, "Scaling"
PAPER_ROTATIONS = (0, 90, 180, 270)  # the paper's augmentation, "Rotation" (counter-clockwise, as imrotate)
CACHE_VERSION = 2  # 2: gray files are their own Y (1 put them through rgb2ycbcr)


def augment(rgb: np.ndarray, factor: float, rotation: int) -> np.ndarray:
    """One augmented version of a uint8 RGB (or gray HxW) image: rotate, then MATLAB-bicubic resize, back to uint8.

    The order (rotate, then resize) and the uint8 rounding follow how the augmented images were
    made and stored as image files for FSRCNN's training.
    """
    if rotation % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotation}")
    out = np.rot90(rgb, k=rotation // 90)
    if factor != 1.0:
        out = quantize_uint8(imresize(out, factor))
    return np.ascontiguousarray(out, dtype=np.uint8)


def lr_hr_pair(rgb: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(LR Y float64, HR Y uint8) in [0, 255]: HR = modcrop(uint8 Y), LR = its unrounded bicubic shrink."""
    hr = modcrop(luminance_uint8(rgb), scale)
    return bicubic_downscale(hr, scale), hr.astype(np.uint8)


def patch_grid(lr_shape: tuple[int, int], lr_size: int, stride: int) -> np.ndarray:
    """Top-left LR corners (row, col) of every sub-image, 0 to H - lr_size inclusive, on a stride grid."""
    rows = np.arange(0, lr_shape[0] - lr_size + 1, stride)
    cols = np.arange(0, lr_shape[1] - lr_size + 1, stride)
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)
    return grid.astype(np.int32)


def cut_pair(lr: np.ndarray, hr: np.ndarray, row: int, col: int, lr_size: int,
             scale: int) -> tuple[np.ndarray, np.ndarray]:
    """The LR sub-image at (row, col) and the HR block it maps onto (``scale`` times larger)."""
    label = slice(scale * row, scale * (row + lr_size)), slice(scale * col, scale * (col + lr_size))
    return lr[row:row + lr_size, col:col + lr_size], hr[label]


@DATASETS.register
class FSRCNNPatches(Dataset):
    """FSRCNN training sub-images from T91 (``root``) plus optional extra folders (General-100).

    ``extra_roots`` are folders of HR images added to ``root``'s (the paper's fine-tuning set is
    T91 + General-100); they are never downloaded nor replaced by samples: a missing one is an error.

    Args:
        root: folder of the HR training images (T91 with the default manifest). Required.
        scale: upscaling factor, an integer >= 1 (LR = bicubic shrink of the HR image by it). Required.
        lr_size: side of the LR input sub-images, in LR pixels, >= 1; labels are ``scale * lr_size``
            (the paper's 10/7/6 for x2/x3/x4). Required.
        stride: step of the sub-image grid, in LR pixels, >= 1 (no value in the paper). Default: 4.
        aug_scales: downscaling factors in (0, 1] of the augmentation; None is the paper's
            1.0/0.9/0.8/0.7/0.6. Default: None.
        rotations: rotations of the augmentation, in degrees counter-clockwise, multiples of 90; None is
            the paper's 0/90/180/270. Default: None.
        extra_roots: further folders of HR images added to ``root``'s (e.g. General-100); None adds none.
            Default: None.
        manifest: sha256 manifest ``root`` is verified against (sample images stand in when it fails,
            unless strict); None reads ``root`` as is, unverified. Default: "t91".
        cache_dir: folder of the HDF5 cache of augmented LR/HR images. Default: "dataset/cache".
        download: fetch missing or mismatched files named by the manifest (no effect without one).
            Default: True.
    """

    def __init__(self, root: str, scale: Positive, lr_size: Positive, stride: Positive = 4,
                 aug_scales: list[float] | None = None, rotations: list[int] | None = None,
                 extra_roots: list[str] | None = None, manifest: str | None = "t91",
                 cache_dir: str = "dataset/cache", strict: bool = False, download: bool = True) -> None:
        self.scale = check_scale(scale)
        if lr_size < 1 or stride < 1:
            raise DataError(f"FSRCNNPatches: lr_size and stride must be >= 1, got {lr_size}, {stride}")
        self.lr_size = lr_size
        factors = [float(f) for f in (PAPER_SCALES if aug_scales is None else aug_scales)]
        angles = [int(r) for r in (PAPER_ROTATIONS if rotations is None else rotations)]
        if not factors or not angles or any(not 0 < f <= 1 for f in factors) or any(r % 90 for r in angles):
            raise DataError(f"FSRCNNPatches: aug_scales must be in (0, 1] and rotations multiples of 90 "
                            f"(both non-empty), got {factors} and {angles}")
        settings = {"kind": "fsrcnn", "scale": self.scale, "version": CACHE_VERSION,
                    "aug_scales": factors, "rotations": angles}
        base = resolve_source(root, manifest, strict, download)
        files = list_images(base.path) + [f for extra in extra_roots or [] for f in _extra_images(extra)]
        self.source = _describe(base, extra_roots or [])
        arrays, cache = cached_arrays(cache_dir, f"fsrcnn_x{self.scale}", settings, files,
                                      lambda: _augment_all(files, settings))
        self.lr_images, self.hr_images = _unflatten(arrays, self.scale)
        self.index = _index(self.lr_images, lr_size, stride)
        if len(self.index) == 0:
            raise DataError(f"FSRCNNPatches: no {lr_size}x{lr_size} LR sub-image fits any image of "
                            f"{base.path} at x{self.scale}")
        get_logger().info(f"{len(self.index)} sub-images x{self.scale} (LR {lr_size}, HR {self.scale * lr_size}, "
                          f"stride {stride}) from {len(self.lr_images)} augmented versions of {len(files)} images "
                          f"({self.source.kind}: {self.source.note}), cache {cache}")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        version, row, col = self.index[index]
        lr, hr = cut_pair(self.lr_images[version], self.hr_images[version], row, col, self.lr_size, self.scale)
        return {"input": lr[None].copy(), "target": (hr[None] / np.float32(255.0)).astype(np.float32)}


def _extra_images(folder: str) -> list[Path]:
    if not Path(folder).is_dir():
        raise DataError(f"extra training folder not found: {folder} (FSRCNN's fine-tuning stage needs it, "
                        "e.g. General-100 from the paper's authors; it is never replaced by sample data)")
    return list_images(Path(folder))


def _describe(base: DataSource, extra_roots: list[str]) -> DataSource:
    if not extra_roots:
        return base
    names = "+".join([base.name, *(Path(e).name for e in extra_roots)])
    return DataSource(kind=base.kind, path=base.path, name=names,
                      note=f"{base.note} + {', '.join(extra_roots)} (not verified by a manifest)")


def _augment_all(files: list[Path], settings: dict) -> dict[str, np.ndarray]:
    versions = len(settings["aug_scales"]) * len(settings["rotations"])
    get_logger().info(f"augmenting {len(files)} images x {versions} versions (once: they are cached)")
    scale = settings["scale"]
    lrs, hrs, shapes = [], [], []
    for path in track(files, "augmenting", unit="images"):
        rgb = load_as_matlab(path)  # HxW for a gray file: its own Y
        for rotation in settings["rotations"]:
            for factor in settings["aug_scales"]:
                version = augment(rgb, factor, rotation)
                if min(version.shape[:2]) < scale:
                    continue  # too small to hold one LR pixel; it yields no sub-image anyway
                lr, hr = lr_hr_pair(version, scale)
                lrs.append((lr / 255.0).astype(np.float32).ravel())
                hrs.append(hr.ravel())
                shapes.append(lr.shape)
    return {"lr": np.concatenate(lrs), "hr": np.concatenate(hrs), "lr_shape": np.asarray(shapes, np.int64)}


def _unflatten(arrays: dict[str, np.ndarray], scale: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The augmented (LR float32 in [0, 1], HR uint8) images from the cache's flat arrays."""
    flat_lr, flat_hr, shapes = arrays["lr"], arrays["hr"], arrays["lr_shape"]
    lrs, hrs, lr_at, hr_at = [], [], 0, 0
    for h, w in shapes:
        lrs.append(flat_lr[lr_at:lr_at + h * w].reshape(h, w))
        hrs.append(flat_hr[hr_at:hr_at + h * w * scale * scale].reshape(h * scale, w * scale))
        lr_at += h * w
        hr_at += h * w * scale * scale
    return lrs, hrs


def _index(lr_images: list[np.ndarray], lr_size: int, stride: int) -> np.ndarray:
    """(version, row, col) of every sub-image, version by version."""
    parts = []
    for version, lr in enumerate(lr_images):
        grid = patch_grid(lr.shape, lr_size, stride)
        parts.append(np.concatenate([np.full((len(grid), 1), version, np.int32), grid], axis=1))
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.int32)


@DATASETS.register
class SRLowResImageFolder(SRImageFolder):
    """Whole images for evaluating a network that takes the small LR image (FSRCNN).

    Items: ``input`` LR Y (h x w), ``target`` HR Y (scale h x scale w), ``bicubic`` the
    bicubic-upscaled LR Y (SRCNN's input: the baseline the evaluator scores), ``cbcr`` bicubic CbCr, ``name``.

    Args:
        root: folder of the HR evaluation images (Set5 with the default manifest). Required.
        scale: upscaling factor, an integer >= 1 (modcrop, then bicubic shrink by it). Required.
        manifest: sha256 manifest ``root`` is verified against (sample images stand in when it fails,
            unless strict); None reads ``root`` as is, unverified. Default: "set5".
        download: fetch missing or mismatched files named by the manifest (no effect without one).
            Default: True.
    """

    def _load(self, path: Path) -> dict[str, np.ndarray | str]:
        item = super()._load(path)
        lr = bicubic_downscale(item["target"][0].astype(np.float64) * 255.0, self.scale)
        return {**item, "input": (lr / 255.0)[None].astype(np.float32), "bicubic": item["input"]}
