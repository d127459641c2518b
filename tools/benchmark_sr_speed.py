"""Exported-model latency of SR networks on the same LR photograph, beside their multiply-adds.

    python tools/benchmark_sr_speed.py \\
        --model configs/srcnn.yaml releases/srcnn_x3/srcnn_x3 \\
        --model configs/fsrcnn_x3.yaml releases/fsrcnn_x3/fsrcnn_x3 \\
        --model configs/fsrcnn_s_x3.yaml releases/fsrcnn_s_x3/fsrcnn_s_x3 \\
        --model configs/srcnn.yaml - "Arch.kernel_sizes=[9, 5, 5]"

Each ``--model`` is CONFIG [WEIGHTS|-] [KEY=VALUE ...] (``-``: the configured initialisation, which
does not change the timing). Ratios are against the first model. See ppcls_repro/papers/sr/speed.py.
"""
from __future__ import annotations

import argparse
import os

from ppcls_repro.cli import run
from ppcls_repro.config import load_config
from ppcls_repro.deploy.benchmark import photograph
from ppcls_repro.papers.sr.speed import SpeedEntry, format_speed_table, measure_sr_speed
from ppcls_repro.utils.logger import setup_logging


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", action="append", required=True, metavar="ARG",
                        help="CONFIG [WEIGHTS|-] [KEY=VALUE ...]; repeat for each network")
    parser.add_argument("--lr_size", type=int, default=256, help="side of the LR photograph (default 256)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of every predictor (default 1)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    return parser.parse_args()


def entry_of(args: list[str]) -> SpeedEntry:
    config, rest = args[0], args[1:]
    weights = rest.pop(0) if rest and "=" not in rest[0] else None
    weights = None if weights == "-" else weights
    name = os.path.splitext(os.path.basename(config))[0] + "".join(f" {o}" for o in rest)
    return SpeedEntry(name=name, cfg=load_config(config, rest), weights=weights)


def main() -> None:
    args = parse_args()
    setup_logging()
    entries = [entry_of(model) for model in args.model]
    rows = measure_sr_speed(entries, photograph(args.lr_size), args.threads, args.warmup, args.repeats)
    print(f"LR photograph {args.lr_size}x{args.lr_size}; Paddle Inference, {args.threads} CPU thread(s); "
          f"{args.repeats} interleaved runs each; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("\n".join(format_speed_table(rows)))


if __name__ == "__main__":
    run(main)
