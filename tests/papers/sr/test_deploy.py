"""SR inference on real images: colour handling, tiling == whole image, bad inputs, the CLI."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest
import skimage.data
from PIL import Image

from ppcls_repro.data.color import rgb2ycbcr
from ppcls_repro.deploy.infer import InferOptions, infer
from ppcls_repro.deploy.pipeline import collect_inputs, load_deployment, run_inference
from ppcls_repro.deploy.predictor import ModelDirError, Predictor, PredictorOptions
from ppcls_repro.deploy.tiling import plan_tiles, run_tiled
from ppcls_repro.papers.sr.deploy import SuperResolution
from ppcls_repro.papers.sr.protocol import bicubic_upscale
from ppcls_repro.papers.sr.srcnn import SRCNN
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import quantize_uint8
from ppcls_repro.utils.images import read_image

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """An SRCNN x3 with He-initialised weights, exported through tools/export_model.py."""
    folder = tmp_path_factory.mktemp("export")
    paddle.seed(5)
    weights = folder / "w.pdparams"
    paddle.save(SRCNN(scale=3, init="kaiming").state_dict(), str(weights))
    subprocess.run([sys.executable, "tools/export_model.py", "-c", "configs/srcnn.yaml", "-o", "Arch.init=kaiming",
                    "-o", f"Global.pretrained_model={weights}", "--save_dir", str(folder / "inference")],
                   cwd=REPO, check=True, capture_output=True, timeout=300)
    return folder / "inference"


def photo(name: str = "astronaut", size: tuple[int, int] = (150, 130)) -> np.ndarray:
    return np.asarray(getattr(skimage.data, name)())[40:40 + size[0], 60:60 + size[1]]


def identity(inputs):
    return [inputs[0]]


def test_tiles_partition_the_image_and_grow_by_the_halo():
    tiles = plan_tiles(70, 45, tile=32, halo=6)
    covered = np.zeros((70, 45), int)
    for t in tiles:
        y0, y1, x0, x1 = t.core
        covered[y0:y1, x0:x1] += 1
        ry0, ry1, rx0, rx1 = t.region
        assert (ry0, rx0) == (max(0, y0 - 6), max(0, x0 - 6)) and (ry1, rx1) == (min(70, y1 + 6), min(45, x1 + 6))
    assert (covered == 1).all() and len(tiles) == 3 * 2


def box3(batch: np.ndarray) -> np.ndarray:
    """A 3x3 mean with zero padding: receptive radius 1, like a one-layer padded conv."""
    padded = np.pad(batch, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = batch.shape[2:]
    return sum(padded[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0


def test_run_tiled_equals_whole_only_with_the_right_halo():
    image = np.random.default_rng(0).random((2, 50, 37))
    whole = box3(image[None])[0]
    for batch_size in (1, 3):
        assert np.abs(run_tiled(box3, image, tile=16, halo=1, batch_size=batch_size) - whole).max() < 1e-12
    assert np.abs(run_tiled(box3, image, tile=16, halo=0) - whole).max() > 1e-3  # the check can fail


def test_tiled_equals_whole_image_through_the_predictor(exported):
    predictor = Predictor(exported)
    whole = load_deployment(exported, {"tile_size": 0}).pipeline
    tiled = load_deployment(exported, {"tile_size": 100}).pipeline
    y = quantize_uint8(rgb2ycbcr(photo()))[:, :, :1]  # net input 450x390 -> 5x4 tiles
    expected = whole.run_net(y, predictor) / 255.0
    assert np.abs(expected - bicubic_upscale(y, 3) / 255.0).max() > 0.05  # the net changes the image
    for batch_size in (1, 4):
        result = tiled.run_net(y, predictor, batch_size) / 255.0
        assert result.shape == (450, 390, 1)
        assert np.abs(result - expected).max() < 1e-4, batch_size


def test_net_sees_bicubic_y_in_unit_range_and_cbcr_is_bicubic():
    pipeline = SuperResolution(scale=3, net_input="y_bt601", upsample_input=True, halo=6, tile_size=0)
    rgb = photo(size=(40, 36))
    seen = []
    out = pipeline.upscale(rgb[:, :, :], lambda inputs: seen.append(inputs[0]) or [inputs[0]])
    y = quantize_uint8(rgb2ycbcr(rgb))[:, :, 0]
    np.testing.assert_allclose(seen[0][0, 0], bicubic_upscale(y, 3) / 255.0, atol=1e-6)
    # with an identity net the result is bicubic of every channel, up to uint8 rounding
    bicubic = quantize_uint8(bicubic_upscale(rgb, 3))
    assert out.shape == (120, 108, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - bicubic).max() <= 2


def test_rgb_gray_and_rgba_images_give_sr_and_bicubic_pngs(exported, tmp_path):
    images = tmp_path / "in"
    images.mkdir()
    Image.fromarray(photo()).save(images / "colour.png")
    Image.fromarray(photo("camera", (50, 40))).save(images / "gray.png")
    rgba = np.dstack([photo("coffee", (30, 44)), np.full((30, 44), 128, np.uint8)])
    Image.fromarray(rgba).save(images / "alpha.png")
    Image.fromarray(photo()).save(images / "photo.jpg", quality=95)
    deployment = load_deployment(exported)
    report = run_inference(deployment, Predictor(exported), collect_inputs(images, (".png", ".jpg")), tmp_path / "out")
    assert not report.failed and len(report.written) == 8
    expect = {"colour": ("RGB", (390, 450)), "gray": ("L", (120, 150)), "alpha": ("RGBA", (132, 90)),
              "photo": ("RGB", (390, 450))}
    for stem, (mode, size) in expect.items():
        for suffix in ("_x3.png", "_x3_bicubic.png"):
            with Image.open(tmp_path / "out" / f"{stem}{suffix}") as image:
                assert (image.mode, image.size) == (mode, size), stem + suffix
    with Image.open(tmp_path / "out" / "alpha_x3.png") as image:
        assert (np.asarray(image)[:, :, 3] == 128).all()  # alpha kept (bicubic of a constant)


def test_bad_inputs_are_listed_and_good_ones_still_run(exported, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(photo(size=(30, 30))).save(folder / "good.png")
    (folder / "broken.png").write_bytes(b"not an image")
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(folder / "deep.png")  # 16-bit gray
    Image.fromarray(photo(size=(30, 30))).save(folder / "good.bmp")  # same stem as good.png
    (folder / "notes.txt").write_text("not an input")
    report, _ = infer(InferOptions(model_dir=exported, input=folder, output=tmp_path / "out"))
    assert [p.name for p in report.written] == ["good_x3.png", "good_x3_bicubic.png"]
    reasons = dict((p.name, r) for p, r in report.failed)
    assert set(reasons) == {"broken.png", "deep.png", "good.png"}  # good.bmp ran first (sorted)
    assert reasons["broken.png"].startswith(f"cannot read image {folder / 'broken.png'}")
    assert "image mode I;16" in reasons["deep.png"] and "8-bit gray, RGB or RGBA" in reasons["deep.png"]
    assert "same file stem" in reasons["good.png"]


def test_missing_inputs_and_models_are_one_clear_error(exported, tmp_path):
    with pytest.raises(DataError, match="input not found"):
        collect_inputs(tmp_path / "nope.png", (".png",))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no input files"):
        collect_inputs(tmp_path / "empty", (".png",))
    with pytest.raises(ModelDirError, match="no exported model"):
        load_deployment(tmp_path / "empty")
    broken = tmp_path / "nojson"
    broken.mkdir()
    for name in ("inference.json", "inference.pdiparams"):
        (broken / name).write_bytes((exported / name).read_bytes())
    with pytest.raises(ModelDirError, match="pipeline.json is missing"):
        load_deployment(broken)


@pytest.mark.parametrize("option,message", [
    ({"tile_size": -1}, "--tile_size must be >= 0"), ({"batch_size": 0}, "--batch_size must be >= 1"),
    ({"predictor": PredictorOptions(cpu_threads=0)}, "cpu_threads must be >= 1"),
])
def test_bad_numbers_are_config_errors(exported, tmp_path, option, message):
    with pytest.raises(ConfigError, match=message):
        infer(InferOptions(model_dir=exported, input=tmp_path, output=tmp_path / "out", **option))


def test_a_model_whose_channels_do_not_fit_the_pipeline_is_refused(exported, tmp_path):
    copy = tmp_path / "rgb"
    copy.mkdir()
    for name in ("inference.json", "inference.pdiparams"):
        (copy / name).write_bytes((exported / name).read_bytes())
    meta = json.loads((exported / "pipeline.json").read_text())
    meta["pipeline"]["net_input"] = "rgb"
    (copy / "pipeline.json").write_text(json.dumps(meta))
    with pytest.raises(ModelDirError, match=r"takes 1 channel\(s\) but its pipeline feeds 3"):
        load_deployment(copy)


def test_read_image_modes(tmp_path):
    rgb = photo(size=(10, 12))
    palette = Image.fromarray(rgb).convert("P")
    palette.save(tmp_path / "p.png")
    pixels, alpha = read_image(tmp_path / "p.png")
    assert pixels.shape == (10, 12, 3) and alpha is None
    Image.fromarray(rgb).convert("LA").save(tmp_path / "la.png")
    pixels, alpha = read_image(tmp_path / "la.png")
    assert pixels.shape == (10, 12, 1) and alpha.shape == (10, 12)


def test_infer_tool_end_to_end_gpu_request_falls_back_and_lists_failures(exported, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(photo(size=(40, 40))).save(folder / "a.png")
    (folder / "b.png").write_bytes(b"junk")
    proc = subprocess.run([sys.executable, "tools/infer.py", "--model_dir", str(exported), "--input", str(folder),
                           "--output", str(tmp_path / "out"), "--device", "gpu", "--benchmark", "--repeats", "2",
                           "--tile_size", "64", "--batch_size", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "out" / "a_x3.png").is_file() and (tmp_path / "out" / "a_x3_bicubic.png").is_file()
    assert proc.stdout.count("no CUDA support") == 1 and "benchmark on a.png" in proc.stdout
    assert "median" in proc.stdout and "Traceback" not in proc.stderr
    tail = [line for line in proc.stderr.splitlines() if line.strip()][-3:]
    assert tail == ["failed (1):", f"  cannot read image {folder / 'b.png'}: cannot identify image file "
                    f"'{folder / 'b.png'}'", "error: 1 of 2 input(s) failed (listed above)"]


def test_inference_never_writes_over_an_input_or_an_earlier_result(exported, tmp_path):
    images = tmp_path / "in"
    images.mkdir()
    Image.fromarray(photo("camera", (20, 24))).save(images / "bird.png")
    Image.fromarray(photo("camera", (20, 24))).save(images / "bird_x3.png")  # an earlier result, in the input folder
    deployment, net = load_deployment(exported), Predictor(exported)
    report = run_inference(deployment, net, collect_inputs(images, (".png",)), images)
    assert any("would replace an input" in reason for _, reason in report.failed)
    assert Image.open(images / "bird_x3.png").size == (24, 20)  # untouched
    out = tmp_path / "out"
    first = run_inference(deployment, net, [images / "bird.png"], out)
    stamp = (out / "bird_x3.png").stat().st_mtime_ns
    again = run_inference(deployment, net, [images / "bird.png"], out)
    assert not first.failed and again.failed and "exists; pass --overwrite" in again.failed[0][1]
    assert (out / "bird_x3.png").stat().st_mtime_ns == stamp
    assert not run_inference(deployment, net, [images / "bird.png"], out, overwrite=True).failed


def test_an_output_that_is_a_file_is_named_as_such(exported, tmp_path):
    Image.fromarray(photo("camera", (20, 24))).save(tmp_path / "bird.png")
    with pytest.raises(DataError, match=r"bird.png: --output is a file; it must name a folder"):
        run_inference(load_deployment(exported), Predictor(exported), [tmp_path / "bird.png"], tmp_path / "bird.png")


def test_the_scale_the_model_was_exported_with_cannot_be_overridden(exported, tmp_path):
    """--option scale=5 on an x3 model wrote a x5 image; the keys the model and its data set are fixed."""
    meta = json.loads((exported / "pipeline.json").read_text())
    assert "scale" in meta["fixed"] and meta["pipeline"]["scale"] == 3 and "tile_size" not in meta["fixed"]
    with pytest.raises(ConfigError, match=r"^--option scale: set by the model at export \(3\); an exported model"):
        load_deployment(exported, {"scale": 5})
    assert load_deployment(exported, {"tile_size": 64}).pipeline.tile_size == 64  # an option stays an option


def box3_net(inputs):
    return [box3(inputs[0])]


def box3_upscaling_net(inputs):
    """A net that upscales itself (as FSRCNN): box3, then nearest x3; receptive radius 1 LR pixel."""
    return [box3(inputs[0]).repeat(3, axis=2).repeat(3, axis=3)]


def stream(pipeline, pixels, net, folder):
    """``process`` on an image file; the written SR and bicubic PNGs as arrays."""
    folder.mkdir(exist_ok=True)
    Image.fromarray(pixels.squeeze()).save(folder / "in.png")
    paths = pipeline.process(folder / "in.png", net, folder, batch_size=1)
    return [np.asarray(Image.open(p)) for p in paths]


@pytest.mark.parametrize("upsample_input, net", [(True, box3_net), (False, box3_upscaling_net)])
@pytest.mark.parametrize("image", ["rgb", "gray", "rgba"])
def test_block_streamed_output_equals_the_whole_image_run(tmp_path, upsample_input, net, image):
    pixels = {"rgb": photo(size=(70, 53)), "gray": photo("camera", (70, 53)),
              "rgba": np.dstack([photo(size=(70, 53)), photo("camera", (70, 53))])}[image]
    settings = dict(scale=3, net_input="y_bt601", upsample_input=upsample_input, halo=1)
    whole = stream(SuperResolution(**settings, tile_size=0), pixels, net, tmp_path / "whole")
    # blocks of 16 input pixels (5 x 4 of them), whose net input is about tile_size a side
    blocks = SuperResolution(**settings, tile_size=48 if upsample_input else 16)
    assert sum(len(band) for band in blocks.bands(70, 53)) == 20
    streamed = stream(blocks, pixels, net, tmp_path / "streamed")
    for a, b in zip(whole, streamed):
        assert a.shape == b.shape == (210, 159) + a.shape[2:]
        np.testing.assert_array_equal(a, b)


def test_blocks_without_their_context_would_differ(tmp_path, monkeypatch):
    import ppcls_repro.papers.sr.deploy as sr_deploy

    pixels = photo(size=(70, 53))
    settings = dict(scale=3, net_input="y_bt601", upsample_input=True, halo=0)
    whole = stream(SuperResolution(**settings, tile_size=0), pixels, box3_net, tmp_path / "whole")
    monkeypatch.setattr(sr_deploy, "BICUBIC_CONTEXT", 0)
    cut = stream(SuperResolution(**settings, tile_size=48), pixels, box3_net, tmp_path / "cut")
    assert np.abs(whole[0].astype(int) - cut[0]).max() > 3  # seams: the equality test above can fail


def test_streamed_inference_memory_stays_bounded(tmp_path):
    import tracemalloc

    pixels = photo(size=(300, 300))
    peaks = {}
    for tile_size in (0, 96):
        tracemalloc.start()
        stream(SuperResolution(scale=3, net_input="y_bt601", upsample_input=True, halo=1, tile_size=tile_size),
               pixels, box3_net, tmp_path / str(tile_size))
        peaks[tile_size] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # whole image: several float64 copies of the 900x900x3 output; blocks: the uint8 input, one band
    assert peaks[0] > 40e6 and peaks[96] < 12e6, peaks
