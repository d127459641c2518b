"""The PyTorch side of an alignment (``engine/alignment.py``): a torch module run as an
``Implementation``, with the config's loss, optimiser, schedule and per-layer learning rates re-done in
PyTorch. Imported only by the papers' ``reference_torch.py`` modules (``tools/align.py``,
``tools/benchmark_train.py`` and the tests import those); the normal package never imports torch.
``supervised_speed_case`` pairs the suite's step with such a twin for the training-speed table
(``engine/speed.py``); ``inference_module`` is a twin holding the suite's weights for the latency table.

What is mirrored, and how (each from PyTorch's own kernels, nothing from Paddle's):
- weights: the suite's state dict copied in through a name map ``suite_key(torch_key)`` (each paper
  reuses its importer's renames); Linear weights are transposed (Paddle [in, out], PyTorch [out, in]);
  gradients and final weights are reported back under the suite's names and layouts;
- optimisers: ``Momentum`` is ``torch.optim.SGD`` (v = mu v + g with the L2 term in g, p -= lr v;
  Nesterov as ``nesterov=True``), ``Adam`` is ``torch.optim.Adam`` (L2 ``weight_decay`` added to the
  gradient, as Paddle's ``L2Decay``); ``param_lr`` prefixes become parameter groups with their own lr,
  ``trainable`` prefixes leave the other parameters out (``requires_grad=False``);
- schedules: ``lr_at`` below computes each iteration's lr from the config node (Constant, Piecewise with
  linear or constant warm-up, Cosine), applied before each step (the suite steps its schedule after);
- BatchNorm running variance: PyTorch stores the unbiased batch variance (n / (n - 1) times the biased
  one that Paddle stores). After k steps with momentum m, ``running = a r0 + sum_i m (1 - m)^(k - i) u_i``
  with ``a = (1 - m)^k``; with n fixed per layer the biased equivalent is exactly
  ``a r0 + (running - a r0) (n - 1) / n``, which is what the train check compares.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ppcls_repro.engine.alignment import AlignmentError, Batch, Implementation, Problem
from ppcls_repro.engine.speed import STEPS_PER_EPOCH, SideBuilder, SpeedCase, TrainSide, paddle_train_side
from ppcls_repro.registry import LOSSES, OPTIMIZERS, ConfigError

SuiteKey = Callable[[str], "str | None"]  # torch state-dict key -> the suite's key (None: not compared)
TorchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def lr_at(node: dict[str, Any], steps_per_epoch: int, epochs: int) -> Callable[[int], float]:
    """The learning rate of iteration ``t`` (0-based) for an ``Optimizer.lr`` node."""
    kind = node["name"]
    base = float(node["learning_rate"])
    if kind == "Constant":
        return lambda t: base
    warmup = int(node.get("warmup_iters", 0) or 0)
    warmup_lr = float(node.get("warmup_lr", 0.0) or 0.0)
    if kind == "Piecewise":
        gamma = float(node.get("gamma", 0.1))
        if node.get("decay_iters") is not None:
            bounds = [int(b) for b in node["decay_iters"]]
        else:
            bounds = [round(e * steps_per_epoch) for e in node["decay_epochs"]]

        def piecewise(t: int) -> float:
            return base * gamma ** sum(1 for b in bounds if t >= b)
        if node.get("warmup_mode", "linear") == "constant" and warmup > 0:
            return lambda t: warmup_lr if t < warmup else piecewise(t)
        inner = piecewise
    elif kind == "Cosine":
        eta_min = float(node.get("eta_min", 0.0))
        period = max(1, steps_per_epoch * epochs)

        def inner(t: int) -> float:
            return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / period)) / 2
    else:
        raise ConfigError(f"Optimizer.lr.name: the PyTorch reference has no schedule {kind} (Constant, Piecewise, Cosine)")
    if warmup <= 0:
        return inner
    return lambda t: warmup_lr + (base - warmup_lr) * t / warmup if t < warmup else inner(t - warmup)


def generic_loss(node: dict[str, Any]) -> TorchLoss:
    """The shared losses (``ppcls_repro/losses``) in PyTorch."""
    kwargs = LOSSES.with_defaults(node, "Loss")
    if node["name"] == "MSELoss":
        return lambda pred, target: F.mse_loss(pred, target, reduction=kwargs["reduction"])
    if node["name"] == "CrossEntropyLoss":
        return lambda logits, label: F.cross_entropy(logits, label.reshape(-1).long(),
                                                     label_smoothing=kwargs["label_smoothing"])
    raise ConfigError(f"Loss.name: the PyTorch reference has no loss {node['name']}")


def _prefix_value(name: str, prefixes: dict[str, float], default: float) -> float:
    value = default
    for prefix, factor in prefixes.items():  # in order: a later prefix wins, as set_lr_multipliers
        if name.startswith(prefix):
            value = float(factor)
    return value


def torch_optimizer(node: dict[str, Any], named: list[tuple[str, torch.nn.Parameter]]) -> torch.optim.Optimizer:
    """The config's optimiser over ``named`` (suite name, parameter) pairs; each group has ``multiplier``."""
    trainable = node.get("trainable")
    if trainable:
        for name, param in named:
            param.requires_grad_(any(name.startswith(p) for p in trainable))
    groups: dict[float, list[torch.nn.Parameter]] = {}
    for name, param in named:
        if param.requires_grad:
            groups.setdefault(_prefix_value(name, node.get("param_lr") or {}, 1.0), []).append(param)
    param_groups = [{"params": params, "multiplier": mult} for mult, params in groups.items()]
    own = {k: v for k, v in node.items() if k not in ("lr", "param_lr", "trainable")}
    kwargs = OPTIMIZERS.with_defaults(own, "Optimizer")
    if node["name"] == "Momentum":
        return torch.optim.SGD(param_groups, lr=0.0, momentum=kwargs["momentum"], weight_decay=kwargs["weight_decay"],
                               nesterov=kwargs["use_nesterov"])
    if node["name"] == "Adam":
        return torch.optim.Adam(param_groups, lr=0.0, betas=(kwargs["beta1"], kwargs["beta2"]), eps=kwargs["epsilon"],
                                weight_decay=kwargs["weight_decay"])
    raise ConfigError(f"Optimizer.name: the PyTorch reference has no optimiser {node['name']} (Momentum, Adam)")


