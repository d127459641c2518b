"""Denoise pipeline (deploy/denoise.py): tiled equals whole, colour per channel, sigma checks, outputs."""
from pathlib import Path

import numpy as np
import paddle
import pytest
from PIL import Image

from ppcls_repro.papers.dncnn.deploy import Denoise
from ppcls_repro.papers.dncnn.model import DnCNN


@pytest.fixture(scope="module")
def net():
    paddle.seed(0)
    model = DnCNN(depth=5, channels=8)
    model.eval()

    def run(arrays):
        with paddle.no_grad():
            return [model(paddle.to_tensor(arrays[0])).numpy()]
    return run


def photo(tiny_images, gray: bool) -> np.ndarray:
    image = Image.open(sorted(tiny_images.iterdir())[0]).convert("L" if gray else "RGB")
    array = np.asarray(image).astype(np.float64)
    return array[:, :, None] if gray else array


def test_tiled_equals_whole_image(net, tiny_images):
    image = photo(tiny_images, gray=True)
    whole = Denoise(channels=1, halo=5, tile_size=0).denoise(image, net)
    tiled = Denoise(channels=1, halo=5, tile_size=16).denoise(image, net, batch_size=3)
    assert np.abs(whole - image).max() > 1.0  # the net does something
    assert np.abs(tiled - whole).max() < 1e-4


def test_colour_is_denoised_channel_by_channel(net, tiny_images):
    rgb = photo(tiny_images, gray=False)
    pipeline = Denoise(channels=1, halo=5, tile_size=0)
    out = pipeline.denoise(rgb, net)
    assert out.shape == rgb.shape
    np.testing.assert_allclose(out[:, :, 1:2], pipeline.denoise(rgb[:, :, 1:2], net), atol=1e-6)


def test_process_writes_denoised_and_noisy_with_add_noise(net, tiny_images, tmp_path):
    path = sorted(tiny_images.iterdir())[0]
    written = Denoise(channels=1, halo=5, add_noise=25, trained_sigma=25).process(path, net, tmp_path, 1)
    assert [p.name for p in written] == [f"{path.stem}_denoised.png", f"{path.stem}_noisy.png"]
    noisy = np.asarray(Image.open(written[1])).astype(float)
    assert np.asarray(Image.open(written[0])).shape == noisy.shape == (66, 60, 3)
    assert np.std(noisy - np.asarray(Image.open(path)).astype(float)) > 15


def test_sigma_other_than_the_trained_one_is_refused():
    with pytest.raises(ValueError, match="trained for sigma 25"):
        Denoise(channels=1, halo=17, trained_sigma=25, sigma=15)
    Denoise(channels=1, halo=20, trained_sigma=None, sigma=15)  # blind DnCNN-B takes any level


def test_exported_dncnn_denoises_through_paddle_inference(tiny_images, tmp_path):
    """Export a small DnCNN-S 25 (the config's pipeline), then tools/infer's path: add_noise writes both
    images, tiled and whole agree, and another sigma is a one-line error."""
    from ppcls_repro.config import load_config
    from ppcls_repro.deploy.export import export_network
    from ppcls_repro.deploy.infer import InferOptions, infer
    from ppcls_repro.deploy.predictor import ModelDirError

    cfg = load_config(Path(__file__).resolve().parents[3] / "configs" / "dncnn_s25.yaml",
                      ["Arch.depth=4", "Arch.channels=8"])
    paddle.seed(1)
    model = DnCNN(depth=4, channels=8)
    export_network(model, cfg, tmp_path / "inference")
    photo_path = sorted(tiny_images.iterdir())[1]
    outs = {}
    for tile in (0, 16):
        report, _ = infer(InferOptions(model_dir=tmp_path / "inference", input=photo_path, output=tmp_path / f"t{tile}",
                                       tile_size=tile, pipeline_options={"add_noise": 25.0}))
        assert [p.name for p in report.written] == [f"{photo_path.stem}_denoised.png", f"{photo_path.stem}_noisy.png"]
        outs[tile] = np.asarray(Image.open(report.written[0])).astype(int)
    assert np.abs(outs[0] - outs[16]).max() <= 1  # the same up to rounding of float differences
    with pytest.raises(ModelDirError, match="trained for sigma 25"):
        infer(InferOptions(model_dir=tmp_path / "inference", input=photo_path, output=tmp_path / "x",
                           pipeline_options={"sigma": 50.0}))


