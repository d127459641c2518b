"""MATLAB-exact bicubic ``imresize`` in numpy.

SR papers of the SRCNN era (SRCNN, FSRCNN, VDSR, ...) make their low-resolution
inputs and bicubic baselines with MATLAB's ``imresize(img, scale, 'bicubic')``.
Its output differs noticeably from PIL/OpenCV bicubic (different kernel
coefficient, antialiasing when shrinking, mirrored borders), which moves
reported PSNR by tenths of a dB. This module reimplements MATLAB's algorithm
(``contributions`` + ``resizeAlongDim`` in ``imresize.m``) so the published
baselines can be reproduced:

* Keys cubic kernel with a = -0.5, support [-2, 2].
* When shrinking (scale < 1) the kernel is stretched by 1/scale and its
  height scaled by ``scale`` (antialiasing), so it covers 4/scale input pixels.
* Output pixel ``x`` (1-based) maps to input coordinate
  ``u = x / scale + 0.5 * (1 - 1 / scale)`` (pixel centres aligned).
* Weights of every output pixel are normalised to sum to one.
* Out-of-range input indices are mirrored (``[1..n, n..1]`` repeated), i.e.
  symmetric padding where the edge pixel is repeated.
* The output size is ``ceil(scale * input_size)``.
* The dimension with the smaller scale is resized first.

Unlike MATLAB, nothing is rounded or clipped: the result is float64 and the
caller decides about quantisation (MATLAB rounds and saturates when the input
is uint8).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

# Keys' cubic convolution parameter used by MATLAB's 'bicubic' method.
CUBIC_A: float = -0.5
# Support of the cubic kernel (it is non-zero on (-2, 2)).
CUBIC_WIDTH: float = 4.0


def cubic(x: np.ndarray) -> np.ndarray:
    """Evaluate MATLAB's cubic kernel (Keys, a = -0.5) element-wise."""
    ax = np.abs(np.asarray(x, dtype=np.float64))
    ax2 = ax * ax
    ax3 = ax2 * ax
    # Two polynomial pieces written out with a = -0.5 substituted, as in imresize.m.
    inner = 1.5 * ax3 - 2.5 * ax2 + 1.0
    outer = -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    return np.where(ax <= 1.0, inner, np.where(ax <= 2.0, outer, 0.0))


def mirror_indices(indices: np.ndarray, length: int) -> np.ndarray:
    """Map 0-based indices that may fall outside ``[0, length)`` back inside by mirroring.

    MATLAB indexes ``aux = [1:n, n:-1:1]`` with ``mod(idx - 1, 2n)``, so the edge
    pixel is repeated (symmetric padding) and far indices wrap periodically.
    """
    period = 2 * length
    folded = np.mod(indices, period)
    return np.where(folded < length, folded, period - 1 - folded)


def contributions(
    in_length: int, out_length: int, scale: float, antialias: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and 0-based input indices for resizing one dimension.

    Returns ``(weights, indices)``, both of shape ``(out_length, taps)``; output
    pixel ``i`` is ``sum_k weights[i, k] * input[indices[i, k]]``.
    """
    if in_length < 1 or out_length < 1:
        raise ValueError(f"lengths must be >= 1, got in={in_length}, out={out_length}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    shrinking = scale < 1.0 and antialias
    # Antialiasing: a wider, lower kernel acts as the low-pass filter when shrinking.
    width = CUBIC_WIDTH / scale if shrinking else CUBIC_WIDTH
    x = np.arange(1, out_length + 1, dtype=np.float64)
    # Centre of each output pixel expressed in 1-based input coordinates.
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    # Two extra taps, as MATLAB, so no non-zero weight is ever missed.
    taps = int(math.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]
    distance = u[:, None] - indices
    if shrinking:
        weights = scale * cubic(scale * distance)
    else:
        weights = cubic(distance)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    # Convert MATLAB's 1-based indices to 0-based before mirroring.
    indices0 = mirror_indices(indices.astype(np.int64) - 1, in_length)
    # Drop taps that are zero for every output pixel (as MATLAB does); it only saves work.
    keep = np.any(weights != 0.0, axis=0)
    return weights[:, keep], indices0[:, keep]


def resize_along_axis(
    image: np.ndarray, axis: int, out_length: int, scale: float
) -> np.ndarray:
    """Resize a float64 array along ``axis`` with the MATLAB bicubic kernel."""
    weights, indices = contributions(image.shape[axis], out_length, scale)
    moved = np.moveaxis(image, axis, 0)
    out = np.zeros((out_length,) + moved.shape[1:], dtype=np.float64)
    # Accumulate tap by tap (a handful of taps): vectorised over all pixels,
    # yet memory stays at one output image instead of one per tap.
    extra = (1,) * (moved.ndim - 1)
    for k in range(weights.shape[1]):
        out += weights[:, k].reshape((-1,) + extra) * moved[indices[:, k]]
    return np.moveaxis(out, 0, axis)


def resolve_size(
    in_shape: tuple[int, int],
    scale: float | None,
    output_shape: tuple[int, int] | None,
) -> tuple[tuple[float, float], tuple[int, int]]:
    """Per-dimension scales and output sizes, following MATLAB's rules."""
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of scale or output_shape")
    if scale is not None:
        if not (isinstance(scale, numbers.Real) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        size = (int(math.ceil(scale * in_shape[0])), int(math.ceil(scale * in_shape[1])))
        # MATLAB keeps the requested scale for the kernel, not size ratios.
        return (float(scale), float(scale)), size
    assert output_shape is not None
    if len(output_shape) != 2 or any(int(s) != s or s < 1 for s in output_shape):
        raise ValueError(f"output_shape must be two positive integers, got {output_shape!r}")
    size = (int(output_shape[0]), int(output_shape[1]))
    return (size[0] / in_shape[0], size[1] / in_shape[1]), size


def imresize(
    image: np.ndarray,
    scale: float | None = None,
    output_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Resize an HW or HWC image exactly like MATLAB ``imresize(..., 'bicubic')``.

    Args:
        image: HW or HWC array, uint8 or float (any range; it is not rescaled).
        scale: resize factor for both H and W; output is ``ceil(scale * size)``.
        output_shape: ``(H_out, W_out)``; per-dimension scale is ``out / in``.

    Returns:
        float64 array of the new size; values are neither rounded nor clipped.
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"image must be HW or HWC, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or array.dtype == np.uint8):
        raise ValueError(f"image dtype must be float or uint8, got {array.dtype}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"image must not be empty, got shape {array.shape}")
    scales, size = resolve_size((array.shape[0], array.shape[1]), scale, output_shape)
    out = array.astype(np.float64)
    # Stable sort: with equal scales rows (H) go first, as MATLAB's sort does.
    order = sorted((0, 1), key=lambda axis: scales[axis])
    for axis in order:
        out = resize_along_axis(out, axis, size[axis], scales[axis])
    return out
