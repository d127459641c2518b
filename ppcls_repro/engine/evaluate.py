"""Evaluators: run a model over an eval loader and score it. Registered by name for ``Metric``."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import paddle

from ppcls_repro.data.color import ycbcr2rgb
from ppcls_repro.data.sr_protocol import quantize_uint8, score_sr
from ppcls_repro.registry import EVALUATORS


@dataclasses.dataclass
class EvalResult:
    metrics: dict[str, float]  # averages, e.g. {"psnr": 32.4, "ssim": 0.90, "bicubic_psnr": 30.39}
    per_item: list[dict[str, Any]]  # one entry per image/sample where that is meaningful
    images: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # tag -> HWC uint8


class PerImageEvaluator:
    """Runs a model over the eval loader, scores every image, averages the scores.

    Subclasses say which scores they give (``keys``) and how one image is scored (``score``:
    the prediction CHW, the batch and the index in it -> the item's scores and a VisualDL panel).
    """

    keys: tuple[str, ...] = ()

    def __init__(self, num_panels: int = 3) -> None:
        self.num_panels = num_panels

    @paddle.no_grad()
    def __call__(self, model: paddle.nn.Layer, loader: Any) -> EvalResult:
        was_training = model.training
        model.eval()
        per_item, images = [], {}
        for batch in loader:
            pred = model(batch["input"]).numpy()
            for i in range(pred.shape[0]):
                item, panel = self.score(pred[i], batch, i)
                per_item.append(item)
                if len(images) < self.num_panels:
                    images[item["name"]] = panel
        if was_training:
            model.train()
        metrics = {k: float(np.mean([it[k] for it in per_item])) for k in self.keys}
        return EvalResult(metrics=metrics, per_item=per_item, images=images)

    def score(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> tuple[dict[str, Any], np.ndarray]:
        raise NotImplementedError


@EVALUATORS.register
class SuperResolutionEvaluator(PerImageEvaluator):
    """PSNR/SSIM on Y in [0, 255] with ``scale`` pixels shaved, for the model and for bicubic.

    The prediction is clipped and rounded like MATLAB's ``uint8(im * 255)`` before scoring
    (``sr_protocol.score_sr``), which is how the paper's numbers were computed. Panels are
    bicubic | model | ground truth in RGB, with the model's Y and bicubic CbCr.
    """

    keys = ("psnr", "ssim", "bicubic_psnr", "bicubic_ssim")

    def __init__(self, scale: int, num_panels: int = 3) -> None:
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
        panel = np.concatenate([_to_rgb(bic, cbcr), _to_rgb(out, cbcr), _to_rgb(hr, cbcr)], axis=1)
        name = batch["name"][i]
        return {"name": name, "psnr": psnr, "ssim": ssim,
                "bicubic_psnr": bic_psnr, "bicubic_ssim": bic_ssim}, panel


def _to_rgb(y: np.ndarray, cbcr: np.ndarray) -> np.ndarray:
    ycbcr = np.concatenate([quantize_uint8(y)[:, :, None], cbcr], axis=2)
    return quantize_uint8(ycbcr2rgb(ycbcr)).astype(np.uint8)
