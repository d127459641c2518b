"""Evaluation metrics (numpy)."""

from ppcls_repro.metrics.image import psnr, ssim

__all__ = ["psnr", "ssim"]
