"""Hyperspectral data: scene files, PCA whitening, lazy windows, splits, synthetic cube."""
import logging

import numpy as np
import pytest
import scipy.io

from ppcls_repro.papers.hybridsn import data as hsi
from ppcls_repro.papers.hybridsn.data import (GUARD, SCENES, TEST, TRAIN, UNLABELLED, HSIWindows, block_split, cut_window,
                                  fit_pca, pad_cube, random_split, read_cube, read_ground_truth,
                                  stratified_subset, synthetic_cube)
from ppcls_repro.utils.errors import DataError


def test_shapes_and_labels_are_checked_against_the_scene_table(tmp_path, write_v73):
    spec = SCENES["IndianPines"]
    scipy.io.savemat(tmp_path / "gt.mat", {"indian_pines_gt": np.ones((145, 144), np.uint8)})
    with pytest.raises(DataError, match=r"gt.mat: 'indian_pines_gt' has shape \(145, 144\), expected \(145, 145\)"):
        read_ground_truth(tmp_path / "gt.mat", "indian_pines_gt", spec)
    scipy.io.savemat(tmp_path / "gt.mat", {"indian_pines_gt": np.full((145, 145), 17, np.uint8)})
    with pytest.raises(DataError, match=r"labels span 17..17, expected 0..16"):
        read_ground_truth(tmp_path / "gt.mat", "indian_pines_gt", spec)
    write_v73(tmp_path / "cube.mat", {"indian_pines_corrected": np.zeros((145, 145, 220))})
    with pytest.raises(DataError, match=r"cube.mat: 'indian_pines_corrected' has shape \(145, 145, 220\), "
                                        r"expected \(145, 145, 200\)"):
        read_cube(tmp_path / "cube.mat", "indian_pines_corrected", spec, (145, 145))


def test_real_label_maps_match_the_scene_table(shared_data):
    for spec in SCENES.values():
        gt = read_ground_truth(shared_data / "HSI_gt" / spec.gt_file, spec.gt_key, spec)
        assert gt.shape == spec.shape[:2]
        assert int((gt > 0).sum()) == spec.labelled
        assert sorted(np.unique(gt[gt > 0])) == list(range(1, spec.num_classes + 1))
    assert [SCENES[n].pca_components for n in ("IndianPines", "PaviaU", "Salinas")] == [30, 15, 15]


def correlated_pixels(n: int = 2000, bands: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(bands, bands)) * np.linspace(3, 0.1, bands)[:, None]
    return (rng.normal(size=(n, bands)) @ mixing + 50.0).astype(np.float32)


def test_pca_whitening_gives_unit_variance_decorrelated_components():
    pixels = correlated_pixels()
    pca = fit_pca(pixels, 5, whiten=True)
    out = pca.transform(pixels).astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(np.cov(out, rowvar=False), np.eye(5), atol=1e-5)
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(5), atol=1e-10)


def test_pca_agrees_with_an_svd_of_the_centred_data():
    pixels = correlated_pixels().astype(np.float64)
    centred = pixels - pixels.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    pca = fit_pca(pixels, 4, whiten=False)
    np.testing.assert_allclose(pca.variance, singular[:4] ** 2 / (len(pixels) - 1), rtol=1e-8)
    np.testing.assert_allclose(np.abs(pca.components @ vt[:4].T), np.eye(4), atol=1e-8)  # same axes up to sign
    np.testing.assert_allclose(pca.explained_ratio, singular[:4] ** 2 / (singular ** 2).sum(), rtol=1e-8)
    np.testing.assert_allclose(np.abs(pca.transform(pixels)), np.abs(centred @ vt[:4].T), rtol=1e-4, atol=1e-3)


def test_pca_refuses_impossible_settings():
    with pytest.raises(DataError, match="pca_components must be in 1..12"):
        fit_pca(correlated_pixels(), 13)
    with pytest.raises(DataError, match="fewer than 3 dimensions"):
        flat = np.repeat(correlated_pixels(bands=2), 3, axis=1)  # rank 2 in 6 bands
        fit_pca(flat, 3, whiten=True)


