"""Hyperspectral classification evaluation (HybridSN): OA, AA, kappa, per-class accuracy, classification maps.

``HSIClassificationEvaluator`` scores the Eval split (the test pixels) and returns OA, AA and
kappa in percent, as the paper reports them, plus ``acc_XX``, the accuracy of each class (1-based
XX) that has test pixels. With ``class_map: all`` it also predicts every other labelled pixel of
the scene (training and guard pixels) and returns ground truth | prediction side by side in a fixed
palette, shown in VisualDL; ``class_map: test`` colours the test pixels only (no extra work).

``write_hsi_report(cfg)`` (``tools/hsi_map.py``) scores ``Global.pretrained_model`` the same way and
writes ``<output_dir>/map/``: ``classification_map.png`` (every labelled pixel predicted),
``ground_truth.png``, ``split.png`` (train / test / guard pixels), ``report.json`` (the split used,
OA/AA/kappa, per-class accuracy and support, the confusion matrix).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import paddle
from PIL import Image

from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.evaluate import EvalResult
from ppcls_repro.engine.setup import build_dataset, build_evaluator, build_loader, build_network, start_run
from ppcls_repro.papers.hybridsn.metrics import classification_scores
from ppcls_repro.registry import EVALUATORS, ConfigError, Positive
from ppcls_repro.utils.modes import eval_mode

# Index 0 (unlabelled) is black; classes 1..16 get distinct colours; further classes wrap around.
PALETTE = np.array([
    (0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
    (176, 48, 96), (46, 139, 87), (160, 32, 240), (255, 127, 80), (127, 255, 212), (218, 112, 214),
    (160, 82, 45), (127, 255, 0), (216, 191, 216), (128, 128, 128)], np.uint8)
ROLE_COLOURS = np.array([(0, 0, 0), (255, 255, 255), (90, 140, 255), (255, 160, 0)], np.uint8)  # -, train, test, guard


def colourise(label_map: np.ndarray) -> np.ndarray:
    """``(rows, cols)`` labels (0 = none) -> ``(rows, cols, 3)`` uint8 in ``PALETTE``."""
    index = np.where(label_map > 0, (label_map - 1) % (len(PALETTE) - 1) + 1, 0)
    return PALETTE[index]


def side_by_side(images: list[np.ndarray], zoom: int, gap: int = 4) -> np.ndarray:
    """Images enlarged ``zoom`` times (nearest neighbour) next to each other, white gaps between."""
    big = [np.repeat(np.repeat(im, zoom, axis=0), zoom, axis=1) for im in images]
    white = np.full((big[0].shape[0], gap, 3), 255, np.uint8)
    parts = [big[0]]
    for im in big[1:]:
        parts += [white, im]
    return np.concatenate(parts, axis=1)


@EVALUATORS.register
class HSIClassificationEvaluator:
    """OA / AA / kappa (percent) and per-class accuracy on the Eval split; a classification map image.

    Args:
        num_classes: number of classes of the scene; must equal the model's number of scores. Required.
        class_map: "all" also predicts every other labelled pixel of the scene (training and guard) for the
            map image, "test" colours the Eval split's pixels only, "none" makes no image. Default: "all".
        map_zoom: enlargement factor (nearest neighbour, integer) of the map images, also of those
            ``write_hsi_report`` writes. Default: 3.
    """

    gathers_across_ranks = False  # every process scores the whole eval set
    metric_names = ("OA", "AA", "Kappa")  # acc_XX too, for classes with test pixels
    def __init__(self, num_classes: Positive, class_map: Literal["all", "test", "none"] = "all",
                 map_zoom: int = 3) -> None:
        self.num_classes = num_classes
        self.class_map = class_map
        self.map_zoom = map_zoom

    @paddle.no_grad()
    def __call__(self, model: paddle.nn.Layer, loader: Any) -> EvalResult:
        with eval_mode(model):
            labels, preds, pixels = self.predict_loader(model, loader)
            scores = classification_scores(labels, preds, self.num_classes)
            images = {}
            if self.class_map != "none":
                pred_map = self.prediction_map(model, loader, pixels, preds, everything=self.class_map == "all")
                images["classification_map"] = side_by_side(
                    [colourise(loader.dataset.gt), colourise(pred_map)], self.map_zoom)
        return EvalResult(metrics=percent_metrics(scores), per_item=[], images=images)

    def predict_loader(self, model: paddle.nn.Layer, loader: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Labels, predicted classes (0-based) and scene pixels of every sample of ``loader``."""
        labels, preds, pixels = [], [], []
        for batch in loader:
            preds.append(self._classify(model, batch["input"]))
            labels.append(batch["target"].numpy().reshape(-1))
            pixels.append(batch["pixel"].numpy().reshape(-1, 2))
        if not labels:
            raise ValueError("HSIClassificationEvaluator: the eval loader gave no samples")
        return np.concatenate(labels), np.concatenate(preds), np.concatenate(pixels)

    def _classify(self, model: paddle.nn.Layer, x: Any) -> np.ndarray:
        logits = model(x if isinstance(x, paddle.Tensor) else paddle.to_tensor(x)).numpy()
        if logits.shape[1] != self.num_classes:
            raise ConfigError(f"Metric.num_classes is {self.num_classes} but the model gives "
                              f"{logits.shape[1]} scores (Arch.num_classes)")
        return logits.argmax(axis=1)

    def prediction_map(self, model: paddle.nn.Layer, loader: Any, pixels: np.ndarray, preds: np.ndarray,
                       everything: bool) -> np.ndarray:
        """The scene's map of predicted classes (1-based, 0 = not predicted): the evaluated pixels, and
        with ``everything`` every other labelled pixel too, classified here in batches."""
        dataset = loader.dataset
        if not all(hasattr(dataset, name) for name in ("gt", "window_at")):
            raise ConfigError(f"Metric.class_map: the Eval dataset {type(dataset).__name__} has no scene "
                              "(gt, window_at); use class_map: none")
        pred_map = np.zeros(dataset.gt.shape, np.int64)
        pred_map[pixels[:, 0], pixels[:, 1]] = preds + 1
        if everything:
            rest = np.argwhere((dataset.gt > 0) & (pred_map == 0))
            batch = getattr(loader.batch_sampler, "batch_size", 256) or 256
            for start in range(0, len(rest), batch):
                part = rest[start:start + batch]
                windows = np.stack([dataset.window_at(r, c)[None] for r, c in part])
                pred_map[part[:, 0], part[:, 1]] = self._classify(model, windows) + 1
        return pred_map


