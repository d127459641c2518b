"""PyTorch twin of the MNIST GAN and of ``AdversarialStep``, for ``tools/benchmark_train.py`` and
``tools/align.py``.

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

Alignment (``GANReference``; ``independent: false``): the forward check runs noise through G and G's
samples through D in eval mode (the output is both, side by side). The backward and train checks need
the same random draws on both sides, which the two frameworks' generators cannot give: the suite's side
(the config's own ``AdversarialStep``) records every noise batch its generator samples and every mask
its dropout layers (Paddle's ``nn.Dropout``) apply, read off their outputs, and the twin replays them
in the same order (``RandomTape``), scaling kept inputs by 1/keep itself. So a suite whose dropout
scaled otherwise (or not at all) fails these checks; ``align`` runs each check's suite side first.
Imports torch: never imported by the package (``ppcls_repro.train_speed``, ``ppcls_repro.alignment_references``).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import paddle

from ppcls_repro.engine.alignment import ALIGNMENT_REFERENCES, Batch, Implementation, Problem, build_step
from ppcls_repro.engine.reference_torch import load_suite_weights, torch_optimizer
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


# --- alignment ------------------------------------------------------------------------------------------

class RandomTape:
    """The random draws of one run of the suite's side (noise batches, dropout keep-masks), in order,
    for the twin's run of the same check to replay."""

    def __init__(self) -> None:
        self.draws: list[np.ndarray] = []
        self.position = 0

    def record(self, value: np.ndarray) -> None:
        self.draws.append(value)

    def rewind(self) -> None:
        self.position = 0

    def clear(self) -> None:
        self.draws, self.position = [], 0

    def replay(self, shape: tuple[int, ...]) -> np.ndarray:
        if self.position >= len(self.draws) or self.draws[self.position].shape != tuple(shape):
            raise ConfigError(f"the twin's draw {self.position + 1} of shape {tuple(shape)} is not the suite's "
                              f"({len(self.draws)} recorded): the two steps draw in another order")
        value = self.draws[self.position]
        self.position += 1
        return value


class _RecordingDropout(paddle.nn.Layer):
    """The suite's own dropout layer, its keep-mask (output != 0) recorded in training mode."""

    def __init__(self, inner: paddle.nn.Layer, tape: RandomTape) -> None:
        super().__init__()
        self.inner, self.tape = inner, tape

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.inner(x)
        if self.training and self.inner.p > 0:
            self.tape.record((out != 0).numpy())
        return out


class _ReplayedDropout(tnn.Module):
    """Inverted dropout with the suite's recorded keep-mask: kept inputs scaled by 1/keep."""

    def __init__(self, p: float, tape: RandomTape) -> None:
        super().__init__()
        self.keep, self.tape = 1.0 - p, tape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.keep == 1.0:
            return x
        mask = torch.from_numpy(self.tape.replay(tuple(x.shape))).to(x.dtype)
        return x * mask / self.keep


def _record_draws(step: Any, tape: RandomTape, dtype: str) -> None:
    """Make the suite's step record its noise and dropout masks on ``tape`` (its computation unchanged;
    the noise, drawn in float32, is cast to the networks' ``dtype``)."""
    g, d = step.gan.generator, step.gan.discriminator
    sample = g.sample_noise

    def recorded(num: int, rng: Any = None) -> paddle.Tensor:
        z = sample(num, rng).astype(dtype)
        tape.record(z.numpy())
        return z
    g.sample_noise = recorded
    for i in range(len(d.dropout)):
        d.dropout[i] = _RecordingDropout(d.dropout[i], tape)


def _replay_draws(step: TorchAdversarialStep, tape: RandomTape) -> None:
    g, d = step.nets["generator"], step.nets["discriminator"]
    g.sample_noise = lambda num: torch.from_numpy(tape.replay((num, g.noise_dim)))
    for i, layer in enumerate(d.dropout):
        d.dropout[i] = _ReplayedDropout(layer.p, tape)


