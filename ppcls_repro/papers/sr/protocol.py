"""SRCNN evaluation protocol: how HR/LR pairs are made and scored, MATLAB-exact.

This follows SRCNN's released MATLAB code (``demo_SR.m`` for testing,
``generate_train.m`` for training):

1. Y = ``rgb2ycbcr`` of the uint8 RGB image, taken on the uint8 image, so
   MATLAB rounds Y to uint8 (``luminance_uint8``).
2. HR = ``modcrop(Y, scale)`` (top-left anchored crop to multiples of scale).
3. LR input = ``imresize(imresize(HR, 1/scale), scale)``, bicubic, computed in
   floating point with *no* rounding of the small LR image; this float image is
   what the network receives.
4. Scoring: the prediction (the bicubic image for the baseline) is converted
   to uint8 like MATLAB's ``uint8(im * 255)`` (round half away from zero,
   saturate to [0, 255]; ``quantize_uint8``), ``scale`` pixels are shaved from
   every border, and PSNR/SSIM are computed on Y with data range 255.

Where to quantise was decided by measurement. Set5 bicubic baseline (mean of
the 5 images, Y channel, shave = scale), measured with this package for each
rounding variant ('Y' = round Y to uint8, 'LR' = round the small LR image,
'out' = round the upscaled image before scoring); PSNR dB / SSIM:

    variant          x2                x3                x4
    none             33.6904 / 0.9308  30.4077 / 0.8692  28.4324 / 0.8114
    out              33.6736 / 0.9302  30.4007 / 0.8687  28.4276 / 0.8108
    LR               33.6800 / 0.9305  30.4021 / 0.8689  28.4291 / 0.8112
    LR+out           33.6650 / 0.9300  30.3961 / 0.8685  28.4243 / 0.8107
    Y                33.6767 / 0.9304  30.3988 / 0.8687  28.4257 / 0.8109
    Y+out (chosen)   33.6614 / 0.9299  30.3922 / 0.8682  28.4207 / 0.8104
    Y+LR             33.6678 / 0.9301  30.3942 / 0.8685  28.4230 / 0.8107
    Y+LR+out         33.6522 / 0.9296  30.3878 / 0.8681  28.4183 / 0.8103
    paper / quoted   33.66   / 0.9299  30.39   / 0.8682  28.42   / 0.8104

All variants lie within 0.04 dB of each other, but only 'Y+out' (exactly what
``demo_SR.m`` does) matches every printed digit of both the paper's PSNR and
the commonly quoted SSIM at all three scales. Doing the arithmetic in float32,
as MATLAB's ``single`` does, leaves the 4th PSNR decimal unchanged.
"""

from __future__ import annotations


import numpy as np

from ppcls_repro.data.color import rgb2y
from ppcls_repro.data.imresize import imresize
from ppcls_repro.metrics.image import psnr, ssim
from ppcls_repro.utils.images import quantize_uint8


def check_scale(scale: int) -> int:
    """Return ``scale`` if it is an integer >= 1, else raise ValueError."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}")
    return int(scale)


def check_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as an array after checking it is HW or HWC."""
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"image must be HW or HWC, got shape {array.shape}")
    return array


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop H and W down to multiples of ``scale``, keeping the top-left corner."""
    array = check_image(image)
    factor = check_scale(scale)
    height = array.shape[0] - array.shape[0] % factor
    width = array.shape[1] - array.shape[1] % factor
    if height == 0 or width == 0:
        raise ValueError(f"image of shape {array.shape} is smaller than scale {factor}")
    return array[:height, :width]


def shave(image: np.ndarray, border: int) -> np.ndarray:
    """Remove ``border`` pixels from each side of H and W (SR papers shave ``scale``)."""
    array = check_image(image)
    if isinstance(border, bool) or not isinstance(border, (int, np.integer)) or border < 0:
        raise ValueError(f"border must be a non-negative integer, got {border!r}")
    if 2 * border >= min(array.shape[0], array.shape[1]):
        raise ValueError(f"border {border} leaves nothing of shape {array.shape}")
    if border == 0:
        return array
    return array[border:-border, border:-border]


def luminance_uint8(image: np.ndarray) -> np.ndarray:
    """Y channel as MATLAB gives it for a uint8 image: rgb2ycbcr then round.

    A uint8 HW (grayscale) image is taken as Y unchanged, as ``demo_SR.m`` does.
    """
    array = check_image(image)
    if array.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {array.dtype}")
    if array.ndim == 2:
        return array.astype(np.float64)
    return quantize_uint8(rgb2y(array))


def bicubic_downscale(image: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB bicubic shrink by an integer factor; H and W must be multiples of it."""
    array = check_image(image)
    factor = check_scale(scale)
    if array.shape[0] % factor or array.shape[1] % factor:
        raise ValueError(
            f"image shape {array.shape} is not a multiple of scale {factor}; modcrop first"
        )
    return imresize(array, 1.0 / factor)


def bicubic_upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB bicubic enlargement by an integer factor (float64, unrounded)."""
    array = check_image(image)
    factor = check_scale(scale)
    return imresize(array, float(factor))


def make_sr_pair(hr_rgb_uint8: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(hr_y, lr_y_up)``, float64 HW images in [0, 255] units.

    ``hr_y`` is the modcropped, uint8-rounded Y; ``lr_y_up`` the unrounded
    bicubic down-then-up image of the same size (the network input). Quantise
    any prediction with ``quantize_uint8`` before scoring, as the paper did.
    """
    factor = check_scale(scale)
    hr_y = modcrop(luminance_uint8(hr_rgb_uint8), factor)
    lr_y_up = bicubic_upscale(bicubic_downscale(hr_y, factor), factor)
    return hr_y, lr_y_up


def score_sr(prediction: np.ndarray, hr_y: np.ndarray, scale: int) -> tuple[float, float]:
    """(PSNR dB, SSIM) of a Y prediction, quantised and shaved by ``scale`` as in the paper."""
    factor = check_scale(scale)
    pred = quantize_uint8(prediction)
    return (
        psnr(pred, hr_y, data_range=255.0, crop_border=factor),
        ssim(pred, hr_y, data_range=255.0, crop_border=factor),
    )


def bicubic_baseline(hr_rgb_uint8: np.ndarray, scale: int) -> tuple[float, float]:
    """(PSNR dB, SSIM) of plain bicubic upscaling for one HR image, paper protocol."""
    hr_y, lr_y_up = make_sr_pair(hr_rgb_uint8, scale)
    return score_sr(lr_y_up, hr_y, scale)
