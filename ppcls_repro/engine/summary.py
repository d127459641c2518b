"""The block that ends ``tools/train.py`` and ``tools/eval.py``: ours against the paper, in one place.

``summary_lines(facts)`` is a pure function of a plain dict (tested with known values); the
trainer and the evaluation command only gather the facts (``training_facts``, ``evaluation_facts``)
and log the lines. The paper's numbers are the config's: a set's ``Test.<NAME>.paper``, or
``Paper.metrics`` and ``Paper.baseline`` for the validation set (``paper_numbers``). A metric named
in ``Paper.baseline`` (SR: bicubic) is marked ``baseline`` in the table; a baseline named like one of
the method's metrics (SENet: ResNet-110's top1) gets a line of its own.

The facts (every key optional but ``command`` and ``sets``)::

    command       "training" or "evaluation"
    sets          {NAME: {"paper": {metric: value}, "ours": {metric: value}}}; a set whose data is
                  not here has "missing" (the reason) instead of "ours"
    baseline_keys metrics that are the paper's baseline (marked in the table)
    other_baseline the paper's baseline numbers not in the table: {metric: value}
    best          {"metric", "value", "epoch", "paper"} (training: the best evaluation)
    final_epoch, epochs, resumed_at   training: the last evaluated epoch, the run's length, the
                  epoch this process resumed from (its wall time covers only what it ran)
    data          "sample" when a sample stand-in was used (then the paper's numbers do not apply)
    wall_seconds  this process's wall time
    weights       [(label, path), ...]: where the weights are
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ppcls_repro.config import set_name
from ppcls_repro.utils.logger import get_logger

WIDTH = 80


def paper_numbers(cfg: dict[str, Any], name: str) -> dict[str, float]:
    """The paper's numbers on set ``name``: its ``Test`` entry's, the validation set's ``Paper.metrics``
    and ``Paper.baseline``, or none."""
    entry = cfg.get("Test", {}).get(name)
    if entry and entry["paper"]:
        return dict(entry["paper"])
    if name == set_name(cfg["DataLoader"]["Eval"]["dataset"]):
        # a baseline named like a metric (SENet's ResNet top1) is not the method's number: it stays in Paper
        return {**cfg["Paper"]["metrics"], **baseline_numbers(cfg)}
    return {}


def baseline_numbers(cfg: dict[str, Any]) -> dict[str, float]:
    """``Paper.baseline`` without the entries named like one of the method's metrics."""
    return {k: v for k, v in cfg["Paper"]["baseline"].items() if k not in cfg["Paper"]["metrics"]}


def summary_table(results: dict[str, dict[str, Any]], baseline_keys: tuple[str, ...] | list[str] = ()) -> list[str]:
    """One row per set and metric: paper, ours and ours - paper ('-' where the paper has no number),
    rows of ``baseline_keys`` marked ``baseline``; a set whose data is missing has a row per paper
    number, marked ``missing``."""
    rows = [f"{'set':<16}{'metric':<16}{'paper':>12}{'ours':>12}{'difference':>12}"]
    for name, entry in results.items():
        if "missing" in entry:
            for metric, paper in (entry["paper"] or {"-": None}).items():
                rows.append(f"{name:<16}{metric:<16}{_cell(paper)}{'missing':>12}{'-':>12}")
            continue
        for metric, ours in entry["ours"].items():
            paper = entry["paper"].get(metric)
            row = f"{name:<16}{metric:<16}{_cell(paper)}{_cell(ours)}{_cell(_difference(ours, paper), signed=True)}"
            rows.append(row + ("  baseline" if metric in baseline_keys else ""))
    return rows


def summary_lines(facts: dict[str, Any]) -> list[str]:
    """The end-of-run block (see the module docstring for ``facts``)."""
    lines = [f" summary: {facts['command']} ".center(WIDTH, "=")]
    best = facts.get("best")
    if best:
        lines.append(_best_line(best))
    if facts.get("final_epoch") is not None:
        lines.append(f"final (epoch {facts['final_epoch']} of {facts['epochs']}):")
    elif facts["command"] == "training":
        lines.append("final: not evaluated (no Eval set, or no epoch run)")
    if facts["sets"]:
        lines += summary_table(facts["sets"], tuple(facts.get("baseline_keys", ())))
    for metric, value in (facts.get("other_baseline") or {}).items():
        lines.append(f"the paper's baseline: {metric} {value:.4f}")
    if facts.get("data") == "sample":
        lines.append("data: a SAMPLE stand-in, not the paper's data: the differences to the paper say nothing")
    if facts.get("wall_seconds") is not None:
        resumed = facts.get("resumed_at")
        note = f" (this process, resumed after epoch {resumed})" if resumed else ""
        lines.append(f"wall time: {format_duration(facts['wall_seconds'])}{note}")
    for label, path in facts.get("weights", []):
        lines.append(f"{label}: {path}")
    lines.append("=" * WIDTH)
    return lines


