"""Mixed precision (the config's ``AMP`` section) for the supervised step, through ``paddle.amp``.

``O1`` runs the ops of Paddle's white list (convolutions, matrix products) in ``dtype`` inside
``auto_cast``; ``O2`` also keeps the network's weights in ``dtype`` (``paddle.amp.decorate``, with
float32 master weights in the optimizer). float16 needs loss scaling (``GradScaler``: the loss is
multiplied before the backward and the gradients divided before the step, the scale adjusted when they
overflow); bfloat16 has float32's range and needs none. The scaler's state is part of the step's
checkpoint, so a resumed run scales as the uninterrupted one would.

On a CPU this Paddle build keeps every op in float32 whatever ``auto_cast`` says and disables the
scaler (measured with Paddle 3.3.1: conv2d outputs stay float32 under O1 and O2 bfloat16); the path is
written for GPUs and on CPU runs, checkpoints and resumes as float32 training.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import paddle


class MixedPrecision:
    """The ``AMP`` section as the step uses it (see the module docstring; keys in ``config.AMPConfig``)."""

    def __init__(self, level: str, dtype: str, init_loss_scaling: float, use_dynamic_loss_scaling: bool) -> None:
        self.level, self.dtype = level, dtype
        # bfloat16 has float32's exponent range: no scaling needed
        self.scaler = paddle.amp.GradScaler(init_loss_scaling=init_loss_scaling,
                                            use_dynamic_loss_scaling=use_dynamic_loss_scaling) \
            if dtype == "float16" else None

    def decorate(self, model: paddle.nn.Layer, optimizer: paddle.optimizer.Optimizer
                 ) -> tuple[paddle.nn.Layer, paddle.optimizer.Optimizer]:
        """O2: the weights in ``dtype``, float32 master weights in the optimizer; O1: unchanged."""
        if self.level != "O2":
            return model, optimizer
        return paddle.amp.decorate(models=model, optimizers=optimizer, level="O2", dtype=self.dtype)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        with paddle.amp.auto_cast(enable=True, level=self.level, dtype=self.dtype):
            yield

    def backward_and_step(self, loss: paddle.Tensor, optimizer: paddle.optimizer.Optimizer) -> None:
        """Backpropagate ``loss`` and step ``optimizer`` (scaled, and skipped on overflow, for float16)."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)
            self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def set_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