class TorchSide:
    """A torch network as one side of an alignment. ``build`` makes the module (fresh for every call),
    ``suite_key`` names its tensors as the suite does, ``loss`` is the config's loss in PyTorch."""

    def __init__(self, build: Callable[[], torch.nn.Module], suite_key: SuiteKey, loss: TorchLoss,
                 problem: Problem, torch_state: dict[str, np.ndarray] | None = None) -> None:
        """``torch_state``: the module's own state dict to start from (an authors' file, loaded as it is,
        so that the suite's importer alone maps it); None copies ``problem.weights`` in through ``suite_key``."""
        torch.set_num_threads(int(problem.cfg["Global"].get("cpu_threads") or 1))
        self.build, self.suite_key, self.loss, self.problem = build, suite_key, loss, problem
        self.torch_state = torch_state

    def implementation(self) -> Implementation:
        return Implementation(forward=self.forward, gradients=self.gradients, train=self.train)

    def _module(self) -> torch.nn.Module:
        module = self.build().to(getattr(torch, self.problem.dtype))
        if self.torch_state is None:
            load_suite_weights(module, self.problem.weights, self.suite_key)
        else:
            own = module.state_dict()  # files of older torch versions lack num_batches_tracked
            state = {k: torch.from_numpy(np.array(v)) for k, v in self.torch_state.items()}
            module.load_state_dict({**{k: v for k, v in own.items() if k.endswith("num_batches_tracked")}, **state})
        return module

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.problem.cast(array))

    def _named_parameters(self, module: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
        return [(self.suite_key(k), p) for k, p in module.named_parameters() if self.suite_key(k)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        module = self._module().eval()
        with torch.no_grad():
            return module(self._tensor(x)).numpy()

    def gradients(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        module = self._module().train()
        named = self._named_parameters(module)
        torch_optimizer(self.problem.cfg["Optimizer"], named)  # only for ``trainable``: which parameters get gradients
        loss = self.loss(module(self._tensor(batch[0])), self._tensor(batch[1]))
        loss.backward()
        linear = linear_weights(module)
        return float(loss.detach()), {self.suite_key(k): _suite_layout(p.grad, k in linear)
                             for k, p in module.named_parameters() if self.suite_key(k) and p.requires_grad}

    def train(self, batches: list[Batch]) -> tuple[list[float], dict[str, np.ndarray]]:
        module = self._module().train()
        optimizer = torch_optimizer(self.problem.cfg["Optimizer"], self._named_parameters(module))
        lr = lr_at(self.problem.cfg["Optimizer"]["lr"], self.problem.steps_per_epoch, self.problem.cfg["Global"]["epochs"])
        norms = BatchNormRecorder(module)
        losses = []
        for t, (x, target) in enumerate(batches):
            for group in optimizer.param_groups:
                group["lr"] = lr(t) * group["multiplier"]
            loss = self.loss(module(self._tensor(x)), self._tensor(target))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        state = module.state_dict()
        norms.biased_running_var(state, len(batches))
        linear = linear_weights(module)
        return losses, {self.suite_key(k): _suite_layout(v, k in linear) for k, v in state.items() if self.suite_key(k)}


def linear_weights(module: torch.nn.Module) -> set[str]:
    return {f"{name}.weight" for name, m in module.named_modules() if isinstance(m, torch.nn.Linear)}


def _suite_layout(tensor: torch.Tensor, transpose: bool) -> np.ndarray:
    value = tensor.detach().numpy()
    return np.ascontiguousarray(value.T) if transpose else value.copy()


def load_suite_weights(module: torch.nn.Module, weights: dict[str, np.ndarray], suite_key: SuiteKey) -> None:
    """Copy the suite's float tensors into ``module``; every one must find its place, and the shapes agree."""
    linear = linear_weights(module)
    state, used = module.state_dict(), set()
    for key, tensor in state.items():
        name = suite_key(key)
        if name is None:
            continue
        if name not in weights:
            raise AlignmentError(f"{key}: the suite has no tensor {name}")
        value = weights[name].T if key in linear else weights[name]
        if tuple(value.shape) != tuple(tensor.shape):
            raise AlignmentError(f"{key}: shape {tuple(tensor.shape)}, the suite's {name} is {value.shape}")
        with torch.no_grad():
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)))
        used.add(name)
    left = sorted(k for k, v in weights.items() if v.dtype.kind == "f" and k not in used)
    if left:
        raise AlignmentError(f"the reference has no place for the suite's {', '.join(left[:4])}")


