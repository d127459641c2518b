"""One command per paper table: released (or given) weights scored on every row the paper reports.

A paper's table (``PaperTable``, registered in ``PAPER_TABLES`` by each paper's ``tables.py``) lists
its rows: a label (``x3``, ``S25``), the config that states the row's protocol, test sets and paper
numbers, and the released weights. ``reproduce(table)`` evaluates each row with ``scoring.evaluate``
on every test set of its config and returns one line per (row, set, metric the paper gives): paper,
ours, difference. A row whose weights or data are not here is kept, marked ``no weights`` or
``missing``, never skipped.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from ppcls_repro.config import load_config, set_name
from ppcls_repro.data.download import DatasetUnavailable
from ppcls_repro.engine.scoring import evaluate
from ppcls_repro.engine.summary import paper_numbers
from ppcls_repro.registry import ConfigError, Registry

PAPER_TABLES = Registry("paper table")  # name (srcnn, fsrcnn, ...) -> function returning its PaperTable
LOGGER = logging.getLogger("ppcls_repro")


@dataclasses.dataclass(frozen=True)
class TableRow:
    """One row of a paper's table: ``config`` (relative to the repository) scored with ``weights``
    (a prefix or ``.pdparams``; the release, or what ``--weights LABEL=PATH`` gives)."""
    label: str
    config: str
    weights: str


@dataclasses.dataclass(frozen=True)
class PaperTable:
    title: str  # e.g. "SRCNN 9-1-5 on T91 (ECCV 2014), PSNR on Y"
    rows: tuple[TableRow, ...]


@dataclasses.dataclass(frozen=True)
class Line:
    """One line of the reproduced table; ``ours`` None with ``note`` saying why (no weights, missing)."""
    row: str
    set: str
    metric: str
    paper: float | None
    ours: float | None
    note: str = ""

    @property
    def difference(self) -> float | None:
        return None if self.paper is None or self.ours is None else self.ours - self.paper


def reproduce(table: PaperTable, output_dir: str | Path, weights: dict[str, str] | None = None) -> list[Line]:
    """Score every row of ``table`` (``weights`` replaces the release of the rows it names); each
    row's evaluation goes to ``<output_dir>/<label>/eval/``."""
    weights = weights or {}
    unknown = sorted(set(weights) - {row.label for row in table.rows})
    if unknown:
        raise ConfigError(f"--weights {unknown[0]}: no such row (rows: {', '.join(r.label for r in table.rows)})")
    lines: list[Line] = []
    for row in table.rows:
        path = weights.get(row.label, row.weights)
        cfg = load_config(row.config, [f"Global.output_dir={Path(output_dir) / row.label}",
                                       f"Global.pretrained_model={path}"])
        if not _weights_exist(path):
            lines += _unscored(cfg, row.label, f"no weights: {path} not found")
            continue
        try:
            report = evaluate(cfg)
        except DatasetUnavailable as exc:  # none of the row's sets is here
            LOGGER.warning(f"row {row.label}: {exc}")
            lines += _unscored(cfg, row.label, "missing: data not here")
            continue
        lines += _row_lines(cfg, row.label, report["sets"])
    return lines


def _weights_exist(path: str) -> bool:
    return Path(path).is_file() or Path(f"{path}.pdparams").is_file()


def _shown_metrics(cfg: dict[str, Any], paper: dict[str, float]) -> list[str]:
    """The config's main metric (``Global.best_metric``), then the others the paper gives on the set."""
    return list(dict.fromkeys([cfg["Global"]["best_metric"], *paper]))


def _unscored(cfg: dict[str, Any], label: str, note: str) -> list[Line]:
    names = list(cfg["Test"]) if "Test" in cfg else [set_name(cfg["DataLoader"]["Eval"]["dataset"])]
    return [Line(label, name, metric, paper_numbers(cfg, name).get(metric), None, note)
            for name in names for metric in _shown_metrics(cfg, paper_numbers(cfg, name))]


def _row_lines(cfg: dict[str, Any], label: str, sets: dict[str, Any]) -> list[Line]:
    lines = []
    for name, entry in sets.items():
        for metric in _shown_metrics(cfg, entry["paper"]):
            if "missing" in entry:
                lines.append(Line(label, name, metric, entry["paper"].get(metric), None, "missing: data not here"))
            else:
                lines.append(Line(label, name, metric, entry["paper"].get(metric), entry["ours"].get(metric)))
    return lines


def format_lines(lines: list[Line]) -> list[str]:
    """The table as Markdown: row, set, metric, paper, ours, difference, note."""
    rows = ["| row | set | metric | paper | ours | difference | note |", "|---|---|---|---:|---:|---:|---|"]
    for line in lines:
        cells = [line.row, line.set, line.metric, _number(line.paper), _number(line.ours),
                 _number(line.difference, signed=True), line.note]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
