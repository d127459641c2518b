"""MNIST (LeCun et al. 1998) from its original IDX files, gzip-compressed or raw.

Layout (the files as distributed; ``.gz`` optional)::

    dataset/MNIST/train-images-idx3-ubyte.gz   60,000 x 28 x 28
    dataset/MNIST/train-labels-idx1-ubyte.gz
    dataset/MNIST/t10k-images-idx3-ubyte.gz    10,000 x 28 x 28
    dataset/MNIST/t10k-labels-idx1-ubyte.gz

Samples are ``{"input": [1, H, W] float32, "target": int64}``. ``pad`` adds background (0)
pixels on every side (``pad: 2`` gives the 32x32 images of LeNet-5 and of the CIFAR ResNets);
``random_shift`` is translation augmentation (pad by that many pixels, crop back at a random
position), drawn per sample from (seed, epoch, index). Pixels are scaled to [0, 1] and
normalised with the training set's mean and standard deviation (0.1307, 0.3081).
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any, Literal

import numpy as np
from paddle.io import Dataset

from ppcls_repro.data.download import DataSource
from ppcls_repro.data.splits import holdout_slice
from ppcls_repro.data.transforms import EpochSeeded, pad, random_crop
from ppcls_repro.registry import DATASETS
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.spec import DataFacts

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
WHERE_TO_GET = ("get the four IDX files (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/, "
                "a mirror of http://yann.lecun.com/exdb/mnist/) and put them, gzipped or not, into that folder")
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (gzip or raw, detected from the file's first bytes); any damage is a DataError."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot read ({type(err).__name__}: {err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{path}: {len(raw)} bytes, but its header {shape} says {expected} "
                        "(truncated or corrupt file)")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: Path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` (uint8) as an IDX file, gzip-compressed when the name ends in .gz (tests,
    and converting other copies of MNIST-like data into the original format)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    raw = header + array.tobytes()
    compress = path.suffix == ".gz" if compress is None else compress
    path.write_bytes(gzip.compress(raw) if compress else raw)


def find_idx(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DataError(f"MNIST: {root / stem}[.gz] not found; {WHERE_TO_GET}")


def load_mnist(root: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Images [N, 28, 28] uint8 and labels [N] int64 of the 'train' or 'test' files."""
    if not root.is_dir():
        raise DataError(f"MNIST folder not found: {root}; {WHERE_TO_GET}")
    image_path, label_path = (find_idx(root, stem) for stem in FILES[part])
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{image_path}: images {images.shape} and labels {labels.shape} do not match "
                        "(expected [N, H, W] and [N])")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{label_path}: labels outside 0..9")
    return images.astype(np.uint8), labels.astype(np.int64)


@DATASETS.register
class MNIST(EpochSeeded, Dataset):
    """MNIST digits; ``split`` train/val hold out the last ``val_size`` training images, test is t10k.

    Args:
        root: folder holding the four IDX files, gzipped or not. Default: "dataset/MNIST".
        split: "train" (the 60k training images but the last ``val_size``), "val" (those last ``val_size``)
            or "test" (the 10k t10k images). Default: "train".
        val_size: training images held out as "val", the last ones in file order, in [0, 60000) (10000 gives
            the common 50k/10k split); not used by "test". Default: 0.
        pad: background (0) pixels added on every side, >= 0; 2 gives 32x32 images. Default: 0.
        random_shift: translation augmentation: pad by this many more pixels and crop back at a random
            position, drawn per sample from (seed, epoch, index), in whatever split it is set; 0 is off, >= 0.
            Default: 0.
        normalize: True standardises pixels in [0, 1] with the training set's mean 0.1307 and std 0.3081;
            False keeps them in [0, 1] (the GAN's data). Default: True.
    """

    mean, std = 0.1307, 0.3081  # of the 60k training images in [0, 1]
    inference_pipeline = "Classification"

    @classmethod
    def inference_facts(cls, args: dict[str, Any]) -> DataFacts:
        """Gray digits padded by ``pad``, normalised as in training (the data need not exist)."""
        normalized = args["normalize"]
        return DataFacts({"dataset": "MNIST", "color": "gray", "pad": args["pad"],
                          "mean": [cls.mean if normalized else 0.0], "std": [cls.std if normalized else 1.0],
                          "class_names": [str(d) for d in range(10)]})

    def __init__(self, root: str = "dataset/MNIST", split: Literal["train", "val", "test"] = "train",
                 val_size: int = 0, pad: int = 0, random_shift: int = 0, seed: int = 0,
                 normalize: bool = True) -> None:
        if pad < 0 or random_shift < 0:
            raise DataError(f"MNIST: pad and random_shift must be >= 0, got {pad}, {random_shift}")
        folder = Path(root)
        images, labels = load_mnist(folder, "test" if split == "test" else "train")
        if split != "test":
            rows = holdout_slice(split, len(images), val_size, "MNIST")
            images, labels = images[rows], labels[rows]
        self.images, self.labels = images, labels
        self.pad, self.random_shift, self.seed = pad, random_shift, seed
        self.normalize = normalize  # False: pixels in [0, 1] as they are (the GAN's data)
        self.num_classes = 10
        self.source = DataSource(kind="real", path=folder, name="MNIST",
                                 note=f"{split}: {len(images)} images from {folder}")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        image = pad(self.images[index][:, :, None], self.pad)
        if self.random_shift:
            image = random_crop(pad(image, self.random_shift), image.shape[0], self.sample_rng(index))
        x = image.astype(np.float32) / 255.0
        if self.normalize:
            x = (x - self.mean) / self.std
        return {"input": np.ascontiguousarray(x.transpose(2, 0, 1)), "target": self.labels[index]}
