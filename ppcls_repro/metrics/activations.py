"""Dead ReLU units: channels that never fire on a set of inputs.

A unit whose pre-activation is negative at every position of every input gets no gradient through
its ReLU and, under plain gradient steps, stays dead; counting them diagnoses a network that has
lost capacity in training (SRCNN under Adam from the paper's tiny init, see configs/srcnn.yaml).
"""
from __future__ import annotations

import numpy as np


def active_fraction(feature_maps: list[np.ndarray]) -> np.ndarray:
    """Per channel, the fraction of positions (over all maps, each C x H x W, sizes may differ) > 0."""
    if not feature_maps:
        raise ValueError("active_fraction: no feature maps")
    active = sum(np.count_nonzero(m > 0, axis=(1, 2)) for m in feature_maps)
    positions = sum(m.shape[1] * m.shape[2] for m in feature_maps)
    return active / positions


def dead_units(feature_maps: list[np.ndarray]) -> int:
    """Channels that are zero (never active) at every position of every map."""
    return int(np.count_nonzero(active_fraction(feature_maps) == 0))
