"""PyTorch ``.pth``/``.pt`` files read without PyTorch and without running code from the file.

``torch.save`` writes a pickle, and unpickling an untrusted pickle can run any code. The reader here
resolves no global the file names except the few that rebuild containers and tensors: every other
class or function named in the pickle (``torch.nn.Conv2d``, the authors' ``DnCNN`` class, but also
``os.system``) becomes an inert ``Opaque`` record of its name and of the arguments and state the
pickle gives it. Tensors come back as numpy arrays. Both formats are read: the zip archive of
torch >= 1.6 (``data.pkl`` + ``data/<key>`` storages) and the older sequence of pickles followed by
the raw storages.

``module_state_dict(obj)`` turns a pickled ``nn.Module`` (an ``Opaque`` tree of ``_parameters``,
``_buffers`` and ``_modules``) into a flat ``name -> array`` state dict, as ``module.state_dict()``.
"""
from __future__ import annotations

import collections
import functools
import io
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ppcls_repro.utils.errors import DataError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                  "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class Opaque:
    """An object the file names but this reader does not build. Its class records the global name
    (``global_name``); an instance records the arguments it was created with (``args``) and the state
    the pickle set on it (``state``: a module's ``__dict__``)."""

    global_name = "?"
    args: tuple = ()
    state: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"Opaque({self.global_name})"


@functools.lru_cache(maxsize=None)
def _opaque_class(name: str) -> type:
    return type("Opaque", (Opaque,), {"global_name": name})


class _StorageType:
    def __init__(self, name: str) -> None:
        if name not in STORAGE_DTYPES:
            raise pickle.UnpicklingError(f"tensor storage {name} is not supported")
        self.dtype = np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_: Any) -> np.ndarray:
    """A view into the storage (legacy files fill their storages after the pickle: ``_materialise``
    copies every view once they are filled)."""
    offset, size, stride = int(offset), tuple(int(n) for n in size), tuple(int(s) for s in stride)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
    if last >= storage.size or min(stride, default=0) < 0:
        raise pickle.UnpicklingError(f"a tensor of size {size} reaches past its storage of {storage.size} values")
    itemsize = storage.dtype.itemsize
    return np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=tuple(s * itemsize for s in stride))


def _rebuild_parameter(data: np.ndarray, *_: Any) -> np.ndarray:
    return data


