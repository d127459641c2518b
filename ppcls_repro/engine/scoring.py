"""The evaluation command: weights scored on one or more named test sets.

``evaluate(cfg)`` scores ``Global.pretrained_model`` on the config's Eval set, named after its
folder (``dataset/Set5`` -> ``Set5``). ``evaluate(cfg, {"Set14": "data/Set14"})`` scores each given
folder instead, with the Eval set's protocol (scale, sigma, shave, ...) and nothing else: no
manifest, no download, no sample stand-in, so a missing, empty or unreadable folder is an error,
never a quiet substitute. Every set writes ``<output_dir>/eval/<NAME>/metrics.json``, so runs on
different sets never replace each other's results; ``<output_dir>/eval/metrics.json`` holds the
latest run, all its sets.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.evaluate import EvalResult
from ppcls_repro.engine.setup import (build_dataset, build_evaluator, build_loader, build_network, data_summary,
                                      start_run)
from ppcls_repro.engine.trainer import write_json
from ppcls_repro.registry import DATASETS, ConfigError
from ppcls_repro.utils.errors import DataError

_SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # also a folder name under eval/
_EVAL_FILES = ("metrics.json", "eval.log")  # what eval/ itself holds: no set folder may take these names


def parse_set_options(values: list[str]) -> dict[str, str]:
    """``--set NAME=FOLDER`` options as {NAME: FOLDER}; malformed or repeated names are one-line errors."""
    sets: dict[str, str] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not folder:
            raise ConfigError(f"--set {value}: expected NAME=FOLDER, e.g. --set Set14=dataset/Set14")
        if not _SET_NAME.match(name):
            raise ConfigError(f"--set {value}: NAME must be letters, digits, '_', '.' or '-' (it names a folder)")
        if name in _EVAL_FILES:
            raise ConfigError(f"--set {value}: NAME must not be {' or '.join(_EVAL_FILES)} (files of eval/)")
        if name in sets:
            raise ConfigError(f"--set {name}: given twice")
        sets[name] = folder
    return sets


def set_name(node: dict[str, Any]) -> str:
    """A test set's name: its folder's name when it reads one (``dataset/Set12`` -> ``Set12``), else
    the dataset's registered name (MNIST, CIFAR: their split is fixed by the dataset)."""
    root = node.get("root")
    return (Path(str(root)).resolve().name if root else "") or str(node["name"])  # "." has no name


def resolve_sets(cfg: dict[str, Any], folders: dict[str, str]) -> dict[str, tuple[dict[str, Any], bool]]:
    """NAME -> (dataset node, strict): the config's Eval set as configured, or, when ``folders`` are
    given, each folder read with the Eval set's protocol, strictly and unverified."""
    node = cfg["DataLoader"]["Eval"]["dataset"]
    if not folders:
        return {set_name(node): (node, cfg["Global"]["strict_data"])}
    params = inspect.signature(DATASETS.get(node["name"], "DataLoader.Eval.dataset.name")).parameters
    if "root" not in params:
        raise ConfigError(f"--set: {node['name']} (DataLoader.Eval.dataset) reads no folder (it has no root)")
    strict_folder = {k: v for k, v in {"manifest": None, "download": False}.items() if k in params}
    sets = {}
    for name, folder in folders.items():
        if not Path(folder).is_dir():
            raise DataError(f"--set {name}={folder}: folder not found")
        sets[name] = ({**node, "root": folder, **strict_folder}, True)
    return sets


