"""Switching a network to inference behaviour for a while.

Evaluation, sampling and operation counting run a network that may be in the middle of training;
dropout and batch norm must behave as at test time, and the training that resumes afterwards
must find the network as it left it, even when the evaluation raised.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import paddle


@contextlib.contextmanager
def eval_mode(layer: paddle.nn.Layer) -> Iterator[paddle.nn.Layer]:
    """Put ``layer`` (and its sublayers) in eval mode for the block; restore training mode after
    it, also on error, when ``layer`` was training when the block began."""
    was_training = layer.training
    layer.eval()
    try:
        yield layer
    finally:
        if was_training:
            layer.train()
