"""The GAN's evaluation data: MNIST validation and test images (and real digits as the reference)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from paddle.io import Dataset

from ppcls_repro.data.download import DataSource
from ppcls_repro.data.mnist import load_mnist
from ppcls_repro.data.splits import holdout_slice
from ppcls_repro.registry import DATASETS
from ppcls_repro.utils.errors import DataError


@DATASETS.register
class MNISTValTest(Dataset):
    """The validation images (the last ``val_size`` training images) followed by the test images, pixels
    in [0, 1]; ``part`` is 0 for validation, 1 for test. The GAN's Parzen evaluation selects its window
    on the first and reports on the second (``num_val``: only the first that many validation images).
    ``num_reference`` > 0 appends the first that many training images as ``part`` 2: real digits that
    the evaluation scores in the generator's place, the reference a generator is read against (as
    bicubic is for super-resolution).

    Args:
        root: folder holding MNIST's four IDX files, gzipped or not. Default: "dataset/MNIST".
        val_size: the last that many training images are the validation images, in [1, 60000). Default: 10000.
        num_val: keep only the first that many validation images, >= 1; None keeps all ``val_size``.
            Default: None.
        num_reference: the first that many training images (none of them validation images) appended as
            ``part`` 2, in [0, 60000 - val_size]; 0 appends none. Default: 0.
    """

    def __init__(self, root: str = "dataset/MNIST", val_size: int = 10000, num_val: int | None = None,
                 num_reference: int = 0) -> None:
        folder = Path(root)
        train, _ = load_mnist(folder, "train")
        val = train[holdout_slice("val", len(train), val_size, "MNISTValTest")]
        if num_val is not None:
            if num_val < 1:
                raise DataError(f"MNISTValTest: num_val must be >= 1 or null, got {num_val}")
            val = val[:num_val]
        available = len(train) - val_size
        if not 0 <= num_reference <= available:
            raise DataError(f"MNISTValTest: num_reference must be in [0, {available}] (the training images "
                            f"of {folder}), got {num_reference}")
        reference = train[:num_reference]
        test, _ = load_mnist(folder, "test")
        self.images = np.concatenate([val, test, reference])
        self.parts = np.repeat(np.arange(3, dtype=np.int64), [len(val), len(test), len(reference)])
        self.source = DataSource(kind="real", path=folder, name="MNIST",
                                 note=f"validation {len(val)} + test {len(test)} images "
                                      f"(+ {len(reference)} training images as the reference) from {folder}")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        x = self.images[index][None].astype(np.float32) / 255.0
        return {"input": x, "part": self.parts[index]}
