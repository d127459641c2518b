"""Cross-modal features: the official .mat files (keys, shapes, labels), the validation carve, synthetic data."""
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ppcls_repro.papers.dscmr.data import CrossModalFeatures, SyntheticCrossModal, stratified_holdout
from ppcls_repro.utils.errors import DataError

IMG, TXT, C = 16, 6, 4


def write_official(folder: Path, n_train: int = 24, n_test: int = 8, seed: int = 0, **replace) -> Path:
    """Six files in the official layout (small dimensions); ``replace`` swaps one file's content."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("test", n_test)):
        content = {f"{part}_img": rng.random((n, IMG)), f"{part}_txt": rng.standard_normal((n, TXT)),
                   f"{part}_img_lab": (np.arange(n) % C)[:, None]}
        for key, value in content.items():
            scipy.io.savemat(folder / f"{key}.mat", replace.get(key, {key: value}))
    return folder


def dataset(folder: Path, split: str = "train", **kwargs) -> CrossModalFeatures:
    return CrossModalFeatures(root=str(folder), split=split, num_classes=C, image_dim=IMG, text_dim=TXT,
                              val_fraction=0.25, **kwargs)


def test_reads_the_official_files(tmp_path):
    folder = write_official(tmp_path / "pascal")
    train, val, test = (dataset(folder, s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (16, 8, 8)  # 25% of 6 per class: 2
    item = test[3]
    raw = scipy.io.loadmat(folder / "test_img.mat")["test_img"]
    np.testing.assert_allclose(item["input"], raw[3].astype(np.float32))
    assert item["input"].dtype == np.float32 and item["text"].shape == (TXT,) and item["target"] == 3
    assert train.source.kind == "real"


def test_validation_is_carved_from_train_disjoint_and_stratified(tmp_path):
    folder = write_official(tmp_path / "pascal")
    train, val = dataset(folder, "train"), dataset(folder, "val")
    rows = {tuple(r) for r in train.images}
    assert not rows & {tuple(r) for r in val.images}  # disjoint
    assert len(rows | {tuple(r) for r in val.images}) == 24  # together: all training pairs
    assert np.bincount(val.labels).tolist() == [2, 2, 2, 2]  # the same share of every class
    # the seed decides which pairs; the same seed gives the same carve
    other = dataset(folder, "val", split_seed=1)
    np.testing.assert_array_equal(dataset(folder, "val").images, val.images)
    assert not np.array_equal(other.images, val.images)


def test_stratified_holdout_rounding_and_limits():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 1)
    keep, val = stratified_holdout(labels, 0.125, seed=0)
    assert np.bincount(labels[val], minlength=3).tolist() == [1, 1, 0]  # round(1.25)=1, at least 1, never the last
    assert sorted(np.concatenate([keep, val]).tolist()) == list(range(14))
    keep, val = stratified_holdout(labels, 0.0, seed=0)
    assert val.size == 0 and keep.size == 14
    with pytest.raises(DataError, match="val_fraction must be in"):
        stratified_holdout(labels, 1.0, seed=0)


def test_missing_folder_and_file_are_named(tmp_path):
    with pytest.raises(DataError, match="feature folder not found: .*nowhere.*train_img.mat"):
        dataset(tmp_path / "nowhere")
    folder = write_official(tmp_path / "pascal")
    (folder / "test_txt.mat").unlink()
    with pytest.raises(DataError, match=r"test_txt.mat: file not found .*'test_txt'"):
        dataset(folder, "test")


def test_wrong_key_is_named(tmp_path):
    folder = write_official(tmp_path / "pascal", train_img={"img": np.zeros((24, IMG))})
    with pytest.raises(DataError, match=r"train_img.mat: no variable 'train_img' \(found: img\)"):
        dataset(folder)


def test_wrong_feature_shape_is_named(tmp_path):
    folder = write_official(tmp_path / "pascal", train_txt={"train_txt": np.zeros((24, TXT + 1))})
    with pytest.raises(DataError, match=r"train_txt.mat\['train_txt'\]: has shape \(24, 7\); expected \[N, 6\] text"):
        dataset(folder)


def test_non_finite_features_are_refused(tmp_path):
    bad = np.zeros((8, IMG))
    bad[2, 3] = np.nan
    folder = write_official(tmp_path / "pascal", test_img={"test_img": bad})
    with pytest.raises(DataError, match=r"test_img'\]: contains NaN"):
        dataset(folder, "test")


def test_count_mismatch_is_named(tmp_path):
    folder = write_official(tmp_path / "pascal", train_img_lab={"train_img_lab": np.zeros((23, 1))})
    with pytest.raises(DataError, match="train files disagree on the number of pairs: 24 images, 24 texts, 23 lab"):
        dataset(folder)


def test_labels_out_of_range_and_one_based(tmp_path):
    one_based = (np.arange(24) % C + 1)[:, None]
    folder = write_official(tmp_path / "pascal", train_img_lab={"train_img_lab": one_based})
    with pytest.raises(DataError, match=r"class indices range 1..4, expected 0..3 .*set label_base: 1"):
        dataset(folder)
    assert dataset(folder, label_base=1).labels.min() == 0  # shifted to 0-based
    folder = write_official(tmp_path / "p2", train_img_lab={"train_img_lab": np.full((24, 1), 0.5)})
    with pytest.raises(DataError, match="expected integer class indices"):
        dataset(folder)
    folder = write_official(tmp_path / "p3", train_img_lab={"train_img_lab": np.eye(24, C)})
    with pytest.raises(DataError, match=r"has shape \(24, 4\); expected a vector of class indices"):
        dataset(folder)


def test_not_a_mat_file_is_named(tmp_path):
    folder = write_official(tmp_path / "pascal")
    (folder / "train_img.mat").write_bytes(b"definitely not MATLAB")
    with pytest.raises(DataError, match="train_img.mat: not a readable .mat file"):
        dataset(folder)


def test_empty_validation_split_is_an_error(tmp_path):
    folder = write_official(tmp_path / "pascal")
    with pytest.raises(DataError, match="split 'val' is empty"):
        CrossModalFeatures(root=str(folder), split="val", num_classes=C, image_dim=IMG, text_dim=TXT,
                           val_fraction=0.0)


def synthetic(split: str, seed: int = 0) -> SyntheticCrossModal:
    return SyntheticCrossModal(split=split, num_classes=5, image_dim=24, text_dim=10, num_train=60, num_test=20,
                               val_fraction=0.25, data_seed=seed)


def test_synthetic_is_deterministic_and_labelled():
    a, b, c = synthetic("train"), synthetic("train"), synthetic("train", seed=1)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.texts, b.texts)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert a.source.kind == "sample" and "SYNTHETIC" in a.source.name and "SYNTHETIC" in a.source.note
    assert a.images.shape == (45, 24) and a.texts.shape == (45, 10) and a.images.min() >= 0


def test_synthetic_splits_sizes_balance_and_disjointness():
    train, val, test = synthetic("train"), synthetic("val"), synthetic("test")
    assert (len(train), len(val), len(test)) == (45, 15, 20)
    assert np.bincount(val.labels).tolist() == [3] * 5 and np.bincount(test.labels).tolist() == [4] * 5
    assert not {tuple(r) for r in train.images} & {tuple(r) for r in val.images}


def nearest_centroid_accuracy(train_x, train_y, test_x, test_y) -> float:
    centres = np.stack([train_x[train_y == c].mean(0) for c in np.unique(train_y)])
    return float((((test_x[:, None] - centres[None]) ** 2).sum(-1).argmin(1) == test_y).mean())


def test_synthetic_has_class_structure_in_both_modalities():
    kwargs = dict(num_classes=10, image_dim=256, text_dim=64, num_train=200, num_test=100, data_seed=0)
    train, test = SyntheticCrossModal(split="train", **kwargs), SyntheticCrossModal(split="test", **kwargs)
    # each modality alone: test pairs are classified by training class centroids far above chance (0.1)
    assert nearest_centroid_accuracy(train.images, train.labels, test.images, test.labels) > 0.5
    assert nearest_centroid_accuracy(train.texts, train.labels, test.texts, test.labels) > 0.5
    # across modalities: texts mapped into the image space (least squares on training pairs) land
    # near their class's image centroid, so the class is shared, not just present in each modality
    fit, *_ = np.linalg.lstsq(train.texts, train.images, rcond=None)
    assert nearest_centroid_accuracy(train.images, train.labels, test.texts @ fit, test.labels) > 0.5
