"""Tests for MATLAB-compatible BT.601 colour conversion."""

from __future__ import annotations

import numpy as np
import pytest

from ppcls_repro.data.color import rgb2y, rgb2ycbcr, ycbcr2rgb

# Expected values written from MATLAB's matrix with RGB in [0, 1]:
# offset [16, 128, 128] plus one column of T for a pure primary.
KNOWN = [
    ((0, 0, 0), (16.0, 128.0, 128.0)),
    ((255, 255, 255), (235.0, 128.0, 128.0)),
    ((255, 0, 0), (16 + 65.481, 128 - 37.797, 128 + 112.0)),
    ((0, 255, 0), (16 + 128.553, 128 - 74.203, 128 - 93.786)),
    ((0, 0, 255), (16 + 24.966, 128 + 112.0, 128 - 18.214)),
]


@pytest.mark.parametrize(("rgb", "ycbcr"), KNOWN)
def test_known_colours(rgb: tuple[int, int, int], ycbcr: tuple[float, float, float]) -> None:
    pixel = np.array(rgb, dtype=np.uint8).reshape(1, 1, 3)
    out = rgb2ycbcr(pixel)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out[0, 0], ycbcr, atol=1e-10)
    assert rgb2y(pixel)[0, 0] == pytest.approx(ycbcr[0], abs=1e-10)


def test_matlab_uint8_rounding_of_red() -> None:
    # MATLAB rgb2ycbcr(uint8([255 0 0])) gives [81 90 240] after its uint8 rounding.
    out = rgb2ycbcr(np.array([[[255, 0, 0]]], dtype=np.uint8))
    np.testing.assert_array_equal(np.floor(out[0, 0] + 0.5), [81, 90, 240])


def test_mid_grey_formula() -> None:
    grey = np.full((2, 3, 3), 100.0)
    expected = 16 + (65.481 + 128.553 + 24.966) * 100 / 255
    np.testing.assert_allclose(rgb2y(grey), expected, atol=1e-12)


def test_y_matches_first_channel_and_dtypes_agree() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    np.testing.assert_allclose(rgb2y(image), rgb2ycbcr(image)[:, :, 0], atol=1e-12)
    np.testing.assert_allclose(rgb2ycbcr(image), rgb2ycbcr(image.astype(np.float32)), atol=1e-10)


def test_round_trip() -> None:
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 255, size=(6, 4, 3))
    np.testing.assert_allclose(ycbcr2rgb(rgb2ycbcr(image)), image, atol=1e-10)
    ycbcr = rng.uniform(16, 235, size=(3, 3, 3))
    np.testing.assert_allclose(rgb2ycbcr(ycbcr2rgb(ycbcr)), ycbcr, atol=1e-10)


def test_ycbcr2rgb_does_not_clip() -> None:
    # Y below the studio range maps to negative RGB; clipping is the caller's job.
    out = ycbcr2rgb(np.array([[[0.0, 128.0, 128.0]]]))
    assert np.all(out < 0)


@pytest.mark.parametrize("shape", [(4, 4), (4, 4, 1), (4, 4, 4), (3,)])
def test_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="3 channels"):
        rgb2ycbcr(np.zeros(shape))
    with pytest.raises(ValueError, match="3 channels"):
        rgb2y(np.zeros(shape))
    with pytest.raises(ValueError, match="3 channels"):
        ycbcr2rgb(np.zeros(shape))


def test_bad_dtype() -> None:
    with pytest.raises(ValueError, match="dtype"):
        rgb2ycbcr(np.zeros((2, 2, 3), dtype=np.int64))
