"""Training curves from a run's own ``train.log``: the metric against samples seen, with the
paper's number, a reference level and the paper's budget marked (``tools/plot_curve.py``).

A curve is read from the ``[Eval][Epoch N] key: value, ...`` lines the loop writes (several logs
join in order: a run resumed across sessions; a later stage, begun from the final weights with its
epochs counted afresh, follows the last epoch); extra points (e.g. a slower, more exact evaluation of
some epochs) come from a CSV of ``epoch,value`` rows. Samples seen = epoch x samples per epoch.
"""
from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.utils.errors import DataError

EVAL_LINE = re.compile(r"\[Eval\]\[Epoch (\d+)\] (.*)$")


@dataclasses.dataclass
class Series:
    label: str
    epochs: list[int]
    values: list[float]


def read_eval_series(logs: list[Path], metric: str) -> Series:
    """``metric`` at every evaluated epoch of the logs; a later log's epoch replaces an earlier one."""
    points: dict[int, float] = {}
    for log in logs:
        if not Path(log).is_file():
            raise DataError(f"{log}: log not found")
        for line in Path(log).read_text().splitlines():
            match = EVAL_LINE.search(line)
            if not match or "new best" in line:
                continue
            values = dict(item.split(": ", 1) for item in match.group(2).split(", ") if ": " in item)
            if metric in values:
                points[int(match.group(1))] = float(values[metric])
    if not points:
        raise DataError(f"{', '.join(map(str, logs))}: no [Eval] line with '{metric}'")
    epochs = sorted(points)
    return Series(label=metric, epochs=epochs, values=[points[e] for e in epochs])


def append_stage(series: Series, stage: Series) -> Series:
    """A later training stage that started from ``series``' final weights (its epochs count from 1
    again, e.g. SRCNN's stage 2), placed after the last epoch of ``series``."""
    offset = series.epochs[-1]
    return Series(series.label, series.epochs + [offset + e for e in stage.epochs], series.values + stage.values)


def read_csv_series(path: Path, label: str) -> Series:
    """``epoch,value`` rows (a header row is skipped)."""
    if not Path(path).is_file():
        raise DataError(f"{path}: file not found")
    rows = [row for row in csv.reader(Path(path).read_text().splitlines()) if row]
    try:
        pairs = sorted((int(epoch), float(value)) for epoch, value in (r[:2] for r in rows if r[0].strip().isdigit()))
    except ValueError as err:
        raise DataError(f"{path}: expected epoch,value rows ({err})") from None
    if not pairs:
        raise DataError(f"{path}: no epoch,value rows")
    return Series(label=label, epochs=[e for e, _ in pairs], values=[v for _, v in pairs])


def log_fit(series: Series, from_epoch: int) -> tuple[float, float]:
    """Least-squares ``(a, b)`` of ``value = a + b ln(epoch)`` over the points from ``from_epoch`` on."""
    points = [(e, v) for e, v in zip(series.epochs, series.values) if e >= from_epoch]
    if len(points) < 2:
        raise DataError(f"--fit_from {from_epoch}: fewer than two evaluated epochs from there")
    b, a = np.polyfit(np.log([e for e, _ in points]), [v for _, v in points], 1)
    return float(a), float(b)


def epoch_reaching(a: float, b: float, level: float) -> float:
    """The epoch at which the fit ``a + b ln(epoch)`` reaches ``level`` (inf when it never rises)."""
    return float(np.exp((level - a) / b)) if b > 0 else float("inf")


def plot(series: list[Series], out: Path, samples_per_epoch: int, ylabel: str, title: str,
         levels: dict[str, float], budget: tuple[str, float] | None = None, log_x: bool = False) -> Path:
    """Write the PNG: each series against samples seen, horizontal ``levels`` (label -> value) and
    the ``budget`` (label, samples) as a vertical line; ``log_x`` for a logarithmic samples axis."""
    import matplotlib  # only this tool draws: a function-local import keeps it off every other path
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    for s in series:
        ax.plot([e * samples_per_epoch for e in s.epochs], s.values, marker="." if len(s.epochs) < 40 else None,
                label=s.label)
    for i, (label, value) in enumerate(levels.items()):
        ax.axhline(value, linestyle="--", color=f"C{len(series) + i}", label=f"{label}: {value:g}")
    if budget:
        ax.axvline(budget[1], linestyle=":", color="k", label=f"{budget[0]}: {budget[1]:.3g} samples")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(f"samples seen (epoch x {samples_per_epoch:,}{'; log scale' if log_x else ''})")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def run_curve_levels(paper: dict[str, Any], metric: str) -> dict[str, float]:
    """The horizontal lines of a run's ``metric`` curve from its config's ``Paper`` section: the paper's
    number, and each baseline (``baseline: {bicubic_psnr: 30.39}`` -> ``bicubic``; a baseline of the
    metric itself, e.g. SENet's plain ResNet, -> ``paper baseline``)."""
    levels = {}
    if metric in (paper.get("metrics") or {}):
        levels[f"paper: {paper.get('title', '')}".rstrip(": ")] = float(paper["metrics"][metric])
    for key, value in (paper.get("baseline") or {}).items():
        if key == metric:
            levels["paper baseline"] = float(value)
        elif key.endswith(f"_{metric}"):
            levels[key[: -len(metric) - 1]] = float(value)
    return levels


def plot_run_curve(log: Path, cfg: dict[str, Any], samples_per_epoch: int, out: Path) -> Path | None:
    """A run's own curve of ``Global.best_metric`` from its ``train.log`` (written by the loop at the end
    of a run, or when it is interrupted), with the paper's lines; None before its first evaluation."""
    metric = cfg["Global"]["best_metric"]
    try:
        series = read_eval_series([log], metric)
    except DataError:
        return None
    title = f"{Path(cfg['Global']['output_dir']).name}: {metric} ({cfg['Paper'].get('setting', '')})".rstrip(" ()")
    return plot([series], out, samples_per_epoch, metric, title, run_curve_levels(cfg["Paper"], metric))
