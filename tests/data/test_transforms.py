"""Transforms and the (seed, epoch, index) randomness, including through loader workers."""
import numpy as np
import pytest
from PIL import Image

from ppcls_repro.data import transforms as T
from ppcls_repro.data.mnist import MNIST, write_idx
from ppcls_repro.engine.setup import build_loader


def test_ten_crop_geometry():
    image = np.arange(6 * 8).reshape(6, 8, 1)
    crops = T.ten_crop(image, 4)
    np.testing.assert_array_equal(crops[0], image[:4, :4])
    np.testing.assert_array_equal(crops[1], image[:4, 4:])
    np.testing.assert_array_equal(crops[2], image[2:, :4])
    np.testing.assert_array_equal(crops[3], image[2:, 4:])
    np.testing.assert_array_equal(crops[4], image[1:5, 2:6])
    np.testing.assert_array_equal(crops[5:], crops[:5, :, ::-1])
    with pytest.raises(ValueError, match="cannot crop"):
        T.ten_crop(image, 7)


def test_resizes_and_crops_have_the_requested_sizes():
    image = Image.fromarray(np.zeros((30, 50, 3), np.uint8))
    assert T.resize_shorter(image, 60).size == (100, 60)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert min(T.random_scale(image, (40, 48), rng).size) in range(40, 49)
        assert T.random_resized_crop(image, 24, rng).size == (24, 24)
    padded = T.pad(np.ones((4, 4, 1)), 2)
    assert padded.shape == (8, 8, 1) and padded.sum() == 16


def test_pca_lighting_shifts_every_pixel_by_one_colour():
    image = np.random.default_rng(0).random((5, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(T.pca_lighting(image, 0.0, np.random.default_rng(1)), image)
    shift = T.pca_lighting(image, 0.1, np.random.default_rng(1)) - image
    np.testing.assert_allclose(shift, np.broadcast_to(shift[0, 0], shift.shape), atol=1e-6)
    assert np.abs(shift[0, 0]).max() > 0


def test_sample_rng_depends_on_seed_epoch_and_index():
    a = T.EpochSeeded()
    a.seed = 1
    draws = {}
    for epoch in (0, 1):
        a.set_epoch(epoch)
        for index in (0, 1):
            draws[(epoch, index)] = a.sample_rng(index).random()
            assert a.sample_rng(index).random() == draws[(epoch, index)]
    assert len(set(draws.values())) == 4


def test_loader_workers_see_the_epoch_and_give_the_same_batches(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (12, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(12) % 10)
    part = {"sampler": {"batch_size": 4, "shuffle": True, "drop_last": False},
            "loader": {"num_workers": 0, "use_shared_memory": False}}
    batches = {}
    for workers in (0, 1):
        data = MNIST(str(tmp_path), pad=2, random_shift=2, seed=4)
        part["loader"]["num_workers"] = workers
        loader = build_loader(data, part, seed=9)
        for epoch in (1, 2):  # what the training loop does before each epoch
            loader.batch_sampler.set_epoch(epoch)
            data.set_epoch(epoch)
            batches[(workers, epoch)] = [b["input"].numpy() for b in loader]
    for epoch in (1, 2):
        for a, b in zip(batches[(0, epoch)], batches[(1, epoch)]):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(batches[(0, 1)][0], batches[(0, 2)][0])
