"""DnCNN's alignment reference (papers/dncnn/reference_torch.py): the authors' PyTorch model, its layers
read from the pickle, aligns with the suite's DnCNN fed the same file through the importer; a wrong
BatchNorm mapping in the importer fails the forward check. Needs torch and reprod_log and, for the
authors' file, ../shared/official (else skips)."""
from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")

import ppcls_repro.alignment_references  # noqa: E402,F401
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.engine.alignment import run_alignment  # noqa: E402
from ppcls_repro.papers.dncnn import weights as dncnn_weights  # noqa: E402
from ppcls_repro.papers.dncnn.reference_torch import AuthorsDnCNN, layers_from_config, layers_from_file  # noqa: E402
from ppcls_repro.registry import ConfigError, MODELS  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
MODEL = REPO.parent / "shared" / "official" / "DnCNN-S_sigma25_pytorch.pth"


@pytest.fixture
def authors_model() -> Path:
    if not MODEL.is_file():
        pytest.skip(f"the authors' PyTorch DnCNN is not at {MODEL}")
    return MODEL


def test_the_twin_has_the_suites_parameter_count_and_the_official_bn_settings():
    arch = MODELS.with_defaults({"name": "DnCNN", "depth": 17}, "Arch")
    twin = AuthorsDnCNN(layers_from_config(arch))
    suite = MODELS.build({"name": "DnCNN", "depth": 17}, "Arch")
    assert sum(p.numel() for p in twin.parameters()) == sum(int(p.size) for p in suite.parameters() if not p.stop_gradient)
    bn = twin.dncnn[3]
    assert isinstance(bn, torch.nn.BatchNorm2d) and bn.momentum == pytest.approx(0.95) and bn.eps == 1e-4


def test_the_layers_are_read_from_the_authors_pickle(authors_model):
    layers = layers_from_file(authors_model)
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds[:5] == ["Conv2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"] and kinds[-1] == "Conv2d"
    assert kinds.count("Conv2d") == 17 and layers[0].bias is not None and layers[-1].bias is None
    assert layers[3].momentum == pytest.approx(0.95) and layers[3].eps == pytest.approx(1e-4)


def test_the_authors_model_aligns_independently(authors_model, tmp_path):
    cfg = load_config(REPO / "configs" / "dncnn_s25.yaml", ["DataLoader.Train.dataset.patch_size=16"])
    summary = run_alignment(cfg, "configs/dncnn_s25.yaml", tmp_path, steps=2, batch_size=2, weights_file=authors_model)
    assert summary["passed"] and summary["independent"] is True, summary["checks"]
    assert "authors' PyTorch model" in summary["reference"]


def test_a_wrong_batchnorm_mapping_in_the_importer_fails_forward(authors_model, tmp_path, monkeypatch):
    swapped = {**dncnn_weights.BN_NAMES, "running_mean": "_variance", "running_var": "_mean"}
    monkeypatch.setattr(dncnn_weights, "BN_NAMES", swapped)
    cfg = load_config(REPO / "configs" / "dncnn_s25.yaml", ["DataLoader.Train.dataset.patch_size=16"])
    summary = run_alignment(cfg, "configs/dncnn_s25.yaml", tmp_path, steps=1, batch_size=2, weights_file=authors_model)
    assert not summary["checks"]["forward"]["passed"] and summary["checks"]["forward"]["max_abs_diff"] > 1e-2


def test_a_depth_20_config_refuses_the_depth_17_file(authors_model, tmp_path):
    cfg = load_config(REPO / "configs" / "dncnn_b.yaml")
    with pytest.raises(ConfigError, match="Arch.depth: .* is a depth-17 DnCNN, the config's is 20"):
        run_alignment(cfg, "configs/dncnn_b.yaml", tmp_path, weights_file=authors_model)
