"""Alignment with a PyTorch reference (engine/alignment.py, tools/align.py): every covered config aligns,
and each kind of check fails when one side is deliberately wrong (a weight mapping, a loss scale, an
optimiser setting). Needs the test extra (torch, reprod_log), else skips; the package itself never
imports torch (checked without either)."""
from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ppcls_repro.config import load_config
from ppcls_repro.engine.alignment import (AlignmentError, Implementation, Problem, SuiteSide, align, build_problem,
                                          find_reference, relative_diff, run_alignment)
from ppcls_repro.registry import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_the_package_never_imports_torch():
    code = ("import sys, ppcls_repro.plugins, ppcls_repro.engine.alignment, ppcls_repro.cli; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_relative_diff_is_scaled_by_the_reference():
    assert relative_diff(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_diff(np.array([101.0, 0.0]), np.array([100.0, 0.0])) == pytest.approx(0.01)
    assert relative_diff(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(AlignmentError, match="shapes differ"):
        relative_diff(np.zeros(3), np.zeros(4))


torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")
import ppcls_repro.alignment_references  # noqa: E402,F401  (registers the references: imports torch)


def covered_configs() -> list[str]:
    names = []
    for path in sorted((REPO / "configs").glob("*.yaml")):
        if find_reference(yaml.safe_load(path.read_text())["Arch"]["name"]) is not None:
            names.append(path.name)
    return names


# The deep nets are checked smaller here (same blocks: depth 20, ResNet-18 for 34, bottlenecks 8 wide
# per group; seconds, not minutes); the README's table has every config at its own size (tools/align.py).
FAST = {"resnet110_cifar10.yaml": ["Arch.depth=20"], "se_resnet110_cifar10.yaml": ["Arch.depth=20"],
        "resnet56_cifar10.yaml": ["Arch.depth=20"], "resnet44_cifar10.yaml": ["Arch.depth=20"],
        "dncnn_b.yaml": ["Arch.depth=8"], "resnet34_imagenet.yaml": ["Arch.depth=18"],
        "resnet50_imagenet.yaml": ["Arch.width_per_group=8", "Optimizer.lr.learning_rate=0.01"],
        "se_resnet50_imagenet.yaml": ["Arch.width_per_group=8", "Optimizer.lr.learning_rate=0.01"],
        "hybridsn_ip.yaml": ["Arch.bands=15", "Arch.window=11"],
        "hybridsn_ip_synthetic.yaml": ["Arch.bands=15", "Arch.window=11"],
        "dscmr_pascal.yaml": ["Arch.image_dim=64", "Arch.text_dim=16", "Arch.hidden_dim=32", "Arch.common_dim=8"],
        "dscmr_synthetic.yaml": ["Arch.image_dim=64", "Arch.text_dim=16", "Arch.hidden_dim=32", "Arch.common_dim=8"]}
# (the bottleneck nets at lr 0.01: at 0.1 and 0.6 one step on 2 random images makes logit gaps > 64, where
# Paddle's cross entropy saturates at 64 per sample and PyTorch's does not: tests/papers/resnet)


def test_every_config_has_a_reference():
    names = covered_configs()
    assert {"srcnn.yaml", "fsrcnn_x3.yaml", "fsrcnn_s_x3.yaml", "dncnn_s25.yaml", "resnet20_cifar10.yaml",
            "resnet20_mnist.yaml", "se_resnet110_cifar10.yaml", "hybridsn_ip.yaml"} <= set(names)
    assert {"resnet50_imagenet.yaml", "se_resnet50_imagenet.yaml", "hybridsn_ip_synthetic.yaml"} <= set(names)
    assert names == sorted(path.name for path in (REPO / "configs").glob("*.yaml"))  # every config


@pytest.mark.parametrize("name", covered_configs())
def test_every_covered_config_aligns(name, tmp_path):
    cfg = load_config(REPO / "configs" / name, FAST.get(name, []))
    summary = run_alignment(cfg, f"configs/{name}", tmp_path, steps=2, batch_size=2)
    assert summary["passed"], json.dumps(summary["checks"], indent=1)
    for kind in ("forward", "backward", "train"):
        assert (tmp_path / f"{kind}_diff.log").is_file()
        assert (tmp_path / f"{kind}_paddle.npy").is_file() and (tmp_path / f"{kind}_ref.npy").is_file()
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["independent"] is False and set(written["checks"]) == {"forward", "backward", "train"}
    assert written["checks"]["backward"]["parameters"] > 0


def generator_only_config(folder: Path) -> Path:
    """SRCNN's config with a GAN generator as its network: a model no reference covers."""
    cfg = yaml.safe_load((REPO / "configs" / "srcnn.yaml").read_text())
    cfg["Arch"] = {"name": "Generator"}
    path = folder / "generator.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_config_without_a_reference_is_one_line_naming_the_covered_ones(tmp_path):
    cfg = load_config(generator_only_config(tmp_path))
    with pytest.raises(ConfigError, match=r"Generator .*no alignment reference yet; configs with one: .*srcnn\.yaml"):
        run_alignment(cfg, REPO / "configs" / "srcnn.yaml", tmp_path)


# --- each check fails when one side is wrong --------------------------------------------------------

def _fsrcnn_problem() -> tuple[dict, Problem, object]:
    """A small FSRCNN (d 8, s 4, m 1) with the x3 config's optimiser: Adam, deconv lr x 0.1."""
    cfg = load_config(REPO / "configs" / "fsrcnn_x3.yaml", ["Arch.d=8", "Arch.s=4", "Arch.m=1"])
    reference = find_reference("FSRCNN")(copy.deepcopy(cfg), None)
    return cfg, build_problem(cfg, reference, steps=3, batch_size=2, steps_per_epoch=1), reference


def _run(problem: Problem, reference, out: Path, wrong: dict) -> dict:
    """The alignment with the reference side built for a changed problem (``wrong``)."""
    return align(problem, lambda p: SuiteSide(p).implementation(),
                 lambda p: reference.implementation(dataclasses.replace(p, **wrong)), out, "test", False)


def test_the_unchanged_reference_passes(tmp_path):
    _, problem, reference = _fsrcnn_problem()
    assert _run(problem, reference, tmp_path, {})["passed"]


def test_a_wrong_weight_mapping_fails_forward(tmp_path):
    _, problem, reference = _fsrcnn_problem()
    weights = dict(problem.weights)  # kernels copied with rows and columns swapped (a MATLAB-order mistake)
    weights["extract.conv.weight"] = np.ascontiguousarray(weights["extract.conv.weight"].transpose(0, 1, 3, 2))
    checks = _run(problem, reference, tmp_path, {"weights": weights})["checks"]
    assert not checks["forward"]["passed"] and checks["forward"]["max_abs_diff"] > 1e-3


def test_a_scaled_loss_fails_backward(tmp_path):
    _, problem, reference = _fsrcnn_problem()

    def scaled(p: Problem) -> Implementation:
        side = reference.implementation(p)
        return dataclasses.replace(side, gradients=lambda batch: _scale(side.gradients(batch), 1.001))
    summary = align(problem, lambda p: SuiteSide(p).implementation(), scaled, tmp_path, "test", False)
    assert summary["checks"]["forward"]["passed"]
    assert not summary["checks"]["backward"]["passed"]
    assert summary["checks"]["backward"]["max_rel_diff"] == pytest.approx(1e-3, rel=1e-3)
    assert "check failed" in (tmp_path / "backward_diff.log").read_text()


def _scale(result: tuple[float, dict], factor: float) -> tuple[float, dict]:
    loss, grads = result
    return loss * factor, {k: v * factor for k, v in grads.items()}


@pytest.mark.parametrize("setting", [{"param_lr": {}}, {"beta1": 0.8}])
def test_a_wrong_optimiser_setting_fails_train(tmp_path, setting):
    cfg, problem, reference = _fsrcnn_problem()
    wrong = copy.deepcopy(problem.cfg)
    wrong["Optimizer"].update(setting)  # the reference without the deconvolution's 0.1, or another beta1
    checks = _run(problem, reference, tmp_path, {"cfg": wrong})["checks"]
    assert checks["forward"]["passed"] and checks["backward"]["passed"]
    assert not checks["train"]["passed"] and checks["train"]["max_rel_diff"] > 1e-3


def test_a_wrong_momentum_and_weight_decay_fail_train_for_resnet(tmp_path):
    cfg = load_config(REPO / "configs" / "resnet20_cifar10.yaml", ["Arch.depth=8"])
    reference = find_reference("CifarResNet")(copy.deepcopy(cfg), None)
    problem = build_problem(cfg, reference, steps=3, batch_size=2, steps_per_epoch=1)
    assert _run(problem, reference, tmp_path / "ok", {})["passed"]
    for key, value in (("momentum", 0.0), ("weight_decay", 0.0)):
        wrong = copy.deepcopy(problem.cfg)
        wrong["Optimizer"][key] = value
        assert not _run(problem, reference, tmp_path / key, {"cfg": wrong})["checks"]["train"]["passed"], key


def test_the_tool_exits_0_on_success_and_1_with_one_line_without_a_reference(tmp_path):
    tool = [sys.executable, str(REPO / "tools" / "align.py"), "-c", str(REPO / "configs" / "srcnn.yaml"),
            "--out", str(tmp_path / "ok"), "--steps", "2", "--batch-size", "2", "-o", "Arch.channels=[8,4]"]
    done = subprocess.run(tool, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "train" in done.stdout and "passed" in done.stdout
    assert json.loads((tmp_path / "ok" / "summary.json").read_text())["passed"] is True
    missing = subprocess.run([sys.executable, str(REPO / "tools" / "align.py"), "-c",
                              str(generator_only_config(tmp_path)), "--out", str(tmp_path / "no")],
                             capture_output=True, text=True, cwd=REPO)
    assert missing.returncode == 1 and missing.stderr.strip().count("\n") == 0
    assert "no alignment reference yet" in missing.stderr and "SRCNN" in missing.stderr


@pytest.mark.parametrize("node", [
    {"name": "Constant", "learning_rate": 0.01},
    {"name": "Piecewise", "learning_rate": 0.1, "decay_iters": [3, 6], "gamma": 0.1},
    {"name": "Piecewise", "learning_rate": 0.1, "decay_epochs": [1.5], "warmup_iters": 2, "warmup_lr": 0.01},
    {"name": "Piecewise", "learning_rate": 0.1, "decay_iters": [6], "warmup_iters": 3, "warmup_lr": 0.01,
     "warmup_mode": "constant"},
    {"name": "Cosine", "learning_rate": 0.1, "eta_min": 0.001, "warmup_iters": 2, "warmup_lr": 0.0},
])
def test_the_reference_schedule_follows_the_suites(node):
    """The PyTorch side computes each iteration's lr itself; the suite's schedule steps after each update."""
    from ppcls_repro.engine.reference_torch import lr_at
    from ppcls_repro.registry import LR_SCHEDULERS

    schedule = LR_SCHEDULERS.build(node, "Optimizer.lr", steps_per_epoch=2, epochs=4)
    reference = lr_at(node, steps_per_epoch=2, epochs=4)
    for t in range(10):
        assert reference(t) == pytest.approx(float(schedule()), rel=1e-9, abs=1e-12), t
        schedule.step()
