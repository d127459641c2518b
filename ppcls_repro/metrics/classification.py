"""Classification metrics on plain arrays (numpy): label ranks, top-k accuracy, cross entropy.

Scores are per-class logits or probabilities, shape [N, C]; labels are class indices, shape [N].
Ties count against the model: the rank of the true class is the number of *other* classes
scoring at least as high, so a network that outputs the same score for every class (e.g. a dead
one) gets top-1 accuracy 0, never 1. A non-finite score for the true class is a miss.
"""
from __future__ import annotations

import numpy as np


def _check(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if scores.ndim != 2 or scores.shape[0] != labels.shape[0]:
        raise ValueError(f"scores must be [N, C] and labels [N]; got {scores.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}), got {labels.min()}..{labels.max()}")
    return scores, labels


def label_rank(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0-based rank of the true class per sample (ties and NaN count against it); [N] int64."""
    scores, labels = _check(scores, labels)
    rows = np.arange(labels.shape[0])
    true = scores[rows, labels]
    at_least = (scores >= true[:, None]).sum(axis=1) - 1  # minus the true class itself
    return np.where(np.isfinite(true), at_least, scores.shape[1]).astype(np.int64)


def topk_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per sample: whether the true class is among the ``k`` highest scores; [N] bool."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return label_rank(scores, labels) < k


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    """Fraction of samples whose true class is in the top ``k`` (top-1 / top-5 accuracy)."""
    correct = topk_correct(scores, labels, k)
    if correct.size == 0:
        raise ValueError("top-k accuracy of an empty set is undefined")
    return float(correct.mean())


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax, computed in float64 and stable for large logits."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-sample cross entropy of logits against class indices (natural log); [N] float64."""
    logits, labels = _check(logits, labels)
    return -log_softmax(logits)[np.arange(labels.shape[0]), labels]
