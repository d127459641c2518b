"""Gaussian denoising data on DnCNN's protocol (Zhang et al., TIP 2017, section IV-A).

- ``DenoisePatches``: clean training patches cut from gray images (Train400) as the official PyTorch
  ``data_generator.py``: each image resized by the scales 1, 0.9, 0.8, 0.7, then ``patch_size``
  patches on a ``stride`` grid (corners 0 .. size - patch_size inclusive). The resize is MATLAB's
  bicubic ``imresize`` rounded to uint8 (``data/imresize.py``, exact), as the authors' MatConvNet
  ``generatepatches.m``; the PyTorch port uses ``cv2.resize(INTER_CUBIC)`` instead, which differs by a
  grey level here and there. The clean patches are cached in HDF5 (uint8) keyed by every setting
  and the images' checksums.
  Per sample, from a generator seeded by (seed, epoch, index): one of the 8 flips/rotations
  (``data_aug`` modes 0-7; the official code draws one per patch every epoch) and the noise
  y = x + sigma/255 * N(0, 1) on [0, 1], never clipped or quantized. ``sigma`` fixed (DnCNN-S) or,
  when ``sigma_range`` is given, drawn uniformly per patch (DnCNN-B, [0, 55]).
- ``NoisyImageFolder``: whole gray images for evaluation (Set12, BSD68, any folder), the noise
  fixed per image by (noise_seed, file name), so every evaluation sees the same noisy images.
Arrays are float32 CHW in [0, 1] (the noisy input may leave [0, 1]).
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from paddle.io import Dataset
from PIL import Image

from ppcls_repro.data.cache import cached_arrays
from ppcls_repro.data.download import resolve_source
from ppcls_repro.data.imresize import imresize
from ppcls_repro.registry import DATASETS, Positive
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import list_images
from ppcls_repro.utils.images import quantize_uint8
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.progress import track

OFFICIAL_SCALES = (1.0, 0.9, 0.8, 0.7)


def augment(patch: np.ndarray, mode: int) -> np.ndarray:
    """One of the 8 flips/rotations of an HW patch, as ``data_aug`` of the official code:
    0 identity, 1 flip up-down, 2 rot90, 3 rot90 + flip, 4 rot180, 5 rot180 + flip, 6 rot270,
    7 rot270 + flip (rot90 counter-clockwise, as numpy's)."""
    if not 0 <= mode < 8:
        raise ValueError(f"augmentation mode must be in 0..7, got {mode}")
    out = np.rot90(patch, k=mode // 2)
    return np.flipud(out) if mode % 2 else out


def load_gray(path: Path) -> np.ndarray:
    """An image as HW uint8 gray; colour images are converted with ITU-R 601 luma (PIL's ``L``)."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"))
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read image {path}: {err}") from None


def cut_patches(image: np.ndarray, patch_size: int, stride: int,
                scales: tuple[float, ...] = OFFICIAL_SCALES) -> np.ndarray:
    """Clean N x patch x patch uint8 patches of one HW uint8 image over all ``scales``."""
    patches = []
    for scale in scales:
        scaled = image if scale == 1.0 else quantize_uint8(imresize(image, scale)).astype(np.uint8)
        height, width = scaled.shape
        for r in range(0, height - patch_size + 1, stride):
            for c in range(0, width - patch_size + 1, stride):
                patches.append(scaled[r:r + patch_size, c:c + patch_size])
    return np.asarray(patches, np.uint8).reshape(-1, patch_size, patch_size)


def add_noise(clean: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """y = x + sigma/255 * N(0, 1) in float32 on [0, 1] images; not clipped, not quantized."""
    noise = rng.standard_normal(clean.shape).astype(np.float32) * np.float32(sigma / 255.0)
    return clean.astype(np.float32) + noise


@DATASETS.register
class DenoisePatches(Dataset):
    """Train400-style patches with on-the-fly augmentation and noise (see the module docstring).

    Args:
        root: folder of the clean training images, read as gray (e.g. Train400). Required.
        sigma: noise standard deviation on the [0, 255] scale, the same for every patch (DnCNN-S); set
            exactly one of ``sigma`` and ``sigma_range`` (None here to use the range). Default: 25.0.
        sigma_range: [low, high] on the [0, 255] scale, 0 <= low <= high: sigma drawn uniformly per patch
            and epoch (DnCNN-B); None for a fixed ``sigma``. Default: None.
        patch_size: side of the clean patches, in pixels (40 in the official PyTorch code). Default: 40.
        stride: step of the patch grid, in pixels. Default: 10.
        scales: resize factors in (0, 1] applied to each image before cutting (MATLAB bicubic, rounded to
            uint8). Default: (1.0, 0.9, 0.8, 0.7).
        manifest: sha256 manifest ``root`` is verified against (sample images stand in when it fails,
            unless strict); None reads ``root`` as is, unverified. Default: None.
        cache_dir: folder of the HDF5 cache of clean patches. Default: "dataset/cache".
        download: fetch missing or mismatched files named by the manifest (no effect without one).
            Default: True.
    """

    def __init__(self, root: str, sigma: float | None = 25.0, sigma_range: tuple[float, float] | None = None,
                 patch_size: Positive = 40, stride: Positive = 10, scales: tuple[float, ...] = OFFICIAL_SCALES,
                 manifest: str | None = None, cache_dir: str = "dataset/cache", seed: int = 0,
                 strict: bool = False, download: bool = True) -> None:
        if (sigma is None) == (sigma_range is None):
            raise DataError("DenoisePatches: set exactly one of sigma (DnCNN-S) and sigma_range (DnCNN-B)")
        if sigma_range is not None and not 0 <= sigma_range[0] <= sigma_range[1]:
            raise DataError(f"DenoisePatches: sigma_range must be [low, high] with 0 <= low <= high, got {sigma_range}")
        if patch_size < 1 or stride < 1 or not scales or any(not 0 < s <= 1 for s in scales):
            raise DataError(f"DenoisePatches: bad patch_size={patch_size}, stride={stride} or scales={scales}")
        self.source = resolve_source(root, manifest, strict, download)
        self.sigma = sigma
        self.sigma_range = sigma_range
        self.seed = seed
        self.epoch = 0
        settings = {"kind": "denoise", "patch": patch_size, "stride": stride, "scales": list(scales),
                    "resize": "matlab_bicubic_uint8", "version": 1}
        files = list_images(self.source.path)
        arrays, cache = cached_arrays(cache_dir, f"denoise_p{patch_size}", settings, files,
                                      lambda: _cut_all(files, settings))
        self.patches = arrays["clean"]
        noise = f"sigma {sigma}" if sigma is not None else f"sigma ~ U{list(sigma_range)}"
        get_logger().info(f"{len(self.patches)} clean {patch_size}x{patch_size} patches from {len(files)} images "
                          f"({self.source.kind}: {self.source.path}), {noise}, cache {cache}")

    def set_epoch(self, epoch: int) -> None:
        """The trainer calls this each epoch: new flips and noise every epoch, reproducibly."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.patches)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        clean = augment(self.patches[index], int(rng.integers(8))).astype(np.float32) / 255.0
        sigma = self.sigma if self.sigma is not None else rng.uniform(*self.sigma_range)
        noisy = add_noise(clean, sigma, rng)
        return {"input": noisy[None], "target": np.ascontiguousarray(clean)[None]}


def _cut_all(files: list[Path], settings: dict) -> dict[str, np.ndarray]:
    get_logger().info(f"cutting clean patches from {len(files)} images (once: they are cached)")
    chunks = []
    for path in track(files, "cutting patches", unit="images"):
        patches = cut_patches(load_gray(path), settings["patch"], settings["stride"], tuple(settings["scales"]))
        if len(patches) == 0:
            raise DataError(f"{path}: image is smaller than a {settings['patch']}x{settings['patch']} patch")
        chunks.append(patches)
    return {"clean": np.concatenate(chunks)}


@DATASETS.register
class NoisyImageFolder(Dataset):
    """Whole gray images with fixed noise (Set12 by default): ``input`` noisy, ``target`` clean.

    The noise of an image depends only on ``noise_seed`` and its file name, so every evaluation,
    and every run, scores the same noisy images.

    Args:
        root: folder of the clean evaluation images, read as gray. Required.
        sigma: noise standard deviation on the [0, 255] scale, >= 0. Default: 25.0.
        noise_seed: seed of the fixed noise, combined with each file name. Default: 0.
        manifest: sha256 manifest ``root`` is verified against (sample images stand in when it fails,
            unless strict); None reads ``root`` as is, unverified. Default: None.
        download: fetch missing or mismatched files named by the manifest (no effect without one).
            Default: True.
    """

    def __init__(self, root: str, sigma: float = 25.0, noise_seed: int = 0, manifest: str | None = None,
                 strict: bool = False, download: bool = True) -> None:
        if sigma < 0:
            raise DataError(f"NoisyImageFolder: sigma must be >= 0, got {sigma}")
        self.source = resolve_source(root, manifest, strict, download)
        self.sigma = sigma
        self.noise_seed = noise_seed
        self.items = [self._load(path) for path in list_images(self.source.path)]

    def _load(self, path: Path) -> dict[str, np.ndarray | str]:
        clean = load_gray(path).astype(np.float32) / 255.0
        rng = np.random.default_rng([self.noise_seed, zlib.crc32(path.name.encode())])
        return {"input": add_noise(clean, self.sigma, rng)[None], "target": clean[None], "name": path.stem}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, np.ndarray | str]:
        return self.items[index]
