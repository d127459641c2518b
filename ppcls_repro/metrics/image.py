"""Full-reference image quality metrics: PSNR and SSIM, as used by SR papers.

Both take HW or HWC arrays of equal shape (any real dtype; computed in
float64) whose values live in ``[0, data_range]`` (default 255, i.e. 8-bit
images). ``crop_border`` pixels are removed from each side of H and W first,
which is how SR papers ignore the border (they "shave" ``scale`` pixels).

* ``psnr`` returns dB in ``(-inf, inf]``; ``inf`` for identical images. For
  HWC the MSE is taken over all pixels and channels.
* ``ssim`` returns the mean SSIM in ``[-1, 1]`` (1 for identical images),
  following Wang et al. 2004 as implemented in their MATLAB ``ssim_index.m``
  used by SR papers: 11x11 Gaussian window with sigma 1.5, K1 = 0.01,
  K2 = 0.03, 'valid' filtering (no padding, so the map is 10 pixels smaller
  in each dimension), plain mean over the map. For HWC the per-channel
  values are averaged.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

SSIM_WINDOW: int = 11
SSIM_SIGMA: float = 1.5
SSIM_K1: float = 0.01
SSIM_K2: float = 0.03


def prepare_pair(
    pred: np.ndarray, target: np.ndarray, data_range: float, crop_border: int
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of images and return them as float64 with borders cropped."""
    a = np.asarray(pred)
    b = np.asarray(target)
    if a.shape != b.shape:
        raise ValueError(f"pred shape {a.shape} does not match target shape {b.shape}")
    if a.ndim not in (2, 3):
        raise ValueError(f"images must be HW or HWC, got shape {a.shape}")
    if not (math.isfinite(data_range) and data_range > 0):
        raise ValueError(f"data_range must be a positive finite number, got {data_range}")
    if isinstance(crop_border, bool) or int(crop_border) != crop_border or crop_border < 0:
        raise ValueError(f"crop_border must be a non-negative integer, got {crop_border}")
    border = int(crop_border)
    if 2 * border >= min(a.shape[0], a.shape[1]):
        raise ValueError(f"crop_border {border} leaves nothing of shape {a.shape}")
    if border > 0:
        a = a[border:-border, border:-border]
        b = b[border:-border, border:-border]
    return a.astype(np.float64), b.astype(np.float64)


def psnr(
    pred: np.ndarray, target: np.ndarray, data_range: float = 255.0, crop_border: int = 0
) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / MSE)``."""
    a, b = prepare_pair(pred, target, data_range, crop_border)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / mse)


def gaussian_window_1d(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian; its outer product is MATLAB's fspecial('gaussian')."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def filter_valid(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable 2-D filtering keeping only 'valid' outputs (window fully inside)."""
    # The boundary mode is irrelevant: the border it affects is cropped away.
    rows = ndimage.correlate1d(image, window, axis=0, mode="constant")
    both = ndimage.correlate1d(rows, window, axis=1, mode="constant")
    half = window.size // 2
    return both[half:-half, half:-half]


def ssim_single(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    """Mean SSIM of two float64 HW images (ssim_index.m arithmetic)."""
    window = gaussian_window_1d()
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    mu_a = filter_valid(a, window)
    mu_b = filter_valid(b, window)
    mu_a2 = mu_a * mu_a
    mu_b2 = mu_b * mu_b
    mu_ab = mu_a * mu_b
    # Biased (window-weighted) second moments, as in the MATLAB reference.
    var_a = filter_valid(a * a, window) - mu_a2
    var_b = filter_valid(b * b, window) - mu_b2
    cov_ab = filter_valid(a * b, window) - mu_ab
    numerator = (2.0 * mu_ab + c1) * (2.0 * cov_ab + c2)
    denominator = (mu_a2 + mu_b2 + c1) * (var_a + var_b + c2)
    return float(np.mean(numerator / denominator))


def ssim(
    pred: np.ndarray, target: np.ndarray, data_range: float = 255.0, crop_border: int = 0
) -> float:
    """Mean structural similarity (Wang et al. 2004); HWC is averaged over channels."""
    a, b = prepare_pair(pred, target, data_range, crop_border)
    if min(a.shape[0], a.shape[1]) < SSIM_WINDOW:
        raise ValueError(f"ssim needs H and W >= {SSIM_WINDOW} after cropping, got {a.shape}")
    if a.ndim == 2:
        return ssim_single(a, b, data_range)
    values = [ssim_single(a[:, :, c], b[:, :, c], data_range) for c in range(a.shape[2])]
    return float(np.mean(values))
