"""Evaluate weights: ``python tools/eval.py -c configs/srcnn.yaml -o Global.pretrained_model=PATH``."""
from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.trainer import evaluate


def main() -> None:
    args = config_parser(__doc__).parse_args()
    evaluate(load_config(args.config, args.override))


if __name__ == "__main__":
    run(main)
