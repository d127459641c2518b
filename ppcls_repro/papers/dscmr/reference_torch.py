"""PyTorch twin of DSCMR and its loss for ``tools/align.py``.

This project's own re-writing in PyTorch of Section 3 (``independent: false``): per modality a Linear +
ReLU branch, then one common-space Linear and one label-space Linear shared by both modalities; the
loss J1 + alpha J2 + beta J3 of Eqs. (1)-(5) as the official code computes them (J1: the mean row norm
of each modality's prediction minus the one-hot label; J2: the pair NLL log(1 + exp G) - S G with G
half the cosine of image-image, image-text and text-text pairs, S the label similarity; J3: the mean row
norm of U - V). The tensor names are the suite's. The authors' own outputs, losses, gradients and mAP
are checked against the suite by ``tests/papers/dscmr/test_reference.py`` (fixtures of their code).

The config's step is ``RetrievalStep`` (paired image and text features and their class), so this
reference brings the suite's side too (``suite_implementation``); an alignment input is one array,
image features then text features on each row. Imports torch: never imported by the package
(``ppcls_repro.alignment_references``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import paddle
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from ppcls_repro.engine.alignment import ALIGNMENT_REFERENCES, Batch, Implementation, Problem, build_step
from ppcls_repro.engine.reference_torch import load_suite_weights, lr_at, torch_optimizer
from ppcls_repro.registry import LOSSES, MODELS, ConfigError


class TorchDSCMR(tnn.Module):
    def __init__(self, num_classes: int, image_dim: int, text_dim: int, hidden_dim: int, common_dim: int) -> None:
        super().__init__()
        self.image_branch, self.text_branch = tnn.Linear(image_dim, hidden_dim), tnn.Linear(text_dim, hidden_dim)
        self.common, self.classifier = tnn.Linear(hidden_dim, common_dim), tnn.Linear(common_dim, num_classes)

    def forward(self, image: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, ...]:
        u = self.common(tF.relu(self.image_branch(image)))
        v = self.common(tF.relu(self.text_branch(text)))
        return u, v, self.classifier(u), self.classifier(v)


def _pair_nll(a: torch.Tensor, b: torch.Tensor, similarity: torch.Tensor) -> torch.Tensor:
    norms = a.norm(dim=1, keepdim=True) @ b.norm(dim=1, keepdim=True).T
    gamma = (a @ b.T) / norms.clamp(min=1e-6) / 2
    return (tF.softplus(gamma) - similarity * gamma).mean()


def dscmr_loss(u: torch.Tensor, v: torch.Tensor, pred_img: torch.Tensor, pred_txt: torch.Tensor,
               labels: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    target = tF.one_hot(labels.reshape(-1).long(), pred_img.shape[1]).to(pred_img.dtype)
    j1 = (pred_img - target).norm(dim=1).mean() + (pred_txt - target).norm(dim=1).mean()
    similarity = target @ target.T
    j2 = _pair_nll(u, u, similarity) + _pair_nll(u, v, similarity) + _pair_nll(v, v, similarity)
    j3 = (u - v).norm(dim=1).mean()
    return j1 + alpha * j2 + beta * j3


def _paddle_layout(tensor: torch.Tensor, name: str) -> np.ndarray:
    """Every weight here is a Linear's: Paddle stores it [in, out]."""
    value = tensor.detach().numpy()
    return np.ascontiguousarray(value.T) if name.endswith("weight") else value.copy()


