"""``ppcls_repro.load``: the same result as export + tools/infer.py, the tools' one-line errors, a cheap import."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

import ppcls_repro
from ppcls_repro.engine.checkpoint import CheckpointError
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.errors import DataError

REPO = Path(__file__).resolve().parents[1]
SRCNN_RELEASE = REPO / "releases" / "srcnn_x3" / "srcnn_x3"
MNIST_RELEASE = REPO / "releases" / "resnet20_mnist" / "resnet20_mnist"


def tool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def export_and_infer(config: str, weights: Path, image: Path, tmp_path: Path) -> Path:
    """tools/export_model.py then tools/infer.py on ``image``; returns the results folder."""
    model = tmp_path / "inference"
    done = tool("tools/export_model.py", "-c", config, "-o", f"Global.pretrained_model={weights}",
                "-o", f"Global.output_dir={tmp_path / 'out'}", "--save_dir", str(model))
    assert done.returncode == 0, done.stderr
    done = tool("tools/infer.py", "--model_dir", str(model), "--input", str(image), "--output", str(tmp_path / "res"))
    assert done.returncode == 0, done.stderr
    return tmp_path / "res"


def test_srcnn_release_upscales_like_tools_infer(tmp_path):
    image = np.asarray(skimage.data.astronaut())[120:184, 150:230]  # 64x80 RGB photograph
    Image.fromarray(image).save(tmp_path / "photo.png")
    results = export_and_infer("configs/srcnn.yaml", SRCNN_RELEASE, tmp_path / "photo.png", tmp_path)
    expected = np.asarray(Image.open(results / "photo_x3.png"))

    upscaled = ppcls_repro.load("configs/srcnn.yaml", SRCNN_RELEASE)(image)
    assert upscaled.shape == (192, 240, 3) and upscaled.dtype == np.uint8
    # Paddle Inference (oneDNN) and dygraph sum in other orders: a Y value may round the other way,
    # one step of Y is up to 2 in RGB (measured: 9 of 138,240 values differ)
    difference = np.abs(upscaled.astype(int) - expected.astype(int))
    assert difference.max() <= 2 and (difference > 0).mean() < 1e-3
    bicubic = np.asarray(Image.open(results / "photo_x3_bicubic.png"))
    assert np.abs(upscaled.astype(int) - bicubic.astype(int)).mean() > 0.5  # the net did something


def test_a_gray_image_stays_two_dimensional_and_overrides_apply():
    gray = np.asarray(skimage.data.camera())[200:240, 200:250]
    predictor = ppcls_repro.load(REPO / "configs" / "srcnn.yaml", str(SRCNN_RELEASE) + ".pdparams")
    out = predictor(gray)
    assert out.shape == (120, 150) and out.dtype == np.uint8
    fsrcnn = REPO / "releases" / "fsrcnn_s_x3" / "fsrcnn_s_x3"
    zeros = ppcls_repro.load("configs/fsrcnn_s_x3.yaml", fsrcnn)(gray)
    replicate = ppcls_repro.load("configs/fsrcnn_s_x3.yaml", fsrcnn, ["Arch.padding_mode=replicate"])(gray)
    assert zeros.shape == replicate.shape == (120, 150)
    assert (zeros[:3] != replicate[:3]).any()  # the override reached the net: the border changes
    assert np.array_equal(zeros[45:-45, 45:-45], replicate[45:-45, 45:-45])  # beyond its reach, nothing


def digit() -> np.ndarray:
    """A 28x28 white-on-black stroke, like an MNIST '1'."""
    image = np.zeros((28, 28), np.uint8)
    for row in range(5, 23):
        image[row, 13 + (22 - row) // 6:16 + (22 - row) // 6] = 255
    return image


def test_dncnn_release_denoises_like_tools_infer(tmp_path):
    clean = np.asarray(skimage.data.camera())[100:164, 180:260]
    noisy = np.clip(clean + 25.0 * np.random.default_rng(0).standard_normal(clean.shape), 0, 255).round()
    noisy = noisy.astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    release = REPO / "releases" / "dncnn_s25" / "dncnn_s25"
    results = export_and_infer("configs/dncnn_s25.yaml", release, tmp_path / "noisy.png", tmp_path)
    expected = np.asarray(Image.open(results / "noisy_denoised.png"))

    denoised = ppcls_repro.load("configs/dncnn_s25.yaml", release)(noisy)
    assert denoised.shape == noisy.shape and denoised.dtype == np.uint8
    assert np.abs(denoised.astype(int) - expected.astype(int)).max() <= 1  # a value may round the other way
    error = lambda x: np.abs(x.astype(float) - clean).mean()  # noqa: E731
    assert error(denoised) < 0.6 * error(noisy)  # it denoises


def test_classification_gives_the_top_k_of_tools_infer(tmp_path):
    Image.fromarray(digit()).save(tmp_path / "one.png")
    results = export_and_infer("configs/resnet20_mnist.yaml", MNIST_RELEASE, tmp_path / "one.png", tmp_path)
    expected = json.loads((results / "one_top5.json").read_text())["predictions"]

    top = ppcls_repro.load("configs/resnet20_mnist.yaml", MNIST_RELEASE)(digit())
    assert [p["class_id"] for p in top] == [p["class_id"] for p in expected]
    assert [p["label"] for p in top] == [p["label"] for p in expected]
    assert [p["score"] for p in top] == pytest.approx([p["score"] for p in expected], abs=1e-5)


def test_a_bad_config_path_is_the_tools_error(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    done = tool("tools/eval.py", "-c", str(missing), "-o", f"Global.pretrained_model={SRCNN_RELEASE}")
    line = done.stderr.strip()
    assert done.returncode == 1 and line.startswith("error: ") and "\n" not in line
    with pytest.raises(ConfigError) as raised:
        ppcls_repro.load(missing, SRCNN_RELEASE)
    assert f"error: {raised.value}" == line


def test_bad_weights_are_the_tools_error(tmp_path):
    missing = tmp_path / "w"
    done = tool("tools/export_model.py", "-c", "configs/srcnn.yaml", "-o", f"Global.pretrained_model={missing}",
                "-o", f"Global.output_dir={tmp_path / 'out'}")
    line = done.stderr.strip()
    assert done.returncode == 1 and line.startswith("error: ") and "\n" not in line
    with pytest.raises(CheckpointError) as raised:
        ppcls_repro.load("configs/srcnn.yaml", missing)
    assert f"error: {raised.value}" == line


def test_a_bad_key_and_a_bad_image_are_one_line_errors():
    with pytest.raises(ConfigError, match="Arch.kernel_size"):
        ppcls_repro.load("configs/srcnn.yaml", SRCNN_RELEASE, ["Arch.kernel_size=3"])
    predictor = ppcls_repro.load("configs/srcnn.yaml", SRCNN_RELEASE)
    with pytest.raises(DataError, match=r"^expected a uint8 image of shape HxW or HxWxC \(C = 1 to 4\), got float64"):
        predictor(np.zeros((8, 8, 3)))


def test_importing_the_package_loads_no_paddle_and_makes_no_cycle():
    done = subprocess.run([sys.executable, "-c", "import sys, ppcls_repro; print('paddle' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"


def fresh_weights(config: str, tmp_path: Path, overrides: list[str] = ()) -> Path:
    """The config's network as initialised (seed 0), saved as a release would be."""
    import paddle

    from ppcls_repro.config import load_config
    from ppcls_repro.engine.setup import build_network
    paddle.seed(0)
    net = build_network(load_config(REPO / config, list(overrides)), None, "fresh")
    paddle.save(net.state_dict(), str(tmp_path / "w.pdparams"))
    return tmp_path / "w.pdparams"


