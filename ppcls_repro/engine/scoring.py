"""The evaluation command: weights scored on one or more named test sets.

``evaluate(cfg)`` scores ``Global.pretrained_model`` on every set of the config's ``Test`` section
(the paper's tables: Set5, Set14, ...) or, in a config without one, on its Eval set, named after its
folder (``dataset/Set5`` -> ``Set5``). A ``Test`` set is read with the Eval set's protocol, verified
against its manifest when it has one, downloaded when allowed, and never replaced by a sample
stand-in: a set whose data is not here is reported as missing (one line, and a row of the summary),
and the others are still scored.

``evaluate(cfg, {"Set14": "data/Set14"})`` scores each given folder instead, with the Eval set's
protocol (scale, sigma, shave, ...) and nothing else: no manifest, no download, no sample stand-in,
so a missing, empty or unreadable folder is an error, never a quiet substitute.

A set's paper numbers are its ``Test.<NAME>.paper``, or ``Paper.metrics`` and ``Paper.baseline``
for the validation set. Every set writes ``<output_dir>/eval/<NAME>/metrics.json``, so runs on
different sets never replace each other's results; ``<output_dir>/eval/metrics.json`` holds the
latest run, all its sets.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ppcls_repro.config import EVAL_FILES, SET_NAME, set_name
from ppcls_repro.data.download import DatasetUnavailable
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.evaluate import EvalResult, PerImageEvaluator
from ppcls_repro.engine.setup import (build_dataset, build_evaluator, build_loader, build_network, data_summary,
                                      start_run)
from ppcls_repro.engine.summary import evaluation_facts, log_summary, paper_numbers
from ppcls_repro.engine.trainer import write_json
from ppcls_repro.registry import DATASETS, ConfigError
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.logger import get_logger


@dataclass(frozen=True)
class TestSet:
    """A set to score: its dataset node, ``strict`` as datasets take it (no sample stand-in), whether
    data that is not here is a reported gap (a ``Test`` set) rather than an error, and the paper's
    numbers on it."""
    node: dict[str, Any]
    strict: bool
    missing_ok: bool
    paper: dict[str, float]


def parse_set_options(values: list[str]) -> dict[str, str]:
    """``--set NAME=FOLDER`` options as {NAME: FOLDER}; malformed or repeated names are one-line errors."""
    sets: dict[str, str] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not folder:
            raise ConfigError(f"--set {value}: expected NAME=FOLDER, e.g. --set Set14=dataset/Set14")
        if not SET_NAME.match(name):
            raise ConfigError(f"--set {value}: NAME must be letters, digits, '_', '.' or '-' (it names a folder)")
        if name in EVAL_FILES:
            raise ConfigError(f"--set {value}: NAME must not be {' or '.join(EVAL_FILES)} (files of eval/)")
        if name in sets:
            raise ConfigError(f"--set {name}: given twice")
        sets[name] = folder
    return sets


def resolve_sets(cfg: dict[str, Any], folders: dict[str, str]) -> dict[str, TestSet]:
    """NAME -> TestSet: the given ``folders`` (read strictly and unverified), else the ``Test`` sets,
    else the Eval set as configured."""
    node = cfg["DataLoader"]["Eval"]["dataset"]
    if not folders and "Test" not in cfg:
        name = set_name(node)
        return {name: TestSet(node, cfg["Global"]["strict_data"], False, paper_numbers(cfg, name))}
    params = inspect.signature(DATASETS.get(node["name"], "DataLoader.Eval.dataset.name")).parameters
    if "root" not in params:
        raise ConfigError(f"--set: {node['name']} (DataLoader.Eval.dataset) reads no folder (it has no root)")
    if not folders:
        return {name: TestSet(_read_as(node, params, entry["root"], entry["manifest"], download=None), True, True,
                              paper_numbers(cfg, name))
                for name, entry in cfg["Test"].items()}
    sets = {}
    for name, folder in folders.items():
        if not Path(folder).is_dir():
            raise DataError(f"--set {name}={folder}: folder not found")
        sets[name] = TestSet(_read_as(node, params, folder, None, download=False), True, False,
                             paper_numbers(cfg, name))
    return sets


def _warn_unscored_eval_root(cfg: dict[str, Any], node: dict[str, Any]) -> None:
    """The Test sets are scored, not the Eval set: say so when the Eval root is none of theirs (a
    validation folder of one's own, or ``-o DataLoader.Eval.dataset.root=...`` meant for scoring)."""
    roots = {str(Path(entry["root"])) for entry in cfg["Test"].values()}
    if "root" in node and str(Path(node["root"])) not in roots:
        get_logger().warning(
            f"DataLoader.Eval.dataset.root {node['root']} (the validation set) is not scored: the evaluation "
            f"scores the Test sets ({', '.join(cfg['Test'])}); to score that folder, pass --set NAME={node['root']}")


def _read_as(node: dict[str, Any], params: Any, root: str, manifest: str | None,
             download: bool | None) -> dict[str, Any]:
    """The Eval dataset node reading ``root`` (verified by ``manifest``; ``download`` None keeps the
    node's own setting)."""
    changes = {"manifest": manifest} if download is None else {"manifest": manifest, "download": download}
    return {**node, "root": root, **{k: v for k, v in changes.items() if k in params}}


def evaluate(cfg: dict[str, Any], folders: dict[str, str] | None = None,
             save_images: str | Path | None = None) -> dict[str, Any]:
    """Score ``Global.pretrained_model`` on each test set (see the module docstring); prints one
    table per set and ends with the summary block (``engine/summary.py``: paper, ours, difference, wall
    time, weights). Returns the run's report (also ``eval/metrics.json``):
    ``{"weights", "paper", "sets": {NAME: {"data", "paper", "ours", "per_item"}}}`` plus the first
    scored set's ``data``/``ours``/``per_item`` at the top, for readers of one set. With
    ``save_images``, each item's outputs (the evaluator's ``outputs``: SR ``sr``, DnCNN ``noisy`` and
    ``denoised``) go to ``<save_images>/<NAME>/<item>_<kind>.png``."""
    started = time.perf_counter()
    g = cfg["Global"]
    if not g["pretrained_model"]:
        raise ConfigError("Global.pretrained_model: required for evaluation (-o Global.pretrained_model=PATH)")
    if "Eval" not in cfg["DataLoader"] or "Metric" not in cfg:
        raise ConfigError("DataLoader.Eval and Metric: both are required for evaluation")
    out = Path(g["output_dir"]) / "eval"
    sets = resolve_sets(cfg, folders or {})
    evaluator = build_evaluator(cfg)
    if save_images is not None and not isinstance(evaluator, PerImageEvaluator):
        raise ConfigError(f"--save_images: {type(evaluator).__name__} (Metric.name) makes no images to save")
    log = start_run(g, out / "eval.log")
    if not folders and "Test" in cfg:
        _warn_unscored_eval_root(cfg, cfg["DataLoader"]["Eval"]["dataset"])
    net = build_network(cfg, load_weights(g["pretrained_model"]), source=str(g["pretrained_model"]))
    log.info(f"weights: {g['pretrained_model']}")
    results = {}
    for name, test_set in sets.items():
        images = None if save_images is None else Path(save_images) / name
        results[name] = _score_set(cfg, name, test_set, net, evaluator, log, images)
        if "missing" not in results[name]:
            write_json(out / name / "metrics.json", {"weights": str(g["pretrained_model"]), "set": name,
                                                     **results[name]})
    scored = [entry for entry in results.values() if "missing" not in entry]
    if not scored:
        log_summary(evaluation_facts(cfg, results, time.perf_counter() - started))
        reasons = "; ".join(f"{name}: {entry['missing']}" for name, entry in results.items())
        raise DatasetUnavailable(f"no test set could be read: {reasons}")
    report = {"weights": str(g["pretrained_model"]), "paper": cfg["Paper"], "sets": results,
              "data": scored[0]["data"], "ours": scored[0]["ours"], "per_item": scored[0]["per_item"]}
    write_json(out / "metrics.json", report)
    written = [str(out / n / "metrics.json") for n, entry in results.items() if "missing" not in entry]
    log.info(f"wrote {out / 'metrics.json'} and {', '.join(written)}")
    log_summary(evaluation_facts(cfg, results, time.perf_counter() - started))
    return report


def _score_set(cfg: dict[str, Any], name: str, test_set: TestSet, net: Any, evaluator: Any,
               log: Any, save_dir: Path | None) -> dict[str, Any]:
    """One set's entry of the report: data, paper, ours, per_item; or data and paper and ``missing``
    (the reason, one line) for a ``Test`` set whose data is not here."""
    try:
        dataset = build_dataset(cfg, "Eval", strict=test_set.strict, node=test_set.node)
    except DatasetUnavailable as exc:  # not here (a damaged image of a set that is here is an error)
        if not test_set.missing_ok:
            raise
        log.warning(f"set {name}: missing, not scored: {exc}")
        return {"data": None, "paper": test_set.paper, "missing": str(exc)}
    loader = build_loader(dataset, cfg["DataLoader"]["Eval"], seed=cfg["Global"]["seed"],
                          shard=evaluator.gathers_across_ranks)
    data = data_summary(dataset, None)
    data["eval"] = data.pop("train")
    log.info(f"set {name}: {data['eval'].get('note', test_set.node.get('root', ''))}, {len(dataset)} items")
    result = evaluator(net, loader) if save_dir is None else evaluator(net, loader, save_dir=save_dir)
    if save_dir is not None:
        log.info(f"set {name}: outputs written to {save_dir}")
    for line in format_table(result):
        log.info(line)
    return {"data": data, "paper": test_set.paper, "ours": result.metrics, "per_item": result.per_item}


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
