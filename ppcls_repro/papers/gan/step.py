"""The adversarial training step of GANs (Goodfellow et al. 2014, Algorithm 1), for the one loop.

``AdversarialStep`` owns a generator and a discriminator (``model.py``), each with its own
optimizer and lr schedule. One loop iteration (one data minibatch of m examples) is one
discriminator update on m real and m generated images; every ``k``-th iteration also updates the
generator (k = 1 in the paper's experiments). ``update`` chooses how the two updates meet:

- ``simultaneous`` (default; the official code that produced Table 1): ``AdversaryCost2`` runs D
  once over the real batch and one generated batch S (one set of dropout masks), takes D's objective
  and G's objective from that same forward pass, and applies both gradients in one SGD step. Each
  network's gradient is that of its own objective only, taken at the parameters before the step.
- ``alternating`` (Algorithm 1 as printed): the D update, then G's update on fresh noise against the
  just-updated D.

Losses (mean over the minibatch, from D's logits in stable log-sigmoid form):
- D: ``d_loss_weight`` x (-log D(x) - log(1 - D(G(z)))); the official ``AdversaryCost2`` uses 0.5
  (the average of the two cross-entropies), the default here; Algorithm 1's sum is 1.0.
- G: ``minimax`` minimises log(1 - D(G(z))) (the value function, Eq. 1); ``non_saturating``
  minimises -log D(G(z)) (Section 3's remedy for early saturation; the official MNIST code uses it).

Schedules (official ``mnist.yaml``): SGD with momentum, lr 0.1 divided by 1.000004 after every
update with a floor of 1e-6 (``ExponentialDecay`` below, stepped once per loop iteration for each
network), momentum 0.5 rising linearly to 0.7 between epochs ``momentum_start`` = 1 and
``momentum_saturate`` = 250 (pylearn2's ``MomentumAdjustor``); the loop calls ``set_epoch``.

Deviations: none in the default. For k > 1 pylearn2 cycles whole costs; here the simultaneous mode
updates G on every k-th iteration's shared forward pass. Paddle's momentum is v = mu v + g,
p -= lr v, pylearn2's v = mu v - lr g, p += v: identical while lr is constant; with lr changing by a
factor 1.000004 per step the difference is negligible.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle.optimizer import lr as lr_lib

from ppcls_repro.engine.checkpoint import optimizer_state, set_optimizer_state, set_weights_strict
from ppcls_repro.engine.optim import build_optimizer, validate_optimizer_node
from ppcls_repro.papers.gan.model import GANPair
from ppcls_repro.registry import LR_SCHEDULERS, MODELS, STEPS, ConfigError, PositiveFloat

NETS = ("generator", "discriminator")


@LR_SCHEDULERS.register
def ExponentialDecay(learning_rate: PositiveFloat, steps_per_epoch: int, epochs: int, decay_factor: float = 1.000004,
                     min_lr: float = 1e-6) -> lr_lib.LRScheduler:
    """lr / decay_factor^t after t updates, never below ``min_lr`` (pylearn2's ``ExponentialDecay``).

    Args:
        learning_rate: learning rate of the first update, > 0 (``mnist.yaml``: 0.1). Required.
        decay_factor: divisor applied to the lr after every update (loop iteration), >= 1; 1 keeps it constant.
            Default: 1.000004.
        min_lr: floor of the lr, >= 0. Default: 1e-6.
    """
    if decay_factor < 1.0 or min_lr < 0 or learning_rate <= 0:
        raise ConfigError(f"Optimizer.lr: ExponentialDecay needs decay_factor >= 1, min_lr >= 0, learning_rate > 0; "
                          f"got {decay_factor}, {min_lr}, {learning_rate}")
    floor = min_lr / learning_rate
    return lr_lib.LambdaDecay(learning_rate, lambda t: max(decay_factor ** (-t), floor))


def momentum_at(epoch: int, initial: float, final: float, start: int, saturate: int) -> float:
    """Linear from ``initial`` at epoch ``start`` to ``final`` at ``saturate``, constant outside."""
    alpha = min(max((epoch - start) / max(saturate - start, 1), 0.0), 1.0)
    return initial + (final - initial) * alpha


@STEPS.register
class AdversarialStep:
    """D and G updates, simultaneous or alternating; see the module docstring. ``eval_model`` is the generator.

    Args:
        k: G is updated on every k-th loop iteration, D on every one, >= 1 (the paper's experiments: 1). Default: 1.
        generator_loss: "non_saturating" (minimise -log D(G(z)); the official MNIST code) or "minimax"
            (minimise log(1 - D(G(z))), Eq. 1). Default: "non_saturating".
        d_loss_weight: factor on D's loss -log D(x) - log(1 - D(G(z))), > 0; 0.5 is the official
            ``AdversaryCost2``, 1.0 Algorithm 1's sum. Default: 0.5.
        final_momentum: momentum both optimizers reach at epoch ``momentum_saturate``, moving linearly from
            their configured ``momentum`` at epoch ``momentum_start`` (epochs 1-based, set before each epoch);
            needs Momentum optimizers; None keeps the momentum fixed. Default: 0.7.
        momentum_start: last epoch with the configured momentum. Default: 1.
        momentum_saturate: first epoch with ``final_momentum``, >= momentum_start (if equal: the epoch after).
            Default: 250.
        update: "simultaneous" (both objectives from one forward pass of D, both steps at once; the official
            code) or "alternating" (D's step, then G's on fresh noise against the updated D). Default: "simultaneous".
    """

    supplied = ("gan", "optimizers", "schedulers")

    def __init__(self, gan: GANPair, optimizers: dict[str, Any], schedulers: dict[str, Any], k: int = 1,
                 generator_loss: Literal["minimax", "non_saturating"] = "non_saturating",
                 d_loss_weight: float = 0.5, final_momentum: float | None = 0.7, momentum_start: int = 1,
                 momentum_saturate: int = 250,
                 update: Literal["simultaneous", "alternating"] = "simultaneous") -> None:
        if k < 1 or d_loss_weight <= 0 or momentum_saturate < momentum_start:
            raise ConfigError(f"Step: k must be >= 1, d_loss_weight > 0, momentum_saturate >= momentum_start; "
                              f"got {k}, {d_loss_weight}, {momentum_start}..{momentum_saturate}")
        self.gan = gan
        self.optimizers = optimizers
        self.schedulers = schedulers
        self.k = k
        self.generator_loss = generator_loss
        self.update = update
        self.d_loss_weight = d_loss_weight
        self.final_momentum = final_momentum
        self.momentum_start, self.momentum_saturate = momentum_start, momentum_saturate
        self.initial_momentum = {n: getattr(o, "_momentum", None) for n, o in optimizers.items()}
        if final_momentum is not None and None in self.initial_momentum.values():
            raise ConfigError("Step.final_momentum: needs Momentum optimizers (set it to null for others)")
        self.iteration = 0  # loop iterations done = discriminator updates
        self.generator_updates = 0

    @staticmethod
    def validate_config(cfg: dict[str, Any]) -> None:
        arch = cfg["Arch"]
        if not isinstance(arch, dict) or arch.get("name") != "GAN" or set(arch) != {"name", *NETS}:
            raise ConfigError("Arch: AdversarialStep expects {name: GAN, generator: {name: ...}, "
                              f"discriminator: {{name: ...}}}}, got keys {sorted(arch) if isinstance(arch, dict) else arch}")
        optimizer = cfg.get("Optimizer")
        if not isinstance(optimizer, dict) or set(optimizer) != set(NETS):
            raise ConfigError("Optimizer: AdversarialStep expects {generator: {name: ..., lr: ...}, "
                              "discriminator: {name: ..., lr: ...}}")
        for net in NETS:
            MODELS.check(arch[net], f"Arch.{net}")
            validate_optimizer_node(optimizer[net], f"Optimizer.{net}")
        if cfg.get("Loss"):
            raise ConfigError("Loss: not used by AdversarialStep (its losses are Step.generator_loss and "
                              "Step.d_loss_weight); remove the section")

    @classmethod
    def from_config(cls, cfg: dict[str, Any], steps_per_epoch: int) -> "AdversarialStep":
        nets = {net: MODELS.build(cfg["Arch"][net], f"Arch.{net}") for net in NETS}
        gan = GANPair(nets["generator"], nets["discriminator"])
        optimizers, schedulers = {}, {}
        for net in NETS:
            optimizers[net], schedulers[net] = build_optimizer(
                cfg["Optimizer"][net], nets[net], steps_per_epoch, cfg["Global"]["epochs"], key=f"Optimizer.{net}")
        own = {k: v for k, v in cfg["Step"].items() if k != "name"}
        return cls(gan=gan, optimizers=optimizers, schedulers=schedulers, **own)

    @property
    def eval_model(self) -> paddle.nn.Layer:
        """The generator: evaluated, exported and released."""
        return self.gan.generator

    @property
    def lr(self) -> float:
        return float(self.optimizers["discriminator"].get_lr())

    def train(self) -> None:
        self.gan.train()

    def set_epoch(self, epoch: int) -> None:
        """Momentum of the coming epoch (``MomentumAdjustor``); called by the loop before each epoch."""
        if self.final_momentum is None:
            return
        for net, optimizer in self.optimizers.items():
            optimizer._momentum = momentum_at(epoch, self.initial_momentum[net], self.final_momentum,
                                              self.momentum_start, self.momentum_saturate)

    def momentum(self) -> float | None:
        return getattr(self.optimizers["discriminator"], "_momentum", None)

    def init_from_data(self, dataset: Any) -> None:
        """The generator's output bias from the training pixels' means (``init_sigmoid_bias_from_marginals``)."""
        total, count = None, 0
        for i in range(len(dataset)):
            x = np.asarray(dataset[i]["input"], np.float64).reshape(-1)
            total = x if total is None else total + x
            count += 1
        if count:
            self.gan.generator.init_output_bias(total / count)

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        self.iteration += 1
        train_generator = self.iteration % self.k == 0
        if self.update == "simultaneous":
            out = self._simultaneous_step(batch["input"], train_generator)
        else:
            out = self._alternating_step(batch["input"], train_generator)
        if train_generator:
            self.generator_updates += 1
        else:
            self.schedulers["generator"].step()  # the schedule counts loop iterations for both nets
        return out

    def _simultaneous_step(self, real: paddle.Tensor, train_generator: bool) -> dict[str, float]:
        """Both objectives from one forward pass of D; each net steps on its own objective's gradient."""
        g, d = self.gan.generator, self.gan.discriminator
        with paddle.set_grad_enabled(train_generator):  # G's graph is only needed when G steps
            fake = g(g.sample_noise(int(real.shape[0])))
        # D sees a leaf copy of the samples, so D's loss never reaches G's parameters; G's gradient is
        # carried to the samples through the shared forward pass, then back through G.
        samples = fake.detach()
        samples.stop_gradient = False
        logit_real, logit_fake = d(real), d(samples)
        d_loss = self._d_loss(logit_real, logit_fake)
        g_loss = self._g_loss(logit_fake)
        if train_generator:
            (grad_samples,) = paddle.grad(g_loss, samples, retain_graph=True)
        d_loss.backward()
        self._step("discriminator")
        if train_generator:
            fake.backward(grad_samples)
            self._step("generator")
        return self._logged(d_loss, g_loss, logit_real, logit_fake)

    def _alternating_step(self, real: paddle.Tensor, train_generator: bool) -> dict[str, float]:
        """Algorithm 1: D's update, then G's update on fresh noise against the updated D."""
        g, d = self.gan.generator, self.gan.discriminator
        m = int(real.shape[0])
        with paddle.no_grad():
            fake = g(g.sample_noise(m))
        logit_real, logit_fake = d(real), d(fake)
        d_loss = self._d_loss(logit_real, logit_fake)
        d_loss.backward()
        self._step("discriminator")
        if train_generator:
            g_loss = self._g_loss(d(g(g.sample_noise(m))))
            g_loss.backward()
            self._step("generator")
            d.clear_gradients()  # G's backward also reached D's parameters; D's next update starts clean
        else:
            g_loss = self._g_loss(logit_fake)  # logged: G's objective on the D step's samples
        return self._logged(d_loss, g_loss, logit_real, logit_fake)

    def _d_loss(self, logit_real: paddle.Tensor, logit_fake: paddle.Tensor) -> paddle.Tensor:
        return self.d_loss_weight * (F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean())

    def _g_loss(self, logit_fake: paddle.Tensor) -> paddle.Tensor:
        # minimax: min log(1 - D) = -softplus(logit); non-saturating: min -log D = softplus(-logit)
        if self.generator_loss == "minimax":
            return -F.softplus(logit_fake).mean()
        return F.softplus(-logit_fake).mean()

    @staticmethod
    def _logged(d_loss: paddle.Tensor, g_loss: paddle.Tensor, logit_real: paddle.Tensor,
                logit_fake: paddle.Tensor) -> dict[str, float]:
        return {"d_loss": float(d_loss), "g_loss": float(g_loss), "d_real": float(F.sigmoid(logit_real).mean()),
                "d_fake": float(F.sigmoid(logit_fake).mean())}

    def _step(self, net: str) -> None:
        self.optimizers[net].step()
        self.optimizers[net].clear_grad()
        self.schedulers[net].step()

    def weights(self) -> dict[str, Any]:
        """Both networks: ``generator.*`` and ``discriminator.*`` (``models.gan.generator_weights`` cuts G out)."""
        return self.gan.state_dict()

    def load_weights(self, weights: dict[str, Any], source: str) -> None:
        """A whole GAN checkpoint, or the generator alone (a release: keys without the ``generator.`` prefix)."""
        if any(key.startswith(f"{net}.") for key in weights for net in NETS):
            set_weights_strict(self.gan, weights, source)
        else:
            set_weights_strict(self.gan.generator, weights, source)

    def state_dict(self) -> dict[str, Any]:
        nets = {"generator": self.gan.generator, "discriminator": self.gan.discriminator}
        return {"optimizers": {n: optimizer_state(self.optimizers[n], nets[n]) for n in NETS},
                "schedulers": {n: self.schedulers[n].state_dict() for n in NETS},
                "iteration": self.iteration, "generator_updates": self.generator_updates}

    def set_state_dict(self, state: dict[str, Any], weights: dict[str, Any], source: str) -> None:
        set_weights_strict(self.gan, weights, source)
        nets = {"generator": self.gan.generator, "discriminator": self.gan.discriminator}
        for n in NETS:
            set_optimizer_state(self.optimizers[n], nets[n], state["optimizers"][n], source)
            self.schedulers[n].set_state_dict(state["schedulers"][n])
        self.iteration, self.generator_updates = state["iteration"], state["generator_updates"]
