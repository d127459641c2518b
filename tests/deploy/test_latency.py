"""The Paddle side of the latency table (ppcls_repro/deploy/latency.py): the exported network alone, the
input fed to it, the agreement check and the markdown table."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.deploy.benchmark import Timing
from ppcls_repro.deploy.latency import (AgreementError, LatencyRow, check_agreement, export_static, latency_table,
                                        network_input)
from ppcls_repro.deploy.predictor import Predictor, PredictorOptions
from ppcls_repro.engine.setup import build_network

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"


def net_of(config: str, overrides: list[str] | None = None) -> tuple[dict, paddle.nn.Layer]:
    cfg = load_config(CONFIGS / config, overrides or [])
    paddle.seed(0)
    return cfg, build_network(cfg, None, "init")


def test_the_static_network_of_a_classifier_ends_in_its_softmax_and_needs_no_data(tmp_path):
    # no CIFAR-10 here: the full export would need its mean image, the table needs the network alone
    cfg, net = net_of("resnet20_cifar10.yaml", ["Arch.depth=8", f"DataLoader.Eval.dataset.root={tmp_path / 'none'}"])
    export_static(net, tmp_path / "model")
    assert not (tmp_path / "model" / "pipeline.json").exists()
    x, what = network_input(build_network(cfg, None, "init"), cfg, image_size=24, batch=3, folder=tmp_path)
    assert x.shape == (3, 3, 32, 32) and x.dtype == np.float32 and what.startswith("standard normal")
    assert np.array_equal(x[0], x[2])  # copies of one input
    (probabilities,) = Predictor(tmp_path / "model", PredictorOptions(cpu_threads=1))([x])
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_an_sr_net_gets_the_photograph_as_its_pipeline_feeds_it(tmp_path):
    cfg, net = net_of("srcnn.yaml")
    x, what = network_input(net, cfg, image_size=24, batch=2, folder=tmp_path)
    assert x.shape == (2, 1, 72, 72) and "24x24 RGB photograph through the SuperResolution pipeline" in what
    assert 0.0 <= x.min() < x.max() <= 1.0  # the bicubic-upscaled Y in [0, 1], not a constant


def test_agreement_passes_within_the_tolerance_and_names_the_runtime_that_differs():
    ref = np.linspace(0, 2, 12, dtype=np.float32).reshape(3, 4)
    diffs = check_agreement({"predictor": ref, "close": ref + 1e-4, "same": ref.copy()})
    assert list(diffs) == ["close", "same"] and diffs["same"] == 0.0
    # the tolerance is relative to the reference's magnitude (2 here): 1.9e-4 is still within, 3e-4 is not
    check_agreement({"predictor": ref, "close": ref + 1.9e-4})
    with pytest.raises(AgreementError, match=r"^wrong disagrees with predictor by 0\.0003 .*not the same network$"):
        check_agreement({"predictor": ref, "wrong": ref + 3e-4})
    with pytest.raises(AgreementError, match=r"^cropped: output shape \(3, 3\), predictor's is \(3, 4\)"):
        check_agreement({"predictor": ref, "cropped": ref[:, :3]})


def test_the_table_gives_each_median_and_its_ratio_to_the_fastest_other():
    row = LatencyRow("SRCNN, 1x1x72x72", {"a": Timing("a", [0.010, 0.030, 0.020]), "b": Timing("b", [0.040]),
                                          "c": Timing("c", [0.080])})
    lines = latency_table([row], ["a", "b", "c", "skipped"])
    assert lines == ["| net, input | a, ms | b, ms | c, ms | skipped, ms |", "|---|---:|---:|---:|---:|",
                     "| SRCNN, 1x1x72x72 | 20.0 (0.50x) | 40.0 (2.00x) | 80.0 (4.00x) | - |"]


def test_the_paddle_side_imports_neither_torch_nor_onnxruntime():
    code = ("import sys, ppcls_repro.plugins, ppcls_repro.deploy.latency, ppcls_repro.deploy.onnx; "
            "sys.exit(1 if {'torch', 'onnxruntime'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
