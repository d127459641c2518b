"""SRCNN and FSRCNN twins (papers/sr/reference_torch.py): FSRCNN's deconvolution geometry is derived in
the twin, so both placements (centred, corner) and every scale are checked against the suite's FSRCNN;
SRCNN pads only at test time; the authors' MATLAB weights start both sides (skips without
../shared/official). Needs torch and reprod_log (the test extra)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import paddle
import pytest

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")

import ppcls_repro.alignment_references  # noqa: E402,F401
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.engine.alignment import SuiteSide, align, build_problem, find_reference, run_alignment  # noqa: E402
from ppcls_repro.papers.sr.reference_torch import TorchFSRCNN, TorchSRCNN  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
OFFICIAL = REPO.parent / "shared" / "official"


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("alignment", ["centred", "corner"])
def test_fsrcnn_twin_matches_the_suite_in_both_deconvolution_geometries(scale, alignment, tmp_path):
    overrides = [f"{key}={scale}" for key in ("Arch.scale", "Metric.scale", "DataLoader.Train.dataset.scale",
                                              "DataLoader.Eval.dataset.scale")]
    overrides += ["Arch.d=8", "Arch.s=4", "Arch.m=1", f"Arch.deconv_alignment={alignment}",
                 "Arch.padding_mode=replicate"]
    cfg = load_config(REPO / "configs" / "fsrcnn_x3.yaml", overrides)
    reference = find_reference("FSRCNN")(copy.deepcopy(cfg), None)
    problem = build_problem(cfg, reference, steps=1, batch_size=2, steps_per_epoch=1)
    summary = align(problem, lambda p: SuiteSide(p).implementation(), reference.implementation, tmp_path, "t", False)
    assert summary["checks"]["forward"]["output_shape"] == [2, 1, 12 * scale, 12 * scale]
    assert summary["passed"], summary["checks"]


def test_the_two_geometries_differ_where_they_should():
    x = torch.rand(1, 1, 6, 6)
    outputs = {}
    for alignment in ("centred", "corner"):
        torch.manual_seed(0)
        outputs[alignment] = TorchFSRCNN(3, 8, 4, 1, deconv_alignment=alignment)(x)
    assert outputs["centred"].shape == outputs["corner"].shape == (1, 1, 18, 18)
    # the corner placement is the centred one moved by one HR pixel at x3
    assert torch.allclose(outputs["centred"][..., 1:, 1:], outputs["corner"][..., :-1, :-1], atol=1e-6)


def test_srcnn_twin_is_unpadded_in_training_and_keeps_the_size_in_eval():
    net = TorchSRCNN()
    x = torch.rand(1, 1, 33, 33)
    assert net.train()(x).shape == (1, 1, 21, 21)
    assert net.eval()(x).shape == (1, 1, 33, 33)


def test_the_authors_srcnn_weights_start_both_sides(tmp_path):
    weights = OFFICIAL / "SRCNN_9-1-5_91images_x3.mat"
    if not weights.is_file():
        pytest.skip(f"the authors' SRCNN weights are not at {weights}")
    cfg = load_config(REPO / "configs" / "srcnn.yaml", ["DataLoader.Train.dataset.input_size=19",
                                                        "DataLoader.Train.dataset.label_size=7"])
    summary = run_alignment(cfg, "configs/srcnn.yaml", tmp_path, steps=2, batch_size=2, weights_file=weights)
    assert summary["passed"] and summary["independent"] is False, summary["checks"]
    assert "authors' weights" in summary["reference"]
    start = np.load(tmp_path / "forward_paddle.npy", allow_pickle=True).item()["output"]
    assert start.shape == (2, 1, 24, 24) and paddle.get_default_dtype() == "float32"


# --- the authors' MATLAB procedure (papers/sr/matlab.py) as a fourth check with --weights FILE.mat --------

def _synthetic_srcnn_mat(path: Path) -> Path:
    import scipy.io
    rng = np.random.default_rng(0)
    scipy.io.savemat(path, {"weights_conv1": rng.normal(0, 0.1, (81, 6)), "biases_conv1": rng.normal(0, 0.1, (6, 1)),
                            "weights_conv2": rng.normal(0, 0.1, (6, 1, 4)), "biases_conv2": rng.normal(0, 0.1, (4, 1)),
                            "weights_conv3": rng.normal(0, 0.1, (4, 25)), "biases_conv3": rng.normal(0, 0.1, (1, 1))})
    return path


def test_a_mat_file_adds_the_authors_procedure_check_and_a_wrong_filter_order_fails_it(tmp_path, monkeypatch):
    mat = _synthetic_srcnn_mat(tmp_path / "x3.mat")
    cfg = load_config(REPO / "configs" / "srcnn.yaml")
    summary = run_alignment(cfg, "configs/srcnn.yaml", tmp_path / "ok", steps=1, batch_size=2, weights_file=mat)
    check = summary["checks"]["authors_procedure"]
    assert summary["passed"] and check["passed"] and check["max_abs_diff"] < 1e-5, check
    from ppcls_repro.papers.sr import matlab
    monkeypatch.setattr(matlab, "matlab_filter", lambda column, size: column.reshape(size, size))  # C order
    wrong = run_alignment(cfg, "configs/srcnn.yaml", tmp_path / "wrong", steps=1, batch_size=2, weights_file=mat)
    assert not wrong["checks"]["authors_procedure"]["passed"] and not wrong["passed"]
    assert wrong["checks"]["forward"]["passed"]  # the twins still agree with each other
    assert "authors_procedure" not in run_alignment(cfg, "configs/srcnn.yaml", tmp_path / "none", steps=1,
                                                    batch_size=2)["checks"]


@pytest.mark.parametrize("config, name", [("srcnn.yaml", "SRCNN_9-1-5_91images_x3.mat"),
                                          ("fsrcnn_x3.yaml", "FSRCNN_x3.mat"), ("fsrcnn_s_x3.yaml", "FSRCNN-s_x3.mat")])
def test_the_authors_files_equal_their_matlab_procedure(tmp_path, config, name):
    if not (OFFICIAL / name).is_file():
        pytest.skip(f"the authors' {name} is not on this machine (../shared/official)")
    cfg = load_config(REPO / "configs" / config)
    summary = run_alignment(cfg, f"configs/{config}", tmp_path, steps=1, batch_size=2, weights_file=OFFICIAL / name)
    check = summary["checks"]["authors_procedure"]
    assert check["passed"] and check["max_abs_diff"] < 1e-5, check
