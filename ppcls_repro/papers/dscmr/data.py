"""Paired image-text features for cross-modal retrieval (DSCMR).

``CrossModalFeatures`` reads the official feature files of DSCMR (penghu-cs/DSCMR, ``load_data.py``):
six MATLAB files in one folder, each holding one variable named like the file::

    train_img.mat     train_img      [N_train, 4096]  image features (VGG-19 fc7)
    train_txt.mat     train_txt      [N_train, 300]   text features (sentence CNN)
    train_img_lab.mat train_img_lab  [N_train, 1]     class index of each pair (0-based)
    test_img.mat      test_img       [N_test, 4096]
    test_txt.mat      test_txt       [N_test, 300]
    test_img_lab.mat  test_img_lab   [N_test, 1]

Row i of the image, text and label arrays is one image-text pair; the official code uses the image
labels for both modalities (there is no ``*_txt_lab`` file). Every file, key, shape, label range and
value is checked, and a problem is a one-line ``DataError`` naming the file and key. There is no
sample fallback: a run on other features would not be a DSCMR result.

The official code has no validation split and keeps the weights with the best TEST mAP. Here a
validation split is carved from the training pairs instead (stratified by class, seeded):
``split: train`` is the training pairs minus the validation pairs, ``split: val`` the validation
pairs, ``split: test`` the untouched test pairs.

``SyntheticCrossModal`` stands in when the real features are absent (tests, the demo config): seeded
features with the paper's dimensions and class structure in both modalities. It is labelled as
synthetic (data kind ``sample``) in the log and in metrics.json; its numbers say nothing about the paper.
Items are ``{"input": image [image_dim], "text": text [text_dim], "target": class index}``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import scipy.io
from paddle.io import Dataset

from ppcls_repro.data.download import DataSource
from ppcls_repro.data.splits import class_quota, stratified_pick
from ppcls_repro.registry import DATASETS, Positive
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.logger import get_logger

Split = Literal["train", "val", "test"]


def load_mat_array(path: Path, key: str) -> np.ndarray:
    """The variable ``key`` of a MATLAB file; a missing file, an unreadable file or key is a DataError."""
    if not path.is_file():
        raise DataError(f"{path}: file not found (expected the official DSCMR feature file holding '{key}')")
    try:
        content = scipy.io.loadmat(str(path))
    except NotImplementedError:  # scipy raises this for MATLAB v7.3 (HDF5) files
        raise DataError(f"{path}: MATLAB v7.3 (HDF5) files are not supported; save it with -v7") from None
    except Exception as err:  # a truncated or foreign file
        raise DataError(f"{path}: not a readable .mat file ({type(err).__name__}: {err})") from None
    if key not in content:
        keys = sorted(k for k in content if not k.startswith("__"))
        raise DataError(f"{path}: no variable '{key}' (found: {', '.join(keys) or 'none'})")
    return np.asarray(content[key])


def check_features(array: np.ndarray, where: str, dim: int, what: str) -> np.ndarray:
    """A finite numeric [N, dim] array as float32."""
    if array.ndim != 2 or array.shape[1] != dim or array.shape[0] == 0:
        raise DataError(f"{where}: has shape {array.shape}; expected [N, {dim}] {what} features")
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{where}: expected numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{where}: contains NaN or infinite values")
    return array.astype(np.float32)


def check_labels(array: np.ndarray, where: str, num_classes: int, label_base: int) -> np.ndarray:
    """Class indices from an [N, 1] (or [1, N] / [N]) array, shifted to 0-based int64."""
    if array.ndim > 2 or (array.ndim == 2 and 1 not in array.shape):
        raise DataError(f"{where}: has shape {array.shape}; expected a vector of class indices [N, 1]")
    labels = array.reshape(-1)
    if labels.size == 0 or not np.issubdtype(labels.dtype, np.number) or not np.all(np.isfinite(labels)) \
            or not np.all(labels == np.round(labels)):
        raise DataError(f"{where}: expected integer class indices")
    labels = labels.astype(np.int64) - label_base
    if labels.min() < 0 or labels.max() >= num_classes:
        hint = " (1-based labels? set label_base: 1)" if label_base == 0 and labels.min() > 0 else ""
        raise DataError(f"{where}: class indices range {labels.min() + label_base}..{labels.max() + label_base}, "
                        f"expected {label_base}..{num_classes - 1 + label_base} for num_classes {num_classes}{hint}")
    return labels


def read_official_split(root: Path, part: Literal["train", "test"], image_dim: int, text_dim: int,
                        num_classes: int, label_base: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image features, text features and class indices of the official ``train`` or ``test`` files."""
    def read(suffix: str) -> tuple[np.ndarray, str]:
        key = f"{part}_{suffix}"
        path = root / f"{key}.mat"
        return load_mat_array(path, key), f"{path}['{key}']"

    images = check_features(*read("img"), image_dim, "image")
    texts = check_features(*read("txt"), text_dim, "text")
    labels = check_labels(*read("img_lab"), num_classes, label_base)
    if not len(images) == len(texts) == len(labels):
        raise DataError(f"{root}: {part} files disagree on the number of pairs: {len(images)} images, "
                        f"{len(texts)} texts, {len(labels)} labels")
    return images, texts, labels


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (kept, held-out) indices: ``round(fraction * n_c)`` pairs of each class held out, seeded.

    A class with at least two pairs keeps at least one and gives at least one (when ``fraction > 0``).
    """
    if not 0.0 <= fraction < 1.0:
        raise DataError(f"val_fraction must be in [0, 1), got {fraction}")
    val = stratified_pick(labels, lambda n: class_quota(n, fraction), seed)
    keep = np.setdiff1d(np.arange(labels.size), val)
    return keep, val


class _PairedFeatures(Dataset):
    """Shared by both datasets: selects a split's rows and serves items as dicts."""

    source: DataSource

    def _select(self, split: Split, arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
                val_fraction: float, seed: int) -> None:
        """Keep ``arrays`` (the test pairs) or carve ``split`` train/val out of them (the training pairs)."""
        if split != "test":
            keep, val = stratified_holdout(arrays[2], val_fraction, seed)
            if split == "val" and val.size == 0:
                raise DataError("split 'val' is empty: set val_fraction > 0 to carve a validation split")
            rows = keep if split == "train" else val
            arrays = (arrays[0][rows], arrays[1][rows], arrays[2][rows])
        self.images, self.texts, self.labels = arrays
        self.split = split

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {"input": self.images[index], "text": self.texts[index], "target": self.labels[index]}


