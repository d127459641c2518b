"""Top-k accuracy, label ranks and cross entropy against hand-computed values; the project's
CrossEntropyLoss (on logits) against the numpy reference."""
import math

import numpy as np
import paddle
import pytest

from ppcls_repro.losses import CrossEntropyLoss
from ppcls_repro.metrics.classification import cross_entropy, label_rank, topk_accuracy, topk_correct

SCORES = np.array([[0.1, 0.7, 0.2, 0.0],    # label 1: top-1
                   [0.5, 0.1, 0.3, 0.1],    # label 2: second
                   [0.2, 0.2, 0.1, 0.5],    # label 0: tied with class 1 for second
                   [0.4, 0.3, 0.2, 0.1]])   # label 3: last
LABELS = np.array([1, 2, 0, 3])


def test_label_ranks_and_topk_by_hand():
    np.testing.assert_array_equal(label_rank(SCORES, LABELS), [0, 1, 2, 3])
    np.testing.assert_array_equal(topk_correct(SCORES, LABELS, 2), [True, True, False, False])
    assert topk_accuracy(SCORES, LABELS, 1) == 0.25
    assert topk_accuracy(SCORES, LABELS, 3) == 0.75
    assert topk_accuracy(SCORES, LABELS, 4) == 1.0


def test_ties_and_nan_count_against_the_model():
    constant = np.zeros([3, 5])
    assert topk_accuracy(constant, np.array([0, 2, 4]), 1) == 0.0
    assert topk_accuracy(constant, np.array([0, 2, 4]), 5) == 1.0
    broken = np.array([[np.nan, 0.0], [1.0, np.nan]])
    np.testing.assert_array_equal(topk_correct(broken, np.array([0, 1]), 1), [False, False])


def test_bad_shapes_and_labels_are_errors():
    with pytest.raises(ValueError, match="labels must lie"):
        topk_accuracy(SCORES, np.array([0, 1, 2, 4]))
    with pytest.raises(ValueError, match=r"\[N, C\]"):
        topk_accuracy(SCORES, np.array([0, 1]))


def test_cross_entropy_by_hand():
    logits = np.array([[0.0, math.log(3.0)], [1000.0, 0.0]])  # p = (1/4, 3/4); a huge logit stays finite
    np.testing.assert_allclose(cross_entropy(logits, np.array([1, 1])), [-math.log(0.75), 1000.0])


def test_training_loss_is_cross_entropy_on_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=6)
    loss = CrossEntropyLoss()(paddle.to_tensor(logits), paddle.to_tensor(labels))
    assert float(loss) == pytest.approx(cross_entropy(logits, labels).mean(), rel=1e-5)
    # label smoothing eps: (1 - eps) * CE + eps * mean over classes of -log p
    eps = 0.1
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    smoothed = ((1 - eps) * -logp[np.arange(6), labels] + eps * -logp.mean(axis=1)).mean()
    loss = CrossEntropyLoss(label_smoothing=eps)(paddle.to_tensor(logits), paddle.to_tensor(labels))
    assert float(loss) == pytest.approx(smoothed, rel=1e-5)
