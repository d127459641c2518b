"""Training steps: what one iteration does. The loop in ``trainer.py`` is shared; a paper whose
iteration differs (adversarial, retrieval) adds a step class here and registers it.

A step owns its model(s), loss(es), optimizer(s) and schedule(s). The loop only calls
``train_step``, reads ``lr``, and asks for ``state_dict``/``weights`` when it checkpoints.
"""
from __future__ import annotations

from typing import Any

import paddle

from ppcls_repro.config import validate_loss_node, validate_model_node, validate_optimizer_node
from ppcls_repro.engine.checkpoint import optimizer_state, set_optimizer_state, set_weights_strict
from ppcls_repro.engine.optim import build_optimizer
from ppcls_repro.registry import LOSSES, MODELS, STEPS, ConfigError


@STEPS.register
class SupervisedStep:
    """One model, one loss, one optimizer: ``loss(model(batch['input']), batch['target'])``.

    Used by SR, denoising, classification and HSI classification.
    """

    supplied = ("model", "loss", "optimizer", "scheduler")

    def __init__(self, model: paddle.nn.Layer, loss: paddle.nn.Layer,
                 optimizer: paddle.optimizer.Optimizer, scheduler: Any) -> None:
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.scheduler = scheduler

    @staticmethod
    def validate_config(cfg: dict[str, Any]) -> None:
        validate_model_node(cfg["Arch"], "Arch")
        validate_loss_node(cfg.get("Loss"), "Loss")
        validate_optimizer_node(cfg.get("Optimizer"), "Optimizer")

    @classmethod
    def from_config(cls, cfg: dict[str, Any], steps_per_epoch: int) -> "SupervisedStep":
        model = MODELS.build(cfg["Arch"], "Arch")
        loss = LOSSES.build(cfg["Loss"], "Loss")
        optimizer, scheduler = build_optimizer(cfg["Optimizer"], model, steps_per_epoch,
                                               cfg["Global"]["epochs"])
        return cls(model=model, loss=loss, optimizer=optimizer, scheduler=scheduler)

    @property
    def eval_model(self) -> paddle.nn.Layer:
        """The network that is evaluated, exported and released."""
        return self.model

    @property
    def lr(self) -> float:
        return float(self.optimizer.get_lr())

    def train(self) -> None:
        self.model.train()

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        pred = self.model(batch["input"])
        loss = self.loss(pred, batch["target"])
        self._update(loss)
        return {"loss": float(loss)}

    def _update(self, loss: paddle.Tensor) -> None:
        """Backpropagate ``loss``, step the optimizer and the (per-iteration) schedule."""
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
                "scheduler": self.scheduler.state_dict()}

    def set_state_dict(self, state: dict[str, Any], weights: dict[str, Any], source: str) -> None:
        self.load_weights(weights, source)
        set_optimizer_state(self.optimizer, self.model, state["optimizer"])
        self.scheduler.set_state_dict(state["scheduler"])


@STEPS.register
class RetrievalStep(SupervisedStep):
    """Two modalities in, a composite loss over pairs (DSCMR).

    ``loss(*model(batch['input'], batch['text']), batch['target'])``: the model maps paired image and
    text features into a common space (and a label space); the loss returns a dict whose ``loss`` is
    minimised and whose other entries (e.g. DSCMR's ``j1``, ``j2``, ``j3``) are logged. Everything else
    (one model, one optimizer, checkpoints, resume) is ``SupervisedStep``'s.
    """

    @staticmethod
    def validate_config(cfg: dict[str, Any]) -> None:
        SupervisedStep.validate_config(cfg)
        model = MODELS.get(cfg["Arch"]["name"], "Arch.name")
        if not all(hasattr(model, name) for name in ("encode_image", "encode_text")):
            raise ConfigError(f"Arch.name: RetrievalStep needs a two-modality model with encode_image and "
                              f"encode_text; '{cfg['Arch']['name']}' lacks them")

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        terms = self.loss(*self.model(batch["input"], batch["text"]), batch["target"])
        self._update(terms["loss"])
        return {name: float(value) for name, value in terms.items()}
