"""Train as a config says: ``python tools/train.py -c configs/srcnn.yaml [-o KEY=VALUE ...]``."""
from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.trainer import train


def main() -> None:
    args = config_parser(__doc__).parse_args()
    train(load_config(args.config, args.override))


if __name__ == "__main__":
    run(main)
