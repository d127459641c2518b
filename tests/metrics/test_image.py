"""Tests for PSNR and SSIM, including agreement with scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ppcls_repro.metrics import psnr, ssim


def textured(shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth-ish image in [0, 255] and a noisy, clipped copy of it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = 127.5 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    if len(shape) == 3:
        base = np.stack([base + 10 * c for c in range(shape[2])], axis=-1)
    clean = np.clip(base + rng.normal(0, 5, size=shape), 0, 255)
    noisy = np.clip(clean + rng.normal(0, 15, size=shape), 0, 255)
    return clean, noisy


def test_psnr_constant_error_of_one() -> None:
    target = np.full((8, 9), 100.0)
    assert psnr(target + 1.0, target) == pytest.approx(48.1308036087, abs=1e-9)
    assert psnr(target + 1.0, target) == pytest.approx(20 * math.log10(255.0), abs=1e-12)


def test_psnr_data_range_one() -> None:
    target = np.zeros((4, 4, 3))
    assert psnr(target + 0.1, target, data_range=1.0) == pytest.approx(20.0, abs=1e-9)


def test_psnr_identical_is_inf() -> None:
    image = np.random.default_rng(0).uniform(0, 255, size=(5, 5))
    assert psnr(image, image.copy()) == math.inf


def test_psnr_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(5, 4\)"):
        psnr(np.zeros((4, 5)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(5, 4\)"):
        ssim(np.zeros((4, 5)), np.zeros((5, 4)))


def test_crop_border_ignores_the_border() -> None:
    target = np.zeros((10, 12))
    pred = target.copy()
    pred[:2, :] = 50.0
    pred[:, -2:] = 50.0
    assert psnr(pred, target, crop_border=2) == math.inf
    assert psnr(pred, target, crop_border=1) < math.inf


def test_crop_border_equals_slicing() -> None:
    clean, noisy = textured((40, 44), seed=1)
    inner_noisy, inner_clean = noisy[3:-3, 3:-3], clean[3:-3, 3:-3]
    assert psnr(noisy, clean, crop_border=3) == pytest.approx(psnr(inner_noisy, inner_clean))
    assert ssim(noisy, clean, crop_border=3) == pytest.approx(ssim(inner_noisy, inner_clean))


@pytest.mark.parametrize("border", [-1, 1.5, 5])
def test_bad_crop_border(border: float) -> None:
    with pytest.raises(ValueError, match="crop_border"):
        psnr(np.zeros((10, 10)), np.zeros((10, 10)), crop_border=border)


def test_bad_data_range_and_ndim() -> None:
    with pytest.raises(ValueError, match="data_range"):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)), data_range=0)
    with pytest.raises(ValueError, match="HW or HWC"):
        psnr(np.zeros(4), np.zeros(4))


@pytest.mark.parametrize("shape", [(37, 50), (32, 29, 3)])
def test_psnr_matches_skimage(shape: tuple[int, ...]) -> None:
    clean, noisy = textured(shape, seed=2)
    expected = peak_signal_noise_ratio(clean, noisy, data_range=255)
    assert psnr(noisy, clean) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("shape", [(37, 50), (32, 29, 3)])
def test_ssim_matches_skimage(shape: tuple[int, ...]) -> None:
    # skimage filters the whole image (reflect padding) and then drops 5 pixels
    # per side before averaging: exactly the 'valid' region of an 11x11 window
    # (its Gaussian, truncate 3.5 x sigma 1.5, has radius 5). So the two agree
    # to rounding error, not just approximately.
    clean, noisy = textured(shape, seed=3)
    expected = structural_similarity(
        clean,
        noisy,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
        channel_axis=-1 if len(shape) == 3 else None,
    )
    assert ssim(noisy, clean) == pytest.approx(expected, abs=1e-10)


def test_ssim_of_identical_images_is_one() -> None:
    clean, _ = textured((30, 30, 3), seed=4)
    assert ssim(clean, clean) == pytest.approx(1.0, abs=1e-12)


def test_ssim_is_symmetric_and_below_one() -> None:
    clean, noisy = textured((30, 31), seed=5)
    value = ssim(noisy, clean)
    assert value == pytest.approx(ssim(clean, noisy), abs=1e-12)
    assert -1.0 <= value < 1.0


def test_ssim_needs_a_full_window() -> None:
    with pytest.raises(ValueError, match="11"):
        ssim(np.zeros((10, 20)), np.zeros((10, 20)))
    with pytest.raises(ValueError, match="11"):
        ssim(np.zeros((14, 20)), np.zeros((14, 20)), crop_border=2)