def box3_net(arrays):
    """A 3x3 mean with zero padding (receptive radius 1): exact, so blocks can be compared bitwise."""
    batch = arrays[0]
    padded = np.pad(batch, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = batch.shape[2:]
    return [sum(padded[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0]


def test_noise_rows_equal_one_whole_image_draw():
    from ppcls_repro.papers.dncnn.deploy import NoiseRows

    whole = np.random.default_rng(4).standard_normal((30, 7, 3))
    rows = NoiseRows(4, 7, 3)
    for a, b in [(0, 12), (8, 22), (18, 30)]:  # overlapping bands, as blocks with a halo ask
        np.testing.assert_array_equal(rows.take(a, b), whole[a:b])


def test_block_streamed_denoising_equals_the_whole_image_run(tiny_images, tmp_path, caplog, monkeypatch):
    import logging

    monkeypatch.setattr(logging.getLogger("ppcls_repro"), "propagate", True)
    source = sorted(tiny_images.iterdir())[0]
    rgb = np.asarray(Image.open(source).convert("RGB"))
    alpha = np.arange(rgb.shape[0] * rgb.shape[1], dtype=np.uint8).reshape(rgb.shape[:2])
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "in.png")
    results, logs = {}, {}
    for tile_size in (0, 16):  # 66x60 in blocks of 16: 5 x 4 of them
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="ppcls_repro"):
            paths = Denoise(channels=1, halo=1, add_noise=25, tile_size=tile_size).process(
                tmp_path / "in.png", box3_net, tmp_path / str(tile_size), 1)
        results[tile_size] = [np.asarray(Image.open(p)) for p in paths]
        logs[tile_size] = [r.getMessage() for r in caplog.records if "PSNR" in r.getMessage()]
    for whole, streamed in zip(results[0], results[16]):
        assert whole.shape == (66, 60, 4)
        np.testing.assert_array_equal(whole, streamed)
    np.testing.assert_array_equal(results[16][0][:, :, 3], alpha)
    expected_noisy = rgb + 25 * np.random.default_rng(0).standard_normal(rgb.shape)
    np.testing.assert_array_equal(results[16][1][:, :, :3], np.floor(np.clip(expected_noisy, 0, 255) + 0.5))
    assert logs[0] == logs[16] and len(logs[0]) == 1


def test_a_clean_photo_for_a_dncnn_s_model_is_named_in_a_warning():
    root = Path(__file__).resolve().parents[3]
    photo = root / "dataset" / "Set5" / "butterfly_GT.bmp"
    if not photo.is_file():
        pytest.skip(f"{photo} is not here (link the Set5 folder into dataset/)")
    clean = np.asarray(Image.open(photo).convert("L"))[:, :, None]
    noisy = np.clip(clean + 25.0 * np.random.default_rng(0).standard_normal(clean.shape), 0, 255).astype(np.uint8)
    model_s = Denoise(channels=1, halo=17, trained_sigma=25.0)
    message = model_s.clean_input_warning(clean, "butterfly.png")
    assert message.startswith("butterfly.png: looks clean (estimated noise sigma 2.2 on the 0-255 scale; "
                              "this DnCNN-S model removes sigma 25)")
    assert model_s.clean_input_warning(noisy, "noisy.png") is None
    assert Denoise(channels=1, halo=17, trained_sigma=None).clean_input_warning(clean, "b.png") is None  # blind