def percent_metrics(scores: dict[str, Any]) -> dict[str, float]:
    """OA, AA, Kappa and ``acc_XX`` of every class with test pixels, in percent."""
    metrics = {"OA": 100 * scores["oa"], "AA": 100 * scores["aa"], "Kappa": 100 * scores["kappa"]}
    for index, (acc, support) in enumerate(zip(scores["per_class"], scores["support"])):
        if support:
            metrics[f"acc_{index + 1:02d}"] = 100 * float(acc)
    return metrics


def write_hsi_report(cfg: dict[str, Any]) -> dict[str, Any]:
    """Score ``Global.pretrained_model`` on the Eval split and write maps and a report to ``<output_dir>/map``."""
    g = cfg["Global"]
    if not g["pretrained_model"]:
        raise ConfigError("Global.pretrained_model: required (-o Global.pretrained_model=output/<run>/best_model)")
    evaluator = build_evaluator(cfg)
    if not isinstance(evaluator, HSIClassificationEvaluator):
        raise ConfigError("Metric.name: tools/hsi_map.py needs HSIClassificationEvaluator")
    out = Path(g["output_dir"]) / "map"
    log = start_run(g, out / "map.log")
    dataset = build_dataset(cfg, "Eval", strict=g["strict_data"])
    loader = build_loader(dataset, cfg["DataLoader"]["Eval"], seed=g["seed"])
    model = build_network(cfg, load_weights(g["pretrained_model"]), source=str(g["pretrained_model"]))
    with paddle.no_grad():
        labels, preds, pixels = evaluator.predict_loader(model, loader)
        pred_map = evaluator.prediction_map(model, loader, pixels, preds, everything=True)
    scores = classification_scores(labels, preds, evaluator.num_classes)
    zoom = evaluator.map_zoom
    out.mkdir(parents=True, exist_ok=True)
    for name, image in (("classification_map", colourise(pred_map)), ("ground_truth", colourise(dataset.gt)),
                        ("split", ROLE_COLOURS[dataset.roles])):
        Image.fromarray(side_by_side([image], zoom)).save(out / f"{name}.png")
    names = getattr(dataset, "class_names", None) or [str(i + 1) for i in range(evaluator.num_classes)]
    report = {
        "data": dataset.source.note if hasattr(dataset, "source") else type(dataset).__name__,
        "weights": str(g["pretrained_model"]),
        "metrics": percent_metrics(scores),
        "per_class": [{"class": i + 1, "name": names[i], "test_pixels": int(scores["support"][i]),
                       "accuracy": None if not scores["support"][i] else 100 * float(scores["per_class"][i])}
                      for i in range(evaluator.num_classes)],
        "confusion_matrix": {"rows": "true class", "cols": "predicted class", "counts": scores["confusion"].tolist()},
        "paper": cfg["Paper"],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    log.info(f"data: {report['data']}")
    log.info("OA {OA:.2f}, AA {AA:.2f}, Kappa {Kappa:.2f} (percent)".format(**report["metrics"]))
    log.info(f"wrote {out}/classification_map.png, ground_truth.png, split.png, report.json")
    return report
