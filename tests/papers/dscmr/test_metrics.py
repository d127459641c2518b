"""Retrieval mAP@all: hand-computed rankings and scikit-learn's average precision per query."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from ppcls_repro.papers.dscmr.metrics import (average_precision, average_precisions, cosine_similarity,
                                           retrieval_map)


def test_average_precision_by_hand():
    # relevant at ranks 1, 3, 4: (1/1 + 2/3 + 3/4) / 3
    assert average_precision([1, 0, 1, 1, 0]) == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # relevant at ranks 2 and 5: (1/2 + 2/5) / 2
    assert average_precision([0, 1, 0, 0, 1]) == pytest.approx(0.45)
    assert average_precision([1, 1, 0]) == 1.0
    assert average_precision([0, 0, 0]) == 0.0  # no relevant item: 0, as the official code


def test_cosine_similarity_by_hand():
    q = np.array([[1.0, 0.0], [3.0, 4.0]])
    g = np.array([[2.0, 0.0], [0.0, 5.0], [0.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(q, g), [[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])
    with pytest.raises(ValueError, match=r"expected \[Q, D\] and \[G, D\]"):
        cosine_similarity(q, np.ones((2, 3)))


def test_hand_computed_ranking_two_queries():
    # gallery on the unit circle at angles 0, 30, 60, 90, 180 degrees; labels a a b b a
    angles = np.deg2rad([0, 30, 60, 90, 180])
    gallery = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    gallery_labels = np.array([0, 0, 1, 1, 0])
    queries = np.array([[1.0, 0.1], [0.0, 1.0]])  # near 0 degrees (class 0), at 90 degrees (class 1)
    aps = average_precisions(cosine_similarity(queries, gallery), np.array([0, 1]), gallery_labels)
    # query 1 ranks 0, 30, 60, 90, 180 -> relevant (class 0) at ranks 1, 2, 5: (1 + 1 + 3/5) / 3
    # query 2 ranks 90, 60, 30, 0, 180 -> relevant (class 1) at ranks 1, 2: 1
    np.testing.assert_allclose(aps, [(2 + 3 / 5) / 3, 1.0])
    assert retrieval_map(queries, gallery, np.array([0, 1]), gallery_labels) == pytest.approx(((2 + 0.6) / 3 + 1) / 2)


def test_ties_rank_by_gallery_index():
    # identical gallery items: the earlier index ranks first, so the result is deterministic
    sim = np.array([[0.5, 0.5, 0.5]])
    assert average_precisions(sim, np.array([1]), np.array([0, 1, 0]))[0] == pytest.approx(0.5)


def test_matches_scikit_learn_per_query():
    rng = np.random.default_rng(0)
    queries, gallery = rng.standard_normal((30, 8)), rng.standard_normal((40, 8))
    q_labels, g_labels = rng.integers(0, 4, 30), rng.integers(0, 4, 40)
    sim = cosine_similarity(queries, gallery)
    ours = average_precisions(sim, q_labels, g_labels)
    theirs = [average_precision_score(g_labels == q_labels[i], sim[i]) for i in range(30)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert retrieval_map(queries, gallery, q_labels, g_labels) == pytest.approx(np.mean(theirs))


def test_perfect_and_reversed_rankings():
    labels = np.array([0, 0, 1, 1])
    features = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    assert retrieval_map(features, features, labels, labels) == 1.0
    assert retrieval_map(features, -features, labels, labels) < 0.6  # relevant items ranked last


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="does not match 2 query and 3 gallery labels"):
        average_precisions(np.zeros((2, 2)), np.zeros(2), np.zeros(3))
