"""Training speed of the suite's steps against a reference framework's, and the table of the results.

``tools/benchmark_train.py`` times each network's training iteration in Paddle (the config's own step,
``STEPS``, exactly as ``trainer.py`` builds and calls it) and in a twin of the same network in another
framework (PyTorch eager: the papers' ``reference_torch.py`` modules build those sides; nothing here
imports torch). A ``SpeedCase`` is one row: a label, the samples one iteration trains on, and per side a
builder for a number of CPU threads. ``measure`` builds both sides with the same thread count, refuses
two networks whose trainable parameter counts differ, warms each up (allocator, kernel selection),
then alternates timed rounds of the sides so that both see the same machine load, and keeps the median.
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import multiprocessing
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import paddle

from ppcls_repro.engine.setup import select_device
from ppcls_repro.registry import STEPS

STEPS_PER_EPOCH = 1000  # what the schedules are built for; a timing never gets near a decay


class SpeedError(ValueError):
    """The two sides of a row do not train the same network (one line naming the row)."""


@dataclasses.dataclass
class TrainSide:
    """One framework's training iteration on a fixed batch, and the trainable parameters it updates."""

    run: Callable[[], Any]
    parameters: int


SideBuilder = Callable[[int], TrainSide]  # CPU threads -> a side built with them


@dataclasses.dataclass
class SpeedCase:
    """One row of the table: ``sides`` maps a framework's name to its builder (the suite's first)."""

    net: str  # what ``--net`` selects, e.g. "srcnn"
    label: str  # e.g. "SRCNN 9-1-5, 16 x 33x33"
    samples: int  # samples one iteration trains on (the batch size)
    sides: dict[str, SideBuilder]


@dataclasses.dataclass
class SpeedResult:
    """Samples/s of each side in every timed round."""

    case: SpeedCase
    threads: int
    parameters: int
    rounds: dict[str, list[float]]
    iters: int = 0  # timed iterations per round

    def median(self, side: str) -> float:
        return statistics.median(self.rounds[side])

    def ratio(self) -> float:
        """The first side's median speed over the second's (Paddle / PyTorch)."""
        first, second = list(self.rounds)[:2]
        return self.median(first) / self.median(second)


def batch_size(cfg: dict[str, Any]) -> int:
    """The training batch size of a config (``DataLoader.Train.sampler.batch_size``)."""
    return int(cfg["DataLoader"]["Train"]["sampler"]["batch_size"])


def sample_shape(batch: np.ndarray) -> str:
    """One sample's shape as a table shows it: ``33x33`` for one channel, ``3x32x32`` for three."""
    shape = batch.shape[1:]
    if len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]
    return "x".join(str(n) for n in shape)


def paddle_train_side(cfg: dict[str, Any], batch: dict[str, np.ndarray], threads: int) -> TrainSide:
    """The config's step (``Step.name``: its networks, losses, optimisers, schedules, ``param_lr``) as
    ``trainer.py`` builds it, in training mode at epoch 1, training on ``batch`` (made tensors once:
    the data pipeline is not timed)."""
    select_device("cpu", threads)
    paddle.seed(cfg["Global"]["seed"])
    step = STEPS.get(cfg["Step"]["name"]).from_config(cfg, steps_per_epoch=STEPS_PER_EPOCH)
    step.train()
    step.set_epoch(1)
    tensors = {name: paddle.to_tensor(value) for name, value in batch.items()}
    trainable = sum(int(v.size) for v in step.weights().values() if not v.stop_gradient)
    return TrainSide(run=lambda: step.train_step(tensors), parameters=trainable)