ALLOWED: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.nn.parameter", "Parameter"): _rebuild_parameter,  # how torch < 1.0 pickled parameters
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, handle: Any, storages: dict[str, np.ndarray],
                 read_storage: Callable[[str, np.dtype], np.ndarray] | None = None) -> None:
        super().__init__(handle)
        self.storages = storages
        self.read_storage = read_storage  # zip format: (key, dtype) -> array; legacy: None

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        return _opaque_class(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":  # a pickled module's class
            return pid[1]  # and its source text, kept by torch for a version check: never run
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unsupported persistent id {str(pid)[:60]}")
        dtype, key = pid[1].dtype, str(pid[2])
        if key not in self.storages:
            if self.read_storage is None:  # legacy format: the bytes follow the pickle, filled in later
                self.storages[key] = np.zeros(int(pid[4]), dtype)
            else:
                self.storages[key] = self.read_storage(key, dtype)
        view = pid[5] if len(pid) > 5 else None  # legacy storage views: (view key, offset, size)
        if view:
            view_key, offset, size = view
            return self.storages[key][int(offset):int(offset) + int(size)]
        return self.storages[key]


def is_torch_file(path: Path) -> bool:
    """Whether ``path`` starts like a ``torch.save`` file (a zip with ``data.pkl``, or the legacy magic)."""
    path = Path(path)
    if not path.is_file():
        return False
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(name == "data.pkl" or name.endswith("/data.pkl") for name in archive.namelist())
    with open(path, "rb") as handle:
        head = handle.read(3)
    return head == b"\x80\x02\x8a"  # protocol 2, then the magic number as a long


def load_torch_file(path: Path) -> Any:
    """The object a ``torch.save`` file holds, tensors as numpy arrays; a ``DataError`` naming the
    file for anything else (or for what this reader does not support)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return _materialise(_load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path))
    except DataError:
        raise
    except Exception as err:  # pickle, struct and zip errors of a foreign or damaged file
        raise DataError(f"{path}: not a readable PyTorch file ({type(err).__name__}: {err})") from None


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name == "data.pkl" or name.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise DataError(f"{path}: a zip file but not a PyTorch archive (no single data.pkl)")
        root = pickles[0][: -len("data.pkl")]

        def read_storage(key: str, dtype: np.dtype) -> np.ndarray:
            return np.frombuffer(archive.read(f"{root}data/{key}"), dtype).copy()

        return _Unpickler(io.BytesIO(archive.read(pickles[0])), {}, read_storage).load()


def _load_legacy(path: Path) -> Any:
    with open(path, "rb") as handle:
        if _Unpickler(handle, {}).load() != LEGACY_MAGIC:
            raise DataError(f"{path}: not a PyTorch file (no torch.save magic number)")
        _Unpickler(handle, {}).load()  # protocol version
        _Unpickler(handle, {}).load()  # system info (endianness, type sizes)
        storages: dict[str, np.ndarray] = {}
        obj = _Unpickler(handle, storages).load()
        for key in _Unpickler(handle, {}).load():
            storage = storages.get(str(key))
            if storage is None:
                raise DataError(f"{path}: storage {key} is listed but no tensor uses it")
            (count,) = struct.unpack("<q", handle.read(8))
            data = np.frombuffer(handle.read(count * storage.dtype.itemsize), storage.dtype)
            if count != storage.size or data.size != count:
                raise DataError(f"{path}: storage {key} holds {data.size} of {storage.size} values (truncated?)")
            storage[...] = data
    return obj


def _materialise(obj: Any) -> Any:
    """Every tensor view replaced by an array of its own (nothing shares or pins a storage)."""
    if isinstance(obj, np.ndarray):
        return np.array(obj)
    if isinstance(obj, dict):
        for key in list(obj):
            obj[key] = _materialise(obj[key])
        return obj
    if isinstance(obj, list):
        return [_materialise(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialise(v) for v in obj)
    if isinstance(obj, Opaque):
        obj.args, obj.state = _materialise(obj.args), _materialise(obj.state)
    return obj


def state_dict_in(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """The state dict a torch file holds and what held it: "pickled module", "state dict" or
    "checkpoint" (a dict with a ``state_dict`` entry); a DataError naming the file otherwise. The
    file is read once however many weight formats probe it (keyed by its path, size and time)."""
    info = Path(path).stat() if Path(path).is_file() else None
    key = (str(Path(path).resolve()), info.st_size, info.st_mtime_ns) if info else (str(path), -1, -1)
    state, kind = _read_state_dict(*key)
    return dict(state), kind


@functools.lru_cache(maxsize=2)
def _read_state_dict(path: str, size: int, mtime_ns: int) -> tuple[dict[str, np.ndarray], str]:
    obj = load_torch_file(Path(path))
    if isinstance(obj, Opaque):
        return module_state_dict(obj), "pickled module"
    kind = "state dict"
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj, kind = obj["state_dict"], "checkpoint"
    if isinstance(obj, dict) and obj and all(isinstance(v, np.ndarray) for v in obj.values()):
        return dict(obj), kind
    raise DataError(f"{path}: holds neither a pickled module nor a state dict")


def state_dict_or_nothing(path: Path) -> dict[str, np.ndarray]:
    """``state_dict_in(path)``'s state dict, or {} for any file that is not a torch file holding one
    (a probe for recognising weight formats: never raises)."""
    if not is_torch_file(path):
        return {}
    try:
        return state_dict_in(path)[0]
    except DataError:
        return {}


def module_state_dict(module: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """``name -> array`` of a pickled ``nn.Module``'s parameters and buffers, submodules included."""
    state = module.state if isinstance(module, Opaque) else None
    if not isinstance(state, dict) or "_modules" not in state:
        raise DataError(f"{prefix.rstrip('.') or 'the object'} is not a pickled torch.nn.Module")
    out: dict[str, np.ndarray] = {}
    for table in ("_parameters", "_buffers"):
        for name, value in (state.get(table) or {}).items():
            if value is not None:
                out[prefix + name] = np.asarray(value)
    for name, child in (state["_modules"] or {}).items():
        if child is not None:
            out.update(module_state_dict(child, f"{prefix}{name}."))
    return out
