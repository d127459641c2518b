"""Test-time speed of super-resolution networks on one photograph: FSRCNN's speed claim, measured.

The FSRCNN paper (arXiv 1608.00367) claims a large test-time speed-up over SRCNN because every layer
runs on the small LR image and the network is thin; its cost model is multiply-adds (weights x the
pixels each layer runs on). Here each configured network is exported as a user deploys it, fed the
input its own pipeline makes from the same LR photograph (SRCNN: the bicubic-upscaled luminance;
FSRCNN: the LR luminance), and its Paddle Inference predictor is timed, interleaved with the others
so that a busy machine slows all of them alike. Each row sets the measured speed-up beside the
multiply-add ratio, both relative to the first network. Only the network runs are timed (the
pipeline's colour conversion and, for SRCNN, the bicubic upscaling are left out, as in the paper).
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.deploy.benchmark import Timing, time_interleaved
from ppcls_repro.deploy.export import export_network
from ppcls_repro.deploy.pipeline import load_deployment
from ppcls_repro.deploy.predictor import Predictor, PredictorOptions
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.images import save_image


@dataclasses.dataclass
class SpeedEntry:
    """One network to time: a resolved config and the weights to export (None: as initialised)."""
    name: str
    cfg: dict[str, Any]
    weights: str | None = None


@dataclasses.dataclass
class SpeedRow:
    """One timed network: its network input's shape, multiply-adds for the LR image, and timing."""
    name: str
    weights: str | None
    input_shape: tuple[int, ...]
    multiply_adds: int
    timing: Timing


def measure_sr_speed(entries: list[SpeedEntry], lr_image: np.ndarray, threads: int = 1,
                     warmup: int = 2, repeats: int = 10) -> list[SpeedRow]:
    """Export each entry, run it on ``lr_image`` (HWC uint8, the LR photograph) and time the predictors."""
    if not entries:
        raise ConfigError("no network to time: give at least one --model")
    height, width = lr_image.shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        photo = save_image(lr_image, Path(tmp) / "lr.png")
        prepared = [_prepare(entry, photo, Path(tmp) / f"model{i}", threads) for i, entry in enumerate(entries)]
        _check_same_scale(prepared)
        runners = {row.name: (lambda p=predictor, x=x: p([x])) for row, predictor, x, _ in prepared}
        timings = time_interleaved(runners, warmup, repeats)
    return [dataclasses.replace(row, multiply_adds=net.multiply_adds(height, width), timing=timings[row.name])
            for row, _, _, net in prepared]


def _prepare(entry: SpeedEntry, photo: Path, model_dir: Path,
             threads: int) -> tuple[SpeedRow, Predictor, np.ndarray, Any]:
    """Export one network; return its row (timing pending), predictor, input array and dygraph net."""
    weights = load_weights(entry.weights) if entry.weights else None
    net = build_network(entry.cfg, weights, str(entry.weights))
    if not hasattr(net, "multiply_adds"):
        raise ConfigError(f"{entry.name}: {type(net).__name__} is not a super-resolution network "
                          "(it has no multiply_adds); this benchmark times SR networks")
    export_network(net, entry.cfg, model_dir, entry.weights)
    deployment = load_deployment(model_dir, {"tile_size": 0})
    x = deployment.pipeline.network_inputs(photo)[0]
    predictor = Predictor(model_dir, PredictorOptions(cpu_threads=threads))
    row = SpeedRow(entry.name, entry.weights, tuple(x.shape), 0, Timing(entry.name, []))
    return row, predictor, x, net


def _check_same_scale(prepared: list[tuple[SpeedRow, Predictor, np.ndarray, Any]]) -> None:
    scales = {row.name: int(net.scale.numpy()[0]) for row, _, _, net in prepared}
    if len(set(scales.values())) > 1:
        raise ConfigError(f"the networks upscale by different factors ({scales}); compare one scale at a time")


def format_speed_table(rows: list[SpeedRow]) -> list[str]:
    """A text table: median latency, speed-up and multiply-add ratio against the first row."""
    base, width = rows[0], max(len("network"), *(len(row.name) for row in rows)) + 2
    lines = [f"{'network':<{width}}{'input':>18}{'GMACs':>9}{'median ms':>11}{'min ms':>9}"
             f"{'speed-up':>10}{'MAC ratio':>11}"]
    for row in rows:
        shape = "x".join(map(str, row.input_shape))
        lines.append(f"{row.name:<{width}}{shape:>18}{row.multiply_adds / 1e9:>9.3f}{row.timing.median_ms:>11.1f}"
                     f"{1000 * min(row.timing.seconds):>9.1f}{base.timing.median_ms / row.timing.median_ms:>10.1f}"
                     f"{base.multiply_adds / row.multiply_adds:>11.1f}")
    return lines