def eager_window(cube: np.ndarray, row: int, col: int, window: int) -> np.ndarray:
    """Independent reference: copy the window pixel by pixel, zeros outside the scene."""
    m = window // 2
    out = np.zeros((cube.shape[2], window, window), np.float32)
    for i in range(window):
        for j in range(window):
            r, c = row - m + i, col - m + j
            if 0 <= r < cube.shape[0] and 0 <= c < cube.shape[1]:
                out[:, i, j] = cube[r, c]
    return out


def test_lazy_windows_equal_eager_windows_everywhere(small_scene):
    cube = small_scene[0].astype(np.float32)
    padded = pad_cube(cube, 4)
    for row in range(cube.shape[0]):
        for col in range(cube.shape[1]):
            np.testing.assert_array_equal(cut_window(padded, row, col, 9), eager_window(cube, row, col, 9))


def test_random_split_is_stratified_and_seeded(shared_data):
    spec = SCENES["IndianPines"]
    gt = read_ground_truth(shared_data / "HSI_gt" / spec.gt_file, spec.gt_key, spec)
    roles = random_split(gt, 0.3, seed=345)
    assert set(np.unique(roles)) == {UNLABELLED, TRAIN, TEST}
    np.testing.assert_array_equal(roles > 0, gt > 0)  # every labelled pixel, nothing else
    for label in range(1, 17):
        n = int((gt == label).sum())
        assert int(((gt == label) & (roles == TRAIN)).sum()) == int(np.floor(0.3 * n + 0.5))
    assert abs(int((roles == TRAIN).sum()) - 3074) <= 8  # the official code's 3,074 / 7,175
    np.testing.assert_array_equal(roles, random_split(gt, 0.3, seed=345))
    assert not np.array_equal(roles, random_split(gt, 0.3, seed=1))


def test_random_split_keeps_a_pixel_of_tiny_classes_on_both_sides():
    gt = np.array([[1, 1, 2, 2, 2, 2, 2, 2, 2, 2]])
    roles = random_split(gt, 0.3, seed=0)
    assert ((gt == 1) & (roles == TRAIN)).sum() == 1 and ((gt == 1) & (roles == TEST)).sum() == 1
    assert ((gt == 2) & (roles == TRAIN)).sum() == 2


def assert_no_test_pixel_in_a_training_window(roles: np.ndarray, margin: int) -> None:
    """Brute force over every training pixel's window."""
    for row, col in np.argwhere(roles == TRAIN):
        window = roles[max(row - margin, 0):row + margin + 1, max(col - margin, 0):col + margin + 1]
        assert not (window == TEST).any(), (row, col)


