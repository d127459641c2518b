"""DSCMR's PyTorch twin (papers/dscmr/reference_torch.py): the suite's RetrievalStep aligns with it, and
each check fails when the twin differs in one term (a loss weight: backward; Adam's beta1: train; the
shared common layer replaced by one per modality's weights: forward). The configs' own alignment is in
tests/engine/test_alignment.py. Needs torch and reprod_log (the test extra)."""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")

import ppcls_repro.alignment_references  # noqa: E402,F401
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.engine.alignment import align, build_problem  # noqa: E402
from ppcls_repro.papers.dscmr.reference_torch import DSCMRTwin  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SMALL = ["Arch.image_dim=24", "Arch.text_dim=10", "Arch.hidden_dim=16", "Arch.common_dim=8", "Arch.num_classes=4"]


def _align(tmp_path: Path, *twin_overrides: str, weights=None) -> dict:
    cfg = load_config(REPO / "configs" / "dscmr_synthetic.yaml", SMALL)
    reference = DSCMRTwin(copy.deepcopy(cfg), None)
    problem = build_problem(cfg, reference, steps=3, batch_size=6, steps_per_epoch=1)
    twin_cfg = load_config(REPO / "configs" / "dscmr_synthetic.yaml", [*SMALL, *twin_overrides])

    def twin(p):
        changed = {"cfg": twin_cfg} if twin_overrides else {}
        if weights:
            changed["weights"] = weights(p.weights)
        return reference.implementation(dataclasses.replace(p, **changed))
    return align(problem, reference.suite_implementation, twin, tmp_path, "test", False)


def test_the_twin_aligns(tmp_path):
    summary = _align(tmp_path)
    assert summary["passed"], summary["checks"]
    assert summary["checks"]["backward"]["parameters"] == 8  # weight and bias of 4 Linear layers


def test_another_j2_weight_fails_backward_and_another_beta1_fails_train(tmp_path):
    alpha = _align(tmp_path / "alpha", "Loss.alpha=0.01")
    assert alpha["checks"]["forward"]["passed"] and not alpha["checks"]["backward"]["passed"]
    beta1 = _align(tmp_path / "beta1", "Optimizer.beta1=0.9")
    assert beta1["checks"]["backward"]["passed"] and not beta1["checks"]["train"]["passed"]


def test_swapped_modality_branches_fail_forward(tmp_path):
    def swapped(weights):
        out = dict(weights)
        out["text_branch.bias"], out["image_branch.bias"] = weights["image_branch.bias"], weights["text_branch.bias"]
        return out
    summary = _align(tmp_path, weights=swapped)
    assert not summary["checks"]["forward"]["passed"]
