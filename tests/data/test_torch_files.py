"""PyTorch files read without torch: both on-disk formats, pickled modules, and no code run from a file.

The files are written here the way torch.save writes them, with stand-in ``torch`` modules so that
pickle records the same global names (torch is not a dependency of the suite).
"""
import io
import os
import pickle
import struct
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from ppcls_repro.data.torch_files import LEGACY_MAGIC, Opaque, is_torch_file, load_torch_file, module_state_dict
from ppcls_repro.utils.errors import DataError


@pytest.fixture
def fake_torch(monkeypatch):
    """Modules named like torch's, holding the globals torch.save pickles, for the writers below."""
    torch, utils, nn, modules, conv = (types.ModuleType(n) for n in
                                       ("torch", "torch._utils", "torch.nn", "torch.nn.modules", "torch.nn.modules.conv"))

    class FloatStorage:
        pass

    class Conv2d:  # a module pickled by NEWOBJ + BUILD, as nn.Module
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    Conv2d.__module__, Conv2d.__qualname__ = "torch.nn.modules.conv", "Conv2d"
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2, conv.Conv2d = FloatStorage, _rebuild_tensor_v2, Conv2d
    for name, module in (("torch", torch), ("torch._utils", utils), ("torch.nn", nn),
                         ("torch.nn.modules", modules), ("torch.nn.modules.conv", conv)):
        monkeypatch.setitem(sys.modules, name, module)
    return types.SimpleNamespace(FloatStorage=FloatStorage, Conv2d=Conv2d, rebuild=_rebuild_tensor_v2)


class Tensor:
    """What the writers pickle for a tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, fake, key: str, array: np.ndarray, storage: np.ndarray | None = None, offset: int = 0):
        self.fake, self.key, self.array, self.offset = fake, key, array, offset
        self.storage = np.ascontiguousarray(array).reshape(-1) if storage is None else storage

    def __reduce__(self):
        stride = tuple(s // self.array.itemsize for s in self.array.strides)
        return self.fake.rebuild, (StorageRef(self.fake, self.key, self.storage), self.offset, self.array.shape,
                                   stride, False, OrderedDict())


class StorageRef:
    def __init__(self, fake, key, array):
        self.fake, self.key, self.array = fake, key, array


def _pickle(obj, storages: dict, legacy: bool) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=2)

    def persistent_id(value):
        if isinstance(value, StorageRef):
            storages[value.key] = value.array
            numel = value.array.size
            if legacy:
                return ("storage", value.fake.FloatStorage, value.key, "cpu", numel, None)
            return ("storage", value.fake.FloatStorage, value.key, "cpu", numel)
        return None

    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    return buffer.getvalue()


def write_legacy(path, obj) -> None:
    storages: dict = {}
    body = _pickle(obj, storages, legacy=True)
    with open(path, "wb") as handle:
        for header in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, handle, protocol=2)
        handle.write(body)
        pickle.dump(list(storages), handle, protocol=2)
        for key in storages:
            data = np.ascontiguousarray(storages[key], np.float32)
            handle.write(struct.pack("<q", data.size) + data.tobytes())


def write_zip(path, obj) -> None:
    storages: dict = {}
    body = _pickle(obj, storages, legacy=False)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", body)
        for key, array in storages.items():
            archive.writestr(f"archive/data/{key}", np.ascontiguousarray(array, np.float32).tobytes())
        archive.writestr("archive/version", "3\n")


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
def test_a_state_dict_comes_back_as_numpy_arrays(tmp_path, fake_torch, writer):
    weight = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    state = OrderedDict([("conv.weight", Tensor(fake_torch, "0", weight)),
                         ("conv.bias", Tensor(fake_torch, "1", np.array([0.5, -1.0], np.float32)))])
    writer(tmp_path / "model.pth", state)
    assert is_torch_file(tmp_path / "model.pth")
    loaded = load_torch_file(tmp_path / "model.pth")
    assert list(loaded) == ["conv.weight", "conv.bias"]
    np.testing.assert_array_equal(loaded["conv.weight"], weight)
    np.testing.assert_array_equal(loaded["conv.bias"], [0.5, -1.0])
    assert loaded["conv.weight"].flags.owndata  # a copy: no array pins the file's storage


def test_views_into_one_storage_keep_their_offsets_and_strides(tmp_path, fake_torch):
    base = np.arange(12, dtype=np.float32)
    transposed = base.reshape(3, 4).T  # strides (1, 4) in elements
    tail = base[5:9]  # offset 5
    write_legacy(tmp_path / "views.pth", {"t": Tensor(fake_torch, "0", transposed, storage=base),
                                          "tail": Tensor(fake_torch, "0", tail, storage=base, offset=5)})
    loaded = load_torch_file(tmp_path / "views.pth")
    np.testing.assert_array_equal(loaded["t"], transposed)
    np.testing.assert_array_equal(loaded["tail"], [5, 6, 7, 8])


def test_a_pickled_module_gives_its_state_dict_without_building_the_module(tmp_path, fake_torch):
    conv = fake_torch.Conv2d()
    conv.__dict__ = {"training": True, "_parameters": OrderedDict(weight=Tensor(fake_torch, "0", np.ones((2, 1, 3, 3),
                                                                                            np.float32)), bias=None),
                     "_buffers": OrderedDict(), "_modules": OrderedDict()}
    net = fake_torch.Conv2d()
    net.__dict__ = {"_parameters": OrderedDict(), "_buffers": OrderedDict(), "_modules": OrderedDict(head=conv)}
    write_legacy(tmp_path / "module.pth", net)
    loaded = load_torch_file(tmp_path / "module.pth")
    assert isinstance(loaded, Opaque) and loaded.global_name == "torch.nn.modules.conv.Conv2d"
    state = module_state_dict(loaded)
    assert list(state) == ["head.weight"] and state["head.weight"].shape == (2, 1, 3, 3)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_no_code_from_the_file_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        for header in (LEGACY_MAGIC, 1001, {}):
            pickle.dump(header, handle, protocol=2)
        pickle.dump({"x": _Exploit(marker)}, handle, protocol=2)
        pickle.dump([], handle, protocol=2)
    loaded = load_torch_file(path)
    assert not marker.exists()
    assert isinstance(loaded["x"], Opaque) and loaded["x"].global_name in ("posix.system", "os.system", "nt.system")


def test_foreign_and_damaged_files_are_one_line_errors(tmp_path, fake_torch):
    (tmp_path / "text.pth").write_text("hello")
    assert not is_torch_file(tmp_path / "text.pth")
    with pytest.raises(DataError, match=r"text.pth: not a readable PyTorch file"):
        load_torch_file(tmp_path / "text.pth")
    write_legacy(tmp_path / "cut.pth", {"w": Tensor(fake_torch, "0", np.ones(1000, np.float32))})
    data = (tmp_path / "cut.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[:-100])
    with pytest.raises(DataError, match=r"cut.pth: storage 0 holds \d+ of 1000 values"):
        load_torch_file(tmp_path / "cut.pth")
    with pytest.raises(DataError, match="missing.pth: file not found"):
        load_torch_file(tmp_path / "missing.pth")
