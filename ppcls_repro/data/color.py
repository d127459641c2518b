"""MATLAB ``rgb2ycbcr`` / ``ycbcr2rgb`` (ITU-R BT.601, studio range) in numpy.

SR papers evaluate on the luminance channel produced by MATLAB's
``rgb2ycbcr``. MATLAB defines it for RGB in [0, 1] as

    [Y; Cb; Cr] = [16; 128; 128] + T @ [R; G; B]
    T = [[ 65.481, 128.553,  24.966],
         [-37.797, -74.203, 112.000],
         [112.000, -93.786, -18.214]]

All functions here work in [0, 255] units on both sides, so for R, G, B in
[0, 255] the formula becomes ``offset + T @ rgb / 255`` (e.g.
``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``), giving Y in [16, 235]
and Cb, Cr in [16, 240].

Quantisation is the caller's choice: these functions return float64 and never
round or clip. MATLAB, given a uint8 image, rounds the result to uint8 (round
half away from zero, then saturate); to reproduce that use
``np.clip(np.floor(x + 0.5), 0, 255)`` on the result (values are non-negative,
so this is MATLAB's rounding), or see ``ppcls_repro.papers.sr.protocol``.
"""

from __future__ import annotations

import numpy as np

# MATLAB's transform for RGB in [0, 1] -> YCbCr in [0, 255].
YCBCR_MATRIX: np.ndarray = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ],
    dtype=np.float64,
)
YCBCR_OFFSET: np.ndarray = np.array([16.0, 128.0, 128.0], dtype=np.float64)


def check_three_channels(image: np.ndarray, name: str) -> np.ndarray:
    """Return ``image`` as float64 after checking it is HWC with 3 channels."""
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{name} must be HWC with 3 channels, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or array.dtype == np.uint8):
        raise ValueError(f"{name} dtype must be float or uint8, got {array.dtype}")
    return array.astype(np.float64)


def rgb2ycbcr(rgb: np.ndarray) -> np.ndarray:
    """RGB in [0, 255] (HWC, uint8 or float) -> float64 YCbCr in [0, 255] units."""
    pixels = check_three_channels(rgb, "rgb")
    # Divide by 255 because MATLAB's matrix expects RGB in [0, 1].
    return pixels @ (YCBCR_MATRIX.T / 255.0) + YCBCR_OFFSET


def rgb2y(rgb: np.ndarray) -> np.ndarray:
    """Luminance Y (float64 HW, [16, 235] for RGB in [0, 255]) of an RGB image."""
    pixels = check_three_channels(rgb, "rgb")
    return pixels @ (YCBCR_MATRIX[0] / 255.0) + YCBCR_OFFSET[0]


def ycbcr2rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Exact inverse of ``rgb2ycbcr``: YCbCr in [0, 255] units -> float64 RGB, unclipped."""
    pixels = check_three_channels(ycbcr, "ycbcr")
    # rgb / 255 = inv(T) @ (ycbcr - offset), hence the factor 255 below.
    inverse = np.linalg.inv(YCBCR_MATRIX) * 255.0
    return (pixels - YCBCR_OFFSET) @ inverse.T
