"""MATLAB .mat files: one array in MATLAB's axis order (v5 and v7.3), and whole files into plain Python."""
import h5py
import numpy as np
import pytest
import scipy.io

from ppcls_repro.data.matlab import load_mat, read_mat
from ppcls_repro.utils.errors import DataError


def test_v5_reader_returns_matlab_order(tmp_path, small_scene):
    cube, gt = small_scene
    scipy.io.savemat(tmp_path / "scene.mat", {"cube": cube, "gt": gt})
    np.testing.assert_array_equal(read_mat(tmp_path / "scene.mat", "cube"), cube)
    np.testing.assert_array_equal(read_mat(tmp_path / "scene.mat", "gt"), gt)


def test_v73_reader_transposes_back_to_matlab_order(tmp_path, small_scene, write_v73):
    cube, gt = small_scene
    write_v73(tmp_path / "scene.mat", {"cube": cube, "gt": gt})
    with pytest.raises(NotImplementedError):  # scipy cannot read it: h5py is needed
        scipy.io.loadmat(tmp_path / "scene.mat")
    assert h5py.File(tmp_path / "scene.mat")["cube"].shape == (6, 5, 7)  # what HDF5 sees
    np.testing.assert_array_equal(read_mat(tmp_path / "scene.mat", "cube"), cube)
    np.testing.assert_array_equal(read_mat(tmp_path / "scene.mat", "gt"), gt)


@pytest.mark.parametrize("writer", ["v5", "v73"])
def test_missing_key_names_the_file_and_the_keys_it_has(tmp_path, small_scene, writer, write_v73):
    path = tmp_path / "scene.mat"
    scipy.io.savemat(path, {"other": small_scene[1]}) if writer == "v5" else write_v73(path, {"other": small_scene[1]})
    with pytest.raises(DataError, match=r"scene\.mat: no .*variable 'indian_pines_gt' \(the file has: other\)"):
        read_mat(path, "indian_pines_gt")


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="nothing.mat: file not found"):
        read_mat(tmp_path / "nothing.mat", "x")
    (tmp_path / "text.mat").write_text("not a mat file at all, just text " * 10)
    with pytest.raises(DataError, match="text.mat: not a readable MATLAB .mat file"):
        read_mat(tmp_path / "text.mat", "x")


def test_load_mat_gives_structs_as_dicts_cells_as_object_arrays_and_text_as_str(tmp_path, small_scene):
    cube, _ = small_scene
    cell = np.empty((1, 2), object)
    cell[0, 0], cell[0, 1] = cube[:, :, 0], np.arange(3.0)
    scipy.io.savemat(tmp_path / "model.mat", {"net": {"layers": cell, "name": "demo"}, "w": cube})
    loaded = load_mat(tmp_path / "model.mat")
    assert sorted(loaded) == ["net", "w"]
    np.testing.assert_array_equal(loaded["w"], cube)
    assert loaded["net"]["name"] == "demo"
    layers = loaded["net"]["layers"]
    assert layers.shape == (1, 2) and layers.dtype == object
    np.testing.assert_array_equal(layers[0, 0], cube[:, :, 0])
    np.testing.assert_array_equal(layers[0, 1].reshape(-1), np.arange(3.0))


def test_load_mat_reads_v73_structs_cells_and_text(tmp_path, small_scene):
    """The layout MATLAB writes for a struct holding a cell array (as MatConvNet models): a group per
    struct, references into '#refs#' for the cell, characters as uint16 codes."""
    cube, _ = small_scene
    path = tmp_path / "net.mat"
    with h5py.File(path, "w", userblock_size=512) as handle:
        refs = handle.create_group("#refs#")
        first = refs.create_dataset("a", data=cube.T)
        first.attrs["MATLAB_class"] = np.bytes_("double")
        text = refs.create_dataset("b", data=np.frombuffer("conv".encode("utf-16-le"), np.uint16)[:, None])
        text.attrs["MATLAB_class"] = np.bytes_("char")
        net = handle.create_group("net")
        net.attrs["MATLAB_class"] = np.bytes_("struct")
        layers = net.create_dataset("layers", data=np.array([[first.ref], [text.ref]], dtype=h5py.ref_dtype))
        layers.attrs["MATLAB_class"] = np.bytes_("cell")
    loaded = load_mat(path)
    cells = loaded["net"]["layers"]
    assert cells.shape == (1, 2)
    np.testing.assert_array_equal(cells[0, 0], cube)
    assert cells[0, 1] == "conv"


def test_a_truncated_v73_file_is_one_clear_error(tmp_path, small_scene, write_v73):
    write_v73(tmp_path / "net.mat", {"w": small_scene[0]})
    data = (tmp_path / "net.mat").read_bytes()
    (tmp_path / "cut.mat").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.mat: "):
        load_mat(tmp_path / "cut.mat")
