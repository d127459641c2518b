"""MATLAB ``.mat`` files (v4-v7 through scipy, v7.3 through h5py) in MATLAB's own axis order.

``read_mat(path, key)`` reads one array variable (hyperspectral cubes and label maps).
``load_mat(path)`` reads every variable into plain Python: a numeric array keeps MATLAB's shape and
axis order (v7.3 files store it column-major, so HDF5 reports the axes reversed: they are turned
back), a char array becomes ``str``, a 1x1 struct a ``dict`` of its fields (a larger struct array
an object array of dicts), a cell array an object array of its elements (authors' weight files:
SRCNN, FSRCNN and MatConvNet models). Nothing in a file is executed; unreadable files and missing
variables are a ``DataError`` naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io

from ppcls_repro.utils.errors import DataError


def read_mat(path: Path, key: str) -> np.ndarray:
    """One array variable of a .mat file in MATLAB's axis order."""
    path = _existing(path)
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as handle:
            names = _v73_names(handle)
            if key not in names or not isinstance(handle[key], h5py.Dataset):
                raise DataError(f"{path}: no array variable '{key}' (the file has: {', '.join(names) or 'nothing'})")
            return _v73_array(handle[key])
    names = [name for name, _, _ in _whosmat(path)]
    if key not in names:
        raise DataError(f"{path}: no variable '{key}' (the file has: {', '.join(names) or 'nothing'})")
    return np.asarray(scipy.io.loadmat(path, variable_names=[key])[key])


def load_mat(path: Path) -> dict[str, Any]:
    """Every variable of a .mat file, as described in the module docstring."""
    path = _existing(path)
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as handle:
                return {name: _v73_value(handle, handle[name]) for name in _v73_names(handle)}
        _whosmat(path)  # a clear error for a file that is not a .mat
        raw = scipy.io.loadmat(path, struct_as_record=False, squeeze_me=False)
    except DataError:
        raise
    except Exception as err:  # truncated or damaged (h5py and scipy raise several types)
        raise DataError(f"{path}: not a readable MATLAB .mat file ({type(err).__name__}: {err})") from None
    return {name: _v5_value(value) for name, value in raw.items() if not name.startswith("__")}


def variable_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Name -> MATLAB shape of every variable of a .mat file; empty for anything unreadable (a probe
    that never raises: ``read_mat`` and ``load_mat`` give the errors)."""
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as handle:
                return {name: tuple(reversed(handle[name].shape)) if isinstance(handle[name], h5py.Dataset) else ()
                        for name in _v73_names(handle)}
        return {name: tuple(shape) for name, shape, _ in scipy.io.whosmat(path)}
    except Exception:  # not a .mat file, or not a file
        return {}


def _existing(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    return path


def _whosmat(path: Path) -> list[tuple[str, tuple, str]]:
    try:
        return scipy.io.whosmat(path)
    except Exception as err:  # scipy raises several types on a file that is not a .mat
        raise DataError(f"{path}: not a readable MATLAB .mat file ({type(err).__name__}: {err})") from None


def _v5_value(value: Any) -> Any:
    if isinstance(value, scipy.io.matlab.mat_struct):
        return {field: _v5_value(getattr(value, field)) for field in value._fieldnames}
    if isinstance(value, np.ndarray) and value.dtype == object:
        items = np.empty(value.shape, object)
        for index in np.ndindex(value.shape):
            items[index] = _v5_value(value[index])
        if value.size == 1 and isinstance(items.flat[0], dict):
            return items.flat[0]  # a 1x1 struct
        return items
    if isinstance(value, np.ndarray) and value.dtype.kind == "U":
        return "".join(value.ravel().tolist())
    return value


def _v73_names(handle: h5py.File) -> list[str]:
    return [name for name in handle if not name.startswith("#")]  # '#refs#', '#subsystem#'


def _v73_array(dataset: h5py.Dataset) -> np.ndarray:
    # MATLAB writes column-major data: HDF5 reports the dimensions reversed.
    return np.ascontiguousarray(np.transpose(dataset[()]))


def _v73_value(handle: h5py.File, node: h5py.Group | h5py.Dataset) -> Any:
    kind = node.attrs.get("MATLAB_class", b"")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if isinstance(node, h5py.Group):  # a 1x1 struct
        return {name: _v73_value(handle, node[name]) for name in node}
    if node.attrs.get("MATLAB_empty", 0):
        return np.zeros((0,))
    if kind == "char":
        return "".join(map(chr, node[()].ravel()))
    if node.dtype == h5py.ref_dtype:  # a cell array (or struct array): references into '#refs#'
        refs = np.transpose(node[()])
        items = np.empty(refs.shape, object)
        for index in np.ndindex(refs.shape):
            items[index] = _v73_value(handle, handle[refs[index]])
        return items
    return _v73_array(node)
