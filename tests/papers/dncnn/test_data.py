"""Denoising data (data/denoise.py): official patch grid and scales, 8 augmentations, noise on the fly."""
import numpy as np
import pytest
from PIL import Image

from ppcls_repro.papers.dncnn.data import DenoisePatches, NoisyImageFolder, augment, cut_patches
from ppcls_repro.utils.errors import DataError


@pytest.fixture
def gray_folder(tiny_images, tmp_path):
    folder = tmp_path / "gray"
    folder.mkdir()
    for path in sorted(tiny_images.iterdir()):
        Image.open(path).convert("L").save(folder / path.name)
    return folder


def test_patch_count_follows_the_official_scales_and_stride():
    image = np.random.default_rng(0).integers(0, 256, (180, 180)).astype(np.uint8)
    # 180, 162, 144, 126 pixels: 15^2 + 13^2 + 11^2 + 9^2 = 596 patches (Train400: 400 x 596)
    assert len(cut_patches(image, 40, 10)) == 596
    # DnCNN-B's 50x50: 14^2 + 12^2 + 10^2 + 8^2
    assert len(cut_patches(image, 50, 10)) == 504
    first = cut_patches(image, 40, 10, scales=(1.0,))
    np.testing.assert_array_equal(first[1], image[0:40, 10:50])
    np.testing.assert_array_equal(first[-1], image[140:180, 140:180])


def test_the_eight_augmentations_are_distinct_and_invertible_by_a_dihedral_map():
    patch = np.arange(16, dtype=np.uint8).reshape(4, 4)
    outs = [augment(patch, mode) for mode in range(8)]
    assert len({o.tobytes() for o in outs}) == 8
    np.testing.assert_array_equal(outs[0], patch)
    np.testing.assert_array_equal(outs[1], np.flipud(patch))
    np.testing.assert_array_equal(outs[2], np.rot90(patch))
    with pytest.raises(ValueError):
        augment(patch, 8)


def test_noise_on_the_fly_is_reproducible_per_seed_epoch_index_and_never_clipped(gray_folder, tmp_path):
    ds = DenoisePatches(str(gray_folder), sigma=25, cache_dir=str(tmp_path / "cache"), seed=3)
    assert len(ds) > 0 and ds.patches.dtype == np.uint8
    a = ds[5]
    again = DenoisePatches(str(gray_folder), sigma=25, cache_dir=str(tmp_path / "cache"), seed=3)[5]
    np.testing.assert_array_equal(a["input"], again["input"])
    ds.set_epoch(1)
    b = ds[5]
    assert not np.array_equal(a["input"] - a["target"], b["input"] - b["target"])
    noise = np.concatenate([(ds[i]["input"] - ds[i]["target"]).ravel() for i in range(len(ds))])
    assert noise.std() == pytest.approx(25 / 255, rel=0.02)
    inputs = np.concatenate([ds[i]["input"].ravel() for i in range(len(ds))])
    assert inputs.min() < 0 and inputs.max() > 1  # not clipped to [0, 1]
    assert not np.allclose(inputs * 255, np.round(inputs * 255), atol=1e-3)  # not quantized
    target = ds[0]["target"]
    assert target.shape == (1, 40, 40) and np.allclose(target * 255, np.round(target * 255), atol=1e-4)


def test_blind_sigma_is_drawn_per_patch_in_the_range(gray_folder, tmp_path):
    ds = DenoisePatches(str(gray_folder), sigma=None, sigma_range=(0, 55), patch_size=50,
                        cache_dir=str(tmp_path / "cache"))
    stds = [float((ds[i]["input"] - ds[i]["target"]).std() * 255) for i in range(len(ds))]
    assert min(stds) < 20 and max(stds) > 35 and max(stds) < 58
    with pytest.raises(DataError, match="exactly one"):
        DenoisePatches(str(gray_folder), sigma=25, sigma_range=(0, 55), cache_dir=str(tmp_path / "cache"))


def test_eval_noise_is_fixed_across_evaluations_and_runs(gray_folder):
    first = NoisyImageFolder(str(gray_folder), sigma=25)
    second = NoisyImageFolder(str(gray_folder), sigma=25)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a["input"], b["input"])
    np.testing.assert_array_equal(first[0]["input"], first[0]["input"])
    other = NoisyImageFolder(str(gray_folder), sigma=25, noise_seed=1)
    assert not np.array_equal(first[0]["input"], other[0]["input"])
    assert first[0]["input"].shape == first[0]["target"].shape == (1, 66, 60)


def test_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        NoisyImageFolder(str(tmp_path / "nope"), strict=True)
