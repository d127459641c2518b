"""Pre/post-processing of exported models, and the inference loop of ``tools/infer.py``.

``tools/export_model.py`` writes ``pipeline.json`` beside the static model; its ``pipeline`` node
(``{name: SuperResolution, scale: 3, ...}``) names a class registered in ``PIPELINES`` and holds
everything inference needs, so no training config is read. A pipeline turns one input file into
output files through a ``Net`` (the Paddle Inference predictor, or the dygraph model in tests).

A new task adds one registered ``Pipeline`` subclass (``sr.py``, ``classification.py``, ``retrieval.py``).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from ppcls_repro.deploy.predictor import ModelDirError, ShapeRange, find_model_files
from ppcls_repro.registry import DATASETS, PIPELINES, ConfigError
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import IMAGE_SUFFIXES
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.spec import DataFacts

PIPELINE_FILE = "pipeline.json"
FORMAT_VERSION = 1

# The network as a pipeline sees it: one array per model input in, one per output out. A model
# exported as branches (``ExportSpec.branches``) is given to its pipeline as {branch: Net}.
Net = Callable[[list[np.ndarray]], list[np.ndarray]]


class Pipeline:
    """Base of the registered pipelines. Subclasses take their ``pipeline.json`` keys as typed
    keyword arguments (checked like config nodes) and implement the methods below."""

    input_suffixes: tuple[str, ...] = IMAGE_SUFFIXES  # what a folder run picks up
    # True: some keys come from the config's Eval dataset (its ``inference_facts``, utils/spec.py)
    facts_from_data: ClassVar[bool] = False

    @classmethod
    def export_facts(cls, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """At export: the keys the Eval dataset states for this pipeline (its preprocessing), and
        arrays to save beside the model (file name -> array). None unless ``facts_from_data``."""
        if not cls.facts_from_data:
            return {}, {}
        key = "DataLoader.Eval.dataset"
        node = cfg["DataLoader"]["Eval"]["dataset"]
        dataset = DATASETS.get(node["name"], f"{key}.name")
        if getattr(dataset, "inference_pipeline", None) != cls.__name__:
            raise ConfigError(f"{key}.name: {node['name']} states no inference preprocessing for the "
                              f"{cls.__name__} pipeline (datasets that do: {', '.join(datasets_serving(cls.__name__))})")
        stated: DataFacts = dataset.inference_facts(DATASETS.with_defaults(node, key))
        return stated.facts, stated.assets

    def load_assets(self, model_dir: Path) -> None:
        """At inference: read the files ``export_facts`` had saved (the pipeline knows their names)."""

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        """Raise ``ModelDirError`` when the model's inputs (name, shape, dtype) do not fit."""

    def output_paths(self, path: Path, out_dir: Path) -> list[Path]:
        """The files ``process`` writes for one input."""
        raise NotImplementedError

    def process(self, path: Path, net: Net, out_dir: Path, batch_size: int) -> list[Path]:
        """Run one input file; write and return the files ``output_paths`` names."""
        raise NotImplementedError

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        """The net's inputs (batch 1) for one file, as ``process`` feeds them (for benchmarks)."""
        raise NotImplementedError

    def predict(self, image: np.ndarray, net: Net, batch_size: int = 1) -> Any:
        """One input held in memory -> its result, what ``process`` would write for it as a file
        (``ppcls_repro.load``). Pipelines whose input is not one image say so."""
        raise ConfigError(f"{type(self).__name__}: no in-memory prediction for this pipeline; run "
                          "tools/infer.py on files")

    def shape_range(self, inputs: list[dict[str, Any]], batch_size: int) -> ShapeRange:
        """Smallest, typical and largest input shapes the pipeline feeds (TensorRT needs them)."""
        raise NotImplementedError


def datasets_serving(pipeline: str) -> list[str]:
    """Registered datasets that state ``inference_facts`` for ``pipeline``."""
    return [name for name in DATASETS.names() if getattr(DATASETS.get(name), "inference_pipeline", None) == pipeline]


class TiledImagePipeline(Pipeline):
    """An image pipeline whose fully convolutional net runs in tiles: subclasses set ``channels``,
    ``halo`` (receptive radius, the tiles' overlap) and ``tile_size`` (0 = whole image)."""

    channels: int
    halo: int
    tile_size: int

    def net_side(self) -> int:
        """The largest side of what one tile feeds the net (tiling on)."""
        return self.tile_size + 2 * self.halo

    def one_tile(self, x: np.ndarray) -> np.ndarray:
        """What one tile of a large CHW image feeds the net (whole images when tiling is off)."""
        if not self.tile_size:
            return x
        side = self.net_side()
        return x[:, :side, :side]

    def shape_range(self, inputs: list[dict[str, Any]], batch_size: int) -> ShapeRange:
        if not self.tile_size:
            raise ValueError("TensorRT needs a bounded input size: use a tile size > 0 (--tile_size)")
        side = self.net_side()
        return {inputs[0]["name"]: ([1, self.channels, 1, 1], [1, self.channels, side, side],
                                    [max(1, batch_size), self.channels, side, side])}


