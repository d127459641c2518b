"""``tools/infer.py``: an exported model on real files through Paddle Inference.

``infer(InferOptions)`` loads ``<model_dir>/pipeline.json``, creates the predictor for the
requested device, processes a file or every input file of a folder, and (``benchmark``) times
the predictor on the first input. Bad inputs are collected, not fatal: the good ones still run.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ppcls_repro.deploy.benchmark import Timing, time_interleaved
from ppcls_repro.deploy.pipeline import InferReport, collect_inputs, load_deployment, run_inference
from ppcls_repro.deploy.predictor import Predictor, PredictorOptions, resolve_options
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.logger import get_logger


@dataclasses.dataclass
class InferOptions:
    model_dir: Path
    input: Path | None  # None for a generative model (GAN), whose input is a seed
    output: Path
    predictor: PredictorOptions = dataclasses.field(default_factory=PredictorOptions)
    batch_size: int = 1  # inputs of one shape (e.g. tiles) per predictor run
    tile_size: int | None = None  # None: the exported pipeline's value
    pipeline_options: dict[str, Any] = dataclasses.field(default_factory=dict)  # other pipeline keys to override
    benchmark: bool = False
    warmup: int = 2
    repeats: int = 10
    num_samples: int = 100  # generative models: samples in the grid
    seed: int = 0  # generative models: the noise seed
    overwrite: bool = False  # replace existing output files (never an input)


def infer(opts: InferOptions) -> tuple[InferReport, Timing | None]:
    log = get_logger()
    check_numbers(opts)
    resolved = resolve_options(opts.predictor)
    overrides = {**opts.pipeline_options, **({} if opts.tile_size is None else {"tile_size": opts.tile_size})}
    deployment = load_deployment(opts.model_dir, overrides)
    if not deployment.pipeline.input_suffixes:  # generative: a seed in, samples out
        predictor = Predictor(opts.model_dir, resolved, None)
        grid = deployment.pipeline.generate(predictor, opts.num_samples, opts.seed, opts.output)
        log.info(f"{opts.num_samples} samples from seed {opts.seed}: {grid}")
        return InferReport(written=[grid], seconds={grid.name: 0.0}), None
    if opts.input is None:
        raise ConfigError("--input: required for this model (a file or a folder)")
    inputs = collect_inputs(opts.input, deployment.pipeline.input_suffixes)
    shape_range = (deployment.pipeline.shape_range(deployment.meta["inputs"], opts.batch_size)
                   if resolved.use_tensorrt else None)
    branches = deployment.meta.get("branches")
    if branches:  # one predictor per static model, each with its own inputs' shape range
        names = {b: {i["name"] for i in deployment.meta["inputs"] if i.get("branch") == b} for b in branches}
        nets = {b: Predictor(opts.model_dir / b, resolved, shape_range and {k: v for k, v in shape_range.items()
                                                                           if k in names[b]})
                for b in branches}
        predictor = nets[branches[0]]
    else:
        predictor = nets = Predictor(opts.model_dir, resolved, shape_range)
    log.info(f"model {opts.model_dir} ({deployment.meta['pipeline']['name']}) on {predictor.describe()}; "
             f"{len(inputs)} input(s)")
    report = run_inference(deployment, nets, inputs, opts.output, opts.batch_size, opts.overwrite)
    timing = None
    if opts.benchmark and branches:
        log.warning("--benchmark times single-network models; this export has branches "
                    f"({', '.join(branches)}): not timed")
    elif opts.benchmark:
        timing = benchmark_predictor(deployment.pipeline, predictor, inputs, opts)
    return report, timing


def parse_pipeline_options(items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` (``--option``) -> {key: YAML value}; a malformed item is a ConfigError."""
    from ppcls_repro.config import parse_yaml

    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option {item!r}: expected KEY=VALUE")
        options[key.strip()] = parse_yaml(value) if value.strip() else None
    return options


def check_numbers(opts: InferOptions) -> None:
    """Command-line numbers out of range are one-line errors, before any work."""
    limits = {"batch_size": (opts.batch_size, 1), "tile_size": (opts.tile_size, 0),
              "warmup": (opts.warmup, 0), "repeats": (opts.repeats, 1)}
    for name, (value, low) in limits.items():
        if value is not None and value < low:
            raise ConfigError(f"--{name} must be >= {low}, got {value}")


def benchmark_predictor(pipeline, predictor: Predictor, inputs: list[Path], opts: InferOptions) -> Timing | None:
    """Median latency of the predictor on the first readable input (batch of ``batch_size`` copies)."""
    import numpy as np

    for path in inputs:
        try:
            arrays = pipeline.network_inputs(path)
        except ValueError:
            continue  # already reported by the run
        batch = [np.concatenate([a] * opts.batch_size) for a in arrays]
        timing = time_interleaved({"predictor": lambda: predictor(batch)}, opts.warmup, opts.repeats,
                                  items_per_run=opts.batch_size)["predictor"]
        shapes = ", ".join("x".join(map(str, a.shape)) for a in batch)
        get_logger().info(f"benchmark on {path.name}, net input {shapes}, {predictor.describe()}: {timing.line()}")
        return timing
    return None
