"""Denoising evaluation on DnCNN's protocol: PSNR/SSIM of the denoised image against the clean one.

As the authors' MATLAB test code (cszn/DnCNN ``Demo_test_DnCNN.m``), which produced the paper's
tables: the output is converted with ``im2uint8`` (clipped to [0, 1], times 255, rounded) and
scored against the clean uint8 image by ``Cal_PSNRSSIM(..., 0, 0)``: no border shaved. PSNR and
SSIM are ``metrics/image.py`` on [0, 255] (SSIM: Wang et al.'s 11x11 Gaussian window, sigma 1.5).
The noisy input's PSNR/SSIM are given beside them on the raw (unclipped, unquantized) noisy image
the net sees; for sigma 25 its PSNR is about 20 log10(255 / 25) = 20.17 dB.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ppcls_repro.engine.evaluate import PerImageEvaluator
from ppcls_repro.metrics.image import psnr, ssim
from ppcls_repro.registry import EVALUATORS
from ppcls_repro.utils.images import labelled_panel, quantize_uint8


@EVALUATORS.register
class DenoiseEvaluator(PerImageEvaluator):
    """Per image and average ``psnr``, ``ssim`` (denoised) and ``noisy_psnr``, ``noisy_ssim``.

    Panels (VisualDL) are noisy | denoised | clean, captioned with their PSNRs, for the first ``num_panels`` images. Saved
    outputs (``tools/eval.py --save_images``): ``noisy`` and ``denoised``, clipped and rounded to uint8.

    Args:
        num_panels: number of images (the first ones) whose panel is kept for VisualDL. Default: 3.
    """

    keys = ("psnr", "ssim", "noisy_psnr", "noisy_ssim")

    def score(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> tuple[dict[str, Any], np.ndarray]:
        return score_denoised(pred, batch["input"][i].numpy(), batch["target"][i].numpy(), batch["name"][i])


    def outputs(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> dict[str, np.ndarray]:
        noisy = quantize_uint8(_hwc(batch["input"][i].numpy()) * 255.0)
        return {"noisy": noisy.astype(np.uint8), "denoised": quantize_uint8(_hwc(pred) * 255.0).astype(np.uint8)}


def score_denoised(pred: np.ndarray, noisy: np.ndarray, clean: np.ndarray,
                   name: str) -> tuple[dict[str, Any], np.ndarray]:
    """Scores of one CHW image in [0, 1] (C = 1, or 3 scored over all channels) and its HWC panel."""
    clean255 = quantize_uint8(_hwc(clean) * 255.0)  # exact: the clean image is uint8 / 255
    out255 = quantize_uint8(_hwc(pred) * 255.0)  # im2uint8, as the official test code
    noisy255 = _hwc(noisy) * 255.0
    item = {"name": name, "psnr": psnr(out255, clean255), "ssim": ssim(out255, clean255),
            "noisy_psnr": psnr(noisy255, clean255), "noisy_ssim": ssim(noisy255, clean255)}
    panel = labelled_panel({f"noisy {item['noisy_psnr']:.2f} dB": quantize_uint8(noisy255).astype(np.uint8),
                            f"denoised {item['psnr']:.2f} dB": out255.astype(np.uint8), "clean": clean255.astype(np.uint8)})
    return item, panel


def _hwc(chw: np.ndarray) -> np.ndarray:
    hwc = np.asarray(chw, np.float64).transpose(1, 2, 0)
    return hwc[:, :, 0] if hwc.shape[2] == 1 else hwc
