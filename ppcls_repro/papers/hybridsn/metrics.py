"""Hyperspectral classification scores (numpy): confusion matrix, OA, AA, Cohen's kappa, per-class accuracy.

The conventions of HybridSN (Roy et al., GRSL 2019) and of the remote-sensing literature:
- the confusion matrix ``cm[i, j]`` counts samples of true class ``i`` predicted as class ``j``;
- OA (overall accuracy) = trace / total;
- per-class accuracy (producer's accuracy) = ``cm[i, i] / sum(cm[i, :])``; a class without test
  samples has no accuracy (NaN) and is left out of the average;
- AA (average accuracy) = the mean of the per-class accuracies of the classes that have samples;
- kappa = (p_o - p_e) / (1 - p_e), p_o = OA, p_e = sum_i (row_i * col_i) / total^2.
Labels are 0-based class indices. Functions return fractions; the evaluator reports percent.
"""
from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """``[num_classes, num_classes]`` int64 counts: rows are true classes, columns predictions."""
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    preds = np.asarray(preds).reshape(-1).astype(np.int64)
    if labels.shape != preds.shape:
        raise ValueError(f"labels and predictions differ in length: {labels.size} vs {preds.size}")
    for name, values in (("labels", labels), ("predictions", preds)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes}), got {values.min()}..{values.max()}")
    flat = np.bincount(labels * num_classes + preds, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def _check(cm: np.ndarray) -> np.ndarray:
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square, got shape {cm.shape}")
    if cm.sum() == 0:
        raise ValueError("the confusion matrix is empty: no samples were scored")
    return cm


def overall_accuracy(cm: np.ndarray) -> float:
    cm = _check(cm)
    return float(np.trace(cm) / cm.sum())


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Producer's accuracy of each class; NaN for a class with no samples."""
    cm = _check(cm)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def average_accuracy(cm: np.ndarray) -> float:
    """Mean per-class accuracy over the classes that have samples."""
    return float(np.nanmean(per_class_accuracy(cm)))


def kappa(cm: np.ndarray) -> float:
    """Cohen's kappa; NaN (undefined) when chance agreement is total, e.g. one class present and predicted."""
    cm = _check(cm)
    total = cm.sum()
    observed = np.trace(cm) / total
    expected = float(cm.sum(axis=1) @ cm.sum(axis=0)) / total**2
    if expected >= 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def classification_scores(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> dict[str, object]:
    """All scores at once: ``oa``, ``aa``, ``kappa`` (fractions), ``per_class`` [C], ``support`` [C], ``confusion``."""
    cm = confusion_matrix(labels, preds, num_classes)
    return {"oa": overall_accuracy(cm), "aa": average_accuracy(cm), "kappa": kappa(cm),
            "per_class": per_class_accuracy(cm), "support": cm.sum(axis=1), "confusion": cm}
