"""Dead ReLU units of a trained network on its Eval images:
``python tools/dead_units.py -c configs/srcnn.yaml -o Global.pretrained_model=PATH``.

Runs the network (eval mode, as tested) on every image of ``DataLoader.Eval`` and prints, for each
hidden layer, how many channels never fire. Networks that expose ``hidden_features`` (SRCNN) only.
"""
from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.diagnostics import count_dead_units


def main() -> None:
    args = config_parser(__doc__).parse_args()
    cfg = load_config(args.config, args.override)
    for layer, (dead, total) in count_dead_units(cfg).items():
        print(f"{layer}: {dead} of {total} units never active")


if __name__ == "__main__":
    run(main)
