"""Cross-modal retrieval evaluation (DSCMR): mAP@all with cosine similarity, both directions.

The model must offer ``encode_image`` and ``encode_text`` (common-space features of one modality).
Every image of the Eval split queries all its texts (``map_i2t``) and every text all its images
(``map_t2i``); ``map_avg`` is their mean, the number DSCMR reports as "Average".
"""
from __future__ import annotations

from typing import Any

import numpy as np
import paddle

from ppcls_repro.engine.evaluate import EvalResult
from ppcls_repro.papers.dscmr.metrics import average_precisions, cosine_similarity
from ppcls_repro.registry import EVALUATORS
from ppcls_repro.utils.modes import eval_mode


@paddle.no_grad()
def encode_split(model: paddle.nn.Layer, loader: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common-space image features, text features and class indices of a whole loader."""
    images, texts, labels = [], [], []
    with eval_mode(model):
        for batch in loader:
            images.append(model.encode_image(batch["input"]).numpy())
            texts.append(model.encode_text(batch["text"]).numpy())
            labels.append(np.asarray(batch["target"]).reshape(-1))
    return np.concatenate(images), np.concatenate(texts), np.concatenate(labels)


@EVALUATORS.register
class RetrievalEvaluator:
    """mAP of image->text and text->image retrieval; per-class rows go to the table and metrics.json."""

    gathers_across_ranks = False  # every process scores the whole eval set
    metric_names = ("map_i2t", "map_t2i", "map_avg")

    def __call__(self, model: paddle.nn.Layer, loader: Any) -> EvalResult:
        images, texts, labels = encode_split(model, loader)
        ap_i2t = average_precisions(cosine_similarity(images, texts), labels, labels)
        ap_t2i = average_precisions(cosine_similarity(texts, images), labels, labels)
        metrics = {"map_i2t": float(ap_i2t.mean()), "map_t2i": float(ap_t2i.mean())}
        metrics["map_avg"] = (metrics["map_i2t"] + metrics["map_t2i"]) / 2.0
        per_item = []
        for cls in np.unique(labels):
            mine = labels == cls
            i2t, t2i = float(ap_i2t[mine].mean()), float(ap_t2i[mine].mean())
            per_item.append({"name": f"class {int(cls)}", "queries": int(mine.sum()),
                             "map_i2t": i2t, "map_t2i": t2i, "map_avg": (i2t + t2i) / 2.0})
        return EvalResult(metrics=metrics, per_item=per_item)
