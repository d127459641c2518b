"""Optimizers and learning-rate schedules, built by name from the ``Optimizer`` section.

Every schedule here is stepped once per iteration, so epoch-based and iteration-based
papers share one loop; epoch boundaries are converted with ``steps_per_epoch``.
"""
from __future__ import annotations

from typing import Any, Literal

import paddle
from paddle.optimizer import lr as lr_lib

from ppcls_repro.registry import LR_SCHEDULERS, OPTIMIZERS, ConfigError, PositiveFloat


@OPTIMIZERS.register
def Momentum(parameters: list, learning_rate: Any, momentum: float = 0.9,
             weight_decay: float = 0.0, use_nesterov: bool = False) -> paddle.optimizer.Optimizer:
    """SGD with momentum and L2 weight decay (ResNet's and the GAN's optimiser; momentum 0 is plain SGD).

    Args:
        momentum: momentum coefficient mu (v = mu v + g, p -= lr v); 0 is plain SGD. Default: 0.9.
        weight_decay: L2 coefficient: weight_decay x p is added to the gradient of every trained parameter;
            0 is none. Default: 0.0.
        use_nesterov: True uses Nesterov's momentum update. Default: False.
    """
    return paddle.optimizer.Momentum(learning_rate=learning_rate, momentum=momentum,
                                     parameters=parameters, use_nesterov=use_nesterov,
                                     weight_decay=paddle.regularizer.L2Decay(weight_decay) if weight_decay else None)


@OPTIMIZERS.register
def Adam(parameters: list, learning_rate: Any, beta1: float = 0.9, beta2: float = 0.999,
         epsilon: float = 1e-8, weight_decay: float = 0.0) -> paddle.optimizer.Optimizer:
    """Adam; ``weight_decay`` is an L2 penalty added to the gradient (not AdamW).

    Args:
        beta1: decay rate of the running mean of the gradient, in [0, 1). Default: 0.9.
        beta2: decay rate of the running mean of the squared gradient, in [0, 1). Default: 0.999.
        epsilon: added to the denominator for numerical stability, >= 0. Default: 1e-8.
        weight_decay: L2 coefficient: weight_decay x p is added to the gradient of every trained parameter
            before the Adam update; 0 is none. Default: 0.0.
    """
    return paddle.optimizer.Adam(learning_rate=learning_rate, beta1=beta1, beta2=beta2,
                                 epsilon=epsilon, parameters=parameters,
                                 weight_decay=paddle.regularizer.L2Decay(weight_decay) if weight_decay else None)


@LR_SCHEDULERS.register
def Constant(learning_rate: PositiveFloat, steps_per_epoch: int, epochs: int) -> lr_lib.LRScheduler:
    """A fixed learning rate.

    Args:
        learning_rate: the learning rate of every iteration. Required.
    """
    return lr_lib.LambdaDecay(learning_rate, lambda _: 1.0)


@LR_SCHEDULERS.register
def Piecewise(learning_rate: PositiveFloat, steps_per_epoch: int, epochs: int,
              decay_epochs: list[float] | None = None, decay_iters: list[int] | None = None,
              gamma: float = 0.1, warmup_iters: int = 0, warmup_lr: float = 0.0,
              warmup_mode: Literal["linear", "constant"] = "linear") -> lr_lib.LRScheduler:
    """Multiply the lr by ``gamma`` at each boundary (given in epochs or in iterations).

    Warm-up over the first ``warmup_iters``: ``linear`` ramps from ``warmup_lr`` to ``learning_rate``
    and then starts the piecewise schedule (its boundaries shift by ``warmup_iters``);
    ``constant`` holds ``warmup_lr`` and keeps the boundaries where they are (ResNet-110's 0.01
    for the first ~400 iterations, then 0.1, /10 at 32k and 48k).

    Args:
        learning_rate: learning rate up to the first boundary (after any warm-up). Required.
        decay_epochs: ascending boundaries in epochs (fractions allowed; rounded to iterations with the
            epoch's iteration count); give exactly one of decay_epochs and decay_iters. Default: None.
        decay_iters: ascending boundaries in iterations; give exactly one of decay_epochs and decay_iters.
            Default: None.
        gamma: factor the lr is multiplied by at each boundary. Default: 0.1.
        warmup_iters: iterations of warm-up; 0 is none. Default: 0.
        warmup_lr: lr where a linear warm-up starts, or held throughout a constant one. Default: 0.0.
        warmup_mode: "linear" (ramp to learning_rate, boundaries shifted by warmup_iters) or "constant"
            (boundaries unchanged; warmup_iters must end before the first one). Default: "linear".
    """
    if (decay_epochs is None) == (decay_iters is None):
        raise ConfigError("Optimizer.lr: give exactly one of decay_epochs, decay_iters")
    bounds = decay_iters if decay_iters is not None else [round(e * steps_per_epoch) for e in decay_epochs]
    values = [learning_rate * gamma ** i for i in range(len(bounds) + 1)]
    if warmup_mode == "constant" and warmup_iters > 0:
        if bounds and warmup_iters >= bounds[0]:
            raise ConfigError(f"Optimizer.lr.warmup_iters: {warmup_iters} must end before the first decay at {bounds[0]}")
        return lr_lib.PiecewiseDecay(boundaries=[warmup_iters, *bounds], values=[warmup_lr, *values])
    schedule = lr_lib.PiecewiseDecay(boundaries=list(bounds), values=values)
    return _with_warmup(schedule, learning_rate, warmup_iters, warmup_lr)