def samples_per_second(side: TrainSide, samples: int, iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        side.run()
    return iters * samples / (time.perf_counter() - start)


class _InProcess:
    """A side built and run in this process."""

    def __init__(self, build: SideBuilder, threads: int) -> None:
        self.side = build(threads)
        self.parameters = self.side.parameters

    def run(self, iters: int, samples: int) -> float:
        return samples_per_second(self.side, samples, iters)

    def close(self) -> None:
        self.side = None


def _serve(build: SideBuilder, threads: int, conn: Any) -> None:
    """The loop of a side's own process: build, report the parameters, then time what the parent asks."""
    try:
        side = build(threads)
        conn.send(("ready", side.parameters))
        while (request := conn.recv()) is not None:
            iters, samples = request
            conn.send(("speed", samples_per_second(side, samples, iters)))
    except Exception as err:  # reported to the parent, which raises it as one line
        conn.send(("error", f"{type(err).__name__}: {err}"))


class _OwnProcess:
    """A side in a forked process of its own, so that each framework's OpenMP threads are alone in
    their process, as in a user's run. In one process the two runtimes' worker threads (Paddle's
    libiomp5, PyTorch's libgomp) keep spinning after their parallel regions and take the second core
    from the other framework: measured here, SRCNN at batch 128 with 2 threads gave Paddle / PyTorch
    1.56 in one run and 0.97 in the next with passive waiting forced."""

    def __init__(self, build: SideBuilder, threads: int) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(build, threads, child), daemon=True)
        self.process.start()
        self.parameters = self._answer("ready")

    def _answer(self, kind: str) -> Any:
        if not self.conn.poll(600):
            raise SpeedError("a benchmark side did not answer within 600 s")
        got, value = self.conn.recv()
        if got == "error":
            raise SpeedError(value)
        return value

    def run(self, iters: int, samples: int) -> float:
        self.conn.send((iters, samples))
        return self._answer("speed")

    def close(self) -> None:
        if self.process.is_alive():
            self.conn.send(None)
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def measure(case: SpeedCase, threads: int, iters: int, rounds: int, warmup: int = 2,
            isolate: bool = False, settle: float = 0.0, round_seconds: float = 0.0) -> SpeedResult:
    """Build every side with ``threads``, check they train as many parameters, warm each up with
    ``warmup`` iterations, then ``rounds`` alternating rounds of the same number of timed iterations per
    side: ``iters``, or more, so that the faster side's round lasts ``round_seconds`` (``_round_iters``).
    ``isolate`` runs each side in a process of its own (``_OwnProcess``; the tool does), ``settle``
    waits that many seconds before each round so the other side's idle threads stop spinning."""
    if iters < 1 or rounds < 1 or warmup < 0 or threads < 1 or round_seconds < 0:
        raise SpeedError(f"iters, rounds and threads must be >= 1, warmup and round seconds >= 0; got {iters}, "
                         f"{rounds}, {threads}, {warmup}, {round_seconds}")
    kind = _OwnProcess if isolate else _InProcess
    sides: dict[str, _InProcess | _OwnProcess] = {}
    try:
        for name, build in case.sides.items():
            sides[name] = kind(build, threads)
        counts = {name: side.parameters for name, side in sides.items()}
        if len(set(counts.values())) != 1:
            raise SpeedError(f"{case.label}: the sides train different networks, trainable parameters "
                             + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        for side in sides.values():
            if warmup:
                side.run(warmup, case.samples)
        if round_seconds:
            iters = _round_iters(sides, case.samples, iters, round_seconds)
        speeds: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, side in sides.items():
                time.sleep(settle)
                speeds[name].append(side.run(iters, case.samples))
    finally:
        for side in sides.values():
            side.close()
    return SpeedResult(case=case, threads=threads, parameters=next(iter(counts.values())), rounds=speeds,
                       iters=iters)


def _round_iters(sides: dict[str, _InProcess | _OwnProcess], samples: int, iters: int, seconds: float) -> int:
    """Iterations per round so that the faster side's round lasts ``seconds``, from one untimed round of
    ``iters`` per side. A round of a few milliseconds measures the machine's noise, not the step: SRCNN
    at batch 16 (about 3 ms an iteration at 2 threads) gave Paddle / PyTorch 0.87 and 1.02 in 5-iteration
    rounds, 1.01 and 1.08 in 100-iteration ones."""
    fastest = max(side.run(iters, samples) for side in sides.values())  # samples/s
    return max(iters, int(np.ceil(seconds * fastest / samples)))


def measure_table(cases: list[SpeedCase], threads: list[int], iters: int, rounds: int, warmup: int = 2,
                  isolate: bool = False, settle: float = 0.0, round_seconds: float = 0.0) -> list[SpeedResult]:
    """Every case at every thread count, one after the other (each row's sides are freed before the next)."""
    return [measure(case, t, iters, rounds, warmup, isolate, settle, round_seconds) for case in cases for t in threads]


def _cell(result: SpeedResult) -> str:
    first, second = list(result.rounds)[:2]
    return f"{result.median(first):,.0f} / {result.median(second):,.0f} = {result.ratio():.2f}"


def markdown_table(results: list[SpeedResult]) -> list[str]:
    """Rows by case, a column per thread count: ``paddle / torch = ratio`` in samples/s (medians)."""
    threads = sorted({r.threads for r in results})
    names = list(results[0].rounds)[:2] if results else ["paddle", "torch"]
    sides = " / ".join({"paddle": "Paddle", "torch": "PyTorch"}.get(n, n) for n in names)
    heads = [f"{sides} samples/s, {t} thread{'s' if t > 1 else ''}" if i == 0 else f"{t} thread{'s' if t > 1 else ''}"
             for i, t in enumerate(threads)]
    lines = ["| net, batch | " + " | ".join(heads) + " |", "|---|" + "---|" * len(threads)]
    labels = list(dict.fromkeys(r.case.label for r in results))
    for label in labels:
        cells = {r.threads: _cell(r) for r in results if r.case.label == label}
        lines.append(f"| {label} | " + " | ".join(cells.get(t, "") for t in threads) + " |")
    return lines


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first ``model name`` of ``/proc/cpuinfo`` (elsewhere: what ``platform`` knows)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_line() -> str:
    """Date, CPU, cores, load and the two frameworks' versions: what a pasted table was measured on."""
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{datetime.date.today().isoformat()}; {cpu_model()}, {os.cpu_count()} cores (load average {load}); "
            f"Paddle {paddle.__version__}, PyTorch {_version('torch')}")


def parameter_line(results: list[SpeedResult]) -> str:
    """The trainable parameters of each row (both sides train as many: ``measure`` checks it)."""
    counts = {r.case.label.rsplit(", ", 1)[0]: r.parameters for r in results}
    return "Trainable parameters (each side): " + "; ".join(f"{name} {count:,}" for name, count in counts.items())


def iteration_line(results: list[SpeedResult]) -> str:
    """The timed iterations per round of each row and thread count."""
    cells = [f"{r.case.label} at {r.threads}: {r.iters}" for r in results]
    return "Timed iterations per round (row at threads): " + "; ".join(cells)


def describe(iters: int, rounds: int, warmup: int, isolated: bool = False, round_seconds: float = 0.0) -> str:
    where = "each side in its own process" if isolated else "both sides in one process"
    length = (f"at least {iters} training iteration(s), and at least {round_seconds:g} s for the faster side"
              if round_seconds else f"{iters} training iteration(s)")
    return (f"Median samples/s of {rounds} alternating round(s) of {length}, per side, "
            f"after {warmup} warm-up iteration(s), {where}; the ratio is Paddle / PyTorch.")
