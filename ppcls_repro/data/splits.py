"""Splits of a labelled set: file-order hold-outs and seeded per-class (stratified) picks.

``holdout_slice``: for datasets that ship only a training and a test set. ResNet tunes its CIFAR
schedule on a 45k/5k split of the 50k training images (Section 4.2); MNIST is often split 50k/10k.
``split="val"`` is the *last* ``val_size`` training samples and ``split="train"`` the rest, in file
order, so the hold-out is the same on every machine.

``stratified_pick``: the one per-class random selection (HybridSN's train/test pixels, DSCMR's
validation pairs, evaluation subsets). Classes are visited in ascending order and each takes the
first ``quota(n_c)`` of a seeded permutation of its members, so a split depends only on the labels,
the quota and the seed.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

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


def class_quota(size: int, fraction: float) -> int:
    """``round(fraction * size)`` (halves up); a class of two or more members keeps at least one
    on each side of the split when ``fraction > 0``."""
    count = int(np.floor(fraction * size + 0.5))
    if fraction > 0 and size >= 2:
        count = min(max(count, 1), size - 1)
    return count


def stratified_pick(labels: np.ndarray, quota: Callable[[int], int], seed: int) -> np.ndarray:
    """Sorted indices into ``labels``: ``quota(n_c)`` seeded-random members of every class c present."""
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    picked = [rng.permutation(members)[:quota(members.size)]
              for members in (np.flatnonzero(labels == c) for c in np.unique(labels))]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64)
