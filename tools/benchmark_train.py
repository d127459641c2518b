"""Training speed of this project's networks (Paddle) against the same networks in PyTorch eager.

    python tools/benchmark_train.py                          # the README's table: six rows, 1 and 2 threads
    python tools/benchmark_train.py --net srcnn --threads 1  # SRCNN's rows only (batch 16 and 128), 1 thread
    python tools/benchmark_train.py --net resnet -o Arch.in_channels=1   # the MNIST ResNet's input
    python tools/benchmark_train.py --net gan --iters 1 --rounds 1       # a smoke run

Rows (ppcls_repro/train_speed.py): SRCNN 9-1-5 (configs/srcnn.yaml) at batch 16 and 128, FSRCNN
(56,12,4) x3 (fsrcnn_x3.yaml, 128), ResNet-20 (resnet20_cifar10.yaml, 128), DnCNN-S (dncnn_s25.yaml, 32)
and the GAN (gan_mnist.yaml, 100). The Paddle side is the config's own training step as the trainer runs
it (SupervisedStep with the config's loss, optimiser and per-layer rates; AdversarialStep for the GAN);
the PyTorch side is the paper's twin (papers/*/reference_torch.py) with the same optimiser, loss and
update order, on the same random batch of the config's training shapes and the same number of CPU
threads (set for both frameworks per row). A row whose two sides train different parameter counts is
refused. Each side runs in a process of its own (``--same-process``: both in this one); rounds of the
two sides alternate, so both see the same machine load; the median of the rounds is reported (ppcls_repro/engine/speed.py). Prints a markdown table for the README with the date and the
machine. Needs the test extra (torch==2.13.0).
"""
from __future__ import annotations

import argparse
import sys

from ppcls_repro.cli import run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", action="append", choices=("srcnn", "fsrcnn", "resnet", "dncnn", "gan"),
                        help="a net's rows (repeatable; default: all)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="CPU thread counts (default: 1 2)")
    parser.add_argument("--iters", type=int, default=5, help="iterations per timed round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side (default 3)")
    parser.add_argument("--round-seconds", type=float, default=1.0,
                        help="more iterations per round where the faster side would take less (default 1.0; 0: --iters only)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations per side first (default 2)")
    parser.add_argument("--same-process", action="store_true",
                        help="run both sides in this process (default: each in its own, see engine/speed.py)")
    parser.add_argument("--settle", type=float, default=0.5,
                        help="seconds of idle before each round, so the other side's threads stop spinning (default 0.5)")
    parser.add_argument("--batch-size", type=int, default=None, help="replaces every chosen row's batch size")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="config override applied to every chosen row, e.g. -o Arch.depth=56 (repeatable)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        from ppcls_repro.train_speed import speed_cases  # imports torch
    except ImportError as err:
        raise SystemExit(f"error: tools/benchmark_train.py needs the test extra (torch==2.13.0): {err}")
    from ppcls_repro.engine.speed import (SpeedError, describe, iteration_line, machine_line, markdown_table,
                                          measure_table, parameter_line)

    cases = speed_cases(args.net, args.batch_size, args.override)
    try:
        results = measure_table(cases, args.threads, args.iters, args.rounds, args.warmup,
                                isolate=not args.same_process, settle=args.settle, round_seconds=args.round_seconds)
    except SpeedError as err:
        sys.exit(f"error: {err}")
    print(machine_line())
    print(describe(args.iters, args.rounds, args.warmup, isolated=not args.same_process,
                   round_seconds=args.round_seconds))
    print()
    print("\n".join(markdown_table(results)))
    print()
    print(parameter_line(results))
    print(iteration_line(results))


if __name__ == "__main__":
    run(main)
