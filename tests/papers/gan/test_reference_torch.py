"""The GAN's PyTorch twin (papers/gan/reference_torch.py): the same networks as model.py (equal outputs
from the same weights), the same parameter count, and AdversarialStep's update order and schedules."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.registry import STEPS

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
from ppcls_repro.engine.reference_torch import load_suite_weights  # noqa: E402
from ppcls_repro.papers.gan.reference_torch import TorchAdversarialStep, gan_speed_case  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


def gan_config(*overrides: str) -> dict:
    return load_config(REPO / "configs/gan_mnist.yaml", ["DataLoader.Train.sampler.batch_size=8", *overrides])


def test_the_twin_computes_what_the_suites_networks_compute():
    cfg = gan_config()
    paddle.seed(0)
    suite = STEPS.get("AdversarialStep").from_config(cfg, steps_per_epoch=10)
    twin = TorchAdversarialStep(cfg)
    for net in ("generator", "discriminator"):
        weights = {k: v.numpy() for k, v in getattr(suite.gan, net).state_dict().items()}
        load_suite_weights(twin.nets[net], weights, lambda key: key)
    suite.gan.eval()
    for net in twin.nets.values():
        net.eval()  # no dropout: the outputs are deterministic
    z = np.random.default_rng(0).standard_normal((4, 100)).astype(np.float32)
    images = suite.gan.generator(paddle.to_tensor(z))
    with torch.no_grad():
        twin_images = twin.nets["generator"](torch.from_numpy(z))
    np.testing.assert_allclose(twin_images.numpy(), images.numpy(), atol=1e-6)
    logits = suite.gan.discriminator(images).numpy()
    with torch.no_grad():
        twin_logits = twin.nets["discriminator"](twin_images).numpy()
    np.testing.assert_allclose(twin_logits, logits, atol=1e-6)
    trainable = sum(int(v.size) for v in suite.weights().values() if not v.stop_gradient)
    assert twin.parameters() == trainable == (100 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 784 + 784
                                              + 784 * 1200 + 1200 + 240 * 1200 + 1200 + 240 + 1)


def _snapshot(step: TorchAdversarialStep) -> dict[str, list[torch.Tensor]]:
    return {net: [p.detach().clone() for p in module.parameters()] for net, module in step.nets.items()}


def _moved(before: dict, step: TorchAdversarialStep, net: str) -> bool:
    return any(not torch.equal(a, p) for a, p in zip(before[net], step.nets[net].parameters()))


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
def test_the_twin_step_updates_d_every_iteration_and_g_every_kth(update):
    step = TorchAdversarialStep(gan_config("Step.k=2", f"Step.update={update}"))
    step.train()
    step.set_epoch(1)
    real = torch.rand(8, 1, 28, 28)
    before = _snapshot(step)
    logged = step.train_step(real)
    assert set(logged) == {"d_loss", "g_loss", "d_real", "d_fake"} and all(np.isfinite(list(logged.values())))
    assert _moved(before, step, "discriminator") and not _moved(before, step, "generator")
    before = _snapshot(step)
    step.train_step(real)
    assert _moved(before, step, "discriminator") and _moved(before, step, "generator")
    assert step.updates == {"generator": 2, "discriminator": 2}  # both schedules count loop iterations
    assert step.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(0.1 / 1.000004)  # the 2nd update's


def test_the_momentum_follows_the_epoch():
    step = TorchAdversarialStep(gan_config())
    step.set_epoch(250)
    assert step.optimizers["discriminator"].param_groups[0]["momentum"] == pytest.approx(0.7)


def test_the_speed_case_pairs_adversarial_step_with_the_twin():
    case = gan_speed_case(gan_config())
    assert case.label == "GAN (G + maxout D), 8" and case.samples == 8
    sides = {name: build(1) for name, build in case.sides.items()}
    assert sides["paddle"].parameters == sides["torch"].parameters
    for side in sides.values():
        assert np.isfinite(side.run()["d_loss"])


# --- alignment (tools/align.py): the twin replays the suite's noise and dropout masks ---------------------

def _gan_alignment(tmp_path, suite_overrides=(), twin_overrides=(), patch=None):
    import copy

    pytest.importorskip("reprod_log", reason="reprod_log is only in the test extra (pip install reprod_log==1.0.1)")
    from ppcls_repro.engine.alignment import align, build_problem
    from ppcls_repro.papers.gan.reference_torch import GANReference
    small = ["Arch.generator.hidden=[32,32]", "Arch.discriminator.units=[16,16]"]
    cfg = gan_config(*small, *suite_overrides)
    reference = GANReference(copy.deepcopy(cfg), None)
    problem = build_problem(cfg, reference, steps=3, batch_size=6, steps_per_epoch=1)
    twin_cfg = gan_config(*small, *twin_overrides)

    def twin(p):
        return reference.implementation(dataclasses.replace(p, cfg=twin_cfg) if twin_overrides else p)
    return align(problem, reference.suite_implementation, twin, tmp_path, "test", False)


import dataclasses  # noqa: E402


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
def test_both_update_orders_align_with_the_same_draws(tmp_path, update):
    summary = _gan_alignment(tmp_path, [f"Step.update={update}"], [f"Step.update={update}"])
    assert summary["passed"], summary["checks"]
    assert summary["checks"]["backward"]["parameters"] == 12  # weight and bias of G's 3 layers and D's 3
    assert summary["checks"]["train"]["steps"] == 3


def test_dropout_without_its_1_over_keep_scaling_fails_backward(tmp_path, monkeypatch):
    from ppcls_repro.papers.gan import reference_torch

    def unscaled(self, x):
        if not self.training or self.keep == 1.0:
            return x
        return x * torch.from_numpy(self.tape.replay(tuple(x.shape))).to(x.dtype)
    monkeypatch.setattr(reference_torch._ReplayedDropout, "forward", unscaled)
    summary = _gan_alignment(tmp_path)
    assert summary["checks"]["forward"]["passed"]  # eval mode: no dropout
    assert not summary["checks"]["backward"]["passed"] and not summary["checks"]["train"]["passed"]


def test_another_generator_loss_fails_backward_and_another_momentum_fails_train(tmp_path):
    minimax = _gan_alignment(tmp_path / "loss", twin_overrides=["Step.generator_loss=minimax"])
    assert minimax["checks"]["forward"]["passed"] and not minimax["checks"]["backward"]["passed"]
    momentum = _gan_alignment(tmp_path / "momentum", twin_overrides=["Optimizer.discriminator.momentum=0.7"])
    assert momentum["checks"]["backward"]["passed"] and not momentum["checks"]["train"]["passed"]


def test_a_twin_stepping_in_another_order_is_one_line_naming_the_draw(tmp_path):
    from ppcls_repro.registry import ConfigError
    with pytest.raises(ConfigError, match="draw .* is not the suite's .*another order"):
        _gan_alignment(tmp_path, ["Step.update=simultaneous"], ["Step.update=alternating"])
