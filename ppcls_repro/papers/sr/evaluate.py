"""The SR evaluator: PSNR/SSIM of the model and of bicubic on Y, the paper's protocol (``protocol.py``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ppcls_repro.data.color import ycbcr2rgb
from ppcls_repro.engine.evaluate import PerImageEvaluator
from ppcls_repro.papers.sr.protocol import score_sr
from ppcls_repro.registry import EVALUATORS, Positive
from ppcls_repro.utils.images import labelled_panel, quantize_uint8


@EVALUATORS.register
class SuperResolutionEvaluator(PerImageEvaluator):
    """PSNR/SSIM on Y in [0, 255] with ``scale`` pixels shaved, for the model and for bicubic.

    The prediction is clipped and rounded like MATLAB's ``uint8(im * 255)`` before scoring
    (``sr_protocol.score_sr``), which is how the paper's numbers were computed. Panels are
    bicubic | model | ground truth in RGB, captioned with their PSNRs (the model's Y, bicubic CbCr). Saved
    outputs (``tools/eval.py --save_images``): ``sr``, the upscaled RGB image (the model's Y, bicubic CbCr), as
    inference makes it; a gray image gives equal R, G and B.

    Args:
        scale: upscaling factor, also the pixels shaved from each border before scoring. Required.
        num_panels: number of images (the first ones) whose panel is kept for VisualDL. Default: 3.
    """

    keys = ("psnr", "ssim", "bicubic_psnr", "bicubic_ssim")

    def __init__(self, scale: Positive, num_panels: int = 3) -> None:
        super().__init__(num_panels)
        self.scale = scale

    def score(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> tuple[dict[str, Any], np.ndarray]:
        hr = batch["target"][i, 0].numpy() * 255.0
        # SRCNN's input is the bicubic image itself; a net fed the small LR image (FSRCNN) gets the
        # bicubic baseline from the dataset's "bicubic" key.
        bic = batch["bicubic" if "bicubic" in batch else "input"][i, 0].numpy() * 255.0
        out = pred[0] * 255.0
        psnr, ssim = score_sr(out, hr, self.scale)
        bic_psnr, bic_ssim = score_sr(bic, hr, self.scale)
        cbcr = batch["cbcr"][i].numpy().transpose(1, 2, 0)
        panel = labelled_panel({f"bicubic {bic_psnr:.2f} dB": _to_rgb(bic, cbcr), f"model {psnr:.2f} dB": _to_rgb(out, cbcr),
                                "ground truth": _to_rgb(hr, cbcr)})
        name = batch["name"][i]
        return {"name": name, "psnr": psnr, "ssim": ssim,
                "bicubic_psnr": bic_psnr, "bicubic_ssim": bic_ssim}, panel


    def outputs(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> dict[str, np.ndarray]:
        return {"sr": _to_rgb(pred[0] * 255.0, batch["cbcr"][i].numpy().transpose(1, 2, 0))}


def _to_rgb(y: np.ndarray, cbcr: np.ndarray) -> np.ndarray:
    ycbcr = np.concatenate([quantize_uint8(y)[:, :, None], cbcr], axis=2)
    return quantize_uint8(ycbcr2rgb(ycbcr)).astype(np.uint8)
