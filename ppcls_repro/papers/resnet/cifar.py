"""CIFAR-10 / CIFAR-100 (Krizhevsky 2009) from the "python version" pickle batches.

Layout (the archives' contents as distributed)::

    dataset/cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch
    dataset/cifar-100-python/train, test

Protocol of ResNet, Section 4.2: the per-pixel mean of the training images is subtracted;
training adds 4 pixels on each side, takes a random 32x32 crop and flips it horizontally with
probability 1/2 (``augment: true``); testing uses the single original 32x32 view. The 45k/5k
split used by the paper to set its schedule is ``val_size: 5000`` with ``split: train`` / ``val``.

Choices: pixels are scaled to [0, 1] before the mean image is subtracted, and padding happens
after the subtraction, so padded pixels are the mean colour (as in fb.resnet.torch); the mean
image is always that of the training rows in use (50k, or 45k with a hold-out), also for the
val and test splits. Augmentation draws from (seed, epoch, index), see ``transforms.py``.

The batches are pickles; they are read with an unpickler that only rebuilds plain containers
and numpy arrays, so a tampered file cannot run code.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, Literal

import numpy as np
from paddle.io import Dataset

from ppcls_repro.data.download import DataSource
from ppcls_repro.data.splits import holdout_slice
from ppcls_repro.data.transforms import EpochSeeded, pad_crop_flip
from ppcls_repro.registry import DATASETS
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.spec import DataFacts

MEAN_IMAGE_FILE = "mean_image.npy"  # saved beside an exported CIFAR classifier
# The official CIFAR-10 class names, in label order (batches.meta of the python version).
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

URLS = {10: "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        100: "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"}
# What a CIFAR pickle may contain: numpy arrays (written by any numpy version), builtins, and
# _codecs.encode (how protocol-2 pickles written by Python 3 store bytes).
_ALLOWED_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                    ("numpy", "ndarray"), ("numpy", "dtype"), ("copyreg", "_reconstructor"),
                    ("builtins", "object"), ("_codecs", "encode")}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (not part of a CIFAR batch)")
        return super().find_class(module, name)


def read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Images [N, 32, 32, 3] uint8 (HWC) and labels [N] int64 of one pickle batch."""
    if not path.is_file():
        raise DataError(f"CIFAR batch not found: {path}")
    try:
        entry = _SafeUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except Exception as err:  # truncated, not a pickle, or a forbidden object: name the file
        raise DataError(f"{path}: not a readable CIFAR batch ({type(err).__name__}: {err})") from None
    if not isinstance(entry, dict):
        raise DataError(f"{path}: not a CIFAR batch (expected a dict, got {type(entry).__name__})")
    entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
    if "data" not in entry or label_key not in entry:
        raise DataError(f"{path}: missing 'data' or '{label_key}' (keys: {', '.join(map(str, entry))})")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"{path}: expected uint8 data [N, 3072] and N labels, got {data.dtype} "
                        f"{list(data.shape)} and {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def write_batch(path: Path, images: np.ndarray, labels: np.ndarray, label_key: str = "labels") -> None:
    """Write [N, 32, 32, 3] uint8 images and their labels as a CIFAR pickle batch (the layout of
    the python version: 'data' [N, 3072] in CHW order, byte-string keys)."""
    images = np.asarray(images, dtype=np.uint8)
    if images.shape[1:] != (32, 32, 3):
        raise ValueError(f"CIFAR images are [N, 32, 32, 3], got {list(images.shape)}")
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    entry = {b"data": data, label_key.encode(): [int(v) for v in labels]}
    path.write_bytes(pickle.dumps(entry, protocol=2))


