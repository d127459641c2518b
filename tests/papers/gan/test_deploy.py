"""tools/infer.py for a GAN generator: a seed in, a grid PNG of samples out, equal to dygraph."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
from PIL import Image

from ppcls_repro.config import load_config
from ppcls_repro.deploy.export import export_model
from ppcls_repro.deploy.infer import InferOptions, infer
from ppcls_repro.engine.setup import build_network
from ppcls_repro.papers.gan.deploy import GANSamples

REPO = Path(__file__).resolve().parents[3]
GAN = REPO / "configs" / "gan_mnist.yaml"


def exported_generator(tmp_path: Path) -> tuple[Path, paddle.nn.Layer]:
    paddle.seed(0)
    cfg = load_config(GAN, [f"Global.output_dir={tmp_path / 'run'}"])
    net = build_network(cfg, None, "fresh")
    weights = tmp_path / "weights.pdparams"
    paddle.save(net.state_dict(), str(weights))
    export_model(load_config(GAN, [f"Global.output_dir={tmp_path / 'run'}", f"Global.pretrained_model={weights}"]))
    return tmp_path / "run" / "inference", net


def test_grid_of_samples_from_a_seed_matches_dygraph(tmp_path):
    model_dir, net = exported_generator(tmp_path)
    report, _ = infer(InferOptions(model_dir=model_dir, input=None, output=tmp_path / "out", num_samples=12, seed=7))
    grid = np.asarray(Image.open(report.written[0]))
    assert report.written[0].name == "samples_seed7_n12.png" and grid.ndim == 2
    # the first sample, drawn from the same noise through the dygraph generator, is the grid's first cell
    pipeline = GANSamples(noise_dim=100, image_shape=[1, 28, 28])
    with paddle.no_grad():
        first = net(paddle.to_tensor(pipeline.noise_batch(12, 7)[:1])).numpy().reshape(28, 28)
    assert np.abs(grid[:28, :28].astype(float) - first * 255).max() <= 1.0
    again, _ = infer(InferOptions(model_dir=model_dir, input=None, output=tmp_path / "again", num_samples=12, seed=7))
    other, _ = infer(InferOptions(model_dir=model_dir, input=None, output=tmp_path / "other", num_samples=12, seed=8))
    assert np.array_equal(np.asarray(Image.open(again.written[0])), grid)
    assert not np.array_equal(np.asarray(Image.open(other.written[0])), grid)


def test_infer_tool_writes_the_grid(tmp_path):
    model_dir, _ = exported_generator(tmp_path)
    proc = subprocess.run([sys.executable, "tools/infer.py", "--model_dir", str(model_dir), "--output",
                           str(tmp_path / "cli"), "--num_samples", "20", "--seed", "3"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cli" / "samples_seed3_n20.png").is_file()
