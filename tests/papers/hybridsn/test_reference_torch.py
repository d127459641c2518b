"""HybridSN's PyTorch twin (papers/hybridsn/reference_torch.py): the paper's parameter count, and the
fold order it shares with the suite: a depth-major twin (the Keras order) fails the forward check on
the same weights. The configs' own alignment is in tests/engine/test_alignment.py. Needs torch and
reprod_log (the test extra)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")

import ppcls_repro.alignment_references  # noqa: E402,F401
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.engine.alignment import SuiteSide, align, build_problem  # noqa: E402
from ppcls_repro.engine.reference_torch import TorchSide, generic_loss  # noqa: E402
from ppcls_repro.papers.hybridsn.reference_torch import HybridSNTwin, TorchHybridSN  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "configs" / "hybridsn_ip.yaml"


def test_the_twin_has_the_papers_parameter_count():
    # Section II's table for Indian Pines: 30 PCA bands, 25x25 windows, 16 classes
    assert sum(p.numel() for p in TorchHybridSN(16, 30, 25, 0.4).parameters()) == 5_122_176


class DepthMajorHybridSN(TorchHybridSN):
    """The Keras code's fold: depth-major channels (d * C + c)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.conv3d:
            x = torch.relu(conv(x))
        n, c, d, h, w = x.shape
        x = x.permute(0, 2, 1, 3, 4).reshape(n, d * c, h, w)
        x = torch.flatten(torch.relu(self.conv2d(x)), 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def _problem():
    cfg = load_config(CONFIG, ["Arch.bands=15", "Arch.window=11"])
    reference = HybridSNTwin(copy.deepcopy(cfg), None)
    return build_problem(cfg, reference, steps=2, batch_size=2, steps_per_epoch=1), reference


def test_the_twin_aligns_and_a_depth_major_fold_fails_forward(tmp_path):
    problem, reference = _problem()
    suite = lambda p: SuiteSide(p).implementation()  # noqa: E731
    assert align(problem, suite, reference.implementation, tmp_path / "ok", "twin", False)["passed"]

    def depth_major(p):
        return TorchSide(lambda: DepthMajorHybridSN(16, 15, 11, 0.0), lambda key: key,
                         generic_loss(p.cfg["Loss"]), p).implementation()
    summary = align(problem, suite, depth_major, tmp_path / "keras", "depth-major", False)
    assert not summary["checks"]["forward"]["passed"]
    assert summary["checks"]["forward"]["max_abs_diff"] > 100 * summary["checks"]["forward"]["threshold"]


def test_dropout_is_off_on_both_sides_and_authors_weights_are_refused():
    problem, _ = _problem()
    assert problem.cfg["Arch"]["dropout"] == 0.0
    with pytest.raises(Exception, match="--weights: HybridSN has no authors' weight file"):
        HybridSNTwin(load_config(CONFIG), Path("model.h5"))
