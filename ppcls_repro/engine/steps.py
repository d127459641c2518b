"""Training steps: what one iteration does. The loop in ``trainer.py`` is shared; a paper whose
iteration differs (adversarial, retrieval) writes a step class in its folder and registers it.

A step owns its model(s), loss(es), optimizer(s) and schedule(s). ``Step`` below is everything the
loop, the checkpoints and the config check ask of one; ``SupervisedStep`` is the common case.
"""
from __future__ import annotations

import contextlib
from typing import Any, ClassVar, Protocol

import paddle

from ppcls_repro.engine.amp import MixedPrecision
from ppcls_repro.engine.checkpoint import optimizer_state, set_optimizer_state, set_weights_strict
from ppcls_repro.engine.optim import build_optimizer, validate_optimizer_node
from ppcls_repro.registry import LOSSES, MODELS, STEPS


class Step(Protocol):
    """What the loop asks of a training step (``Step.name`` in a config names a registered one)."""

    supplied: ClassVar[tuple[str, ...]]  # constructor arguments the code builds, not the Step node

    @staticmethod
    def validate_config(cfg: dict[str, Any]) -> None:
        """Raise ConfigError naming the key when the config's Arch/Loss/Optimizer don't fit this step."""

    @classmethod
    def from_config(cls, cfg: dict[str, Any], steps_per_epoch: int) -> "Step":
        """The step with its networks, losses, optimizers and per-iteration schedules built."""

    @property
    def eval_model(self) -> paddle.nn.Layer:
        """The network that is evaluated, exported and released."""

    @property
    def lr(self) -> float:
        """The learning rate logged each print step."""

    def init_from_data(self, dataset: Any) -> None:
        """Data-dependent initialisation before the first epoch (a resume overrides it)."""

    def set_epoch(self, epoch: int) -> None:
        """Called before every epoch (1-based), for schedules that change per epoch."""

    def train(self) -> None:
        """Put every network in training mode."""

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """One iteration on ``batch``; the losses to log (all finite, or the loop stops)."""

    def weights(self) -> dict[str, Any]:
        """The state dict released as ``.pdparams`` (every network the step trains)."""

    def load_weights(self, weights: dict[str, Any], source: str) -> None:
        """Load ``weights`` strictly; errors name ``source``."""

    def state_dict(self) -> dict[str, Any]:
        """Optimizer and schedule state: with ``weights`` it resumes the run exactly."""

    def set_state_dict(self, state: dict[str, Any], weights: dict[str, Any], source: str) -> None:
        """Restore what ``state_dict`` and ``weights`` saved."""


@STEPS.register
class SupervisedStep:
    """One model, one loss, one optimizer: ``loss(model(batch['input']), batch['target'])``.

    Used by SR, denoising, classification and HSI classification.
    """

    supplied = ("model", "loss", "optimizer", "scheduler", "amp")

    def __init__(self, model: paddle.nn.Layer, loss: paddle.nn.Layer,
                 optimizer: paddle.optimizer.Optimizer, scheduler: Any, amp: MixedPrecision | None = None) -> None:
        self.amp = amp  # the config's AMP section (engine/amp.py), or None: float32
        self.model, self.optimizer = amp.decorate(model, optimizer) if amp else (model, optimizer)
        self.loss = loss
        self.scheduler = scheduler

    @staticmethod
    def validate_config(cfg: dict[str, Any]) -> None:
        MODELS.check(cfg["Arch"], "Arch")
        LOSSES.check(cfg.get("Loss"), "Loss")
        validate_optimizer_node(cfg.get("Optimizer"), "Optimizer")

    @classmethod
    def from_config(cls, cfg: dict[str, Any], steps_per_epoch: int) -> "SupervisedStep":
        model = MODELS.build(cfg["Arch"], "Arch")
        loss = LOSSES.build(cfg["Loss"], "Loss")
        optimizer, scheduler = build_optimizer(cfg["Optimizer"], model, steps_per_epoch,
                                               cfg["Global"]["epochs"])
        amp = MixedPrecision(**cfg["AMP"]) if cfg.get("AMP") else None
        return cls(model=model, loss=loss, optimizer=optimizer, scheduler=scheduler, amp=amp)

    @property
    def eval_model(self) -> paddle.nn.Layer:
        """The network that is evaluated, exported and released."""
        return self.model

    @property
    def lr(self) -> float:
        return float(self.optimizer.get_lr())

    def init_from_data(self, dataset: Any) -> None:
        """Nothing: the model keeps its own initialisation."""

    def set_epoch(self, epoch: int) -> None:
        """Nothing: schedules advance per iteration."""

    def train(self) -> None:
        self.model.train()

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        with self.amp.autocast() if self.amp else contextlib.nullcontext():
            pred = self.model(batch["input"])
            loss = self.loss(pred, batch["target"])
        self._update(loss)
        return {"loss": float(loss)}

    def _update(self, loss: paddle.Tensor) -> None:
        """Backpropagate ``loss``, step the optimizer (scaled under float16 AMP) and the schedule."""
        if self.amp:
            self.amp.backward_and_step(loss, self.optimizer)
        else:
            loss.backward()
            self.optimizer.step()
        self.optimizer.clear_grad()
        self.scheduler.step()

    def weights(self) -> dict[str, Any]:
        return self.model.state_dict()

    def load_weights(self, weights: dict[str, Any], source: str) -> None:
        set_weights_strict(self.model, weights, source)

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": optimizer_state(self.optimizer, self.model),
                "scheduler": self.scheduler.state_dict(), **({"amp": self.amp.state_dict()} if self.amp else {})}

    def set_state_dict(self, state: dict[str, Any], weights: dict[str, Any], source: str) -> None:
        self.load_weights(weights, source)
        set_optimizer_state(self.optimizer, self.model, state["optimizer"], source)
        self.scheduler.set_state_dict(state["scheduler"])
        if self.amp:  # a checkpoint of a float32 run has none: the scale starts afresh
            self.amp.set_state_dict(state.get("amp", {}))
