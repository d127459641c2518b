"""MNIST IDX reader: round trip on generated files (gzip and raw), splits, padding, seeded
shifts, clear errors on missing or damaged files, and the real files when present."""
import gzip
from pathlib import Path

import numpy as np
import pytest

from ppcls_repro.data.mnist import MNIST, read_idx, write_idx
from ppcls_repro.utils.errors import DataError


def make_mnist(folder: Path, n_train: int = 12, n_test: int = 5, gz: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_train + n_test, 28, 28), dtype=np.uint8)
    labels = (np.arange(n_train + n_test) % 10).astype(np.uint8)
    suffix = ".gz" if gz else ""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", images[:n_train])
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", labels[:n_train])
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", images[n_train:])
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", labels[n_train:])
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_splits_padding_and_normalisation(tmp_path, gz):
    images, labels = make_mnist(tmp_path, gz=gz)
    train = MNIST(str(tmp_path), split="train", val_size=4, pad=2)
    val = MNIST(str(tmp_path), split="val", val_size=4)
    test = MNIST(str(tmp_path), split="test")
    assert (len(train), len(val), len(test)) == (8, 4, 5)
    sample = train[3]
    assert sample["input"].shape == (1, 32, 32) and sample["input"].dtype == np.float32
    expected = (np.pad(images[3], 2) / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(sample["input"][0], expected, rtol=1e-6)
    assert int(sample["target"]) == labels[3]
    np.testing.assert_array_equal(val.images, images[8:12])  # the last val_size training images
    np.testing.assert_array_equal(test.images, images[12:])


def test_random_shift_is_a_seeded_translation(tmp_path):
    make_mnist(tmp_path)
    dot = np.zeros((1, 28, 28), np.uint8)
    dot[0, 14, 14] = 255
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.repeat(dot, 12, axis=0))
    data = MNIST(str(tmp_path), pad=2, random_shift=2, seed=7)
    positions = set()
    for epoch in range(6):
        data.set_epoch(epoch)
        x = data[0]["input"][0]
        again = data[0]["input"][0]
        np.testing.assert_array_equal(x, again)  # the same (seed, epoch, index) -> the same view
        row, col = np.unravel_index(np.argmax(x), x.shape)
        assert abs(row - 16) <= 2 and abs(col - 16) <= 2  # moved at most 2 pixels
        positions.add((row, col))
    assert len(positions) > 1  # and the epochs differ
    other_seed = MNIST(str(tmp_path), pad=2, random_shift=2, seed=8)
    assert any(not np.array_equal(other_seed[i]["input"], data[i]["input"]) for i in range(12))


def test_missing_and_damaged_files_are_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="MNIST folder not found.*IDX files"):
        MNIST(str(tmp_path / "nowhere"))
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        MNIST(str(tmp_path), split="test")
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(path)
    path.write_bytes(path.read_bytes()[:30])  # a cut gzip stream
    with pytest.raises(DataError, match="cannot read"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x03" + bytes(20))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)
    make_mnist(tmp_path)
    with pytest.raises(DataError, match="val_size"):
        MNIST(str(tmp_path), split="val")


def test_real_mnist_files(shared_data):
    test = MNIST(str(shared_data / "MNIST"), split="test")
    assert len(test) == 10_000 and test.images.shape == (10_000, 28, 28)
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]