class _SuiteGAN:
    """The suite's side: the config's ``AdversarialStep`` built afresh for each check, holding the
    problem's weights, recording its draws."""

    def __init__(self, problem: Problem, tape: RandomTape) -> None:
        self.problem, self.tape = problem, tape

    def _step(self) -> Any:
        step = build_step(self.problem, "AdversarialStep")
        self.tape.clear()
        _record_draws(step, self.tape, self.problem.dtype)
        return step

    def forward(self, z: np.ndarray) -> np.ndarray:
        step = self._step()
        step.gan.eval()
        with paddle.no_grad():
            images = step.gan.generator(paddle.to_tensor(self.problem.cast(z)))
            logits = step.gan.discriminator(images)
        return np.concatenate([images.numpy().reshape(len(z), -1), logits.numpy()], axis=1)

    def gradients(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        """D's loss on real and G's samples, G's loss on the same forward pass of D: their sum, D's
        parameters' gradients of D's loss and G's of G's loss (no update)."""
        step = self._step()
        step.train()
        g, d = step.gan.generator, step.gan.discriminator
        real = paddle.to_tensor(self.problem.cast(batch[0]))
        logit_real, logit_fake = d(real), d(g(g.sample_noise(len(batch[0]))))
        d_loss, g_loss = step._d_loss(logit_real, logit_fake), step._g_loss(logit_fake)
        grads = {}
        for net, loss in (("discriminator", d_loss), ("generator", g_loss)):
            params = [(f"{net}.{n}", p) for n, p in getattr(step.gan, net).named_parameters()]
            values = paddle.grad(loss, [p for _, p in params], retain_graph=True)
            grads.update({name: v.numpy() for (name, _), v in zip(params, values)})
        return float(d_loss) + float(g_loss), grads

    def train(self, batches: list[Batch]) -> tuple[list[float], dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        step.set_epoch(1)
        losses = []
        for (real,) in batches:
            out = step.train_step({"input": paddle.to_tensor(self.problem.cast(real))})
            losses.append(out["d_loss"] + out["g_loss"])
        return losses, {k: v.numpy() for k, v in step.weights().items()}


class _TwinGAN:
    """The twin's side: ``TorchAdversarialStep`` from the problem's weights, replaying the suite's draws."""

    def __init__(self, problem: Problem, tape: RandomTape) -> None:
        self.problem, self.tape = problem, tape
        torch.set_num_threads(int(problem.cfg["Global"].get("cpu_threads") or 1))

    def _step(self) -> TorchAdversarialStep:
        step = TorchAdversarialStep(self.problem.cfg)
        nets = tnn.ModuleDict(step.nets).to(getattr(torch, self.problem.dtype))
        load_suite_weights(nets, self.problem.weights, lambda key: key)
        self.tape.rewind()
        _replay_draws(step, self.tape)
        return step

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.problem.cast(array))

    def forward(self, z: np.ndarray) -> np.ndarray:
        step = self._step()
        g, d = step.nets["generator"].eval(), step.nets["discriminator"].eval()
        with torch.no_grad():
            images = g(self._tensor(z))
            return np.concatenate([images.numpy().reshape(len(z), -1), d(images).numpy()], axis=1)

    def gradients(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        g, d = step.nets["generator"], step.nets["discriminator"]
        logit_real, logit_fake = d(self._tensor(batch[0])), d(g(g.sample_noise(len(batch[0]))))
        d_loss, g_loss = step._d_loss(logit_real, logit_fake), step._g_loss(logit_fake)
        grads = {}
        for net, loss in (("discriminator", d_loss), ("generator", g_loss)):
            named = list(step.nets[net].named_parameters())
            values = torch.autograd.grad(loss, [p for _, p in named], retain_graph=True)
            grads.update({f"{net}.{n}": _paddle_layout(v, n) for (n, _), v in zip(named, values)})
        return float(d_loss.detach()) + float(g_loss.detach()), grads

    def train(self, batches: list[Batch]) -> tuple[list[float], dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        step.set_epoch(1)
        losses = []
        for (real,) in batches:
            out = step.train_step(self._tensor(real))
            losses.append(out["d_loss"] + out["g_loss"])
        state = tnn.ModuleDict(step.nets).state_dict()
        return losses, {k: _paddle_layout(v, k) for k, v in state.items()}


def _paddle_layout(tensor: torch.Tensor, name: str) -> np.ndarray:
    """A twin tensor in the suite's layout: every weight here is a linear one, stored [in, out] by Paddle."""
    value = tensor.detach().numpy()
    return np.ascontiguousarray(value.T) if name.endswith("weight") else value.copy()


@ALIGNMENT_REFERENCES.register
class GANReference:
    """The GAN: this project's PyTorch twin of the networks and of the official update, both orders."""

    models = ("GAN",)
    independent = False

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        if weights_file is not None:
            raise ConfigError("--weights: the GAN has no authors' weight file this suite imports")
        self.cfg = cfg
        self.tape = RandomTape()
        update = STEPS.with_defaults(cfg["Step"], "Step")["update"]
        self.description = (f"PyTorch twin of the GAN and of AdversarialStep ({update} update; this project's), "
                            "replaying the suite's noise and dropout masks")

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        return cfg, None

    @staticmethod
    def initial_weights(cfg: dict[str, Any]) -> dict[str, np.ndarray]:
        """Both networks as the config initialises them (``Global.seed``)."""
        paddle.seed(cfg["Global"]["seed"])
        step = STEPS.get("AdversarialStep").from_config(cfg, steps_per_epoch=1)
        return {k: v.numpy() for k, v in step.weights().items()}

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        noise_dim = MODELS.with_defaults(self.cfg["Arch"]["generator"], "Arch.generator")["noise_dim"]
        return rng.standard_normal((batch_size, noise_dim)).astype(np.float32)

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """MNIST-like real images: pixels in [0, 1], the generator's image shape."""
        shape = MODELS.with_defaults(self.cfg["Arch"]["generator"], "Arch.generator")["image_shape"]
        return (rng.random((batch_size, *shape), dtype=np.float32),)

    def suite_implementation(self, problem: Problem) -> Implementation:
        side = _SuiteGAN(problem, self.tape)
        return Implementation(forward=side.forward, gradients=side.gradients, train=side.train)

    def implementation(self, problem: Problem) -> Implementation:
        side = _TwinGAN(problem, self.tape)
        return Implementation(forward=side.forward, gradients=side.gradients, train=side.train)
