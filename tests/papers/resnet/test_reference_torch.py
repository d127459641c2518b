"""ResNet twins (papers/resnet/reference_torch.py): the parameter counts of the paper's nets, and
alignment of what the configs do not use (option B and 1-channel CIFAR nets, another SE ratio, the
"v1.5" bottleneck, grouped bottlenecks); the configs' own alignment is in tests/engine/test_alignment.py. Needs torch and reprod_log (the test extra)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")

import ppcls_repro.alignment_references  # noqa: E402,F401
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.engine.alignment import run_alignment  # noqa: E402
from ppcls_repro.papers.resnet.reference_torch import TorchCifarResNet, TorchResNet  # noqa: E402
from ppcls_repro.registry import MODELS  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("depth, millions", [(20, 0.27), (56, 0.85), (110, 1.7)])
def test_the_twin_has_the_papers_parameter_counts(depth, millions):
    twin = TorchCifarResNet(depth)
    suite = MODELS.build({"name": "CifarResNet", "depth": depth}, "Arch")
    count = sum(p.numel() for p in twin.parameters())
    assert count == sum(int(p.size) for p in suite.parameters() if not p.stop_gradient)
    assert round(count / 1e6, 2 if millions < 1 else 1) == millions


@pytest.mark.parametrize("overrides", [["Arch.shortcut=B"], ["Arch.in_channels=1"]])
def test_option_b_and_one_channel_inputs_align(overrides, tmp_path):
    cfg = load_config(REPO / "configs" / "resnet20_cifar10.yaml", ["Arch.depth=8", *overrides])
    summary = run_alignment(cfg, "configs/resnet20_cifar10.yaml", tmp_path, steps=2, batch_size=2)
    assert summary["passed"], summary["checks"]


def test_se_blocks_align_with_another_reduction(tmp_path):
    cfg = load_config(REPO / "configs" / "se_resnet110_cifar10.yaml", ["Arch.depth=8", "Arch.reduction=4"])
    summary = run_alignment(cfg, "configs/se_resnet110_cifar10.yaml", tmp_path, steps=2, batch_size=2)
    assert summary["passed"] and "SECifarResNet" in summary["reference"], summary["checks"]
    assert summary["checks"]["backward"]["parameters"] > 30


@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
def test_the_imagenet_twin_has_the_suites_parameter_count(depth):
    twin = TorchResNet(depth)
    suite = MODELS.build({"name": "ResNet", "depth": depth}, "Arch")
    assert sum(p.numel() for p in twin.parameters()) == sum(int(p.size) for p in suite.parameters() if not p.stop_gradient)


@pytest.mark.parametrize("overrides", [["Arch.stride_in_1x1=false"], ["Arch.groups=2", "Arch.width_per_group=4"]])
def test_imagenet_bottleneck_variants_align(overrides, tmp_path):
    # lr 0.01: at the config's 0.1, one step on a random 2-image batch makes logit gaps > 64, where Paddle's
    # cross entropy saturates at 64 per sample (test below) and PyTorch's does not
    cfg = load_config(REPO / "configs" / "resnet50_imagenet.yaml",
                      ["Arch.width_per_group=8", "Optimizer.lr.learning_rate=0.01", *overrides])
    summary = run_alignment(cfg, "configs/resnet50_imagenet.yaml", tmp_path, steps=2, batch_size=2)
    assert summary["passed"], summary["checks"]


def test_paddles_cross_entropy_saturates_at_64_where_pytorchs_does_not():
    """A kernel difference the train check meets after a large step (measured, README "Alignment")."""
    import paddle

    logits, label = np.array([[100.0, 0.0, 0.0]], np.float32), np.array([1])
    paddle_loss = float(paddle.nn.functional.cross_entropy(paddle.to_tensor(logits), paddle.to_tensor(label)))
    torch_loss = float(torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(label)))
    assert paddle_loss == pytest.approx(64.0) and torch_loss == pytest.approx(100.0)
