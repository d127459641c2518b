"""No-reference noise level: ``noise_sigma`` estimates the standard deviation of additive white
Gaussian noise in an image from its finest diagonal Haar wavelet coefficients, by their median
absolute value / 0.6745 (Donoho and Johnstone's robust estimator, Biometrika 1994: the coefficients of
the noise are N(0, sigma^2), those of a natural image's edges are few and large, so the median ignores
them). Input: HW or HWC, values in [0, 255] (any real dtype); the result is on the same scale and
averages the channels. Textured content biases it upward by a little; it is a check, not a metric."""
from __future__ import annotations

import numpy as np

MAD_TO_SIGMA = 0.6745  # the median of |N(0, 1)|
MAX_SIDE = 1024  # a central crop of at most this side is enough for a global estimate (bounded memory)


def noise_sigma(image: np.ndarray) -> float:
    """The estimated noise sigma of ``image`` (see the module docstring); needs at least 2x2 pixels."""
    array = np.asarray(image, dtype=np.float64)
    planes = array[:, :, None] if array.ndim == 2 else array
    height, width = planes.shape[:2]
    if height < 2 or width < 2:
        raise ValueError(f"noise_sigma: needs at least 2x2 pixels, got {width}x{height}")
    top, left = max(0, (height - MAX_SIDE) // 2), max(0, (width - MAX_SIDE) // 2)
    crop = planes[top:top + MAX_SIDE, left:left + MAX_SIDE]
    crop = crop[: crop.shape[0] // 2 * 2, : crop.shape[1] // 2 * 2]
    a, b = crop[0::2, 0::2], crop[0::2, 1::2]
    c, d = crop[1::2, 0::2], crop[1::2, 1::2]
    diagonal = (a - b - c + d) / 2.0  # orthonormal Haar HH: keeps the noise's sigma
    return float(np.mean([np.median(np.abs(diagonal[:, :, k])) for k in range(crop.shape[2])]) / MAD_TO_SIGMA)
