"""Checks of a trained network beyond its metric (used by ``tools/dead_units.py``)."""
from __future__ import annotations

from typing import Any

import paddle

from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.engine.setup import build_dataset
from ppcls_repro.metrics.activations import dead_units
from ppcls_repro.registry import ConfigError


@paddle.no_grad()
def count_dead_units(cfg: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per hidden layer of the configured network (weights from ``Global.pretrained_model``):
    (channels never active on the Eval images, channels)."""
    source = cfg["Global"]["pretrained_model"]
    if not source:
        raise ConfigError("Global.pretrained_model: give the weights to check (-o Global.pretrained_model=PATH)")
    net = build_network(cfg, load_weights(source), str(source))
    if not hasattr(net, "hidden_features"):
        raise ConfigError(f"Arch.name: {type(net).__name__} does not expose hidden_features (SRCNN does)")
    maps: list[list] = []
    for item in build_dataset(cfg, "Eval", strict=cfg["Global"]["strict_data"]):
        features = net.hidden_features(paddle.to_tensor(item["input"][None]))
        maps = maps or [[] for _ in features]
        for layer, f in zip(maps, features):
            layer.append(f.numpy()[0])
    return {f"layer {i + 1}": (dead_units(layer), layer[0].shape[0]) for i, layer in enumerate(maps)}
