"""CIFAR pickle reader and the paper's protocol, on batches the test writes."""
import pickle
from pathlib import Path

import numpy as np
import pytest

from ppcls_repro.papers.resnet.cifar import CIFAR10, CIFAR100, read_batch, write_batch
from ppcls_repro.utils.errors import DataError


def make_cifar10(folder: Path, per_batch: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6 * per_batch, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(6 * per_batch) % 10
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(5):
        rows = slice(i * per_batch, (i + 1) * per_batch)
        write_batch(folder / f"data_batch_{i + 1}", images[rows], labels[rows])
    write_batch(folder / "test_batch", images[5 * per_batch:], labels[5 * per_batch:])
    return images, labels


def test_splits_and_the_per_pixel_mean_of_the_training_rows(tmp_path):
    images, labels = make_cifar10(tmp_path)
    train = CIFAR10(str(tmp_path), split="train", val_size=5)
    val = CIFAR10(str(tmp_path), split="val", val_size=5)
    test = CIFAR10(str(tmp_path), split="test", val_size=5)
    assert (len(train), len(val), len(test)) == (15, 5, 4)
    mean = images[:15].astype(np.float64).mean(axis=0) / 255.0
    for data in (train, val, test):  # every split subtracts the mean of the 15 training rows
        np.testing.assert_allclose(data.mean, mean, atol=1e-6)
    x = val[2]
    np.testing.assert_allclose(x["input"], (images[17] / 255.0 - mean).transpose(2, 0, 1), atol=1e-6)
    assert int(x["target"]) == labels[17]
    np.testing.assert_array_equal(test.images, images[20:])
    assert len(CIFAR10(str(tmp_path))) == 20  # val_size 0: all training images


def test_augmentation_is_pad_crop_flip_and_seeded(tmp_path):
    images, _ = make_cifar10(tmp_path)
    data = CIFAR10(str(tmp_path), augment=True, seed=3)
    plain = np.pad(images[5] / 255.0 - data.mean, ((4, 4), (4, 4), (0, 0)))
    views = set()
    for epoch in range(8):
        data.set_epoch(epoch)
        out = data[5]["input"].transpose(1, 2, 0)
        np.testing.assert_array_equal(out, data[5]["input"].transpose(1, 2, 0))
        matches = [(t, l, f) for t in range(9) for l in range(9) for f in (False, True)
                   if np.allclose((plain[t:t + 32, l:l + 32][:, ::-1] if f else plain[t:t + 32, l:l + 32]), out,
                                  atol=1e-6)]
        assert matches, "not a 32x32 crop of the 4-pixel-padded image or its mirror"
        views.add(matches[0])
    assert len(views) > 2


def test_cifar100_reads_fine_labels(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    write_batch(tmp_path / "train", images[:4], [0, 55, 99, 3], label_key="fine_labels")
    write_batch(tmp_path / "test", images[4:], [7, 8], label_key="fine_labels")
    assert CIFAR100(str(tmp_path)).labels.tolist() == [0, 55, 99, 3]
    assert CIFAR100(str(tmp_path), split="test").labels.tolist() == [7, 8]


def test_missing_corrupt_and_unsafe_files_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="CIFAR10 folder not found.*cifar-10-python.tar.gz"):
        CIFAR10(str(tmp_path / "nowhere"))
    make_cifar10(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3"):
        CIFAR10(str(tmp_path))
    make_cifar10(tmp_path)
    path = tmp_path / "data_batch_2"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="data_batch_2: not a readable CIFAR batch"):
        read_batch(path, "labels")

    class Payload:
        def __reduce__(self):
            return (print, ("this must not run",))

    path.write_bytes(pickle.dumps({b"data": Payload(), b"labels": []}))
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        read_batch(path, "labels")
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DataError, match=r"\[N, 3072\]"):
        read_batch(path, "labels")
