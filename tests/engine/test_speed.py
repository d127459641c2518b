"""The training-speed measurement (engine/speed.py): warm-up, alternating rounds, medians, the refusal of
two sides that train different networks, the table, and the suite's side built from a real config."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.speed import (SpeedCase, SpeedError, TrainSide, cpu_model, describe, iteration_line,
                                      machine_line, markdown_table, measure, measure_table, paddle_train_side,
                                      parameter_line, sample_shape)


REPO = Path(__file__).resolve().parents[2]


def recording_case(order: list[str], counts: dict[str, int], label: str = "Net 1, 4 x 8x8") -> SpeedCase:
    def builder(name: str):
        def build(threads: int) -> TrainSide:
            order.append(f"build {name} {threads}")
            return TrainSide(run=lambda: order.append(name), parameters=counts[name])
        return build
    return SpeedCase(net="net", label=label, samples=4, sides={name: builder(name) for name in counts})


def test_measure_warms_up_then_alternates_rounds():
    order: list[str] = []
    result = measure(recording_case(order, {"paddle": 10, "torch": 10}), threads=2, iters=2, rounds=3, warmup=1)
    assert order == ["build paddle 2", "build torch 2", "paddle", "torch"] + ["paddle", "paddle", "torch", "torch"] * 3
    assert result.parameters == 10 and result.threads == 2
    assert all(len(v) == 3 and all(s > 0 and math.isfinite(s) for s in v) for v in result.rounds.values())
    assert result.ratio() == pytest.approx(result.median("paddle") / result.median("torch"))


def test_round_seconds_lengthen_short_rounds_for_both_sides_from_the_faster_one(monkeypatch):
    # a clock that only the sides advance (1/16 s and 3/16 s an iteration, exact in binary floats): the
    # round length is then exact, whatever else the machine is doing (real sleeps overshoot on a loaded CPU)
    from types import SimpleNamespace

    from ppcls_repro.engine import speed
    clock = {"now": 0.0}
    monkeypatch.setattr(speed, "time", SimpleNamespace(perf_counter=lambda: clock["now"], sleep=lambda seconds: None))
    calls = {"fast": 0, "slow": 0}

    def side(name: str, seconds: float):
        def run():
            calls[name] += 1
            clock["now"] += seconds
        return lambda threads: TrainSide(run=run, parameters=1)
    sides = {"fast": side("fast", 1 / 16), "slow": side("slow", 3 / 16)}
    case = SpeedCase(net="net", label="Net, 4", samples=4, sides=sides)
    result = measure(case, threads=1, iters=2, rounds=2, warmup=0, round_seconds=2.0)
    assert result.iters == 32  # 2 s of the faster side's 1/16 s iterations, for both sides
    assert calls == {"fast": 2 + 2 * 32, "slow": 2 + 2 * 32}  # the calibration round, then two timed rounds
    assert result.median("fast") == 64 and result.ratio() == 3
    assert "Net, 4 at 1: 32" in iteration_line([result])
    assert measure(case, threads=1, iters=3, rounds=1, warmup=0).iters == 3  # no round_seconds: iters
    assert measure(case, threads=1, iters=40, rounds=1, warmup=0, round_seconds=2.0).iters == 40  # never fewer
    assert "at least 0.1 s for the faster side" in describe(2, 2, 0, round_seconds=0.1)


def test_sides_with_different_parameter_counts_are_refused_before_any_timing():
    order: list[str] = []
    with pytest.raises(SpeedError, match=r"Net 1, 4 x 8x8: the sides train different networks.*paddle 10, torch 11"):
        measure(recording_case(order, {"paddle": 10, "torch": 11}), threads=1, iters=1, rounds=1)
    assert "paddle" not in order and "torch" not in order


def test_bad_counts_are_one_line_errors():
    with pytest.raises(SpeedError, match="iters, rounds and threads must be >= 1, warmup and round seconds >= 0"):
        measure(recording_case([], {"paddle": 1, "torch": 1}), threads=1, iters=0, rounds=1)


def test_markdown_table_has_a_row_per_case_and_a_column_per_thread_count():
    cases = [recording_case([], {"paddle": 5, "torch": 5}, label) for label in ("A, 2 x 3x3", "B (1,2), 4")]
    results = measure_table(cases, [1, 2], iters=1, rounds=1, warmup=0)
    lines = markdown_table(results)
    assert lines[0] == "| net, batch | Paddle / PyTorch samples/s, 1 thread | 2 threads |"
    assert lines[1] == "|---|---|---|"
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| A, 2 x 3x3", "| B (1,2), 4"]
    assert all(line.count(" = ") == 2 for line in lines[2:])
    assert parameter_line(results) == "Trainable parameters (each side): A 5; B (1,2) 5"


def test_sample_shape_drops_a_single_channel():
    assert sample_shape(np.zeros((16, 1, 33, 33))) == "33x33"
    assert sample_shape(np.zeros((128, 3, 32, 32))) == "3x32x32"
    assert sample_shape(np.zeros((100, 784))) == "784"


def test_machine_line_names_the_cpu_and_the_versions(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU @ 2.0GHz\n")
    assert cpu_model(info) == "Test CPU @ 2.0GHz"
    line = machine_line()
    assert f"Paddle {paddle.__version__}" in line and "cores" in line and "PyTorch" in line


def test_the_suite_side_is_the_configs_own_step_and_trains():
    cfg = load_config(REPO / "configs/srcnn.yaml", ["DataLoader.Train.sampler.batch_size=2"])
    rng = np.random.default_rng(0)
    batch = {"input": rng.random((2, 1, 33, 33), dtype=np.float32),
             "target": rng.random((2, 1, 21, 21), dtype=np.float32)}
    side = paddle_train_side(cfg, batch, threads=1)
    assert side.parameters == 64 * 81 + 64 + 32 * 64 + 32 + 32 * 25 + 1  # SRCNN 9-1-5: 8,129
    first, second = side.run(), side.run()
    assert first["loss"] > 0 and second["loss"] != first["loss"]  # Adam moved the weights


def _pid_case(path: Path, counts: dict[str, int], fail: str | None = None) -> SpeedCase:
    def builder(name: str):
        def build(threads: int) -> TrainSide:
            if name == fail:
                raise RuntimeError(f"{name} cannot be built")
            return TrainSide(run=lambda: (path / f"{name}.{os.getpid()}").touch(), parameters=counts[name])
        return build
    return SpeedCase(net="net", label="Net 1, 4 x 8x8", samples=4, sides={name: builder(name) for name in counts})


def test_isolated_sides_run_each_in_a_process_of_its_own(tmp_path):
    result = measure(_pid_case(tmp_path, {"paddle": 3, "torch": 3}), threads=1, iters=2, rounds=2, warmup=1,
                     isolate=True)
    pids = {side: {int(p.suffix[1:]) for p in tmp_path.glob(f"{side}.*")} for side in ("paddle", "torch")}
    assert all(len(found) == 1 for found in pids.values())
    assert pids["paddle"] != pids["torch"] and os.getpid() not in pids["paddle"] | pids["torch"]
    assert result.parameters == 3 and all(len(v) == 2 for v in result.rounds.values())


def test_isolated_sides_report_failures_and_unequal_networks_as_one_line(tmp_path):
    with pytest.raises(SpeedError, match="RuntimeError: torch cannot be built"):
        measure(_pid_case(tmp_path, {"paddle": 3, "torch": 3}, fail="torch"), threads=1, iters=1, rounds=1,
                isolate=True)
    with pytest.raises(SpeedError, match="paddle 3, torch 4"):
        measure(_pid_case(tmp_path, {"paddle": 3, "torch": 4}), threads=1, iters=1, rounds=1, isolate=True)
    assert not list(tmp_path.glob("*.*"))  # nothing was timed
