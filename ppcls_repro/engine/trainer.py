"""The training loop, written once for every paper (the evaluation command is ``engine/scoring.py``).

``train(cfg)`` builds the data, the step and the evaluator from a validated config, then runs
epochs: train, evaluate every ``eval_interval``, checkpoint (``latest``, ``best_model``,
``epoch_N``), log. What differs between papers lives in the step and the evaluator.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import math
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import paddle

from ppcls_repro.config import save_config
from ppcls_repro.engine import distributed
from ppcls_repro.engine.checkpoint import (load_file, load_weights, save_checkpoint, set_rng_state, set_weights_partial,
                                          strip_suffix)
from ppcls_repro.engine.curves import plot_run_curve
from ppcls_repro.engine.evaluate import EvalResult, Evaluator
from ppcls_repro.engine.setup import build_dataset, build_evaluator, build_loader, data_summary, start_run
from ppcls_repro.engine.steps import Step
from ppcls_repro.engine.summary import log_summary, training_facts
from ppcls_repro.registry import STEPS, ConfigError, nearest
from ppcls_repro.utils.logger import VisualDLWriter, get_logger, setup_logging


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message says where and which checkpoint is good."""


class TrainingInterrupted(RuntimeError):
    """SIGINT or SIGTERM stopped the run at an iteration boundary, after saving ``latest`` there;
    the message gives the resume command. ``signal_number`` is the signal received."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number


class StopRequest:
    """While active, SIGINT and SIGTERM only set ``received``: the loop stops at the next iteration
    boundary and saves where it is. A second SIGINT stops at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():  # handlers can only be set there
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signum
        get_logger().warning(f"{signal.Signals(signum).name} received: stopping after this iteration "
                             "(again with Ctrl-C to stop at once, without saving)")


@dataclasses.dataclass
class Progress:
    """What the loop needs to continue exactly after a resume."""
    epoch: int = 0  # last finished epoch
    epoch_iters: int = 0  # iterations done of epoch ``epoch + 1`` (an interrupted run resumes there)
    global_iter: int = 0
    best_value: float | None = None
    best_epoch: int = 0


