"""Classification evaluation: top-k accuracy and cross entropy over an eval loader.

``ClassificationEvaluator`` scores every sample exactly once, also when several processes each
evaluate a shard (``engine/distributed.py``): per-sample results are gathered in dataset order
and the samples the distributed sampler repeats to even out the shards are dropped.

A 5-D input batch ``[N, crops, C, H, W]`` (ImageNet's ``eval_crop: ten_crop``) is multi-crop
testing: the softmax probabilities of the crops are averaged, as in the 10-crop testing of
ResNet's Table 3; the loss is then the negative log of the averaged probability.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import paddle
import paddle.nn.functional as F

from ppcls_repro.engine.distributed import broadcast_from_main, gather_in_order
from ppcls_repro.engine.evaluate import EvalResult
from ppcls_repro.metrics.classification import cross_entropy, label_rank
from ppcls_repro.registry import EVALUATORS
from ppcls_repro.utils.modes import eval_mode


@EVALUATORS.register
class ClassificationEvaluator:
    """Top-k accuracy (fractions in [0, 1], keys ``top1``, ``top5``, ...) and mean ``loss``.

    ``per_item`` holds one row per class (its samples' accuracy and loss); ``class_names`` labels
    those rows (default: the class index).

    Args:
        topk: the k of each reported top-k accuracy (``top1``, ``top5``, ...), each >= 1. Default: (1, 5).
        class_names: names of the ``per_item`` rows, indexed by label; None (or a label past the list's end)
            shows the class index. Default: None.
    """

    gathers_across_ranks = True  # the trainer may give it a sharded loader

    @property
    def metric_names(self) -> tuple[str, ...]:
        return (*(f"top{k}" for k in self.topk), "loss")

    def __init__(self, topk: tuple[int, ...] = (1, 5), class_names: list[str] | None = None) -> None:
        if not topk or any(k < 1 for k in topk):
            raise ValueError(f"Metric.topk: expected positive integers, got {topk}")
        self.topk = tuple(topk)
        self.class_names = class_names

    @paddle.no_grad()
    def __call__(self, model: paddle.nn.Layer, loader: Any) -> EvalResult:
        broadcast_from_main(model)  # every rank scores the weights rank 0 saves (BN statistics too)
        rows = []
        with eval_mode(model):
            for batch in loader:
                labels = batch["target"].numpy().reshape(-1)
                scores, multi_crop = self._scores(model, batch["input"])
                if multi_crop:  # scores are averaged probabilities: the loss is -log p(label)
                    loss = -np.log(np.maximum(scores[np.arange(len(labels)), labels], 1e-45))
                else:
                    loss = cross_entropy(scores, labels)
                rows.append(np.stack([labels, label_rank(scores, labels), loss], axis=1))
        local = np.concatenate(rows) if rows else np.zeros([0, 3])
        table = gather_in_order(local, len(loader.dataset))
        return self._summarise(table[:, 0].astype(np.int64), table[:, 1], table[:, 2])

    def _scores(self, model: paddle.nn.Layer, x: paddle.Tensor) -> tuple[np.ndarray, bool]:
        """Logits [N, C], or for a [N, crops, C, H, W] input the crops' mean probabilities."""
        if x.ndim == 4:
            return model(x).numpy().astype(np.float64), False
        n, crops = x.shape[:2]
        probs = F.softmax(model(x.reshape([n * crops, *x.shape[2:]])), axis=-1)
        return probs.reshape([n, crops, -1]).mean(axis=1).numpy().astype(np.float64), True

    def _summarise(self, labels: np.ndarray, ranks: np.ndarray, losses: np.ndarray) -> EvalResult:
        if labels.size == 0:
            raise ValueError("ClassificationEvaluator: the eval loader gave no samples")
        metrics = {f"top{k}": float(np.mean(ranks < k)) for k in self.topk}
        metrics["loss"] = float(np.mean(losses))
        per_item = []
        for label in np.unique(labels):
            mask = labels == label
            name = self.class_names[label] if self.class_names and label < len(self.class_names) else str(label)
            row = {"name": name, "samples": int(mask.sum())}
            row.update({f"top{k}": float(np.mean(ranks[mask] < k)) for k in self.topk})
            row["loss"] = float(np.mean(losses[mask]))
            per_item.append(row)
        return EvalResult(metrics=metrics, per_item=per_item)
