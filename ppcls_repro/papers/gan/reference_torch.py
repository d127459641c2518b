"""PyTorch twin of the MNIST GAN and of ``AdversarialStep``, for ``tools/benchmark_train.py``.

This project's own re-writing in PyTorch of ``model.py``'s networks and ``step.py``'s iteration, from
the config's settings (not the authors' code): G is noise -> ReLU hidden layers -> sigmoid image
(``mnist.yaml``: 100 -> 1200 -> 1200 -> 784), D is inverted dropout + maxout layers, then dropout + one
linear logit (input kept with 0.8 and scaled by 1.25, maxout 240 x 5 twice, the later inputs kept with
0.5); weights uniform in [-irange, irange], biases 0; the tensor names are the suite's (``hidden.0``,
``maxout.0.linear``, ``out``). ``TorchAdversarialStep`` does one loop iteration as ``AdversarialStep``:
``simultaneous`` (both objectives from one forward pass of D, D's loss kept off G through a detached
leaf copy of the samples, G's gradient carried to the samples and back through G, D steps then G) or
``alternating`` (D's step, then G's on fresh noise against the updated D), every ``k``-th iteration
training G; losses in log-sigmoid form (softplus), D's scaled by ``d_loss_weight``, G's
``non_saturating`` or ``minimax``; SGD with momentum (``engine/reference_torch.torch_optimizer``), the
lr divided by ``decay_factor`` after every update down to ``min_lr`` and the momentum of the epoch
(``step.momentum_at``). The four logged values are read back each iteration as the suite's step does.
Imports torch: never imported by the package (``ppcls_repro.train_speed``).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from ppcls_repro.engine.reference_torch import torch_optimizer
from ppcls_repro.engine.speed import SpeedCase, TrainSide, batch_size, paddle_train_side
from ppcls_repro.papers.gan.step import NETS, momentum_at
from ppcls_repro.registry import LR_SCHEDULERS, MODELS, STEPS, ConfigError


def uniform_linear(in_features: int, out_features: int, irange: float) -> tnn.Linear:
    layer = tnn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.uniform_(-irange, irange)
        layer.bias.zero_()
    return layer


class TorchGenerator(tnn.Module):
    """Noise [N, noise_dim] -> images [N, C, H, W] in (0, 1)."""

    def __init__(self, noise_dim: int = 100, hidden: tuple[int, ...] = (1200, 1200),
                 image_shape: tuple[int, int, int] = (1, 28, 28), irange: float = 0.05, noise: str = "gaussian") -> None:
        super().__init__()
        sizes = [noise_dim, *hidden]
        self.hidden = tnn.ModuleList([uniform_linear(a, b, irange) for a, b in zip(sizes[:-1], sizes[1:])])
        self.out = uniform_linear(sizes[-1], int(np.prod(image_shape)), irange)
        self.noise_dim, self.image_shape, self.noise = noise_dim, tuple(image_shape), noise

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        for layer in self.hidden:
            h = tF.relu(layer(h))
        return torch.sigmoid(self.out(h)).reshape(-1, *self.image_shape)

    def sample_noise(self, num: int) -> torch.Tensor:
        if self.noise == "gaussian":
            return torch.randn(num, self.noise_dim)
        return (torch.rand(num, self.noise_dim) * 2.0 - 1.0) * math.sqrt(3.0)


class TorchMaxout(tnn.Module):
    def __init__(self, in_features: int, units: int, pieces: int, irange: float) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = uniform_linear(in_features, units * pieces, irange)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).reshape(-1, self.units, self.pieces).max(dim=2).values


class TorchMaxoutDiscriminator(tnn.Module):
    """Images [N, ...] -> logits [N, 1]; ``dropout[i]`` acts on the input of layer i (inverted dropout)."""

    def __init__(self, in_features: int = 784, units: tuple[int, ...] = (240, 240), pieces: int = 5,
                 irange: float = 0.005, input_keep: float = 0.8, hidden_keep: float = 0.5) -> None:
        super().__init__()
        sizes = [in_features, *units]
        self.maxout = tnn.ModuleList([TorchMaxout(a, b, pieces, irange) for a, b in zip(sizes[:-1], sizes[1:])])
        self.out = uniform_linear(sizes[-1], 1, irange)
        keeps = [input_keep] + [hidden_keep] * len(units)
        self.dropout = tnn.ModuleList([tnn.Dropout(p=1.0 - keep) for keep in keeps])
        self.in_features = in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(-1, self.in_features)
        for drop, layer in zip(self.dropout, self.maxout):
            h = layer(drop(h))
        return self.out(self.dropout[-1](h))


def build_networks(arch: dict[str, Any]) -> dict[str, tnn.Module]:
    """G and D from the config's ``Arch`` (``{name: GAN, generator: ..., discriminator: ...}``)."""
    kinds = {"generator": ("Generator", TorchGenerator), "discriminator": ("MaxoutDiscriminator", TorchMaxoutDiscriminator)}
    nets = {}
    for net in NETS:
        name, twin = kinds[net]
        if arch[net]["name"] != name:
            raise ConfigError(f"Arch.{net}.name: the PyTorch twin is written for {name}, not {arch[net]['name']}")
        kwargs = MODELS.with_defaults(arch[net], f"Arch.{net}")
        nets[net] = twin(**kwargs)
    return nets