def train(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run a whole training as configured; returns the final metrics (also in metrics.json). Ends
    with the summary block (best, final, paper, baseline, wall time, weights: ``engine/summary.py``)."""
    started = time.perf_counter()
    g = cfg["Global"]
    out = Path(g["output_dir"])
    main = distributed.is_main_process()  # with several processes, rank 0 alone writes files
    check_output_dir(g)
    resume = load_file(strip_suffix(g["checkpoints"]).with_suffix(".pdckpt")) if g["checkpoints"] else None
    finished = _finished_result(g, resume)
    if finished is not None:
        if "ours" in finished:  # its summary again, from what it wrote
            best = finished.get("best", {})
            log_summary(training_facts(cfg, finished["ours"] or None, finished.get("epoch"), best.get(g["best_metric"]),
                                       best.get("epoch", 0), time.perf_counter() - started, finished.get("epoch", 0),
                                       finished.get("data", {}).get("data", "real")))
        return finished
    evaluator = build_evaluator(cfg)
    check_best_metric(g, evaluator)
    log = start_run(g, out / "train.log")
    train_set = build_dataset(cfg, "Train", strict=g["strict_data"])
    eval_set = build_dataset(cfg, "Eval", strict=g["strict_data"]) if "Eval" in cfg["DataLoader"] else None
    loader = build_loader(train_set, cfg["DataLoader"]["Train"], seed=g["seed"])
    eval_loader = build_loader(eval_set, cfg["DataLoader"]["Eval"], seed=g["seed"],
                               shard=_gathers(evaluator)) if eval_set else None
    iters = len(loader) if g["max_iters_per_epoch"] is None else min(len(loader), g["max_iters_per_epoch"])
    step = STEPS.get(cfg["Step"]["name"]).from_config(cfg, steps_per_epoch=iters)
    distributed.wrap_data_parallel(step)
    if main:  # only now: a run that could not start (no data, a bad key) must not claim the folder
        save_config(cfg, out / "config.yaml")
    step.init_from_data(train_set)  # e.g. GAN: G's output bias from the data; a resume overrides it
    data = data_summary(train_set, eval_set)

    vdl = VisualDLWriter(out / "vdl" if g["use_visualdl"] and main else None, paper=cfg["Paper"].get("metrics"))
    progress = _restore(step, g, data, resume)
    resumed_at = progress.epoch
    if progress.epoch == 0:
        vdl.text("data", json.dumps(data))
        vdl.text("config", (out / "config.yaml").read_text() if main else "")
    log.info(f"data: {json.dumps(data)}")
    log.info(f"train: {len(train_set)} samples, {iters} iterations/epoch, epochs {progress.epoch + 1}..{g['epochs']}")
    result: EvalResult | None = None
    try:
        with StopRequest() as stop:
            for epoch in range(progress.epoch + 1, g["epochs"] + 1):
                result = _run_epoch(step, loader, epoch, iters, progress, g, vdl, stop, evaluator, eval_loader,
                                    out, data) or result
    finally:
        vdl.close()
        if main:  # also after an interruption: the curve so far
            plot_run_curve(out / "train.log", cfg, iters * _batch_size_of(cfg), out / f"{g['best_metric']}_curve.png")
    report = _write_metrics(out, cfg, data, result, progress)
    log_summary(training_facts(cfg, result.metrics if result else None, progress.epoch, progress.best_value,
                               progress.best_epoch, time.perf_counter() - started, resumed_at, data["data"]))
    return report


def _run_epoch(step: Step, loader: Any, epoch: int, iters: int, progress: Progress, g: dict[str, Any],
               vdl: VisualDLWriter, stop: StopRequest, evaluator: Any, eval_loader: Any, out: Path,
               data: dict[str, Any]) -> EvalResult | None:
    """Train one epoch (from where an interrupted one stopped), evaluate when due, checkpoint."""
    skip, progress.epoch_iters = progress.epoch_iters, 0
    done = _train_one_epoch(step, loader, epoch, iters, progress, g, vdl, stop, skip)
    resume = f"saved {out / 'latest'}; resume with -o Global.checkpoints={out / 'latest'}"
    if stop.received is not None and done < iters:
        progress.epoch_iters = done
        _save(out / "latest", step, progress, data)
        raise TrainingInterrupted(f"stopped at epoch {epoch}, iteration {done} of {iters}; {resume}", stop.received)
    progress.epoch = epoch
    result = None
    if evaluator is not None and eval_loader is not None and (epoch % g["eval_interval"] == 0
                                                             or epoch == g["epochs"]):
        result = evaluator(step.eval_model, eval_loader)
        _report_eval(result, epoch, progress, step, g, vdl, out, data)
    _save(out / "latest", step, progress, data)
    if g["save_interval"] and epoch % g["save_interval"] == 0:
        _save(out / f"epoch_{epoch}", step, progress, data)
    if stop.received is not None and epoch < g["epochs"]:  # the signal came during the last iteration
        raise TrainingInterrupted(f"stopped after epoch {epoch}; {resume}", stop.received)
    return result


def check_best_metric(g: dict[str, Any], evaluator: Evaluator | None) -> None:
    """``Global.best_metric`` must be a key the evaluator gives, known before the first epoch."""
    if evaluator is not None and g["best_metric"] not in evaluator.metric_names:
        raise ConfigError(f"Global.best_metric: '{g['best_metric']}' is not given by {type(evaluator).__name__}"
                          f"{nearest(g['best_metric'], evaluator.metric_names)} (it gives "
                          f"{', '.join(evaluator.metric_names)})")


RUN_FILES = ("config.yaml", "metrics.json", "latest.pdckpt", "latest.pdparams", "best_model.pdparams")


def check_output_dir(g: dict[str, Any]) -> None:
    """Refuse to write a new run over another one's files (its best model, checkpoints, metrics)."""
    out = Path(g["output_dir"])
    if out.exists() and not out.is_dir():
        raise ConfigError(f"Global.output_dir: {out} is a file, not a folder")
    found = [name for name in RUN_FILES if (out / name).exists()]
    resuming_here = g["checkpoints"] and Path(g["checkpoints"]).resolve().parent == out.resolve()
    if found and not resuming_here and not g["overwrite"]:
        raise ConfigError(f"Global.output_dir: {out} holds another run ({', '.join(found)}); resume it with "
                          f"-o Global.checkpoints={out / 'latest'}, choose another output_dir, or replace it "
                          "with -o Global.overwrite=true")


def _finished_result(g: dict[str, Any], resume: dict[str, Any] | None) -> dict[str, Any] | None:
    """When resuming (``resume``: the checkpoint's content) a run that has already trained
    ``Global.epochs`` epochs: its metrics.json (or its epoch), having changed nothing; None otherwise."""
    if resume is None:
        return None
    epoch = resume["progress"]["epoch"]
    if epoch < g["epochs"]:
        return None
    setup_logging().info(f"{g['checkpoints']} has already trained {epoch} of {g['epochs']} epochs: nothing to "
                         f"do (raise Global.epochs to continue)")
    metrics = Path(g["output_dir"]) / "metrics.json"
    return json.loads(metrics.read_text()) if metrics.is_file() else {"epoch": epoch}


def _restore(step: Step, g: dict[str, Any], data: dict[str, Any], state: dict[str, Any] | None) -> Progress:
    """From the resume checkpoint's content ``state`` (RNG states included), or pretrained weights."""
    log = get_logger()
    if state is not None:
        set_rng_state(state.pop("rng"))
        check_same_data(state.get("data"), data, str(g["checkpoints"]))
        step.set_state_dict(state["step"], state["weights"], source=str(g["checkpoints"]))
        progress = Progress(**state["progress"])
        within = f", iteration {progress.epoch_iters} of epoch {progress.epoch + 1}" if progress.epoch_iters else ""
        log.info(f"resumed from {g['checkpoints']} at epoch {progress.epoch}{within}")
        return progress
    if g["pretrained_model"] and g["pretrained_prefixes"]:
        taken = set_weights_partial(step.eval_model, load_weights(g["pretrained_model"]), g["pretrained_prefixes"],
                                    source=str(g["pretrained_model"]))
        names = ", ".join(f"{prefix}*" for prefix in g["pretrained_prefixes"])
        log.info(f"loaded {len(taken)} entries ({names}) from {g['pretrained_model']}; "
                 f"the others keep their initialisation")
    elif g["pretrained_model"]:
        step.load_weights(load_weights(g["pretrained_model"]), source=str(g["pretrained_model"]))
        log.info(f"loaded pretrained weights {g['pretrained_model']}")
    return Progress()


def _train_one_epoch(step: Step, loader: Any, epoch: int, iters: int, progress: Progress,
                     g: dict[str, Any], vdl: VisualDLWriter, stop: StopRequest, skip: int = 0) -> int:
    """Iterations ``skip + 1 .. iters`` of ``epoch``; returns how many of the epoch are done (fewer
    than ``iters`` when a stop was requested)."""
    log = get_logger()
    step.train()
    loader.batch_sampler.set_epoch(epoch, skip=skip)  # the seeded batch order of this epoch, resumed at ``skip``
    if hasattr(loader.dataset, "set_epoch"):  # datasets whose random augmentation is seeded per epoch
        loader.dataset.set_epoch(epoch)
    step.set_epoch(epoch)
    reader_cost = batch_cost = 0.0
    samples = since_print = 0
    iters_after_epoch = (g["epochs"] - epoch) * iters
    done = skip
    tic = time.perf_counter()
    for i, batch in enumerate(loader, start=skip):
        if i >= iters or stop.received is not None:
            break
        reader_cost += time.perf_counter() - tic
        losses = step.train_step(batch)
        progress.global_iter += 1
        done = i + 1
        _check_finite(losses, epoch, done, g["output_dir"])
        samples += _batch_size(batch)
        since_print += 1
        batch_cost += time.perf_counter() - tic
        if done % g["print_batch_step"] == 0 or done == iters:
            eta = batch_cost / since_print * (iters - done + iters_after_epoch)  # what is left of this run
            loss_text = ", ".join(f"{k}: {v:.6g}" for k, v in losses.items())
            log.info(f"[Train][Epoch {epoch}/{g['epochs']}][Iter {done}/{iters}] lr: {step.lr:.3e}, "
                     f"{loss_text}, reader_cost: {reader_cost / since_print:.5f} s, "
                     f"batch_cost: {batch_cost / since_print:.5f} s, "
                     f"ips: {samples / max(batch_cost, 1e-9):.1f} samples/s, "
                     f"eta: {format_eta(eta)}")
            vdl.scalars({**losses, "lr": step.lr, "reader_cost": reader_cost / since_print,
                         "batch_cost": batch_cost / since_print}, progress.global_iter, "train")
            reader_cost = batch_cost = 0.0
            samples = since_print = 0
        tic = time.perf_counter()
    return done


def format_eta(seconds: float) -> str:
    """``1209065.4`` -> ``13 days, 23:51:05`` (PaddleClas's ``H:MM:SS``, with the days a long run needs)."""
    return str(datetime.timedelta(seconds=round(seconds)))


def _check_finite(losses: dict[str, float], epoch: int, it: int, output_dir: str) -> None:
    bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
    if bad:
        latest = Path(output_dir) / "latest.pdckpt"
        kept = f"the last good checkpoint is {latest.with_suffix('')}" if latest.is_file() else \
            "no checkpoint had been saved yet"
        raise TrainingDiverged(f"loss became {bad} at epoch {epoch}, iteration {it}; stopped without saving, {kept}")


def _batch_size_of(cfg: dict[str, Any]) -> int:
    """Training samples per iteration, all processes together (for the curve's samples axis)."""
    return int(cfg["DataLoader"]["Train"].get("sampler", {}).get("batch_size", 1)) * distributed.world_size()


def _batch_size(batch: Any) -> int:
    first = batch["input"] if isinstance(batch, dict) else batch[0]
    return int(first.shape[0])


def _report_eval(result: EvalResult, epoch: int, progress: Progress, step: Step, g: dict[str, Any],
                 vdl: VisualDLWriter, out: Path, data: dict[str, Any]) -> None:
    log = get_logger()
    text = ", ".join(f"{k}: {v:.4f}" for k, v in result.metrics.items())
    log.info(f"[Eval][Epoch {epoch}] {text}")
    vdl.eval_charts(result.metrics, epoch)
    for tag, image in list(result.images.items())[: g["num_vdl_images"]]:
        vdl.image(f"eval/{tag}", image, epoch)
    key = g["best_metric"]
    if key not in result.metrics:
        raise ConfigError(f"Global.best_metric: '{key}' is not produced by the evaluator "
                          f"(it gives {', '.join(result.metrics)})")
    value = result.metrics[key]
    better = progress.best_value is None or (
        value > progress.best_value if g["higher_is_better"] else value < progress.best_value)
    if better:
        progress.best_value, progress.best_epoch = value, epoch
        _save(out / "best_model", step, progress, data)
        log.info(f"[Eval][Epoch {epoch}] new best {key}: {value:.4f}, saved {out / 'best_model'}")


def _gathers(evaluator: Evaluator | None) -> bool:
    """Whether an evaluator combines the shards of several processes (else each scores all)."""
    return evaluator is not None and evaluator.gathers_across_ranks


def _save(prefix: Path, step: Step, progress: Progress, data: dict[str, Any]) -> None:
    if not distributed.is_main_process():
        return
    save_checkpoint(prefix, step.weights(),
                    {"step": step.state_dict(), "progress": dataclasses.asdict(progress), "data": data})


def check_same_data(saved: dict[str, Any] | None, current: dict[str, Any], source: str) -> None:
    """Refuse to resume a run on other data than it was trained on (e.g. real T91 -> sample stand-in).

    Training data must match in kind, name and size; evaluation data in kind and name (a smaller or
    larger validation subset is an evaluation choice). Training on other data goes through
    Global.pretrained_model. Checkpoints written before the data was recorded (``saved`` None) pass.
    """
    if saved is None:
        return
    for split, fields in (("train", ("kind", "name", "samples")), ("eval", ("kind", "name"))):
        before, now = saved.get(split), current.get(split)
        if before and now and any(before.get(f) != now.get(f) for f in fields):
            raise ConfigError(f"Global.checkpoints: {source} was trained with {split} data {_describe(before)} "
                              f"but this run has {_describe(now)}; restore the data (dataset paths are "
                              f"relative to the working directory) or start a new run from Global.pretrained_model")


def _describe(info: dict[str, Any]) -> str:
    return f"{info.get('name')} ({info.get('kind')}, {info.get('samples')} samples)"


def _write_metrics(out: Path, cfg: dict[str, Any], data: dict[str, Any], result: EvalResult | None,
                   progress: Progress) -> dict[str, Any]:
    report = {
        "data": data,
        "paper": cfg["Paper"],
        "ours": result.metrics if result else {},
        "per_item": result.per_item if result else [],
        "epoch": progress.epoch,
        "best": {cfg["Global"]["best_metric"]: progress.best_value, "epoch": progress.best_epoch},
    }
    write_json(out / "metrics.json", report)
    get_logger().info(f"wrote {out / 'metrics.json'}")
    return report


def write_json(path: Path, obj: Any) -> None:
    if not distributed.is_main_process():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_finite(obj), indent=2, default=_jsonable, allow_nan=False) + "\n")


def _finite(value: Any) -> Any:
    """JSON has no inf or NaN (Python would write the invalid tokens Infinity/NaN): they become the
    strings "inf", "-inf" and "nan" (a PSNR of identical images is inf)."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, paddle.Tensor):
        return value.numpy().tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