@DATASETS.register
class CrossModalFeatures(_PairedFeatures):
    """The official DSCMR feature files (Pascal Sentence by default) in ``root``.

    Args:
        root: folder holding the six official feature files. Default: "dataset/PascalSentence".
        split: "train" (the training pairs minus the validation pairs), "val" (the validation pairs) or
            "test" (the official test pairs). Default: "train".
        num_classes: number of classes; the labels must lie in label_base .. label_base + num_classes - 1.
            Default: 20.
        image_dim: size of the image features (columns of ``*_img``), checked. Default: 4096.
        text_dim: size of the text features (columns of ``*_txt``), checked. Default: 300.
        val_fraction: fraction of every class's training pairs held out as "val", in [0, 1) (a class of two
            or more pairs gives at least one when > 0); 0 = no validation split. Default: 0.125.
        split_seed: seed of the validation carve. Default: 0.
        label_base: 0 or 1, the index of the first class in the label files (the official files are 0-based).
            Default: 0.
    """

    # the validation pairs are carved from the training pairs: both sides must carve alike
    same_across_splits = ("root", "num_classes", "image_dim", "text_dim", "val_fraction", "split_seed", "label_base")

    def __init__(self, root: str = "dataset/PascalSentence", split: Split = "train", num_classes: Positive = 20,
                 image_dim: Positive = 4096, text_dim: Positive = 300, val_fraction: float = 0.125, split_seed: int = 0,
                 label_base: Literal[0, 1] = 0) -> None:
        folder = Path(root)
        if not folder.is_dir():
            raise DataError(f"feature folder not found: {folder} (put the official DSCMR files train_img.mat, "
                            "train_txt.mat, train_img_lab.mat, test_img.mat, test_txt.mat, test_img_lab.mat there)")
        part = "test" if split == "test" else "train"
        arrays = read_official_split(folder, part, image_dim, text_dim, num_classes, label_base)
        self._select(split, arrays, val_fraction, split_seed)
        self.source = DataSource(kind="real", path=folder, name=folder.name,
                                 note=f"official feature files, split {split} ({len(self)} pairs)")
        get_logger().info(f"{len(self)} {split} pairs from {folder} "
                          f"(val_fraction {val_fraction}, split_seed {split_seed})")


