import math
from pathlib import Path

import numpy as np
import paddle
import pytest
from PIL import Image

from ppcls_repro.papers.sr import fsrcnn_data
from ppcls_repro.papers.sr.evaluate import SuperResolutionEvaluator
from ppcls_repro.papers.sr.fsrcnn_data import FSRCNNPatches, SRLowResImageFolder, augment
from ppcls_repro.papers.sr.protocol import bicubic_downscale, make_sr_pair, score_sr
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import LABEL_STRIP, load_as_matlab


def write_images(folder: Path, sizes: list[tuple[int, int]], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        # smooth real-looking content: blurred noise, so bicubic shrinking has something to do
        image = rng.integers(0, 256, (h // 4 + 2, w // 4 + 2, 3)).astype(np.uint8)
        Image.fromarray(image).resize((w, h), Image.BICUBIC).save(folder / f"im{i}.png")
    return folder


def patches(folder: Path, tmp_path: Path, **kwargs) -> FSRCNNPatches:
    kwargs.setdefault("lr_size", 7)
    kwargs.setdefault("scale", 3)
    return FSRCNNPatches(str(folder), manifest=None, cache_dir=str(tmp_path / "cache"), **kwargs)


def test_paper_augmentation_gives_20_versions_per_image(tmp_path):
    folder = write_images(tmp_path / "hr", [(61, 47), (50, 64)])
    ds = patches(folder, tmp_path)
    assert len(ds.lr_images) == 2 * 20  # 5 scales x 4 rotations: "19 times more images"
    shapes = []
    for h, w in [(61, 47), (50, 64)]:
        for rotation in (0, 90, 180, 270):
            for factor in (1.0, 0.9, 0.8, 0.7, 0.6):
                sh, sw = math.ceil(factor * h), math.ceil(factor * w)  # MATLAB imresize size rule
                sh, sw = (sw, sh) if rotation in (90, 270) else (sh, sw)
                shapes.append((sh // 3, sw // 3))  # modcrop, then the LR size
    assert [lr.shape for lr in ds.lr_images] == shapes
    assert all(hr.shape == (3 * lr.shape[0], 3 * lr.shape[1]) for lr, hr in zip(ds.lr_images, ds.hr_images))


def test_augment_rotates_counterclockwise_then_resizes():
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3)).astype(np.uint8)
    np.testing.assert_array_equal(augment(rgb, 1.0, 90), np.rot90(rgb))
    assert augment(rgb, 1.0, 90)[0, 0].tolist() == rgb[0, -1].tolist()  # top-right goes top-left
    small = augment(rgb, 0.7, 180)
    assert small.shape == (14, 21, 3) and small.dtype == np.uint8
    with pytest.raises(ValueError, match="multiple of 90"):
        augment(rgb, 1.0, 45)


@pytest.mark.parametrize("scale,lr_size", [(2, 10), (3, 7), (4, 6)])  # the paper's LR sub-image sizes
def test_pairs_have_paper_sizes_and_follow_the_protocol(tmp_path, scale, lr_size):
    folder = write_images(tmp_path / "hr", [(70, 58)])
    ds = patches(folder, tmp_path, scale=scale, lr_size=lr_size, stride=3, aug_scales=[1.0], rotations=[0])
    item = ds[0]
    assert item["input"].shape == (1, lr_size, lr_size) and item["input"].dtype == np.float32
    assert item["target"].shape == (1, scale * lr_size, scale * lr_size) and item["target"].dtype == np.float32
    # independent computation: SRCNN protocol HR Y, MATLAB bicubic LR (not upscaled)
    hr, _ = make_sr_pair(load_as_matlab(folder / "im0.png"), scale)
    lr = bicubic_downscale(hr, scale)
    rows, cols = range(0, lr.shape[0] - lr_size + 1, 3), range(0, lr.shape[1] - lr_size + 1, 3)
    assert len(ds) == len(rows) * len(cols)
    k = len(ds) - 1  # the last sub-image: bottom-right corner of the grid
    r, c = rows[-1], cols[-1]
    np.testing.assert_allclose(ds[k]["input"][0], lr[r:r + lr_size, c:c + lr_size] / 255, rtol=1e-6)
    np.testing.assert_array_equal(ds[k]["target"][0] * 255,
                                  hr[scale * r:scale * (r + lr_size), scale * c:scale * (c + lr_size)].astype(np.float32))


def test_lr_and_hr_sub_images_are_aligned(tmp_path):
    # A gray 2-D ramp: each LR pixel of a sub-image must equal the mean of its 3x3 HR block of the
    # label (the MATLAB shrink of a ramp samples it at the block centre). A label cut one HR pixel
    # off in either direction misses by the ramp's slope (1.7 and 2.6 Y units per pixel).
    yy, xx = np.mgrid[0:36, 0:51]
    gray = (3 * xx + 2 * yy).astype(np.uint8)
    folder = tmp_path / "ramp"
    folder.mkdir()
    Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2)).save(folder / "ramp.png")
    ds = patches(folder, tmp_path, scale=3, lr_size=7, stride=2, aug_scales=[1.0], rotations=[0])
    lr_full, hr_full = ds.lr_images[0] * 255.0, ds.hr_images[0].astype(np.float64)
    checked = 0
    for k in range(len(ds)):
        _, row, col = ds.index[k]
        if min(row, col) == 0 or row + 7 == lr_full.shape[0] or col + 7 == lr_full.shape[1]:
            continue  # imresize mirrors the image at its border: not a ramp there
        lr, hr = ds[k]["input"][0] * 255.0, ds[k]["target"][0] * 255.0
        assert np.abs(lr - hr.reshape(7, 3, 7, 3).mean(axis=(1, 3))).max() < 0.3
        for dr, dc in ((1, 0), (0, 1), (-1, 0), (0, -1)):
            shifted = hr_full[3 * row + dr:3 * row + dr + 21, 3 * col + dc:3 * col + dc + 21]
            assert np.abs(lr - shifted.reshape(7, 3, 7, 3).mean(axis=(1, 3))).mean() > 1.5
        checked += 1
    assert checked >= 4


def test_cache_is_reused_and_keyed_by_settings(tmp_path, monkeypatch):
    folder = write_images(tmp_path / "hr", [(40, 44)])
    first = patches(folder, tmp_path)
    files = sorted((tmp_path / "cache").glob("*.h5"))
    assert len(files) == 1

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cache was rebuilt")

    monkeypatch.setattr(fsrcnn_data, "_augment_all", no_rebuild)
    again = patches(folder, tmp_path)
    np.testing.assert_array_equal(again[3]["target"], first[3]["target"])
    other_grid = patches(folder, tmp_path, stride=2)  # sub-images are cut on the fly: same cache
    assert len(other_grid) > len(first)
    monkeypatch.undo()
    patches(folder, tmp_path, scale=2, lr_size=10)
    patches(folder, tmp_path, aug_scales=[1.0, 0.8])
    assert len(list((tmp_path / "cache").glob("*.h5"))) == 3


def test_extra_roots_add_images_and_must_exist(tmp_path):
    t91 = write_images(tmp_path / "t91", [(40, 44)])
    extra = write_images(tmp_path / "general100", [(50, 40), (45, 45)], seed=3)
    ds = patches(t91, tmp_path, extra_roots=[str(extra)])
    assert len(ds.lr_images) == 3 * 20
    assert "general100" in ds.source.note
    with pytest.raises(DataError, match="missing_g100"):
        patches(t91, tmp_path, extra_roots=[str(tmp_path / "missing_g100")])


def test_bad_settings_are_rejected(tmp_path):
    folder = write_images(tmp_path / "hr", [(40, 44)])
    with pytest.raises(DataError, match="rotations"):
        patches(folder, tmp_path, rotations=[45])
    with pytest.raises(DataError, match="no 40x40 LR sub-image"):
        patches(folder, tmp_path, lr_size=40)


def test_eval_folder_gives_small_input_and_bicubic_baseline(tmp_path):
    folder = write_images(tmp_path / "set", [(64, 50)])
    ds = SRLowResImageFolder(str(folder), scale=3, manifest=None)
    item = ds[0]
    hr, lr_up = make_sr_pair(load_as_matlab(folder / "im0.png"), 3)
    assert item["input"].shape == (1, 21, 16) and item["target"].shape == (1, 63, 48)
    np.testing.assert_allclose(item["bicubic"][0], lr_up / 255, rtol=1e-6)
    assert item["cbcr"].shape == (2, 63, 48)

    class Nearest(paddle.nn.Layer):  # stands in for FSRCNN: small LR in, 3x image out
        def forward(self, x):
            return paddle.nn.functional.interpolate(x, scale_factor=3, mode="nearest")

    loader = paddle.io.DataLoader(ds, batch_size=1)
    result = SuperResolutionEvaluator(scale=3)(Nearest(), loader)
    bicubic_psnr, _ = score_sr(lr_up, hr, 3)
    assert result.metrics["bicubic_psnr"] == pytest.approx(bicubic_psnr)
    assert result.metrics["psnr"] < bicubic_psnr  # nearest is worse than bicubic
    assert next(iter(result.images.values())).shape == (LABEL_STRIP + 63, 3 * 48, 3)  # captioned