class _SuiteDSCMR:
    """The suite's side: the config's ``RetrievalStep`` (model, ``DSCMRLoss``, optimiser) built afresh."""

    def __init__(self, problem: Problem, image_dim: int) -> None:
        self.problem, self.image_dim = problem, image_dim

    def _step(self) -> Any:
        return build_step(self.problem, "RetrievalStep")

    def _views(self, x: np.ndarray) -> tuple[paddle.Tensor, paddle.Tensor]:
        x = self.problem.cast(x)
        return paddle.to_tensor(x[:, :self.image_dim]), paddle.to_tensor(x[:, self.image_dim:])

    def forward(self, x: np.ndarray) -> np.ndarray:
        step = self._step()
        step.model.eval()
        with paddle.no_grad():
            return np.concatenate([t.numpy() for t in step.model(*self._views(x))], axis=1)

    def gradients(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        loss = step.loss(*step.model(*self._views(batch[0])), paddle.to_tensor(batch[1]))["loss"]
        loss.backward()
        return float(loss), {n: p.grad.numpy() for n, p in step.model.named_parameters()}

    def train(self, batches: list[Batch]) -> tuple[list[float], dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        losses = []
        for x, labels in batches:
            image, text = self._views(x)
            losses.append(step.train_step({"input": image, "text": text, "target": paddle.to_tensor(labels)})["loss"])
        return losses, {k: v.numpy() for k, v in step.model.state_dict().items()}


class _TwinDSCMR:
    def __init__(self, problem: Problem, arch: dict[str, Any]) -> None:
        self.problem, self.arch = problem, arch
        self.loss = LOSSES.with_defaults(problem.cfg["Loss"], "Loss")
        torch.set_num_threads(int(problem.cfg["Global"].get("cpu_threads") or 1))

    def _module(self) -> TorchDSCMR:
        a = self.arch
        module = TorchDSCMR(a["num_classes"], a["image_dim"], a["text_dim"], a["hidden_dim"], a["common_dim"])
        module = module.to(getattr(torch, self.problem.dtype))
        load_suite_weights(module, self.problem.weights, lambda key: key)
        return module

    def _views(self, x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(self.problem.cast(x))
        return x[:, :self.arch["image_dim"]], x[:, self.arch["image_dim"]:]

    def _objective(self, module: TorchDSCMR, batch: Batch) -> torch.Tensor:
        return dscmr_loss(*module(*self._views(batch[0])), torch.from_numpy(batch[1]),
                          self.loss["alpha"], self.loss["beta"])

    def forward(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.concatenate([t.numpy() for t in self._module().eval()(*self._views(x))], axis=1)

    def gradients(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        module = self._module().train()
        loss = self._objective(module, batch)
        loss.backward()
        return float(loss.detach()), {n: _paddle_layout(p.grad, n) for n, p in module.named_parameters()}

    def train(self, batches: list[Batch]) -> tuple[list[float], dict[str, np.ndarray]]:
        module = self._module().train()
        optimizer = torch_optimizer(self.problem.cfg["Optimizer"], list(module.named_parameters()))
        lr = lr_at(self.problem.cfg["Optimizer"]["lr"], self.problem.steps_per_epoch, self.problem.cfg["Global"]["epochs"])
        losses = []
        for t, batch in enumerate(batches):
            for group in optimizer.param_groups:
                group["lr"] = lr(t) * group["multiplier"]
            loss = self._objective(module, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        return losses, {k: _paddle_layout(v, k) for k, v in module.state_dict().items()}


@ALIGNMENT_REFERENCES.register
class DSCMRTwin:
    """DSCMR: this project's PyTorch twin of the network and of J1 + alpha J2 + beta J3."""

    models = ("DSCMR",)
    independent = False
    description = ("PyTorch twin of DSCMR and its loss J1 + alpha J2 + beta J3 (this project's); the authors' "
                   "outputs and gradients: tests/papers/dscmr/test_reference.py")

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        if weights_file is not None:
            raise ConfigError("--weights: DSCMR has no authors' weight file this suite imports")
        self.arch = MODELS.with_defaults(cfg["Arch"], "Arch")

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        return cfg, None

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Image features then text features on each row (non-negative, as VGG fc7 and the text CNN's)."""
        return rng.random((batch_size, self.arch["image_dim"] + self.arch["text_dim"]), dtype=np.float32)

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        labels = rng.integers(0, self.arch["num_classes"], batch_size).astype(np.int64)
        return self.example_input(rng, batch_size), labels

    def suite_implementation(self, problem: Problem) -> Implementation:
        side = _SuiteDSCMR(problem, self.arch["image_dim"])
        return Implementation(forward=side.forward, gradients=side.gradients, train=side.train)

    def implementation(self, problem: Problem) -> Implementation:
        side = _TwinDSCMR(problem, MODELS.with_defaults(problem.cfg["Arch"], "Arch"))
        return Implementation(forward=side.forward, gradients=side.gradients, train=side.train)