@pytest.mark.parametrize("seed", [0, 7])
def test_disjoint_split_keeps_test_pixels_out_of_training_windows(seed):
    rng = np.random.default_rng(seed)
    gt = np.kron(rng.integers(0, 5, size=(12, 10)), np.ones((5, 5), int))  # 60x50 map of 5x5 fields
    roles = block_split(gt, 0.3, seed=seed, block_size=12, margin=4)
    assert (roles == TRAIN).any() and (roles == TEST).any() and (roles == GUARD).any()
    assert_no_test_pixel_in_a_training_window(roles, margin=4)
    np.testing.assert_array_equal(roles > 0, gt > 0)
    # whole blocks: a block holds training pixels or test/guard pixels, never both
    blocks = (np.arange(60)[:, None] // 12) * 5 + np.arange(50)[None, :] // 12
    for b in np.unique(blocks):
        inside = roles[blocks == b]
        assert not ((inside == TRAIN).any() and np.isin(inside, (TEST, GUARD)).any())
    # guard pixels are exactly the test-block pixels within the margin of a training pixel
    for row, col in np.argwhere(roles == GUARD):
        near = roles[max(row - 4, 0):row + 5, max(col - 4, 0):col + 5]
        assert (near == TRAIN).any()
    np.testing.assert_array_equal(roles, block_split(gt, 0.3, seed=seed, block_size=12, margin=4))


def test_disjoint_split_on_the_indian_pines_map(shared_data):
    spec = SCENES["IndianPines"]
    gt = read_ground_truth(shared_data / "HSI_gt" / spec.gt_file, spec.gt_key, spec)
    roles = block_split(gt, 0.3, seed=345, block_size=37, margin=12)
    assert_no_test_pixel_in_a_training_window(roles, margin=12)
    train, test = int((roles == TRAIN).sum()), int((roles == TEST).sum())
    assert 2500 < train < 4500 and test > 2000  # the guard band costs test pixels, not training ones
    trained = np.bincount(gt[roles == TRAIN], minlength=17)[1:] > 0
    assert trained.sum() >= 13


def test_stratified_subset_keeps_every_class_in_proportion():
    labels = np.repeat([0, 1, 2], [600, 300, 3])
    keep = stratified_subset(labels, 90, seed=0)
    assert list(np.bincount(labels[keep])) == [60, 30, 1]
    np.testing.assert_array_equal(keep, stratified_subset(labels, 90, seed=0))


def test_synthetic_cube_is_a_deterministic_function_of_the_seed():
    gt = np.kron(np.arange(1, 7).reshape(2, 3), np.ones((6, 6), int))
    gt[0, 0] = 0
    a, b, c = synthetic_cube(gt, 20, seed=3), synthetic_cube(gt, 20, seed=3), synthetic_cube(gt, 20, seed=4)
    assert a.shape == (12, 18, 20) and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    means = np.stack([a[gt == k].mean(axis=0) for k in range(1, 7)])
    assert np.linalg.norm(means[0] - means[1]) > 0  # classes differ spectrally


def tiny_map(tmp_path, name="tiny_gt.mat"):
    gt = np.zeros((14, 14), np.uint8)
    for k in range(4):
        r, c = divmod(k, 2)
        gt[1 + 7 * r:6 + 7 * r, 1 + 7 * c:6 + 7 * c] = k + 1
    scipy.io.savemat(tmp_path / name, {"tiny_gt": gt})
    return gt


def tiny_dataset(tmp_path, split, **kwargs):
    options = dict(root=str(tmp_path), split=split, gt_file="tiny_gt.mat", gt_key="tiny_gt", synthetic=True,
                   synthetic_bands=24, pca_components=8, window=7, cache_dir=str(tmp_path / "cache"))
    options.update(kwargs)
    return HSIWindows(**options)


def test_dataset_windows_splits_and_cache(tmp_path, monkeypatch):
    gt = tiny_map(tmp_path)
    train = tiny_dataset(tmp_path, "train")
    calls = []
    monkeypatch.setattr(hsi, "fit_pca", lambda *a, **k: calls.append(1))  # the second build must not refit
    test = tiny_dataset(tmp_path, "test")
    assert not calls
    assert len(train) + len(test) == int((gt > 0).sum())
    assert not {tuple(p) for p in train.pixels} & {tuple(p) for p in test.pixels}
    item = test[3]
    row, col = item["pixel"]
    assert item["input"].shape == (1, 8, 7, 7) and item["input"].dtype == np.float32
    assert int(item["target"]) == gt[row, col] - 1
    cube = synthetic_cube(gt, 24, 0)
    reduced = train.scene.padded[:, 3:-3, 3:-3].transpose(1, 2, 0)
    np.testing.assert_array_equal(item["input"][0], eager_window(reduced, row, col, 7))
    # the centre of the window is the whitened projection of that pixel's spectrum
    reference = fit_pca(cube.reshape(-1, 24), 8).transform(cube[row, col][None])[0]
    np.testing.assert_allclose(item["input"][0, :, 3, 3], reference, rtol=1e-4, atol=1e-4)
    assert train.source.kind == "sample" and "synthetic cube on the IP map" in train.source.note
    assert "random stratified 30% train / 70% test" in test.source.note
    # the cached PCA is the one fitted: export reads it from the dataset
    for field in ("mean", "components", "variance", "explained_ratio"):
        np.testing.assert_array_equal(getattr(test.scene.pca, field), getattr(train.scene.pca, field))
    np.testing.assert_allclose(test.scene.pca.components, fit_pca(cube.reshape(-1, 24), 8).components)
    assert test.scene.pca.whiten is True


def test_a_cache_without_its_pca_file_is_rebuilt(tmp_path):
    tiny_map(tmp_path)
    first = tiny_dataset(tmp_path, "train")
    (pca_file,) = (tmp_path / "cache").glob("*.pca.npz")
    pca_file.unlink()
    again = tiny_dataset(tmp_path, "train")
    assert pca_file.is_file()
    np.testing.assert_array_equal(again.scene.padded, first.scene.padded)


def test_pca_fitted_on_training_pixels_only(tmp_path):
    tiny_map(tmp_path)
    train = tiny_dataset(tmp_path, "train", pca_fit="train")
    centres = np.stack([train[i]["input"][0, :, 3, 3] for i in range(len(train))]).astype(np.float64)
    np.testing.assert_allclose(np.var(centres, axis=0, ddof=1), 1.0, rtol=1e-3)  # whitened on these pixels
    everything = tiny_dataset(tmp_path, "train", pca_fit="all")
    assert not np.allclose(everything.scene.padded, train.scene.padded)
    assert "fitted on train pixels" in train.source.note


def test_disjoint_dataset_has_no_test_pixel_in_training_windows(tmp_path):
    gt = np.repeat(np.repeat(np.arange(1, 4)[None, :], 7, axis=1), 28, axis=0)  # 3 vertical fields, 28x21
    scipy.io.savemat(tmp_path / "tiny_gt.mat", {"tiny_gt": gt.astype(np.uint8)})
    train = tiny_dataset(tmp_path, "train", split_mode="disjoint", block_size=7)
    test = tiny_dataset(tmp_path, "test", split_mode="disjoint", block_size=7)
    assert len(train) and len(test)
    roles = np.zeros(gt.shape, int)
    roles[tuple(train.pixels.T)], roles[tuple(test.pixels.T)] = TRAIN, TEST
    assert_no_test_pixel_in_a_training_window(roles, margin=3)
    assert "spatially disjoint" in test.source.note


def test_windows_are_cut_lazily_at_indian_pines_scale(shared_data, tmp_path):
    import tracemalloc

    tracemalloc.start()
    try:
        data = HSIWindows(root=str(shared_data / "HSI_gt"), split="test", synthetic=True,
                          cache_dir=str(tmp_path / "cache"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    eager = 10249 * 30 * 25 * 25 * 4  # every window at once, float32: 769 MB
    assert data.scene.padded.shape == (30, 169, 169)
    assert peak < 120 * 2**20 < eager / 6  # the docstring states 57 MiB (cube, PCA working copies)
    assert len(data) == 10249 - int((data.roles == TRAIN).sum())


def test_dataset_errors_name_the_problem(tmp_path):
    tiny_map(tmp_path)
    with pytest.raises(DataError, match=r"Indian_pines_corrected.mat: file not found.*synthetic: true"):
        tiny_dataset(tmp_path, "train", synthetic=False)
    with pytest.raises(DataError, match="window must be odd"):
        tiny_dataset(tmp_path, "train", window=6)
    with pytest.raises(DataError, match="Indian_pines_gt.mat: file not found"):
        HSIWindows(root=str(tmp_path), split="train", synthetic=True)


def test_real_cube_files_are_read_through_the_dataset(tmp_path, caplog, write_v73):
    gt = tiny_map(tmp_path)
    cube = synthetic_cube(gt, 24, seed=5)
    write_v73(tmp_path / "cube.mat", {"cube": cube.astype(np.float64)})
    with caplog.at_level(logging.INFO, logger="ppcls_repro"):
        data = tiny_dataset(tmp_path, "test", synthetic=False, cube_file="cube.mat", cube_key="cube")
    assert data.source.kind == "real"
    row, col = data.pixels[0]
    reference = fit_pca(cube.reshape(-1, 24), 8).transform(cube[row, col][None])[0]
    np.testing.assert_allclose(data[0]["input"][0, :, 3, 3], reference, rtol=1e-4, atol=1e-4)


def test_another_variable_of_the_same_file_gets_its_own_cache(tmp_path):
    gt = tiny_map(tmp_path)
    flipped = gt[::-1].copy()
    scipy.io.savemat(tmp_path / "two.mat", {"tiny_gt": gt, "flipped_gt": flipped})
    first = tiny_dataset(tmp_path, "train", gt_file="two.mat", gt_key="tiny_gt")
    second = tiny_dataset(tmp_path, "train", gt_file="two.mat", gt_key="flipped_gt")
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2
    np.testing.assert_array_equal(second.gt, flipped)
    assert not np.array_equal(first.scene.padded, second.scene.padded)
