"""Train/validation hold-outs for datasets that ship only a training and a test set.

ResNet tunes its CIFAR schedule on a 45k/5k split of the 50k training images (Section 4.2);
MNIST is often split 50k/10k. ``split="val"`` is the *last* ``val_size`` training samples and
``split="train"`` the rest, in file order, so the hold-out is the same on every machine.
"""
from __future__ import annotations

from ppcls_repro.utils.errors import DataError


def holdout_slice(split: str, num_train: int, val_size: int, where: str) -> slice:
    """The training-file rows of ``split`` ('train' or 'val'); 'test' rows come from the test file."""
    if not 0 <= val_size < num_train:
        raise DataError(f"{where}: val_size must be in [0, {num_train}), got {val_size}")
    if split == "train":
        return slice(0, num_train - val_size)
    if split == "val":
        if val_size == 0:
            raise DataError(f"{where}: split 'val' needs val_size > 0 (e.g. 5000 for CIFAR's 45k/5k)")
        return slice(num_train - val_size, num_train)
    raise DataError(f"{where}: split must be train, val or test, got '{split}'")
