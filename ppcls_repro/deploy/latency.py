"""The pieces of the inference-latency table (``tools/benchmark_latency.py``) that know no runtime
but Paddle: the one static network a model exports, the input the table feeds it, the check that
every runtime computes the same output, and the markdown table of the medians.

The input is what the deployed pipeline feeds for a real photograph (``benchmark.photograph``, saved
as PNG and read back) when the net takes any image size (the SR and denoising nets), run whole, no
tiles; a net with a fixed input size (the classifiers, whose preprocessing needs the training set's
statistics, e.g. CIFAR's mean image) gets standard normal values, the range of a normalised image.
Only the input's size changes the speed of these nets; its values do not.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import paddle

from ppcls_repro.deploy.benchmark import Timing, photograph
from ppcls_repro.deploy.export import VERIFY_TOLERANCE, ExportError, export_spec_of, save_and_verify
from ppcls_repro.deploy.pipeline import TiledImagePipeline
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.images import save_image
from ppcls_repro.utils.spec import Branch

AGREEMENT = 1e-4  # max abs difference of any runtime's output to the first's, relative to its magnitude (>= 1)


class AgreementError(ValueError):
    """A runtime's output differs from the reference's: it does not compute the same network."""


def exported_branch(net: paddle.nn.Layer) -> Branch:
    """What the export traces for ``net`` (e.g. a classifier with its softmax appended): one network."""
    if not callable(getattr(net, "export_spec", None)):
        raise ExportError(f"Arch.name: {type(net).__name__} has no export_spec(); it cannot be exported yet")
    try:
        branches = net.export_spec().static_models(net)
    except ValueError as err:
        raise ExportError(f"Arch: {err}") from None
    if len(branches) != 1:
        raise ExportError(f"Arch.name: {type(net).__name__} exports {len(branches)} networks "
                          f"({', '.join(branches)}); the latency table times nets exported as one")
    return next(iter(branches.values()))


def export_static(net: paddle.nn.Layer, folder: Path) -> Branch:
    """Trace and save ``net``'s exported network into ``folder``, checked against dygraph as
    ``tools/export_model.py`` checks it. No ``pipeline.json``: the table needs the network alone.
    ``net`` is traced in place (``paddle.jit.to_static``): time the dygraph side on another copy."""
    branch = exported_branch(net)
    _, diff, _, scale = save_and_verify(branch, folder)
    if not diff <= VERIFY_TOLERANCE * scale:
        raise ExportError(f"{folder}: the static model differs from dygraph by {diff:.3g} "
                          f"(> {VERIFY_TOLERANCE:g} x {scale:.3g}); the export is wrong")
    return branch


def network_input(net: paddle.nn.Layer, cfg: dict[str, Any], image_size: int, batch: int,
                  folder: Path) -> tuple[np.ndarray, str]:
    """The table's input for ``net`` (module docstring), ``batch`` copies stacked; and what it is."""
    (spec,) = exported_branch(net).inputs
    if any(d is None or d < 0 for d in spec.shape[2:]):
        node = export_spec_of(net, cfg).pipeline
        if issubclass(PIPELINES.get(node["name"], "pipeline"), TiledImagePipeline):
            node = {**node, "tile_size": 0}  # the whole image at once
        pipeline = PIPELINES.build(node, "pipeline")
        photo = folder / "photograph.png"
        save_image(photograph(image_size), photo)
        x = pipeline.network_inputs(photo)[0]
        what = f"a {image_size}x{image_size} RGB photograph through the {node['name']} pipeline"
    else:
        shape = [1, *(int(d) for d in spec.shape[1:])]
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        what = "standard normal values (fixed input size)"
    return np.ascontiguousarray(np.repeat(x, batch, axis=0)), what


def check_agreement(outputs: dict[str, np.ndarray], tolerance: float = AGREEMENT) -> dict[str, float]:
    """The max abs difference of each output after the first to the first (the reference);
    ``AgreementError`` if one exceeds ``tolerance`` times the reference's magnitude (at least 1) or
    has another shape."""
    (ref_name, ref), *others = outputs.items()
    scale = max(1.0, float(np.abs(ref).max()))
    diffs = {}
    for name, out in others:
        if out.shape != ref.shape:
            raise AgreementError(f"{name}: output shape {out.shape}, {ref_name}'s is {ref.shape}: not the same network")
        diffs[name] = float(np.abs(out.astype(np.float64) - ref).max())
        if not diffs[name] <= tolerance * scale:
            raise AgreementError(f"{name} disagrees with {ref_name} by {diffs[name]:.3g} "
                                 f"(> {tolerance:g} x {scale:.3g}): not the same network")
    return diffs


@dataclasses.dataclass
class LatencyRow:
    net: str  # e.g. "SRCNN (srcnn.yaml), 1x1x768x768"
    timings: dict[str, Timing]  # column -> timing; a column missing here was skipped


def latency_table(rows: list[LatencyRow], columns: list[str]) -> list[str]:
    """Markdown: one row per net, each column's median ms and its ratio to the fastest *other* column
    of the row (below 1: faster than all the others; ``-``: skipped)."""
    lines = ["| net, input | " + " | ".join(f"{c}, ms" for c in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for row in rows:
        medians = {c: t.median_ms for c, t in row.timings.items()}
        cells = []
        for column in columns:
            others = [m for c, m in medians.items() if c != column]
            if column not in medians:
                cells.append("-")
            elif others:
                cells.append(f"{medians[column]:.1f} ({medians[column] / min(others):.2f}x)")
            else:
                cells.append(f"{medians[column]:.1f}")
        lines.append(f"| {row.net} | " + " | ".join(cells) + " |")
    return lines
