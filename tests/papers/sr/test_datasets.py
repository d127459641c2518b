"""SR evaluation folders: an image too small to score is one error naming it, not a traceback."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ppcls_repro.papers.sr.datasets import SRImageFolder
from ppcls_repro.papers.sr.fsrcnn_data import SRLowResImageFolder
from ppcls_repro.utils.errors import DataError


def folder_with(tmp_path: Path, side: int) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(tmp_path / "fine.png")
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(tmp_path / "tiny.png")
    return tmp_path


@pytest.mark.parametrize("folder_class", [SRImageFolder, SRLowResImageFolder])
@pytest.mark.parametrize("side", [1, 8])  # 1x1 was a ValueError in modcrop; 8x8 at x3 left nothing after the shave
def test_an_image_too_small_to_score_names_the_file(tmp_path, folder_class, side):
    root = folder_with(tmp_path, side)
    with pytest.raises(DataError, match=rf"tiny.png: image {side}x{side} is too small to score at x3 \(at least 9x9"):
        folder_class(str(root), scale=3, manifest=None)


def test_the_smallest_scorable_image_loads(tmp_path):
    item = SRImageFolder(str(folder_with(tmp_path, 9)), scale=3, manifest=None).items[1]
    assert item["name"] == "tiny" and item["target"].shape == (1, 9, 9)
