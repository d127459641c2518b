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
