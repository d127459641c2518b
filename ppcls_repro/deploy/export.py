"""Export: config + trained weights -> a static model that Paddle Inference runs without the config.

``export_model(cfg)`` builds the configured network (the step's ``eval_model``), loads
``Global.pretrained_model`` strictly, asks the model for its ``export_spec()``, traces it with
``paddle.jit.to_static`` + ``InputSpec`` and saves it with ``paddle.jit.save`` as
``<save_dir>/inference.json`` (PIR program; ``.pdmodel`` on a legacy-IR Paddle) and
``inference.pdiparams``, then writes ``pipeline.json``: the input names and shapes, and the
pre/post-processing node that ``tools/infer.py`` builds. Before returning it runs the saved model
through ``paddle.inference`` on example inputs and checks it equals the dygraph network.

A spec with ``branches`` (DSCMR: one encoder per modality) is saved as one static model per
branch in ``<save_dir>/<branch>/``, each checked, with one ``pipeline.json`` listing them. What the
pipeline derives from the config's data (``Pipeline.export_facts``: e.g. CIFAR's mean image, the
hyperspectral PCA) is added to the pipeline node and its arrays saved beside the model.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import paddle

from ppcls_repro.deploy.pipeline import FORMAT_VERSION, PIPELINE_FILE
from ppcls_repro.deploy.predictor import MODEL_PREFIX, Predictor, PredictorOptions, find_model_files
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.registry import PIPELINES, ConfigError
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.spec import Branch, ExportSpec

# A static model whose output differs from dygraph by more than this (relative to the output's
# magnitude, at least 1) is reported as a failed export; float reordering stays far below it.
VERIFY_TOLERANCE = 1e-4


class ExportError(ConfigError):
    """The model cannot be exported as configured, or the export does not match the dygraph net."""


@dataclasses.dataclass
class ExportResult:
    save_dir: Path
    files: list[Path]
    max_abs_diff: float  # static (paddle.inference) vs dygraph on the example inputs


def export_spec_of(net: paddle.nn.Layer, cfg: dict[str, Any]) -> ExportSpec:
    """The model's spec, completed with what its pipeline derives from the config's data (e.g. the
    preprocessing of the Eval dataset, CIFAR's mean image) and the user's ``Export.pipeline``."""
    if not callable(getattr(net, "export_spec", None)):
        raise ExportError(f"Arch.name: {type(net).__name__} has no export_spec(); it cannot be exported yet")
    try:
        spec = net.export_spec()
    except ValueError as err:
        raise ExportError(f"Arch: {err}") from None
    try:
        data_facts, assets = PIPELINES.get(spec.pipeline["name"]).export_facts(cfg)
    except ConfigError:
        raise
    except ValueError as err:  # DataError too: the data the pipeline needs is not there
        raise ExportError(f"{err}") from None
    user = cfg.get("Export", {}).get("pipeline") or {}
    fixed = sorted(set(user) & ((set(spec.pipeline) | set(data_facts)) - {"name"}))
    if fixed:
        raise ExportError(f"Export.pipeline.{fixed[0]}: set by the model ({type(net).__name__}.export_spec) "
                          "or its data, not by the config")
    spec.fixed_keys = sorted((set(spec.pipeline) | set(data_facts)) - {"name"})
    spec.pipeline = {**spec.pipeline, **data_facts, **user}
    spec.assets = {**spec.assets, **assets}
    try:  # build it once, so values it refuses fail now rather than at inference
        PIPELINES.build(spec.pipeline, "Export.pipeline")
    except ConfigError:
        raise
    except ValueError as err:
        raise ExportError(f"Export.pipeline: {err}") from None
    return spec


def save_dir_of(cfg: dict[str, Any]) -> Path:
    """``Global.save_inference_dir``, else ``Export.save_dir``, else ``<Global.output_dir>/inference``."""
    return Path(cfg["Global"].get("save_inference_dir") or cfg.get("Export", {}).get("save_dir")
                or Path(cfg["Global"]["output_dir"]) / "inference")


def export_model(cfg: dict[str, Any], save_dir: str | Path | None = None, onnx: bool = False) -> ExportResult:
    """Export ``Global.pretrained_model`` as configured (see the module docstring); with ``onnx``, also
    as ``inference.onnx`` beside each static model, checked against it (``deploy/onnx.py``)."""
    source = cfg["Global"]["pretrained_model"]
    if not source:
        raise ConfigError("Global.pretrained_model: required for export "
                          "(e.g. -o Global.pretrained_model=output/srcnn/best_model)")
    paddle.set_device("cpu")  # tracing is device-independent; the predictor picks its device later
    weights = load_weights(source)
    return export_network(build_network(cfg, weights, str(source)), cfg,
                          Path(save_dir) if save_dir else save_dir_of(cfg), weights_source=str(source), onnx=onnx)


def export_network(net: paddle.nn.Layer, cfg: dict[str, Any], save_dir: Path,
                   weights_source: str | None = None, onnx: bool = False) -> ExportResult:
    """Trace, save, describe and verify ``net`` (already holding its weights) into ``save_dir``; with
    ``onnx``, convert each static model to ONNX and verify it against Paddle Inference too."""
    log = get_logger()
    net.eval()
    spec = export_spec_of(net, cfg)
    save_dir.mkdir(parents=True, exist_ok=True)
    written, program_files, inputs, checks = [], {}, [], {}
    for sub, branch in spec.static_models(net).items():
        files, diff, examples, scale = save_and_verify(branch, save_dir / sub if sub else save_dir)
        written += [files.program, files.params]
        program_files[sub] = {"program": files.program.name, "params": files.params.name}
        inputs += [{**_describe_input(s), **({"branch": sub} if sub else {})} for s in branch.inputs]
        checks[sub] = (diff, scale, [list(x.shape) for x in examples])
        if onnx:
            written.append(_onnx_checked(save_dir / sub if sub else save_dir, branch, examples))
    for name, array in spec.assets.items():  # data-derived arrays the pipeline reads (e.g. a mean image)
        np.save(save_dir / name, array)
        written.append(save_dir / name)
    diff = max(d for d, _, _ in checks.values())
    meta = {
        "format_version": FORMAT_VERSION,
        "model": {"arch": cfg["Arch"], "weights": weights_source, "paddle_version": paddle.__version__},
        "files": program_files[""] if "" in program_files else program_files,
        "inputs": inputs,
        "pipeline": spec.pipeline,
        "fixed": spec.fixed_keys,
        "verification": {"example_shapes": [s for _, _, shapes in checks.values() for s in shapes],
                         "max_abs_diff_vs_dygraph": diff},
    }
    if spec.branches:
        meta["branches"] = list(spec.branches)
    (save_dir / PIPELINE_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    for sub, (branch_diff, scale, _) in checks.items():
        if not branch_diff <= VERIFY_TOLERANCE * scale:
            where = save_dir / sub if sub else save_dir
            raise ExportError(f"{where}: the static model differs from the dygraph network by {branch_diff:.3g} "
                              f"(> {VERIFY_TOLERANCE:g} x {scale:.3g}); the export is wrong")
    log.info(f"exported {cfg['Arch']['name']} to {save_dir} ({', '.join(str(p.relative_to(save_dir)) for p in written)}, "
             f"{PIPELINE_FILE}); static vs dygraph max abs diff {diff:.2e}")
    return ExportResult(save_dir=save_dir, files=written + [save_dir / PIPELINE_FILE], max_abs_diff=diff)


def save_and_verify(branch: Branch, folder: Path) -> tuple[Any, float, list[np.ndarray], float]:
    """Trace and save one network into ``folder``; run it through Paddle Inference on example inputs.
    Returns the model files, the max abs difference to dygraph, the examples and the output scale."""
    layer = branch.network
    layer.eval()
    examples = example_inputs(branch.inputs)
    with paddle.no_grad():  # the reference, before to_static replaces the layer's forward
        reference = as_list(layer(*[paddle.to_tensor(x) for x in examples]))
        reference = [r.numpy() for r in reference]
    folder.mkdir(parents=True, exist_ok=True)
    static = paddle.jit.to_static(layer, input_spec=branch.inputs, full_graph=True)
    paddle.jit.save(static, str(folder / MODEL_PREFIX))
    files = find_model_files(folder)
    outputs = Predictor(folder, PredictorOptions(device="cpu"))(examples)
    scale = max(1.0, max(float(np.abs(r).max()) for r in reference))
    return files, max_abs_diff(outputs, reference), examples, scale


def _onnx_checked(folder: Path, branch: Branch, examples: list[np.ndarray]) -> Path:
    """``folder``'s static model as ONNX, equal to it on ``examples`` within the export tolerance."""
    from ppcls_repro.deploy.onnx import OnnxUnavailable, export_onnx  # optional packages: only for --format onnx

    try:
        out, diff, scale = export_onnx(folder, [s.name for s in branch.inputs], examples)
    except OnnxUnavailable as err:
        raise ExportError(str(err)) from None
    if not diff <= VERIFY_TOLERANCE * scale:
        raise ExportError(f"{out}: onnxruntime differs from Paddle Inference by {diff:.3g} "
                          f"(> {VERIFY_TOLERANCE:g} x {scale:.3g}); the ONNX export is wrong")
    get_logger().info(f"{out}: onnxruntime vs Paddle Inference max abs diff {diff:.2e}")
    return out


def _describe_input(spec: paddle.static.InputSpec) -> dict[str, Any]:
    return {"name": spec.name, "shape": [-1 if d is None else int(d) for d in spec.shape],
            "dtype": _dtype_name(spec.dtype)}


def example_inputs(spec: ExportSpec | list[paddle.static.InputSpec], seed: int = 0) -> list[np.ndarray]:
    """Inputs that fit the spec (or a list of input specs): batch 2 for a dynamic batch, odd sizes
    (45, 51, ...) for other dynamic dimensions, so nothing is accidentally a multiple of a stride."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec_in in (spec.inputs if isinstance(spec, ExportSpec) else spec):
        dims = [d if d is not None and d >= 0 else (2 if i == 0 else 39 + 6 * i)
                for i, d in enumerate(spec_in.shape)]
        dtype = _dtype_name(spec_in.dtype)
        if dtype.startswith("int"):
            arrays.append(rng.integers(0, 10, size=dims).astype(dtype))
        else:
            arrays.append(rng.random(dims, dtype=np.float64).astype(dtype))
    return arrays


def as_list(outputs: Any) -> list[Any]:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def max_abs_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise ExportError(f"static outputs {[x.shape for x in a]} do not match dygraph outputs {[y.shape for y in b]}")
    return max(float(np.abs(x.astype(np.float64) - y.astype(np.float64)).max()) for x, y in zip(a, b))


def _dtype_name(dtype: Any) -> str:
    name = str(dtype).replace("paddle.", "")
    return {"DataType.FLOAT32": "float32", "DataType.INT64": "int64", "DataType.INT32": "int32",
            "DataType.FLOAT16": "float16"}.get(name, name)
