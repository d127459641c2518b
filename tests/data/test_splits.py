"""The split helpers every dataset uses: file-order hold-outs and the seeded per-class pick."""
import numpy as np
import pytest

from ppcls_repro.data.splits import class_quota, holdout_slice, stratified_pick
from ppcls_repro.utils.errors import DataError


def test_holdout_slice_val_is_the_last_rows():
    assert holdout_slice("train", 50, 5, "x") == slice(0, 45)
    assert holdout_slice("val", 50, 5, "x") == slice(45, 50)


@pytest.mark.parametrize("split, val_size, message", [("val", 0, "needs val_size > 0"), ("train", 50, "val_size"),
                                                      ("dev", 5, "split must be")])
def test_holdout_slice_refuses_bad_requests_naming_the_place(split, val_size, message):
    with pytest.raises(DataError, match=message) as err:
        holdout_slice(split, 50, val_size, "DataLoader.Train.dataset")
    assert "DataLoader.Train.dataset" in str(err.value)


@pytest.mark.parametrize("size, fraction, expected", [
    (10, 0.25, 3),    # 2.5 rounds half up
    (10, 0.24, 2),
    (1, 0.5, 1),      # one member: nothing to keep on the other side
    (2, 0.01, 1),     # at least one picked ...
    (2, 0.99, 1),     # ... and at least one left
    (5, 0.0, 0),      # fraction 0 picks nothing, even from a large class
    (0, 0.3, 0),
])
def test_class_quota(size, fraction, expected):
    assert class_quota(size, fraction) == expected


def test_stratified_pick_takes_the_quota_of_every_class_and_is_seeded():
    labels = np.repeat([3, 1, 7], [40, 10, 1])
    np.random.default_rng(0).shuffle(labels)
    picked = stratified_pick(labels, lambda n: class_quota(n, 0.25), seed=5)
    assert np.all(np.diff(picked) > 0)
    counts = {c: int((labels[picked] == c).sum()) for c in (1, 3, 7)}
    assert counts == {1: 3, 3: 10, 7: 0}
    assert np.array_equal(picked, stratified_pick(labels, lambda n: class_quota(n, 0.25), seed=5))
    assert not np.array_equal(picked, stratified_pick(labels, lambda n: class_quota(n, 0.25), seed=6))


def test_stratified_pick_matches_a_written_out_reference():
    """The documented order: classes ascending, each the first quota of a permutation of its members."""
    labels = np.random.default_rng(1).integers(0, 4, size=200)
    rng = np.random.default_rng(9)
    expected = []
    for c in sorted(set(labels.tolist())):
        members = [i for i, label in enumerate(labels) if label == c]
        expected += list(rng.permutation(np.array(members))[:len(members) // 3])
    assert stratified_pick(labels, lambda n: n // 3, seed=9).tolist() == sorted(expected)


def test_stratified_pick_of_nothing_is_empty():
    picked = stratified_pick(np.zeros(0, np.int64), lambda n: n, seed=0)
    assert picked.size == 0 and picked.dtype == np.int64
