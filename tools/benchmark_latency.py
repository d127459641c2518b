"""CPU inference latency of the exported nets: Paddle Inference (oneDNN) against the Paddle dygraph
network, the same network in PyTorch (eager and torch.jit) and the ONNX export in onnxruntime.

    python tools/benchmark_latency.py --all                      # the table: SRCNN, FSRCNN, DnCNN, ResNet-20
    python tools/benchmark_latency.py -c configs/srcnn.yaml [-c configs/fsrcnn_x3.yaml ...] [--sweep]
    python tools/benchmark_latency.py --all --threads 1 --repeats 1 --warmup 0 --lr_size 24   # a smoke run

``--all`` runs configs/srcnn.yaml, fsrcnn_x3.yaml, dncnn_s25.yaml and resnet20_cifar10.yaml, in that
order, after any ``-c`` (repeatable); ``-o KEY=VALUE`` applies to every config (e.g.
``Global.pretrained_model``: weights do not change the timing; without them the configured
initialisation is used). Each net is exported to a temporary folder (its static network alone,
checked against dygraph as tools/export_model.py checks it) and fed ``--batch`` copies (default 1) of
one input (ppcls_repro/deploy/latency.py): a crop of a real photograph of ``--lr_size`` x ``--lr_size``
(default 256) RGB through the deployed pipeline, run whole: for SRCNN x3 the bicubic-upscaled
768x768 Y, for FSRCNN the 256x256 LR Y, for DnCNN-S the noisy 256x256 gray image (Set12's size); the
CIFAR ResNet-20 takes 3x32x32 normalised values (standard normal: its preprocessing needs CIFAR's
mean image), i.e. one image at the default batch.

Five runtimes, each with ``--threads`` CPU threads (default: all cores): the Paddle Inference predictor
with oneDNN; the dygraph network (what the export traced: a classifier with its softmax); the paper's
PyTorch twin (ppcls_repro/papers/*/reference_torch.py, via ppcls_repro/latency_twins.py) holding the
same weights, eager and as torch.jit trace + freeze; the ONNX export (ppcls_repro/deploy/onnx.py) in an
onnxruntime CPU session (``intra_op_num_threads``). A runtime whose package is missing is skipped with
one line. Every output must agree with Paddle Inference's (max abs difference <= 1e-4 of its
magnitude, at least 1) before anything is timed (a classifier's output is its probabilities; that its
twins' logits agree too is tests/test_latency_twins.py's). The runtimes are then run interleaved (``--warmup`` untimed runs
each, then ``--repeats`` rounds of one timed run each), so a busy machine slows all of them alike.
Per net the median and min are printed; at the end a markdown table, one row per net, of the median ms
of each runtime and its ratio to the fastest other runtime of the row (below 1: faster than all the
others). ``--sweep`` also times the predictor with oneDNN on/off for 1 and all cores.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import paddle

from ppcls_repro.cli import run
from ppcls_repro.config import load_config
from ppcls_repro.deploy.benchmark import Timing, time_interleaved
from ppcls_repro.deploy.latency import (LatencyRow, check_agreement, export_static, exported_branch, latency_table,
                                        network_input)
from ppcls_repro.deploy.onnx import OnnxUnavailable, export_onnx, onnx_session, require_onnx
from ppcls_repro.deploy.predictor import Predictor, PredictorOptions, resolve_options
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.engine.speed import machine_line
from ppcls_repro.utils.logger import setup_logging

ALL_CONFIGS = ["configs/srcnn.yaml", "configs/fsrcnn_x3.yaml", "configs/dncnn_s25.yaml",
               "configs/resnet20_cifar10.yaml"]
PADDLE_INFERENCE, DYGRAPH, EAGER, JIT, ONNX = ("Paddle Inference (oneDNN)", "Paddle dygraph", "PyTorch eager",
                                               "torch.jit", "onnxruntime")
COLUMNS = [PADDLE_INFERENCE, DYGRAPH, EAGER, JIT, ONNX]
Runners = dict[str, Callable[[], np.ndarray]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", action="append", default=[], help="YAML config (repeatable)")
    parser.add_argument("--all", action="store_true",
                        help=f"also the table's four configs ({', '.join(ALL_CONFIGS)})")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key of every config, e.g. -o Global.pretrained_model=PATH (repeatable)")
    parser.add_argument("--lr_size", type=int, default=256, help="side of the photograph fed to image nets (default 256)")
    parser.add_argument("--batch", type=int, default=1, help="copies of the input in one run (default 1)")
    parser.add_argument("--repeats", type=int, default=4, help="timed runs of each (default 4)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for every runtime (default: all cores)")
    parser.add_argument("--sweep", action="store_true", help="also time predictor oneDNN on/off x thread counts")
    parser.add_argument("--sweep_repeats", type=int, default=2, help="timed runs of each sweep setting (default 2)")
    parser.add_argument("--no_torch", action="store_true", help="skip the PyTorch columns")
    parser.add_argument("--no_onnx", action="store_true", help="skip the onnxruntime column")
    args = parser.parse_args()
    args.config += ALL_CONFIGS if args.all else []
    if not args.config:
        parser.error("give -c CONFIG (repeatable) or --all")
    if args.batch < 1:
        parser.error(f"--batch must be >= 1, got {args.batch}")
    return args


def optional_runtimes(args: argparse.Namespace) -> tuple[bool, bool]:
    """Whether the PyTorch and onnxruntime columns run; a missing package is one line, not an error."""
    use_torch, use_onnx = not args.no_torch, not args.no_onnx
    if use_torch:
        try:
            import ppcls_repro.latency_twins  # noqa: F401  (imports torch)
        except ImportError as err:
            print(f"PyTorch columns skipped: {err} (pip install torch==2.13.0)")
            use_torch = False
    if use_onnx:
        try:
            require_onnx()
        except OnnxUnavailable as err:
            print(f"onnxruntime column skipped: {err}")
            use_onnx = False
    return use_torch, use_onnx


def measure_net(config: str, args: argparse.Namespace, threads: int, folder: Path,
                use_torch: bool, use_onnx: bool) -> LatencyRow:
    cfg = load_config(config, args.override)
    paddle.seed(cfg["Global"]["seed"])
    source = cfg["Global"]["pretrained_model"]
    weights = load_weights(source) if source else None
    dygraph = build_network(cfg, weights, str(source))
    weights = weights or dygraph.state_dict()  # the exported copy gets the same (initial) weights
    branch = export_static(build_network(cfg, weights, str(source)), folder)
    x, what = network_input(dygraph, cfg, args.lr_size, args.batch, folder)
    label = f"{cfg['Arch']['name']} ({Path(config).name}), {'x'.join(map(str, x.shape))}"
    print(f"\n{label}: {what}; {threads} CPU thread(s) for every runtime")

    predictor = Predictor(folder, PredictorOptions(cpu_threads=threads, enable_onednn=True))
    network = exported_branch(dygraph).network

    def run_dygraph() -> np.ndarray:
        with paddle.no_grad():
            return network(paddle.to_tensor(x)).numpy()

    runners: Runners = {PADDLE_INFERENCE: lambda: predictor([x])[0], DYGRAPH: run_dygraph}
    if use_torch:
        from ppcls_repro.latency_twins import torch_runners, torch_twin

        twin = torch_twin(cfg, {k: np.asarray(v.numpy()) for k, v in dygraph.state_dict().items()})
        torch_side = torch_runners(twin, x, threads)
        runners.update({EAGER: torch_side["eager"], JIT: torch_side["jit"]})
    if use_onnx:
        onnx_file, _, _ = export_onnx(folder, [s.name for s in branch.inputs], [x])
        session = onnx_session(onnx_file, threads)
        feed = {session.get_inputs()[0].name: x}
        runners[ONNX] = lambda: session.run(None, feed)[0]
    diffs = check_agreement({name: runner() for name, runner in runners.items()})
    for name, diff in diffs.items():
        print(f"output check: {name} vs {PADDLE_INFERENCE}: max abs diff {diff:.2e}")
    timings = time_interleaved(runners, args.warmup, args.repeats, items_per_run=args.batch)
    report(timings)
    if args.sweep:
        sweep(folder, x, args)
    return LatencyRow(label, timings)


def main() -> None:
    args = parse_args()
    setup_logging()
    paddle.set_device("cpu")
    threads = resolve_options(PredictorOptions(cpu_threads=args.threads)).cpu_threads
    paddle.base.core.set_num_threads(threads)
    use_torch, use_onnx = optional_runtimes(args)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, config in enumerate(args.config):
            rows.append(measure_net(config, args, threads, Path(tmp) / f"net{index}", use_torch, use_onnx))
    print(f"\n{machine_line()}{onnx_versions() if use_onnx else ''}")
    print(f"Median ms of {args.repeats} interleaved run(s) after {args.warmup} warm-up run(s), {threads} CPU "
          f"thread(s) each, batch {args.batch}; in brackets the ratio to the fastest other runtime of the row.")
    print("\n".join(latency_table(rows, COLUMNS)))


def onnx_versions() -> str:
    import onnxruntime
    import paddle2onnx

    return f", onnxruntime {onnxruntime.__version__} (paddle2onnx {paddle2onnx.__version__})"


def report(timings: dict[str, Timing]) -> None:
    base = next(iter(timings.values()))
    print(f"{'runtime':<52}{'median ms':>12}{'min ms':>10}{'x predictor':>14}")
    for t in timings.values():
        print(f"{t.name:<52}{t.median_ms:>12.1f}{1000 * min(t.seconds):>10.1f}{t.median_ms / base.median_ms:>14.2f}")


def sweep(model_dir: Path, x: np.ndarray, args: argparse.Namespace) -> None:
    counts = sorted({1, resolve_options(PredictorOptions()).cpu_threads})
    predictors = {f"oneDNN {'on ' if onednn else 'off'}, {n} thread(s)":
                  Predictor(model_dir, PredictorOptions(cpu_threads=n, enable_onednn=onednn))
                  for onednn in (True, False) for n in counts}
    timings = time_interleaved({name: (lambda p=p: p([x])) for name, p in predictors.items()},
                               args.warmup, args.sweep_repeats)
    print("predictor options (Paddle Inference, CPU):")
    report(timings)
    fastest = min(timings.values(), key=lambda t: t.median_ms)
    print(f"fastest: {fastest.name}")


if __name__ == "__main__":
    run(main)
