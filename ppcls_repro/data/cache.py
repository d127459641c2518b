"""HDF5 caches of prepared training data (sub-images, patches, augmented images).

A cache is named by a key of every setting that shapes it and the sha256 of every source image,
so changing either builds a new one, and it is written atomically (temp file, then rename), so an
interrupted build never leaves a half-written cache that a later run would trust.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np

from ppcls_repro.utils.files import atomic_write, sha256_file

LOGGER = logging.getLogger("ppcls_repro")


def cache_key(settings: dict[str, Any], files: list[Path]) -> str:
    """16 hex digits of the settings and the files' names and contents."""
    content = [(f.name, sha256_file(f)) for f in files]
    return hashlib.sha256(json.dumps([settings, content]).encode()).hexdigest()[:16]


def cached_arrays(cache_dir: str | Path, prefix: str, settings: dict[str, Any], files: list[Path],
                  build: Callable[[], dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], Path]:
    """The arrays of ``<cache_dir>/<prefix>_<key>.h5`` and that path; ``build()`` makes them when the
    file is missing."""
    cache = Path(cache_dir) / f"{prefix}_{cache_key(settings, files)}.h5"
    if cache.is_file():
        try:
            return read_h5(cache), cache
        except OSError as exc:  # truncated or damaged (a copy cut short, a full disk): it is derived data
            LOGGER.warning(f"cache {cache} is unreadable ({exc}); rebuilding it")
    write_h5(cache, build(), settings, files)
    return read_h5(cache), cache


def read_h5(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file as an array; a damaged file is an OSError naming it."""
    try:
        with h5py.File(path, "r") as h5:
            return {name: h5[name][:] for name in h5}
    except (OSError, KeyError, ValueError) as exc:
        raise OSError(f"{path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


def write_h5(path: Path, arrays: dict[str, np.ndarray], settings: dict[str, Any], files: list[Path]) -> None:
    """Write ``arrays`` (plus the settings and source file names as attributes) to ``path`` atomically."""
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as h5:
        for name, array in arrays.items():
            h5.create_dataset(name, data=array)
        h5.attrs["settings"] = json.dumps(settings)
        h5.attrs["files"] = json.dumps([f.name for f in files])
