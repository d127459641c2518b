"""OA, AA, kappa, per-class accuracy and the confusion matrix against hand-computed values and
independent (brute-force, sklearn-free) computations."""
import itertools
import math

import numpy as np
import pytest

from ppcls_repro.papers.hybridsn.metrics import (average_accuracy, classification_scores, confusion_matrix, kappa,
                                     overall_accuracy, per_class_accuracy)

# 10 samples, 3 classes; worked out by hand below.
LABELS = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
PREDS = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0]


def test_hand_computed_example():
    cm = confusion_matrix(LABELS, PREDS, 3)
    # rows = true class, columns = prediction
    np.testing.assert_array_equal(cm, [[3, 1, 0],
                                       [0, 2, 1],
                                       [1, 0, 2]])
    assert overall_accuracy(cm) == pytest.approx(7 / 10)
    np.testing.assert_allclose(per_class_accuracy(cm), [3 / 4, 2 / 3, 2 / 3])
    assert average_accuracy(cm) == pytest.approx((3 / 4 + 2 / 3 + 2 / 3) / 3)  # 0.69444...
    # p_e = (4*4 + 3*3 + 3*3) / 100 = 0.34; kappa = (0.7 - 0.34) / 0.66
    assert kappa(cm) == pytest.approx(0.36 / 0.66)  # 0.545454...


def test_perfect_and_chance_level_predictions():
    labels = np.array([0, 1, 2, 2, 1, 0])
    cm = confusion_matrix(labels, labels, 3)
    assert overall_accuracy(cm) == average_accuracy(cm) == kappa(cm) == 1.0
    # everything predicted as class 0 while classes are balanced: kappa is exactly 0
    constant = confusion_matrix(labels, np.zeros_like(labels), 3)
    assert overall_accuracy(constant) == pytest.approx(1 / 3)
    assert kappa(constant) == pytest.approx(0.0)
    assert math.isnan(kappa(confusion_matrix([1, 1], [1, 1], 3)))  # one class present and predicted


def test_class_without_samples_is_left_out_of_the_average():
    cm = confusion_matrix([0, 0, 2, 2], [0, 1, 2, 2], 3)
    acc = per_class_accuracy(cm)
    assert acc[0] == 0.5 and math.isnan(acc[1]) and acc[2] == 1.0
    assert average_accuracy(cm) == pytest.approx(0.75)


def brute_force(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> tuple[np.ndarray, float, float, float]:
    """Independent computations: a counting loop; AA as the mean of per-class hit rates;
    kappa as 1 - observed disagreement / disagreement expected between random pairs (i, j)."""
    cm = np.zeros((num_classes, num_classes), int)
    for t, p in zip(labels, preds):
        cm[t, p] += 1
    oa = sum(t == p for t, p in zip(labels, preds)) / len(labels)
    rates = [np.mean([p == c for t, p in zip(labels, preds) if t == c]) for c in range(num_classes) if c in labels]
    observed = np.mean(labels != preds)
    expected = np.mean([labels[i] != preds[j] for i, j in itertools.product(range(len(labels)), repeat=2)])
    return cm, oa, float(np.mean(rates)), 1 - observed / expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_brute_force_on_random_predictions(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 150)
    preds = np.where(rng.random(150) < 0.6, labels, rng.integers(0, 5, 150))
    cm, oa, aa, k = brute_force(labels, preds, 5)
    scores = classification_scores(labels, preds, 5)
    np.testing.assert_array_equal(scores["confusion"], cm)
    assert scores["oa"] == pytest.approx(oa)
    assert scores["aa"] == pytest.approx(aa)
    assert scores["kappa"] == pytest.approx(k)
    np.testing.assert_array_equal(scores["support"], np.bincount(labels, minlength=5))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix([0, 1], [0], 2)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        confusion_matrix([0, 2], [0, 1], 2)
    with pytest.raises(ValueError, match="empty"):
        overall_accuracy(np.zeros((3, 3)))
