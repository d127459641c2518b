"""ImageNet reader (PaddleClas list file or class folders) and its transforms, on real photo crops."""
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ppcls_repro.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from ppcls_repro.papers.resnet.imagenet import ImageNet, write_list_file
from ppcls_repro.utils.errors import DataError

SMALL = dict(crop_size=32, scale_range=(36, 48), resize_short=36, num_classes=4)


def make_list(tiny_images: Path, tmp_path: Path) -> Path:
    names = sorted(p.name for p in tiny_images.iterdir())
    write_list_file(tmp_path / "list.txt", [(name, i) for i, name in enumerate(names)])
    return tmp_path / "list.txt"


def test_eval_centre_crop_by_hand(tiny_images, tmp_path):
    data = ImageNet(str(tiny_images), str(make_list(tiny_images, tmp_path)), mode="eval", **SMALL)
    assert len(data) == 4
    sample = data[1]
    path, label = data.items[1]
    image = Image.open(path).convert("RGB")
    w, h = image.size
    resized = np.asarray(image.resize((36, round(h * 36 / w)), Image.BILINEAR), np.float32) / 255.0
    top, left = (resized.shape[0] - 32) // 2, (resized.shape[1] - 32) // 2
    expected = (resized[top:top + 32, left:left + 32] - IMAGENET_MEAN) / IMAGENET_STD
    np.testing.assert_allclose(sample["input"], expected.transpose(2, 0, 1), atol=1e-5)
    assert int(sample["target"]) == label == 1


def test_ten_crop_gives_corners_centre_and_mirrors(tiny_images, tmp_path):
    data = ImageNet(str(tiny_images), str(make_list(tiny_images, tmp_path)), mode="eval",
                    eval_crop="ten_crop", **SMALL)
    crops = data[0]["input"]
    assert crops.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(crops[5:], crops[:5, :, :, ::-1])
    centre = ImageNet(str(tiny_images), str(make_list(tiny_images, tmp_path)), mode="eval", **SMALL)[0]["input"]
    np.testing.assert_array_equal(crops[4], centre)


@pytest.mark.parametrize("train_crop", ["scale_aug", "random_resized_crop"])
def test_training_views_are_seeded_by_epoch_and_index(tiny_images, tmp_path, train_crop):
    data = ImageNet(str(tiny_images), str(make_list(tiny_images, tmp_path)), train_crop=train_crop,
                    seed=5, **SMALL)
    data.set_epoch(1)
    first = data[2]["input"]
    assert first.shape == (3, 32, 32)
    np.testing.assert_array_equal(first, data[2]["input"])
    data.set_epoch(2)
    assert not np.array_equal(first, data[2]["input"])


def test_class_folders_give_sorted_labels(tiny_images, tmp_path):
    for cls, name in (("zebra", "astronaut.png"), ("ant", "coffee.png"), ("ant", "rocket.png")):
        (tmp_path / cls).mkdir(exist_ok=True)
        shutil.copy(tiny_images / name, tmp_path / cls / name)
    data = ImageNet(str(tmp_path), None, mode="eval", **SMALL)
    assert [(p.parent.name, label) for p, label in data.items] == [("ant", 0), ("ant", 0), ("zebra", 1)]


def test_bad_lists_and_images_are_clear_errors(tiny_images, tmp_path):
    with pytest.raises(DataError, match="ImageNet folder not found.*image-net.org"):
        ImageNet(str(tmp_path / "nowhere"), None)
    with pytest.raises(DataError, match="list file not found"):
        ImageNet(str(tiny_images), str(tmp_path / "missing.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("astronaut.png 0\ncoffee.png zero\n")
    with pytest.raises(DataError, match="bad.txt:2"):
        ImageNet(str(tiny_images), str(bad))
    bad.write_text("astronaut.png 7\n")
    with pytest.raises(DataError, match="label 7 outside"):
        ImageNet(str(tiny_images), str(bad), num_classes=4)
    bad.write_text("gone.png 0\n")
    with pytest.raises(DataError, match="image not found: .*gone.png"):
        ImageNet(str(tiny_images), str(bad), **SMALL)[0]
    (tmp_path / "broken.png").write_bytes(b"not a png")
    bad.write_text("broken.png 0\n")
    with pytest.raises(DataError, match="broken.png: cannot decode"):
        ImageNet(str(tmp_path), str(bad), **SMALL)[0]
