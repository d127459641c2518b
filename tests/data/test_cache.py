"""The HDF5 caches of prepared training data: keyed by settings and file contents, built once."""
import h5py
import numpy as np
import pytest

from ppcls_repro.data.cache import cache_key, cached_arrays


@pytest.fixture
def files(tmp_path):
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for i, path in enumerate(paths):
        path.write_bytes(bytes([i]) * 10)
    return paths


def test_the_key_changes_with_settings_names_and_contents(files):
    key = cache_key({"stride": 14}, files)
    assert len(key) == 16 and key == cache_key({"stride": 14}, files)
    assert cache_key({"stride": 13}, files) != key
    assert cache_key({"stride": 14}, files[:1]) != key
    files[1].write_bytes(b"other")
    assert cache_key({"stride": 14}, files) != key


def test_cached_arrays_builds_once_and_records_what_it_was_built_from(files, tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "y": np.array([1, 2])}

    first, path = cached_arrays(tmp_path / "cache", "demo_x3", {"stride": 14}, files, build)
    again, same_path = cached_arrays(tmp_path / "cache", "demo_x3", {"stride": 14}, files, build)
    assert calls == [1] and same_path == path
    assert path.name == f"demo_x3_{cache_key({'stride': 14}, files)}.h5"
    np.testing.assert_array_equal(again["x"], first["x"])
    assert again["x"].dtype == np.float32 and sorted(again) == ["x", "y"]
    with h5py.File(path, "r") as h5:
        assert h5.attrs["files"] == '["a.png", "b.png"]'
    cached_arrays(tmp_path / "cache", "demo_x3", {"stride": 7}, files, build)
    assert calls == [1, 1]


def test_a_failed_build_leaves_no_cache(files, tmp_path):
    def broken():
        raise RuntimeError("cut failed")

    with pytest.raises(RuntimeError):
        cached_arrays(tmp_path / "cache", "demo", {}, files, broken)
    folder = tmp_path / "cache"
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("damage", ["truncated", "empty", "not_hdf5"])
def test_a_damaged_cache_is_rebuilt_not_a_traceback(files, tmp_path, damage, caplog, monkeypatch):
    import logging

    # a run earlier in the session stops the package logger's propagation (its own handlers print)
    monkeypatch.setattr(logging.getLogger("ppcls_repro"), "propagate", True)
    arrays = {"x": np.arange(20000, dtype=np.float32).reshape(100, 200)}
    builds = []

    def build():
        builds.append(1)
        return arrays

    _, path = cached_arrays(tmp_path, "p", {"a": 1}, files, build)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "not_hdf5": b"GIF89a" + data[6:]}[damage])
    with caplog.at_level(logging.WARNING, logger="ppcls_repro"):
        again, same = cached_arrays(tmp_path, "p", {"a": 1}, files, build)
    assert same == path and len(builds) == 2
    np.testing.assert_array_equal(again["x"], arrays["x"])
    assert f"cache {path} is unreadable" in caplog.text and "rebuilding it" in caplog.text
    with h5py.File(path, "r") as h5:  # the rebuilt file is whole
        assert h5["x"].shape == (100, 200)