@dataclasses.dataclass
class Deployment:
    model_dir: Path
    meta: dict[str, Any]  # the whole pipeline.json
    pipeline: Pipeline


def load_deployment(model_dir: str | Path, options: dict[str, Any] | None = None) -> Deployment:
    """Read an exported model's ``pipeline.json`` and build its pipeline (``options`` override keys)."""
    folder = Path(model_dir)
    path = folder / PIPELINE_FILE
    if not path.is_file():
        find_model_files(folder)  # a folder without a model says so first
        raise ModelDirError(f"{folder}: {PIPELINE_FILE} is missing (tools/export_model.py writes it beside the model)")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelDirError(f"{path}: not valid JSON: {err}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION or "pipeline" not in meta:
        raise ModelDirError(f"{path}: not a pipeline file of format_version {FORMAT_VERSION}; re-export the model")
    for sub in model_folders(meta):
        find_model_files(folder / sub)
    fixed = sorted(set(options or {}) & set(meta.get("fixed", [])))
    if fixed:
        key = fixed[0]
        raise ConfigError(f"--option {key}: set by the model at export ({meta['pipeline'].get(key)!r}); an exported "
                          "model runs only as it was trained (export another model for another value)")
    node = {**meta["pipeline"], **(options or {})}
    try:
        pipeline = PIPELINES.build(node, f"{path.name}: pipeline")
    except ValueError as err:  # ConfigError too: a key or value the pipeline does not take
        raise ModelDirError(f"{folder}: {err}") from None
    pipeline.check_model(meta.get("inputs", []))
    pipeline.load_assets(folder)
    return Deployment(model_dir=folder, meta=meta, pipeline=pipeline)


def model_folders(meta: dict[str, Any]) -> list[str]:
    """Sub-folders holding the static models of an export (``""``: the folder itself)."""
    branches = meta.get("branches") or [""]
    if not isinstance(branches, list) or not all(isinstance(b, str) for b in branches):
        raise ModelDirError(f"{PIPELINE_FILE}: 'branches' must be a list of sub-folder names; re-export the model")
    return branches


def collect_inputs(path: str | Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The input files of a run: the file itself, or a folder's files with a known suffix."""
    source = Path(path)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DataError(f"input not found: {source}")
    files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise DataError(f"no input files ({', '.join(suffixes)}) in {source}")
    others = sorted(p.name for p in source.iterdir() if p.is_file() and p.suffix.lower() not in suffixes)
    if others:
        get_logger().warning(f"{source}: not processed, not {'/'.join(suffixes)}: {', '.join(others)}")
    return files


def _refuse_overwrites(path: Path, outputs: list[Path], sources: set[Path], overwrite: bool) -> None:
    """``sources``: the resolved inputs of the run."""
    for output in outputs:
        if output.resolve() in sources:
            raise DataError(f"{path}: its output {output} would replace an input; write to another --output folder")
        if output.exists() and not overwrite:
            raise DataError(f"{path}: {output} exists; pass --overwrite to replace it, or another --output folder")


@dataclasses.dataclass
class InferReport:
    written: list[Path] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)  # (input, one line naming it)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # input name -> end-to-end time


def run_inference(deployment: Deployment, net: Net, inputs: list[Path], out_dir: Path,
                  batch_size: int = 1, overwrite: bool = False) -> InferReport:
    """Process every input; a bad one is recorded with its reason and the others still run. An
    output that would replace an input is always refused; an existing file only with ``overwrite``."""
    import time

    log = get_logger()
    report = InferReport()
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"{out_dir}: --output is a file; it must name a folder for the outputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    claimed: dict[Path, Path] = {}  # output file -> the input that wrote it in this run
    sources = {p.resolve() for p in inputs}
    for path in inputs:
        tic = time.perf_counter()
        try:
            outputs = deployment.pipeline.output_paths(path, out_dir)
            clash = [p for p in outputs if p in claimed]
            if clash:
                raise DataError(f"{path}: its output {clash[0].name} is also that of {claimed[clash[0]].name} "
                                "(same file stem); rename one")
            _refuse_overwrites(path, outputs, sources, overwrite)
            written = deployment.pipeline.process(path, net, out_dir, batch_size)
        except (ValueError, OSError, RuntimeError) as err:  # DataError is a ValueError
            reason = " ".join(str(err).split()) or type(err).__name__
            reason = reason if str(path) in reason else f"{path}: {reason}"
            report.failed.append((path, reason))
            log.error(reason)
            continue
        claimed.update({w: path for w in written})
        report.written.extend(written)
        report.seconds[path.name] = time.perf_counter() - tic
        log.info(f"{path.name}: wrote {', '.join(w.name for w in written)} ({report.seconds[path.name]:.2f} s)")
    return report