@LR_SCHEDULERS.register
def Cosine(learning_rate: PositiveFloat, steps_per_epoch: int, epochs: int, eta_min: float = 0.0,
           warmup_iters: int = 0, warmup_lr: float = 0.0) -> lr_lib.LRScheduler:
    """Cosine annealing over the whole run.

    Args:
        learning_rate: learning rate at the start of the cosine (the end of any warm-up). Required.
        eta_min: learning rate the cosine ends at, after epochs x iterations-per-epoch iterations counted from
            the end of the warm-up. Default: 0.0.
        warmup_iters: iterations of linear warm-up from warmup_lr to learning_rate before the cosine; 0 is
            none. Default: 0.
        warmup_lr: learning rate where the warm-up starts. Default: 0.0.
    """
    schedule = lr_lib.CosineAnnealingDecay(learning_rate, T_max=max(1, steps_per_epoch * epochs),
                                           eta_min=eta_min)
    return _with_warmup(schedule, learning_rate, warmup_iters, warmup_lr)


def _with_warmup(schedule: lr_lib.LRScheduler, learning_rate: float, iters: int,
                 start_lr: float) -> lr_lib.LRScheduler:
    if iters <= 0:
        return schedule
    return lr_lib.LinearWarmup(schedule, warmup_steps=iters, start_lr=start_lr, end_lr=learning_rate)


def build_optimizer(node: dict[str, Any], model: paddle.nn.Layer, steps_per_epoch: int,
                    epochs: int, key: str = "Optimizer") -> tuple[paddle.optimizer.Optimizer, lr_lib.LRScheduler]:
    """Build the optimizer and its schedule for ``model``; ``param_lr`` sets per-layer lr multipliers,
    ``trainable`` (prefixes) freezes every other parameter."""
    schedule = LR_SCHEDULERS.build(node["lr"], f"{key}.lr", steps_per_epoch=steps_per_epoch, epochs=epochs)
    set_lr_multipliers(model, node.get("param_lr") or {}, f"{key}.param_lr")
    if node.get("trainable"):
        freeze_all_but(model, node["trainable"], f"{key}.trainable")
    params = [p for p in model.parameters() if not p.stop_gradient]
    own = {k: v for k, v in node.items() if k not in ("lr", "param_lr", "trainable")}
    return OPTIMIZERS.build(own, key, parameters=params, learning_rate=schedule), schedule


def set_lr_multipliers(model: paddle.nn.Layer, multipliers: dict[str, float], key: str) -> None:
    """Scale the lr of parameters whose name starts with a prefix (SRCNN: ``conv3: 0.1``)."""
    names = [name for name, _ in model.named_parameters()]
    for prefix, factor in multipliers.items():
        hits = [p for name, p in model.named_parameters() if name.startswith(prefix)]
        if not hits:
            raise ConfigError(f"{key}.{prefix}: no parameter name starts with it; "
                              f"parameters: {', '.join(names)}")
        for param in hits:
            param.optimize_attr["learning_rate"] = float(factor)


def freeze_all_but(model: paddle.nn.Layer, prefixes: list[str], key: str) -> None:
    """Train only parameters whose name starts with a prefix (FSRCNN's transfer: ``[deconv]``).

    The others get ``stop_gradient`` (no gradient is computed for them, and ``build_optimizer``
    leaves them out of the optimizer, so neither updates nor weight decay can move them).
    """
    names = [name for name, _ in model.named_parameters()]
    for prefix in prefixes:
        if not any(name.startswith(prefix) for name in names):
            raise ConfigError(f"{key}.{prefix}: no parameter name starts with it; parameters: {', '.join(names)}")
    for name, param in model.named_parameters():
        if not any(name.startswith(prefix) for prefix in prefixes):
            param.stop_gradient = True


OPTIMIZER_OWN_KEYS = ("lr", "param_lr", "trainable")  # read by build_optimizer, not optimizer kwargs


def validate_optimizer_node(node: Any, key: str) -> None:
    """An optimizer node: registered optimizer kwargs plus ``lr`` (a scheduler node) and ``param_lr``."""
    if not isinstance(node, dict):
        raise ConfigError(f"{key}: expected a mapping with a 'name' key")
    own = {k: node[k] for k in node if k not in OPTIMIZER_OWN_KEYS}
    OPTIMIZERS.check(own, key, extra=("parameters", "learning_rate"))
    if "lr" not in node:
        raise ConfigError(f"{key}.lr: missing (e.g. lr: {{name: Constant, learning_rate: 0.001}})")
    LR_SCHEDULERS.check(node["lr"], f"{key}.lr", extra=("steps_per_epoch", "epochs"))
    param_lr = node.get("param_lr", {}) or {}
    if not isinstance(param_lr, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in param_lr.values()):
        raise ConfigError(f"{key}.param_lr: expected a mapping of parameter-name prefix -> lr multiplier")
    trainable = node.get("trainable")
    if trainable is not None and (not isinstance(trainable, list) or not trainable
                                  or not all(isinstance(v, str) and v for v in trainable)):
        raise ConfigError(f"{key}.trainable: expected a non-empty list of parameter-name prefixes "
                          f"(e.g. [deconv]) or null, got {trainable!r}")