def log_summary(facts: dict[str, Any]) -> None:
    """Log the block, a line per log record (so train.log and eval.log hold it too)."""
    log = get_logger()
    for line in summary_lines(facts):
        log.info(line)


def _best_line(best: dict[str, Any]) -> str:
    text = f"best {best['metric']}: {_number(best['value'])} at epoch {best['epoch']}"
    paper = best.get("paper")
    if isinstance(paper, (int, float)):
        text += f" (paper {paper:.4f}, difference {_difference(best['value'], paper):+.4f})"
    return text


def format_duration(seconds: float) -> str:
    """``8883.2`` -> ``2 h 28 min 3 s``; under a minute: ``12.3 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {secs} s"


def training_facts(cfg: dict[str, Any], final: dict[str, float] | None, final_epoch: int | None,
                   best_value: float | None, best_epoch: int, wall_seconds: float,
                   resumed_at: int = 0, data: str = "real") -> dict[str, Any]:
    """The facts of a finished training: ``final`` the last evaluation's metrics (its epoch
    ``final_epoch``), the best value of ``Global.best_metric`` and its epoch, ``data`` the run's
    kind of data (``real`` or ``sample``)."""
    g = cfg["Global"]
    out = Path(g["output_dir"])
    name = set_name(cfg["DataLoader"]["Eval"]["dataset"]) if "Eval" in cfg["DataLoader"] else "-"
    paper = paper_numbers(cfg, name) if "Eval" in cfg["DataLoader"] else {}
    weights = []
    if best_value is not None:
        weights.append(("best model", f"{out / 'best_model.pdparams'} (epoch {best_epoch}; use it with "
                                      f"-o Global.pretrained_model={out / 'best_model'})"))
    weights.append(("latest", f"{out / 'latest.pdparams'} (resume: -o Global.checkpoints={out / 'latest'})"))
    return {
        "command": "training",
        "sets": {name: {"paper": paper, "ours": final}} if final else {},
        "baseline_keys": list(baseline_numbers(cfg)),
        "other_baseline": _other_baseline(cfg),
        "best": None if best_value is None else {"metric": g["best_metric"], "value": best_value,
                                                  "epoch": best_epoch, "paper": paper.get(g["best_metric"])},
        "final_epoch": final_epoch if final else None,
        "epochs": g["epochs"],
        "resumed_at": resumed_at,
        "data": data,
        "wall_seconds": wall_seconds,
        "weights": weights,
    }


def evaluation_facts(cfg: dict[str, Any], results: dict[str, dict[str, Any]], wall_seconds: float) -> dict[str, Any]:
    """The facts of ``tools/eval.py``: ``results`` the report's sets."""
    return {
        "command": "evaluation",
        "sets": results,
        "baseline_keys": list(baseline_numbers(cfg)),
        "other_baseline": _other_baseline(cfg),
        "data": "sample" if any(_kind(entry) == "sample" for entry in results.values()) else "real",
        "wall_seconds": wall_seconds,
        "weights": [("weights", str(cfg["Global"]["pretrained_model"]))],
    }


def _kind(entry: dict[str, Any]) -> str | None:
    """``real`` or ``sample``: the data a set of the evaluation report was read from."""
    return ((entry.get("data") or {}).get("eval") or {}).get("kind")


def _other_baseline(cfg: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in cfg["Paper"]["baseline"].items() if k in cfg["Paper"]["metrics"]}


def _difference(ours: Any, paper: Any) -> float | None:
    numbers = (int, float)
    return ours - paper if isinstance(paper, numbers) and isinstance(ours, numbers) else None


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else str(value)


def _cell(value: Any, width: int = 12, signed: bool = False) -> str:
    if isinstance(value, (int, float)):
        return f"{value:>+{width}.4f}" if signed else f"{value:>{width}.4f}"
    return f"{str(value if value is not None else '-'):>{width}}"
