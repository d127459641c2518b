"""Offline sample images: real photographs shipped inside scikit-image.

When a real dataset cannot be obtained, a non-strict run falls back to these so that the whole
pipeline still exercises real photographic content (edges, textures, colour) rather than noise.
They are written once as PNG files under ``~/.cache/ppcls_repro/sample/<split>/`` (the root is
overridable with the ``PPCLS_REPRO_CACHE`` environment variable) and reused afterwards. The
train and eval splits use disjoint images so evaluation never sees a training picture.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.files import atomic_write

CACHE_ENV = "PPCLS_REPRO_CACHE"

# skimage.data loader names; all are photographs (no synthetic test patterns) bundled with the
# package itself, so nothing is downloaded. Sizes range from 300x451 to 500x741.
SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("astronaut", "coffee", "rocket", "stereo_motorcycle", "moon", "coins"),
    "eval": ("chelsea", "immunohistochemistry", "camera"),
}


def cache_root() -> Path:
    """The ppcls_repro cache folder: $PPCLS_REPRO_CACHE or ~/.cache/ppcls_repro."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "ppcls_repro"


def _as_rgb(image: np.ndarray, name: str) -> np.ndarray:
    """uint8 HxWx3; grayscale photos are repeated over three channels so every sample is RGB."""
    if image.dtype != np.uint8:
        raise DataError(f"skimage.data.{name}: expected uint8 pixels, got {image.dtype}")
    if image.ndim == 2:
        return np.stack([image, image, image], axis=-1)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise DataError(f"skimage.data.{name}: unexpected image shape {image.shape}")


def _load(name: str) -> np.ndarray:
    """Load one bundled photograph by its skimage.data name, as RGB uint8."""
    # Imported here so that importing this module (and download.py) stays cheap.
    import skimage.data

    loader: Callable[[], object] = getattr(skimage.data, name)
    try:
        image = loader()
    except Exception as exc:  # any loader failure means the sample set is unusable
        raise DataError(f"skimage.data.{name}: cannot load sample image ({exc})") from exc
    if isinstance(image, tuple):
        # stereo_motorcycle returns (left, right, disparity); the left view is the photo we want.
        image = image[0]
    return _as_rgb(np.asarray(image), name)


def _write_png(image: np.ndarray, dest: Path) -> None:
    with atomic_write(dest) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def sample_images(split: str) -> Path:
    """Folder of full-size sample PNGs for ``split`` ("train": 6 images, "eval": 3)."""
    if split not in SPLITS:
        raise DataError(f"unknown sample split {split!r} (expected one of {', '.join(SPLITS)})")
    folder = cache_root() / "sample" / split
    folder.mkdir(parents=True, exist_ok=True)
    for name in SPLITS[split]:
        dest = folder / f"{name}.png"
        # Files only ever appear via os.replace, so an existing one is complete.
        if not dest.is_file():
            _write_png(_load(name), dest)
    return folder
