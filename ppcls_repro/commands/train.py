"""Train as a config says: ``python tools/train.py -c configs/srcnn.yaml [-o KEY=VALUE ...]``
(or ``ppcls-repro-train -c ...``)."""
from __future__ import annotations

from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.trainer import train


def main(argv: list[str] | None = None) -> None:
    args = config_parser(__doc__).parse_args(argv)

    run(lambda: train(load_config(args.config, args.override)))
