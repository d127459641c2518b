"""One command per paper table: ``python tools/reproduce.py --paper srcnn`` (fsrcnn, dncnn, gan, ...).

Scores the released weights of every row of the paper's table (``--weights LABEL=PATH`` gives others)
on every test set of the row's config, and prints paper / ours / difference per row, set and metric;
rows whose weights or data are not here are marked, never left out. The table is also written to
``<output_dir>/table.md``; each row's evaluation to ``<output_dir>/<row>/eval/``.
"""
import argparse
from pathlib import Path

from ppcls_repro.cli import run
from ppcls_repro.engine.reproduce import PAPER_TABLES, format_lines, reproduce
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.files import write_bytes_atomic


def parse_weights(values: list[str]) -> dict[str, str]:
    pairs = [value.partition("=") for value in values]
    for value, (label, sep, path) in zip(values, pairs):
        if not sep or not label or not path:
            raise ConfigError(f"--weights {value}: expected LABEL=PATH, e.g. --weights x3=output/srcnn/best_model")
    return {label: path for label, _, path in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paper", required=True, help=f"one of: {', '.join(PAPER_TABLES.names())}")
    parser.add_argument("--weights", action="append", default=[], metavar="LABEL=PATH",
                        help="score PATH for the row LABEL instead of its release (repeatable)")
    parser.add_argument("--output_dir", default=None, help="default: output/reproduce/<paper>")
    args = parser.parse_args()
    table = PAPER_TABLES.get(args.paper, "--paper")()
    out = Path(args.output_dir or f"output/reproduce/{args.paper}")
    lines = format_lines(reproduce(table, out, parse_weights(args.weights)))
    text = "\n".join([f"{table.title}", "", *lines]) + "\n"
    write_bytes_atomic(out / "table.md", text.encode())
    print(text, end="")


if __name__ == "__main__":
    run(main)