def exponential_lr(node: dict[str, Any], key: str) -> Callable[[int], float]:
    """``step.ExponentialDecay``'s lr of update ``t`` (0-based)."""
    if node["name"] != "ExponentialDecay":
        raise ConfigError(f"{key}.name: the PyTorch twin has the GAN's ExponentialDecay only, not {node['name']}")
    kwargs = LR_SCHEDULERS.with_defaults(node, key)
    base, factor, floor = float(kwargs["learning_rate"]), float(kwargs["decay_factor"]), float(kwargs["min_lr"])
    return lambda t: base * max(factor ** (-t), floor / base)


class TorchAdversarialStep:
    """``AdversarialStep``'s iteration in PyTorch, with the config's Step, Arch and Optimizer settings."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        settings = STEPS.with_defaults(cfg["Step"], "Step")
        self.k, self.update = int(settings["k"]), settings["update"]
        self.generator_loss, self.d_loss_weight = settings["generator_loss"], float(settings["d_loss_weight"])
        self.momentum = (settings["final_momentum"], settings["momentum_start"], settings["momentum_saturate"])
        self.nets = build_networks(cfg["Arch"])
        self.optimizers = {net: torch_optimizer(cfg["Optimizer"][net], list(self.nets[net].named_parameters()))
                           for net in NETS}
        self.initial_momentum = {net: self.optimizers[net].param_groups[0]["momentum"] for net in NETS}
        self.lr = {net: exponential_lr(cfg["Optimizer"][net]["lr"], f"Optimizer.{net}.lr") for net in NETS}
        self.updates = {net: 0 for net in NETS}  # schedule steps per net (loop iterations, as the suite's)
        self.iteration = 0

    def train(self) -> None:
        for net in self.nets.values():
            net.train()

    def set_epoch(self, epoch: int) -> None:
        final, start, saturate = self.momentum
        if final is None:
            return
        for net, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["momentum"] = momentum_at(epoch, self.initial_momentum[net], final, start, saturate)

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        self.iteration += 1
        train_generator = self.iteration % self.k == 0
        if self.update == "simultaneous":
            out = self._simultaneous_step(real, train_generator)
        else:
            out = self._alternating_step(real, train_generator)
        if not train_generator:
            self.updates["generator"] += 1  # the schedule counts loop iterations for both nets
        return out

    def _simultaneous_step(self, real: torch.Tensor, train_generator: bool) -> dict[str, float]:
        g, d = self.nets["generator"], self.nets["discriminator"]
        with torch.set_grad_enabled(train_generator):
            fake = g(g.sample_noise(real.shape[0]))
        samples = fake.detach().requires_grad_(True)
        logit_real, logit_fake = d(real), d(samples)
        d_loss = self._d_loss(logit_real, logit_fake)
        g_loss = self._g_loss(logit_fake)
        if train_generator:
            (grad_samples,) = torch.autograd.grad(g_loss, samples, retain_graph=True)
        d_loss.backward()
        self._step("discriminator")
        if train_generator:
            fake.backward(grad_samples)
            self._step("generator")
        return self._logged(d_loss, g_loss, logit_real, logit_fake)

    def _alternating_step(self, real: torch.Tensor, train_generator: bool) -> dict[str, float]:
        g, d = self.nets["generator"], self.nets["discriminator"]
        m = real.shape[0]
        with torch.no_grad():
            fake = g(g.sample_noise(m))
        logit_real, logit_fake = d(real), d(fake)
        d_loss = self._d_loss(logit_real, logit_fake)
        d_loss.backward()
        self._step("discriminator")
        if train_generator:
            g_loss = self._g_loss(d(g(g.sample_noise(m))))
            g_loss.backward()
            self._step("generator")
            self.optimizers["discriminator"].zero_grad()  # G's backward reached D's parameters too
        else:
            g_loss = self._g_loss(logit_fake)
        return self._logged(d_loss, g_loss, logit_real, logit_fake)

    def _d_loss(self, logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
        return self.d_loss_weight * (tF.softplus(-logit_real).mean() + tF.softplus(logit_fake).mean())

    def _g_loss(self, logit_fake: torch.Tensor) -> torch.Tensor:
        if self.generator_loss == "minimax":
            return -tF.softplus(logit_fake).mean()
        return tF.softplus(-logit_fake).mean()

    @staticmethod
    def _logged(d_loss: torch.Tensor, g_loss: torch.Tensor, logit_real: torch.Tensor,
                logit_fake: torch.Tensor) -> dict[str, float]:
        values = {"d_loss": d_loss, "g_loss": g_loss, "d_real": torch.sigmoid(logit_real).mean(),
                  "d_fake": torch.sigmoid(logit_fake).mean()}
        return {name: float(value.detach()) for name, value in values.items()}

    def _step(self, net: str) -> None:
        optimizer = self.optimizers[net]
        for group in optimizer.param_groups:
            group["lr"] = self.lr[net](self.updates[net]) * group["multiplier"]
        optimizer.step()
        optimizer.zero_grad()
        self.updates[net] += 1

    def parameters(self) -> int:
        return sum(p.numel() for net in self.nets.values() for p in net.parameters() if p.requires_grad)


def real_batch(cfg: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """A batch of MNIST-like images: pixels in [0, 1] (``normalize: false``), the generator's image shape."""
    shape = MODELS.with_defaults(cfg["Arch"]["generator"], "Arch.generator")["image_shape"]
    return rng.random((batch_size(cfg), *shape), dtype=np.float32)


def gan_speed_case(cfg: dict[str, Any]) -> SpeedCase:
    """The GAN's loop iteration (one D update and, every k-th, one G update) on a real batch of the
    config's size: ``AdversarialStep`` and ``TorchAdversarialStep``."""
    if cfg["Step"]["name"] != "AdversarialStep":
        raise ConfigError(f"Step.name: the GAN's speed twin is written for AdversarialStep, not {cfg['Step']['name']}")
    real = real_batch(cfg, np.random.default_rng(cfg["Global"]["seed"]))

    def suite(threads: int) -> TrainSide:
        return paddle_train_side(cfg, {"input": real}, threads)

    def twin(threads: int) -> TrainSide:
        torch.set_num_threads(threads)
        torch.manual_seed(cfg["Global"]["seed"])
        step = TorchAdversarialStep(cfg)
        step.train()
        step.set_epoch(1)
        images = torch.from_numpy(real)
        return TrainSide(run=lambda: step.train_step(images), parameters=step.parameters())
    return SpeedCase(net="gan", label=f"GAN (G + maxout D), {len(real)}", samples=len(real),
                     sides={"paddle": suite, "torch": twin})
