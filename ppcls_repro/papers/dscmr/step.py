"""DSCMR's training step: two modalities in, the composite loss over pairs."""
from __future__ import annotations

from typing import Any

from ppcls_repro.engine.steps import SupervisedStep
from ppcls_repro.registry import MODELS, STEPS, ConfigError


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
