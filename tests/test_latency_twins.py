"""The PyTorch twins of the latency table (ppcls_repro/latency_twins.py): each exported net's twin, holding
the suite's weights, computes what the exported network computes (a classifier's softmax included),
eager and as torch.jit; a twin with one wrong convolution fails the agreement check."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import paddle
import pytest

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
from ppcls_repro.config import load_config  # noqa: E402
from ppcls_repro.deploy.latency import AGREEMENT, AgreementError, check_agreement, exported_branch  # noqa: E402
from ppcls_repro.engine.alignment import perturb_constants  # noqa: E402
from ppcls_repro.engine.setup import build_network  # noqa: E402
from ppcls_repro.latency_twins import torch_runners, torch_twin  # noqa: E402
from ppcls_repro.registry import ConfigError  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# config, a small input of its exported net (batch 2: the batch axis is kept apart)
CASES = [("srcnn.yaml", (2, 1, 20, 22)), ("fsrcnn_x3.yaml", (2, 1, 9, 11)), ("dncnn_s25.yaml", (2, 1, 16, 18)),
         ("resnet20_cifar10.yaml", (2, 3, 32, 32))]


def suite_net(config: str, overrides: list[str] | None = None) -> tuple[dict, paddle.nn.Layer, dict[str, np.ndarray]]:
    """The config's net with its constant tensors (biases, BatchNorm statistics, PReLU slopes) made
    random, so a mapping error in them shows; and those weights as numpy."""
    cfg = load_config(CONFIGS / config, overrides or [])
    paddle.seed(0)
    net = build_network(cfg, None, "init")
    weights = perturb_constants({k: v.numpy() for k, v in net.state_dict().items()}, seed=1)
    net.set_state_dict({k: paddle.to_tensor(v) for k, v in weights.items()})
    net.eval()
    return cfg, net, weights


def exported_output(net: paddle.nn.Layer, x: np.ndarray) -> np.ndarray:
    with paddle.no_grad():
        return exported_branch(net).network(paddle.to_tensor(x)).numpy()


@pytest.mark.parametrize("config, shape", CASES, ids=[c for c, _ in CASES])
def test_each_twin_computes_the_exported_network(config, shape):
    cfg, net, weights = suite_net(config)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    expected = exported_output(net, x)
    runners = torch_runners(torch_twin(cfg, weights), x, threads=1)
    diffs = check_agreement({"paddle": expected, **{name: run() for name, run in runners.items()}})
    assert list(diffs) == ["eager", "jit"] and max(diffs.values()) <= AGREEMENT
    if cfg["Arch"]["name"] == "CifarResNet":  # the softmax the export appends is in the twin too ...
        np.testing.assert_allclose(runners["eager"]().sum(axis=1), 1.0, atol=1e-5)
        # ... and the logits agree (a saturated softmax could hide a wrong weight)
        twin = torch_twin(cfg, weights)
        with paddle.no_grad():
            logits = net(paddle.to_tensor(x)).numpy()
        with torch.inference_mode():
            check_agreement({"paddle": logits, "twin": twin.classifier(torch.from_numpy(x)).numpy()})


def test_a_twin_with_one_wrong_convolution_fails_the_agreement_check():
    cfg, net, weights = suite_net("srcnn.yaml", ["Arch.init=kaiming"])
    x = np.random.default_rng(0).random((1, 1, 20, 20), dtype=np.float32)
    wrong = dict(weights)
    wrong["conv2.weight"] = weights["conv2.weight"].copy()
    wrong["conv2.weight"][0] *= 1.05  # one 1x1 filter of the middle layer 5% too strong
    runners = torch_runners(torch_twin(cfg, wrong), x, threads=1)
    with pytest.raises(AgreementError, match=r"^eager disagrees with paddle by .*: not the same network$"):
        check_agreement({"paddle": exported_output(net, x), "eager": runners["eager"]()})


def test_a_net_without_a_twin_is_a_config_error():
    cfg = load_config(CONFIGS / "gan_mnist.yaml")
    with pytest.raises(ConfigError, match=r"^Arch.name: .* has no PyTorch inference twin"):
        torch_twin(cfg, {})