def inference_module(module: torch.nn.Module, weights: dict[str, np.ndarray],
                     suite_key: SuiteKey) -> torch.nn.Module:
    """``module`` holding the suite's ``weights`` (``load_suite_weights``), in eval mode: the twin of an
    exported network for the inference-latency table (``tools/benchmark_latency.py``)."""
    load_suite_weights(module, weights, suite_key)
    return module.eval()


class BatchNormRecorder:
    """Records each BatchNorm's initial running variance and its per-channel sample count n."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.layers = {name: m for name, m in module.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
        self.initial = {name: m.running_var.detach().clone() for name, m in self.layers.items()}
        self.counts: dict[str, set[int]] = {name: set() for name in self.layers}
        for name, layer in self.layers.items():
            layer.register_forward_pre_hook(self._hook(name))

    def _hook(self, name: str) -> Callable[..., None]:
        def record(layer: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            if layer.training:
                self.counts[name].add(inputs[0].numel() // inputs[0].shape[1])
        return record

    def biased_running_var(self, state: dict[str, torch.Tensor], steps: int) -> None:
        """Replace each ``running_var`` in ``state`` by the value Paddle's biased update gives (module docstring)."""
        for name, layer in self.layers.items():
            if not self.counts[name]:
                continue
            if len(self.counts[name]) != 1 or layer.momentum is None:
                raise AlignmentError(f"{name}: BatchNorm saw batches of sizes {sorted(self.counts[name])} "
                                     "(one size and a momentum are needed to compare its running variance)")
            n = self.counts[name].pop()
            keep = (1.0 - layer.momentum) ** steps
            start = keep * self.initial[name]
            state[f"{name}.running_var"] = start + (state[f"{name}.running_var"] - start) * (n - 1) / n


def torch_train_side(module: torch.nn.Module, suite_key: SuiteKey, loss: TorchLoss, cfg: dict[str, Any],
                     batch: Batch, threads: int) -> TrainSide:
    """``module`` trained as ``TorchSide.train`` does (the config's optimiser, per-layer rates and schedule;
    zero_grad, backward, step) on ``batch``, with ``threads`` CPU threads; the loss is read back each
    iteration as the suite's step does (``float(loss)``)."""
    torch.set_num_threads(threads)
    module.train()
    optimizer = torch_optimizer(cfg["Optimizer"], [(suite_key(k), p) for k, p in module.named_parameters()
                                                   if suite_key(k)])
    lr = lr_at(cfg["Optimizer"]["lr"], STEPS_PER_EPOCH, cfg["Global"]["epochs"])
    x, target = torch.from_numpy(batch[0]), torch.from_numpy(batch[1])
    done = [0]

    def run() -> float:
        for group in optimizer.param_groups:
            group["lr"] = lr(done[0]) * group["multiplier"]
        value = loss(module(x), target)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        done[0] += 1
        return float(value.detach())
    return TrainSide(run=run, parameters=sum(p.numel() for p in module.parameters() if p.requires_grad))


def supervised_speed_case(cfg: dict[str, Any], net: str, label: str, batch: Batch,
                          build_module: Callable[[], torch.nn.Module], suite_key: SuiteKey,
                          loss: TorchLoss) -> SpeedCase:
    """A row of the training-speed table for a ``SupervisedStep`` config: the suite's step and the twin
    ``build_module()`` trained with the same optimiser and loss on the same ``batch``."""
    if cfg["Step"]["name"] != "SupervisedStep":
        raise ConfigError(f"Step.name: {net}'s speed twin is written for SupervisedStep, not {cfg['Step']['name']}")

    def suite(threads: int) -> TrainSide:
        return paddle_train_side(cfg, {"input": batch[0], "target": batch[1]}, threads)

    def twin(threads: int) -> TrainSide:
        torch.manual_seed(cfg["Global"]["seed"])
        return torch_train_side(build_module(), suite_key, loss, cfg, batch, threads)
    sides: dict[str, SideBuilder] = {"paddle": suite, "torch": twin}
    return SpeedCase(net=net, label=label, samples=len(batch[0]), sides=sides)
