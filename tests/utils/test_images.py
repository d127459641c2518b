"""Captioned panels for VisualDL: the images unchanged below, each caption over its own part."""
import numpy as np
import pytest

from ppcls_repro.utils.images import LABEL_STRIP, labelled_panel


def test_parts_are_kept_side_by_side_under_their_captions():
    rng = np.random.default_rng(0)
    gray, rgb = rng.integers(0, 256, (20, 30), dtype=np.uint8), rng.integers(0, 256, (20, 40, 3), dtype=np.uint8)
    panel = labelled_panel({"bicubic 30.39 dB": gray, "ground truth": rgb})
    assert panel.shape == (20 + LABEL_STRIP, 70, 3) and panel.dtype == np.uint8
    np.testing.assert_array_equal(panel[LABEL_STRIP:, :30], np.repeat(gray[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(panel[LABEL_STRIP:, 30:], rgb)
    strip = panel[:LABEL_STRIP]
    assert (strip[:, :30] > 200).any() and (strip[:, 30:] > 200).any()  # white text over each part
    assert (strip[:, 30:33] == 40).all()  # the long first caption is clipped to its part


def test_an_empty_caption_draws_nothing():
    panel = labelled_panel({"": np.zeros((8, 8), dtype=np.uint8)})
    assert (panel[:LABEL_STRIP] == 40).all()


def test_parts_of_different_heights_are_refused():
    with pytest.raises(ValueError, match="differ in height"):
        labelled_panel({"a": np.zeros((8, 8), np.uint8), "b": np.zeros((9, 8), np.uint8)})