class _CIFAR(EpochSeeded, Dataset):
    """Shared reader and protocol; subclasses name the files and the number of classes."""

    num_classes = 10
    train_files: tuple[str, ...] = ()
    test_file = ""
    label_key = "labels"
    class_names: list[str] | None = None
    inference_pipeline = "Classification"

    @classmethod
    def inference_facts(cls, args: dict[str, Any]) -> DataFacts:
        """RGB 32x32 minus the mean image of the training rows this split normalises with (so the data
        must be there: the mean image is saved beside the model)."""
        try:
            data = cls(**args)
        except DataError as err:
            raise DataError(f"DataLoader.Eval.dataset: export of a {cls.__name__} classifier saves the training "
                            f"set's mean image, so it needs the data: {err}") from None
        return DataFacts({"dataset": cls.__name__, "color": "rgb", "mean_image": MEAN_IMAGE_FILE,
                          "class_names": cls.class_names},
                         {MEAN_IMAGE_FILE: np.asarray(data.mean, np.float32)})

    def __init__(self, root: str, split: Literal["train", "val", "test"] = "train", val_size: int = 0,
                 augment: bool = False, seed: int = 0) -> None:
        folder = Path(root)
        name = type(self).__name__
        if not folder.is_dir():
            raise DataError(f"{name} folder not found: {folder}; download {URLS[self.num_classes]} and "
                            f"extract it so that {folder}/{self.train_files[0]} exists")
        train_x, train_y = self._read(folder, self.train_files)
        train_rows = holdout_slice("train", len(train_x), val_size, name)
        self.mean = (train_x[train_rows].mean(axis=0, dtype=np.float64) / 255.0).astype(np.float32)  # HWC
        if split == "test":
            self.images, self.labels = self._read(folder, (self.test_file,))
        else:
            rows = holdout_slice(split, len(train_x), val_size, name)
            self.images, self.labels = train_x[rows], train_y[rows]
        if self.labels.size and self.labels.max() >= self.num_classes:
            raise DataError(f"{folder}: label {self.labels.max()} >= {self.num_classes} classes")
        self.augment, self.seed = augment, seed
        self.source = DataSource(kind="real", path=folder, name=name,
                                 note=f"{split}: {len(self.labels)} images from {folder}")

    def _read(self, folder: Path, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        parts = [read_batch(folder / f, self.label_key) for f in files]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        image = self.images[index].astype(np.float32) / 255.0 - self.mean
        if self.augment:
            image = pad_crop_flip(image, 4, self.sample_rng(index))
        return {"input": np.ascontiguousarray(image.transpose(2, 0, 1)), "target": self.labels[index]}


@DATASETS.register
class CIFAR10(_CIFAR):
    """CIFAR-10: 50k training and 10k test images of 10 classes (``root``: cifar-10-batches-py).

    Args:
        root: folder holding data_batch_1 ... data_batch_5 and test_batch. Default: "dataset/cifar-10-batches-py".
        split: "train" (the training images but the last ``val_size``), "val" (those last ``val_size``) or
            "test" (the 10k test images). Default: "train".
        val_size: training images held out as "val", the last ones in file order, in [0, 50000); 5000 gives
            the paper's 45k/5k split. The mean image, of the rows left for "train", serves every split. Default: 0.
        augment: pad 4 pixels (of the mean colour) on each side, take a random 32x32 crop, flip horizontally
            with probability 1/2 (the paper's training augmentation); False returns the image as is. Default: False.
    """

    num_classes = 10
    train_files = tuple(f"data_batch_{i}" for i in range(1, 6))
    test_file = "test_batch"
    label_key = "labels"
    class_names = CIFAR10_CLASSES

    def __init__(self, root: str = "dataset/cifar-10-batches-py",
                 split: Literal["train", "val", "test"] = "train", val_size: int = 0,
                 augment: bool = False, seed: int = 0) -> None:
        super().__init__(root, split, val_size, augment, seed)


@DATASETS.register
class CIFAR100(_CIFAR):
    """CIFAR-100 with its 100 fine labels (``root``: cifar-100-python).

    Args:
        root: folder holding the ``train`` and ``test`` files. Default: "dataset/cifar-100-python".
        split: "train" (the training images but the last ``val_size``), "val" (those last ``val_size``) or
            "test" (the 10k test images). Default: "train".
        val_size: training images held out as "val", the last ones in file order, in [0, 50000). The mean
            image, of the rows left for "train", serves every split. Default: 0.
        augment: pad 4 pixels (of the mean colour) on each side, take a random 32x32 crop, flip horizontally
            with probability 1/2 (ResNet's CIFAR augmentation); False returns the image as is. Default: False.
    """

    num_classes = 100
    train_files = ("train",)
    test_file = "test"
    label_key = "fine_labels"

    def __init__(self, root: str = "dataset/cifar-100-python",
                 split: Literal["train", "val", "test"] = "train", val_size: int = 0,
                 augment: bool = False, seed: int = 0) -> None:
        super().__init__(root, split, val_size, augment, seed)
