"""The training-speed table (ppcls_repro/train_speed.py, tools/benchmark_train.py): every row builds the
suite's step and its PyTorch twin with equal parameter counts and times both; a twin that trains another
network is refused. One iteration, one round: these check the code, not the speed."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.engine.reference_torch import generic_loss, torch_train_side  # noqa: E402
from ppcls_repro.engine.speed import SpeedError, markdown_table, measure, measure_table  # noqa: E402
from ppcls_repro.papers.sr.reference_torch import TorchSRCNN, suite_key  # noqa: E402
from ppcls_repro.train_speed import NETS, speed_cases  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LABELS = ["SRCNN 9-1-5, 16 x 33x33", "SRCNN 9-1-5, 128 x 33x33", "FSRCNN (56,12,4) x3, 128 x 7x7",
          "ResNet-20, 128 x 3x32x32", "DnCNN-S, 32 x 40x40", "GAN (G + maxout D), 100"]
# trainable parameters of each row's network (the papers' counts: SRCNN 8,129; FSRCNN 12,464 + PReLU slopes)
PARAMETERS = [8129, 8129, 12809, 269722, 556096, 3735425]


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # the rows name their configs relative to the repository, as the tools run


def test_every_row_times_both_sides_of_the_same_network(in_repo):
    results = measure_table(speed_cases(), [1], iters=1, rounds=1, warmup=0)
    assert [r.case.label for r in results] == LABELS
    assert [r.parameters for r in results] == PARAMETERS
    assert {r.case.net for r in results} == set(NETS)
    for result in results:
        assert list(result.rounds) == ["paddle", "torch"]
        assert all(math.isfinite(s) and s > 0 for speeds in result.rounds.values() for s in speeds)
    lines = markdown_table(results)
    assert len(lines) == 2 + 6 and all(line.startswith(f"| {label} | ") for line, label in zip(lines[2:], LABELS))


def test_a_twin_with_another_parameter_count_is_refused(in_repo):
    (case,) = speed_cases(["srcnn"], batch_size=2)
    cfg = load_config("configs/srcnn.yaml")
    rng = np.random.default_rng(0)
    batch = (rng.random((2, 1, 33, 33), dtype=np.float32), rng.random((2, 1, 21, 21), dtype=np.float32))
    # one conv2 filter fewer: 64 weights + 1 bias + 25 conv3 weights fewer (8,039)
    case.sides["torch"] = lambda threads: torch_train_side(TorchSRCNN(channels=(64, 31)), suite_key,
                                                           generic_loss(cfg["Loss"]), cfg, batch, threads)
    with pytest.raises(SpeedError, match=r"SRCNN 9-1-5, 2 x 33x33: the sides train different networks, "
                                         r"trainable parameters paddle 8,129, torch 8,039"):
        measure(case, threads=1, iters=1, rounds=1)


def test_batch_size_and_overrides_apply_to_the_chosen_rows(in_repo):
    cases = speed_cases(["srcnn", "resnet"], batch_size=4, overrides=[])
    assert [c.label for c in cases] == ["SRCNN 9-1-5, 4 x 33x33", "ResNet-20, 4 x 3x32x32"]
    (resnet,) = speed_cases(["resnet"], overrides=["Arch.in_channels=1", "Arch.depth=8"])
    assert resnet.label == "ResNet-8, 128 x 32x32"


def test_the_tool_prints_the_table_with_the_machine():
    proc = subprocess.run([sys.executable, "tools/benchmark_train.py", "--net", "gan", "--net", "fsrcnn",
                           "--threads", "1", "--iters", "1", "--rounds", "1", "--warmup", "0",
                           "--round-seconds", "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert "cores" in lines[0] and "PyTorch 2.13.0" in lines[0]
    assert "| net, batch | Paddle / PyTorch samples/s, 1 thread |" in lines
    assert [line.split(" | ")[0] for line in lines if line.startswith("| FSRCNN") or line.startswith("| GAN")] == \
        ["| FSRCNN (56,12,4) x3, 128 x 7x7", "| GAN (G + maxout D), 100"]


def test_the_tool_refuses_a_bad_override_in_one_line():
    proc = subprocess.run([sys.executable, "tools/benchmark_train.py", "--net", "srcnn", "-o", "Arch.depth=8",
                           "--iters", "1", "--rounds", "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
