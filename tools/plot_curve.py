"""Plot a run's metric against samples seen, with the paper's number and budget marked.

``python tools/plot_curve.py --log releases/gan_mnist/rerun_20261203/train.log --metric parzen_ll
--samples_per_epoch 50000 --level "paper=225" --level "real digits=241.19" --output curve.png``
"""
import argparse
from pathlib import Path

from ppcls_repro.cli import run
from ppcls_repro.engine.curves import append_stage, epoch_reaching, log_fit, plot, read_csv_series, read_eval_series
from ppcls_repro.registry import ConfigError


def _pair(text: str, flag: str) -> tuple[str, float]:
    label, sep, value = text.rpartition("=")
    try:
        return label, float(value)
    except ValueError:
        raise ConfigError(f"{flag}: expected LABEL=NUMBER, got '{text}'") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", action="append", required=True, help="train.log (repeat for a resumed run, in order)")
    parser.add_argument("--stage", action="append", default=[], metavar="LOG",
                        help="train.log of a later stage started from the run's final weights, its epochs counted "
                             "from 1 again (repeat: in order; a resumed stage joins as LOG1,LOG2)")
    parser.add_argument("--metric", required=True, help="a key of the [Eval] lines, e.g. psnr or parzen_ll")
    parser.add_argument("--samples_per_epoch", type=int, required=True, help="training samples per epoch")
    parser.add_argument("--csv", action="append", default=[], metavar="LABEL=FILE",
                        help="extra points: a CSV of epoch,value rows (repeatable)")
    parser.add_argument("--level", action="append", default=[], metavar="LABEL=VALUE", help="a horizontal line")
    parser.add_argument("--budget", default=None, metavar="LABEL=SAMPLES", help="a vertical line, e.g. the paper's")
    parser.add_argument("--log_x", action="store_true", help="logarithmic samples axis")
    parser.add_argument("--fit_from", type=int, default=None, metavar="EPOCH",
                        help="print the fit value = a + b ln(epoch) of the log's series from EPOCH on, and where it "
                             "reaches each --level")
    parser.add_argument("--title", default="")
    parser.add_argument("--output", required=True, help="the PNG to write")
    args = parser.parse_args()
    series = [read_eval_series([Path(p) for p in args.log], args.metric)]
    for logs in args.stage:
        series[0] = append_stage(series[0], read_eval_series([Path(p) for p in logs.split(",")], args.metric))
    for item in args.csv:
        label, _, path = item.partition("=")
        series.append(read_csv_series(Path(path), label))
    levels = dict(_pair(item, "--level") for item in args.level)
    budget = _pair(args.budget, "--budget") if args.budget else None
    out = plot(series, Path(args.output), args.samples_per_epoch, args.metric, args.title, levels, budget,
               args.log_x)
    print(f"wrote {out}")
    if args.fit_from is not None:
        a, b = log_fit(series[0], args.fit_from)
        print(f"fit over epochs {args.fit_from}-{series[0].epochs[-1]}: {args.metric} = {a:.2f} + {b:.2f} ln(epoch)")
        for label, level in levels.items():
            print(f"  reaches {label} ({level:g}) near epoch {epoch_reaching(a, b, level):,.0f}")


if __name__ == "__main__":
    run(main)