def make_synthetic_features(num_pairs: int, centres: np.ndarray, image_map: np.ndarray, text_map: np.ndarray,
                            spread: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced, shuffled pairs whose modalities share a class centre and a per-pair latent.

    latent = centres[class] + spread * noise (shared by the pair); image = ReLU(latent image_map + noise)
    (non-negative, like fc7 features); text = latent text_map + noise. Classes overlap in the latent
    space, so retrieval is far from trivial.
    """
    labels = rng.permutation(np.arange(num_pairs) % len(centres))
    latent = centres[labels] + spread * rng.standard_normal((num_pairs, centres.shape[1]))
    images = np.maximum(latent @ image_map + rng.standard_normal((num_pairs, image_map.shape[1])), 0.0)
    texts = latent @ text_map + rng.standard_normal((num_pairs, text_map.shape[1]))
    return images.astype(np.float32), texts.astype(np.float32), labels.astype(np.int64)


@DATASETS.register
class SyntheticCrossModal(_PairedFeatures):
    """SYNTHETIC paired features (seeded), with the paper's dimensions: a stand-in, never a result.

    The training and test pairs are drawn from one generator, so every split of one ``data_seed``
    comes from the same distribution; classes are balanced.

    Args:
        split: "train" (the training pairs minus the validation pairs), "val" (the validation pairs) or
            "test" (the test pairs). Default: "train".
        num_classes: number of classes (class centres in the latent space). Default: 20.
        image_dim: size of the image features (non-negative, like fc7 features). Default: 4096.
        text_dim: size of the text features. Default: 300.
        num_train: training pairs generated (the validation pairs are carved from them), >= num_classes.
            Default: 800.
        num_test: test pairs generated, >= num_classes. Default: 200.
        val_fraction: fraction of every class's training pairs held out as "val", in [0, 1) (a class of two
            or more pairs gives at least one when > 0); 0 = no validation split. Default: 0.125.
        data_seed: seed of the features and of the validation carve. Default: 0.
        latent_dim: dimension of the latent space both modalities are projected from. Default: 32.
        spread: standard deviation of each pair's latent around its class centre (the centres are standard
            normal): the larger, the more classes overlap. Default: 1.5.
    """

    same_across_splits = ("num_classes", "image_dim", "text_dim", "num_train", "num_test", "val_fraction",
                          "data_seed", "latent_dim", "spread")

    def __init__(self, split: Split = "train", num_classes: Positive = 20, image_dim: Positive = 4096, text_dim: Positive = 300,
                 num_train: Positive = 800, num_test: Positive = 200, val_fraction: float = 0.125, data_seed: int = 0,
                 latent_dim: Positive = 32, spread: float = 1.5) -> None:
        if num_train < num_classes or num_test < num_classes:
            raise DataError(f"SyntheticCrossModal: num_train {num_train} and num_test {num_test} must each be "
                            f">= num_classes {num_classes}")
        rng = np.random.default_rng(data_seed)
        centres = rng.standard_normal((num_classes, latent_dim))
        image_map = rng.standard_normal((latent_dim, image_dim)) / np.sqrt(latent_dim)
        text_map = rng.standard_normal((latent_dim, text_dim)) / np.sqrt(latent_dim)
        train = make_synthetic_features(num_train, centres, image_map, text_map, spread, rng)
        test = make_synthetic_features(num_test, centres, image_map, text_map, spread, rng)
        self._select(split, test if split == "test" else train, val_fraction, data_seed)
        self.source = DataSource(
            kind="sample", path=Path("synthetic"), name="SYNTHETIC cross-modal features (not Pascal Sentence)",
            note=f"SYNTHETIC seeded features (data_seed {data_seed}, {num_classes} classes, {image_dim}-d images, "
                 f"{text_dim}-d texts), split {split}: numbers on them are not comparable with the paper")
        get_logger().warning(f"SYNTHETIC DATA IN USE: {len(self)} {split} pairs of seeded synthetic features, "
                             "not Pascal Sentence; results are labelled synthetic")