def test_gan_samples_are_the_grid_of_tools_infer(tmp_path):
    weights = fresh_weights("configs/gan_mnist.yaml", tmp_path)
    predictor = ppcls_repro.load("configs/gan_mnist.yaml", weights)
    samples = predictor(predictor.pipeline.noise_batch(12, 7))
    assert samples.shape == (12, 1, 28, 28) and samples.dtype == np.float32
    assert 0.0 <= samples.min() and samples.max() <= 1.0
    results = export_and_infer_generator("configs/gan_mnist.yaml", weights, tmp_path, seed=7, num=12)
    grid = np.asarray(Image.open(results)).astype(float)
    assert np.abs(grid[:28, :28] - samples[0, 0] * 255).max() <= 1.0  # the grid's first cell
    with pytest.raises(DataError, match=r"expected float noise of shape \[N, 100\]"):
        predictor(np.zeros((3, 99), np.float32))


def export_and_infer_generator(config: str, weights: Path, tmp_path: Path, seed: int, num: int) -> Path:
    model = tmp_path / "inference"
    done = tool("tools/export_model.py", "-c", config, "-o", f"Global.pretrained_model={weights}",
                "-o", f"Global.output_dir={tmp_path / 'out'}", "--save_dir", str(model))
    assert done.returncode == 0, done.stderr
    done = tool("tools/infer.py", "--model_dir", str(model), "--output", str(tmp_path / "res"),
                "--num_samples", str(num), "--seed", str(seed))
    assert done.returncode == 0, done.stderr
    return tmp_path / "res" / f"samples_seed{seed}_n{num}.png"


