"""Evaluators: run a model over an eval loader and score it. Registered by name for ``Metric``."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import paddle

from ppcls_repro.utils.images import save_image
from ppcls_repro.utils.modes import eval_mode
from ppcls_repro.utils.progress import track


@dataclasses.dataclass
class EvalResult:
    metrics: dict[str, float]  # averages, e.g. {"psnr": 32.4, "ssim": 0.90, "bicubic_psnr": 30.39}
    per_item: list[dict[str, Any]]  # one entry per image/sample where that is meaningful
    images: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # tag -> HWC uint8


class Evaluator(Protocol):
    """What the loop and ``tools/eval.py`` ask of an evaluator (``Metric.name`` names a registered one)."""

    # True: it combines the shards of several processes, so the loop may give it a sharded loader;
    # False: every process scores the whole eval set.
    gathers_across_ranks: ClassVar[bool]

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Keys every result's ``metrics`` has (``Global.best_metric`` must be one; checked before training)."""

    def __call__(self, model: paddle.nn.Layer, loader: Any) -> EvalResult:
        """Score ``model`` (switched to eval mode for the call) on every batch of ``loader``."""


class PerImageEvaluator:
    """Runs a model over the eval loader, scores every image, averages the scores.

    Subclasses say which scores they give (``keys``) and how one image is scored (``score``:
    the prediction CHW, the batch and the index in it -> the item's scores and a VisualDL panel),
    and which images of an item ``tools/eval.py --save_images`` writes (``outputs``).
    """

    keys: tuple[str, ...] = ()
    gathers_across_ranks = False

    def __init__(self, num_panels: int = 3) -> None:
        self.num_panels = num_panels

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self.keys

    @paddle.no_grad()
    def __call__(self, model: paddle.nn.Layer, loader: Any, save_dir: Path | None = None) -> EvalResult:
        """As ``Evaluator``; with ``save_dir``, every item's ``outputs`` are written there as
        ``<item name>_<kind>.png``."""
        per_item, images = [], {}
        with eval_mode(model):
            for batch in track(loader, "evaluating", unit="batches"):
                pred = model(batch["input"]).numpy()
                for i in range(pred.shape[0]):
                    item, panel = self.score(pred[i], batch, i)
                    per_item.append(item)
                    if save_dir is not None:
                        for kind, pixels in self.outputs(pred[i], batch, i).items():
                            save_image(pixels, Path(save_dir) / f"{item['name']}_{kind}.png")
                    if len(images) < self.num_panels:
                        images[item["name"]] = panel
        metrics = {k: float(np.mean([it[k] for it in per_item])) for k in self.keys}
        return EvalResult(metrics=metrics, per_item=per_item, images=images)

    def score(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> tuple[dict[str, Any], np.ndarray]:
        raise NotImplementedError

    def outputs(self, pred: np.ndarray, batch: dict[str, Any], i: int) -> dict[str, np.ndarray]:
        """The images of one item worth saving: kind (e.g. ``sr``) -> HxW or HxWx3 uint8."""
        raise NotImplementedError
