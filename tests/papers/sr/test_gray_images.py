"""A gray test or training image is scored and used as the SR authors' MATLAB code does: its one
plane is Y as it is (``demo_SR.m``), never RGB through ``rgb2ycbcr`` (which compresses it to
[16, 235] and, on Set14's bridge, moves bicubic x3 from 24.40 to 25.72 dB). Measured on a real gray
image: Set12's are 8-bit gray."""
import shutil

import numpy as np
import pytest
from PIL import Image

from ppcls_repro.data.color import rgb2y
from ppcls_repro.papers.sr.datasets import SRCNNPatches, SRImageFolder
from ppcls_repro.papers.sr.fsrcnn_data import FSRCNNPatches, SRLowResImageFolder
from ppcls_repro.papers.sr.protocol import bicubic_baseline, modcrop


@pytest.fixture
def gray_folder(shared_data, tmp_path):
    source = shared_data / "Set12" / "01.png"
    if not source.is_file():
        pytest.skip(f"no Set12 image at {source}")
    assert Image.open(source).mode == "L"
    folder = tmp_path / "gray"
    folder.mkdir()
    shutil.copy(source, folder / "01.png")
    return folder


def test_eval_target_is_the_gray_plane_itself(gray_folder):
    gray = np.asarray(Image.open(gray_folder / "01.png"))
    item = SRImageFolder(str(gray_folder), scale=3, manifest=None)[0]
    np.testing.assert_array_equal(item["target"][0] * 255.0, modcrop(gray, 3).astype(np.float32))
    assert item["target"].max() * 255 > 235.5 or item["target"].min() * 255 < 15.5  # not studio-range Y
    np.testing.assert_array_equal(item["cbcr"], 128.0)  # neutral chroma: panels stay gray
    low_res = SRLowResImageFolder(str(gray_folder), scale=3, manifest=None)[0]
    np.testing.assert_array_equal(low_res["target"], item["target"])


def test_the_bicubic_baseline_differs_from_the_rgb_route_by_what_rgb2ycbcr_does(gray_folder):
    gray = np.asarray(Image.open(gray_folder / "01.png"))
    as_matlab = bicubic_baseline(gray, 3)[0]
    through_rgb = bicubic_baseline(np.repeat(gray[:, :, None], 3, axis=2), 3)[0]
    studio = np.round(rgb2y(np.repeat(gray[:, :, None], 3, axis=2)))
    assert studio.min() >= 16 and studio.max() <= 235
    assert abs(as_matlab - through_rgb) > 0.5  # the fault the fix removes is large on a real image


def test_training_labels_of_a_gray_image_are_its_plane(gray_folder, tmp_path):
    gray = np.asarray(Image.open(gray_folder / "01.png")).astype(np.float32) / 255.0
    patches = SRCNNPatches(str(gray_folder), scale=3, manifest=None, cache_dir=str(tmp_path / "cache"))
    label = patches[0]["target"][0]  # the 21x21 centre of the first 33x33 sub-image at (0, 0)
    np.testing.assert_allclose(label, gray[6:27, 6:27], atol=1e-6)
    fsrcnn = FSRCNNPatches(str(gray_folder), scale=3, lr_size=7, aug_scales=[1.0], rotations=[0], manifest=None,
                           cache_dir=str(tmp_path / "cache"))
    np.testing.assert_allclose(fsrcnn.hr_images[0], (modcrop(gray * 255.0, 3)).round(), atol=0)
