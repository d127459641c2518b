"""Tests for the MATLAB-exact bicubic imresize.

Expected values are derived here from MATLAB's algorithm (kernel formula,
coordinate mapping, index mirroring), written independently as plain loops,
never by calling the function under test.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from ppcls_repro.data.imresize import imresize

# Cubic kernel (a = -0.5) at the distances that occur for x2 / x0.5:
# cubic(0.25) = 0.8671875, cubic(0.75) = 0.2265625,
# cubic(1.25) = -0.0703125, cubic(1.75) = -0.0234375.
UP2_WEIGHTS_EVEN = [-0.0234375, 0.2265625, 0.8671875, -0.0703125]


def ref_cubic(x: float) -> float:
    """Keys cubic, a = -0.5, written from the formula."""
    t = abs(x)
    if t <= 1:
        return 1.5 * t**3 - 2.5 * t**2 + 1
    if t <= 2:
        return -0.5 * t**3 + 2.5 * t**2 - 4 * t + 2
    return 0.0


def ref_mirror(j: int, n: int) -> int:
    """MATLAB: aux = [1..n, n..1]; aux(mod(j - 1, 2n) + 1), here 0-based in and out."""
    aux = list(range(n)) + list(range(n - 1, -1, -1))
    return aux[j % (2 * n)]


def ref_resize_1d(values: list[float], out_len: int, scale: float) -> list[float]:
    """Pixel-by-pixel MATLAB bicubic resize of one line (reference)."""
    n = len(values)
    width = 4.0 / scale if scale < 1 else 4.0
    result = []
    for x in range(1, out_len + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        taps = [left + k for k in range(math.ceil(width) + 2)]
        if scale < 1:
            w = [scale * ref_cubic(scale * (u - j)) for j in taps]
        else:
            w = [ref_cubic(u - j) for j in taps]
        total = sum(w)
        result.append(sum(wk / total * values[ref_mirror(j - 1, n)] for wk, j in zip(w, taps)))
    return result


def ref_imresize(
    image: np.ndarray, out_shape: tuple[int, int], scales: tuple[float, float]
) -> np.ndarray:
    """Reference 2-D resize: smaller scale first, one line at a time."""
    out = image.astype(np.float64)
    for axis in sorted((0, 1), key=lambda a: scales[a]):
        moved = np.moveaxis(out, axis, -1)
        lines = moved.reshape(-1, moved.shape[-1])
        new = np.array([ref_resize_1d(list(line), out_shape[axis], scales[axis]) for line in lines])
        out = np.moveaxis(new.reshape(moved.shape[:-1] + (out_shape[axis],)), -1, axis)
    return out


@pytest.mark.parametrize("scale", [2, 3, 4, 0.5, 1 / 3, 0.25, 1.7])
@pytest.mark.parametrize("shape", [(12, 12), (13, 7), (9, 16, 3)])
def test_constant_image_stays_constant(shape: tuple[int, ...], scale: float) -> None:
    image = np.full(shape, 37.25)
    out = imresize(image, scale)
    np.testing.assert_allclose(out, 37.25, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "scale", "expected"),
    [
        ((7, 5), 2, (14, 10)),
        ((7, 5), 0.5, (4, 3)),
        ((10, 7), 1 / 3, (4, 3)),
        ((255, 255), 1 / 3, (85, 85)),
        ((13, 9, 3), 3, (39, 27, 3)),
        ((17, 11), 0.25, (5, 3)),
    ],
)
def test_output_shape_is_ceil_of_scaled_size(
    shape: tuple[int, ...], scale: float, expected: tuple[int, ...]
) -> None:
    assert imresize(np.zeros(shape), scale).shape == expected


def test_output_shape_argument() -> None:
    out = imresize(np.zeros((8, 6, 3)), output_shape=(5, 13))
    assert out.shape == (5, 13, 3)
    assert out.dtype == np.float64


def test_upscale_reproduces_linear_ramp_in_interior() -> None:
    # The cubic kernel reproduces linear functions exactly where no mirroring occurs.
    ramp = np.tile(np.arange(20, dtype=np.float64) * 3.0 + 5.0, (6, 1))
    out = imresize(ramp, 2)
    # Output column x (1-based) samples the input at 1-based u = x / 2 + 0.25.
    x = np.arange(1, 41)
    expected = (x / 2 + 0.25 - 1) * 3.0 + 5.0
    interior = slice(6, 34)  # all taps of these columns are inside [0, 20)
    np.testing.assert_allclose(out[:, interior], np.tile(expected[interior], (12, 1)), atol=1e-10)


def test_upscale_by_two_first_pixel_by_hand() -> None:
    # 1-D [1, 2, 3, 4] x2: output 1 sits at u = 0.75; taps j = -1, 0, 1, 2 (1-based)
    # mirror to pixels 2, 1, 1, 2 -> values 2, 1, 1, 2.
    out = imresize(np.array([[1.0, 2.0, 3.0, 4.0]]), 2)
    first = sum(w * v for w, v in zip(UP2_WEIGHTS_EVEN, [2.0, 1.0, 1.0, 2.0]))
    assert first == pytest.approx(0.90625, abs=1e-15)
    assert out.shape == (2, 8)
    np.testing.assert_allclose(out[:, 0], first, atol=1e-12)
    # Output 4 sits at u = 2.25: distances 1.25, 0.25, -0.75, -1.75 to pixels 1..4,
    # i.e. the same weights reversed; a linear signal gives back u itself.
    fourth = sum(w * v for w, v in zip(UP2_WEIGHTS_EVEN[::-1], [1.0, 2.0, 3.0, 4.0]))
    assert fourth == pytest.approx(2.25, abs=1e-15)
    np.testing.assert_allclose(out[:, 3], fourth, atol=1e-12)


def test_downscale_by_two_hand_weights() -> None:
    # x0.5 antialiased kernel: 0.5 * cubic(0.5 * d) for d = +-0.5, +-1.5, ..., +-3.5.
    half = [0.5 * c for c in (-0.0234375, -0.0703125, 0.2265625, 0.8671875)]
    weights = half + half[::-1]
    assert sum(weights) == pytest.approx(1.0, abs=1e-15)
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    # Output 2 sits at u = 3.5 (1-based): taps 0..7, i.e. pixels 1,1..7 after mirroring.
    taps = [values[0]] + values[:7]
    expected_second = sum(w * v for w, v in zip(weights, taps))
    out = imresize(np.array([values]), 0.5)
    assert out.shape == (1, 4)
    assert out[0, 1] == pytest.approx(expected_second, abs=1e-12)
    np.testing.assert_allclose(out[0], ref_resize_1d(values, 4, 0.5), atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "scale"),
    [
        ((9, 7), 2.0),
        ((9, 7), 3.0),
        ((12, 9), 1 / 3),
        ((16, 11), 0.25),
        ((10, 13), 0.5),
        ((6, 5), 1.5),
    ],
)
def test_matches_loop_reference(shape: tuple[int, int], scale: float) -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, size=shape)
    out = imresize(image, scale)
    size = (math.ceil(scale * shape[0]), math.ceil(scale * shape[1]))
    np.testing.assert_allclose(out, ref_imresize(image, size, (scale, scale)), atol=1e-10)


def test_mixed_scales_resize_smaller_scale_first() -> None:
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 255, size=(12, 7))
    out = imresize(image, output_shape=(20, 3))
    expected = ref_imresize(image, (20, 3), (20 / 12, 3 / 7))
    np.testing.assert_allclose(out, expected, atol=1e-10)


def test_hw_and_hwc_agree() -> None:
    rng = np.random.default_rng(2)
    image = rng.uniform(0, 255, size=(11, 14, 3))
    out = imresize(image, 1 / 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[:, :, channel], imresize(image[:, :, channel], 1 / 3))


def test_uint8_input_is_not_rounded() -> None:
    image = np.array([[0, 255, 0, 255]], dtype=np.uint8)
    out = imresize(image, 2)
    assert out.dtype == np.float64
    assert out.min() < 0 and out.max() > 255  # overshoot kept: the caller quantises


def test_float32_input_computed_in_float64() -> None:
    image = np.random.default_rng(3).uniform(0, 1, size=(8, 8)).astype(np.float32)
    out = imresize(image, 2)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, imresize(image.astype(np.float64), 2))


def test_512_image_is_fast() -> None:
    image = np.random.default_rng(4).uniform(0, 255, size=(512, 512))
    start = time.perf_counter()
    imresize(imresize(image, 1 / 3), 3)
    imresize(image, 2)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"scale": 2, "output_shape": (4, 4)}, "exactly one"),
        ({"scale": 0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"output_shape": (0, 3)}, "output_shape"),
        ({"output_shape": (3,)}, "output_shape"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        imresize(np.zeros((4, 4)), **kwargs)


def test_bad_images() -> None:
    with pytest.raises(ValueError, match="HW or HWC"):
        imresize(np.zeros(5), 2)
    with pytest.raises(ValueError, match="dtype"):
        imresize(np.zeros((4, 4), dtype=np.int32), 2)
