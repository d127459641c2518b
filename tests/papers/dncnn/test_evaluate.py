"""DenoiseEvaluator (engine/denoise_evaluate.py): noisy PSNR on a real image, quantized output, panels."""
import math

import numpy as np
import paddle
import pytest

from ppcls_repro.papers.dncnn.data import NoisyImageFolder
from ppcls_repro.papers.dncnn.evaluate import DenoiseEvaluator, score_denoised
from ppcls_repro.papers.dncnn.model import DnCNN
from ppcls_repro.utils.images import LABEL_STRIP


def loader_of(dataset):
    return paddle.io.DataLoader(dataset, batch_size=1, shuffle=False)


def identity_dncnn() -> DnCNN:
    model = DnCNN(depth=3, channels=4)
    model.body[-1].weight.set_value(np.zeros(model.body[-1].weight.shape, np.float32))  # predicts no noise
    return model


def test_noisy_psnr_at_sigma_25_on_a_real_image(shared_data):
    result = DenoiseEvaluator()(identity_dncnn(), loader_of(NoisyImageFolder(str(shared_data / "Set12"), sigma=25)))
    assert len(result.per_item) == 12
    expected = 20 * math.log10(255 / 25)  # 20.17 dB: unclipped noise of std 25 grey levels
    for item in result.per_item:
        assert item["noisy_psnr"] == pytest.approx(expected, abs=0.05)
    assert result.metrics["noisy_psnr"] == pytest.approx(expected, abs=0.02)
    # the identity's output is im2uint8(noisy): clipping to [0, 255] removes some error, so its PSNR is higher
    assert result.metrics["psnr"] > result.metrics["noisy_psnr"] + 0.1
    assert 0 < result.metrics["noisy_ssim"] < 0.6


def test_output_is_rounded_like_im2uint8_before_scoring():
    clean = np.random.default_rng(0).integers(0, 256, (1, 24, 24)) / 255.0
    shifted = clean + 0.4 / 255  # rounds back to the clean image
    item, panel = score_denoised(shifted, shifted, clean, "a")
    assert item["psnr"] == math.inf and item["ssim"] == pytest.approx(1.0)
    assert item["noisy_psnr"] == pytest.approx(20 * math.log10(255 / 0.4), abs=1e-6)
    assert panel.shape == (24 + LABEL_STRIP, 72, 3) and panel.dtype == np.uint8  # captioned: noisy | denoised | clean
    np.testing.assert_array_equal(panel[LABEL_STRIP:, 48:, 0], np.floor(clean[0] * 255 + 0.5))


def test_panels_and_per_image_names(tiny_images, tmp_path):
    from PIL import Image

    for path in sorted(tiny_images.iterdir()):
        Image.open(path).convert("L").save(tmp_path / path.name)
    result = DenoiseEvaluator(num_panels=2)(identity_dncnn(), loader_of(NoisyImageFolder(str(tmp_path), sigma=15)))
    assert [it["name"] for it in result.per_item] == sorted(p.stem for p in tiny_images.iterdir())
    assert len(result.images) == 2
    assert next(iter(result.images.values())).shape == (66 + LABEL_STRIP, 180, 3)
    assert set(result.metrics) == {"psnr", "ssim", "noisy_psnr", "noisy_ssim"}


def test_saved_outputs_are_the_scored_images(tiny_images, tmp_path):
    """--save_images: the denoised PNG is the very image scored (its PSNR is the reported one)."""
    from PIL import Image

    from ppcls_repro.metrics.image import psnr

    gray = tmp_path / "gray"
    gray.mkdir()
    for path in sorted(tiny_images.iterdir()):
        Image.open(path).convert("L").save(gray / path.name)
    model = identity_dncnn()
    model.body[-1].weight.set_value(np.full(model.body[-1].weight.shape, 0.01, np.float32))  # not the identity
    result = DenoiseEvaluator()(model, loader_of(NoisyImageFolder(str(gray), sigma=25)), save_dir=tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{p.stem}_{kind}.png" for p in tiny_images.iterdir() for kind in ("noisy", "denoised"))
    for item in result.per_item:
        clean = np.asarray(Image.open(gray / f"{item['name']}.png"), np.float64)
        denoised = np.asarray(Image.open(tmp_path / "out" / f"{item['name']}_denoised.png"), np.float64)
        noisy = np.asarray(Image.open(tmp_path / "out" / f"{item['name']}_noisy.png"), np.float64)
        assert denoised.shape == clean.shape and psnr(denoised, clean) == pytest.approx(item["psnr"], abs=1e-9)
        # the saved noisy image is clipped to [0, 255] (only nearer the clean image) and rounded
        assert item["noisy_psnr"] - 0.01 < psnr(noisy, clean) < item["noisy_psnr"] + 1.0