def test_hybridsn_map_is_the_map_of_tools_infer(tmp_path):
    import scipy.io

    from ppcls_repro.papers.hybridsn.data import synthetic_cube
    gt = np.zeros((14, 13), np.uint8)
    for k in range(16):
        r, c = divmod(k, 4)
        gt[3 * r:3 * r + 2, 3 * c:3 * c + 2] = k + 1
    cube = synthetic_cube(gt, 40, seed=2)
    scipy.io.savemat(tmp_path / "gt.mat", {"gt": gt})
    scipy.io.savemat(tmp_path / "cube.mat", {"cube": cube})
    overrides = ["Arch.bands=15", "Arch.window=9"]
    for split in ("Train", "Eval"):
        node = f"DataLoader.{split}.dataset"
        overrides += [f"{node}.root={tmp_path}", f"{node}.gt_file=gt.mat", f"{node}.gt_key=gt",
                      f"{node}.cube_file=cube.mat", f"{node}.cube_key=cube", f"{node}.pca_components=15",
                      f"{node}.window=9", f"{node}.cache_dir={tmp_path / 'cache'}"]
    weights = fresh_weights("configs/hybridsn_ip.yaml", tmp_path, overrides)
    model = tmp_path / "inference"
    done = tool("tools/export_model.py", "-c", "configs/hybridsn_ip.yaml", *[a for o in overrides for a in ("-o", o)],
                "-o", f"Global.pretrained_model={weights}", "-o", f"Global.output_dir={tmp_path / 'out'}",
                "--save_dir", str(model))
    assert done.returncode == 0, done.stderr
    done = tool("tools/infer.py", "--model_dir", str(model), "--input", str(tmp_path / "cube.mat"),
                "--output", str(tmp_path / "res"))
    assert done.returncode == 0, done.stderr
    expected = np.load(tmp_path / "res" / "cube_map.npy")

    labels = ppcls_repro.load("configs/hybridsn_ip.yaml", weights, overrides)(cube)
    assert labels.shape == (14, 13) and labels.dtype == np.uint16 and labels.min() >= 1
    assert np.array_equal(labels, expected) and len(np.unique(labels)) > 1
    with pytest.raises(DataError, match=r"expected a numeric \(rows, cols, 40\) cube"):
        ppcls_repro.load("configs/hybridsn_ip.yaml", weights, overrides)(cube[:, :, :30])


def test_dscmr_ranks_the_gallery_as_tools_infer(tmp_path):
    config = "configs/dscmr_synthetic.yaml"
    weights = fresh_weights(config, tmp_path)
    from ppcls_repro.config import load_config
    arch = load_config(REPO / config, [])["Arch"]
    rng = np.random.default_rng(2)
    queries = rng.standard_normal((5, arch["image_dim"])).astype(np.float32)
    gallery = rng.standard_normal((9, arch["text_dim"])).astype(np.float32)
    np.save(tmp_path / "queries.npy", queries)
    np.save(tmp_path / "gallery.npy", gallery)
    model = tmp_path / "inference"
    done = tool("tools/export_model.py", "-c", config, "-o", f"Global.pretrained_model={weights}",
                "-o", f"Global.output_dir={tmp_path / 'out'}", "--save_dir", str(model))
    assert done.returncode == 0, done.stderr
    done = tool("tools/infer.py", "--model_dir", str(model), "--input", str(tmp_path / "queries.npy"), "--output",
                str(tmp_path / "res"), "--option", f"gallery={tmp_path / 'gallery.npy'}", "--option", "top_k=4")
    assert done.returncode == 0, done.stderr
    expected = json.loads((tmp_path / "res" / "queries_top4.json").read_text())["results"]

    from_file = ppcls_repro.load(config, weights, pipeline_options={"gallery": str(tmp_path / "gallery.npy"),
                                                                    "top_k": 4})(queries)
    in_memory = ppcls_repro.load(config, weights, pipeline_options={"top_k": 4})((queries, gallery))
    for ranked in (from_file, in_memory):
        assert ranked["gallery"].tolist() == [r["gallery"] for r in expected]
        assert np.allclose(ranked["similarity"], [r["similarity"] for r in expected], atol=1e-5)
    with pytest.raises(DataError, match=r"queries: has shape \(5, 3\)"):
        ppcls_repro.load(config, weights)(queries[:, :3])