def evaluate(cfg: dict[str, Any], folders: dict[str, str] | None = None) -> dict[str, Any]:
    """Score ``Global.pretrained_model`` on each test set (see the module docstring); prints one
    table per set and a paper-vs-ours summary. Returns the run's report (also ``eval/metrics.json``):
    ``{"weights", "paper", "sets": {NAME: {"data", "paper", "ours", "per_item"}}}`` plus the first
    set's ``data``/``ours``/``per_item`` at the top, for readers of one set."""
    g = cfg["Global"]
    if not g["pretrained_model"]:
        raise ConfigError("Global.pretrained_model: required for evaluation (-o Global.pretrained_model=PATH)")
    if "Eval" not in cfg["DataLoader"] or "Metric" not in cfg:
        raise ConfigError("DataLoader.Eval and Metric: both are required for evaluation")
    out = Path(g["output_dir"]) / "eval"
    sets = resolve_sets(cfg, folders or {})
    log = start_run(g, out / "eval.log")
    evaluator = build_evaluator(cfg)
    net = build_network(cfg, load_weights(g["pretrained_model"]), source=str(g["pretrained_model"]))
    log.info(f"weights: {g['pretrained_model']}")
    default_name = set_name(cfg["DataLoader"]["Eval"]["dataset"])
    results = {}
    for name, (node, strict) in sets.items():
        dataset = build_dataset(cfg, "Eval", strict=strict, node=node)
        loader = build_loader(dataset, cfg["DataLoader"]["Eval"], seed=g["seed"],
                              shard=evaluator.gathers_across_ranks)
        data = data_summary(dataset, None)
        data["eval"] = data.pop("train")
        log.info(f"set {name}: {data['eval'].get('note', node.get('root', ''))}, {len(dataset)} items")
        result = evaluator(net, loader)
        # the paper's numbers (its method's and its baseline's) are for the config's own set only
        paper = {**cfg["Paper"]["metrics"], **cfg["Paper"]["baseline"]} if name == default_name else {}
        results[name] = {"data": data, "paper": paper, "ours": result.metrics, "per_item": result.per_item}
        for line in format_table(result):
            log.info(line)
        write_json(out / name / "metrics.json", {"weights": str(g["pretrained_model"]), "set": name,
                                                 **results[name]})
    for line in summary_table(results):
        log.info(line)
    first = next(iter(results.values()))
    report = {"weights": str(g["pretrained_model"]), "paper": cfg["Paper"], "sets": results,
              "data": first["data"], "ours": first["ours"], "per_item": first["per_item"]}
    write_json(out / "metrics.json", report)
    log.info(f"wrote {out / 'metrics.json'} and {', '.join(str(out / n / 'metrics.json') for n in results)}")
    return report


def summary_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """One row per set and metric: paper, ours and ours - paper ('-' where the paper has no number)."""
    rows = [f"{'set':<16}{'metric':<16}{'paper':>12}{'ours':>12}{'difference':>12}"]
    for name, entry in results.items():
        for metric, ours in entry["ours"].items():
            paper = entry["paper"].get(metric)
            diff = ours - paper if isinstance(paper, (int, float)) and isinstance(ours, (int, float)) else None
            rows.append(f"{name:<16}{metric:<16}{_cell(paper, 12)}{_cell(ours, 12)}{_cell(diff, 12, signed=True)}")
    return rows


def format_table(result: EvalResult) -> list[str]:
    """Per-item rows, then the average when the items carry the metrics' own columns (images), or
    the metrics on one line when they carry something else (e.g. the Parzen score of each sigma)."""
    columns = list(dict.fromkeys(k for item in result.per_item for k in item if k != "name"))
    rows = []
    if columns:
        rows.append(f"{'item':<16}" + "".join(f"{k:>15}" for k in columns))
        for item in result.per_item:
            rows.append(f"{str(item.get('name', '')):<16}" + "".join(_cell(item.get(k)) for k in columns))
    if columns and set(columns) == set(result.metrics):
        rows.append(f"{'average':<16}" + "".join(_cell(result.metrics[k]) for k in columns))
    else:
        rows.append("result: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
    return rows


def _cell(value: Any, width: int = 15, signed: bool = False) -> str:
    if isinstance(value, (int, float)):
        return f"{value:>+{width}.4f}" if signed else f"{value:>{width}.4f}"
    return f"{str(value if value is not None else '-'):>{width}}"
