"""Import the authors' released weights: ``python tools/import_weights.py --source FILE -c CONFIG --output PREFIX``.

Reads FILE (SRCNN/FSRCNN MATLAB models, DnCNN MatConvNet or PyTorch models; the format is recognised
from the file's structure, and nothing in it is executed), converts it for CONFIG's model and writes
PREFIX.pdparams and PREFIX.yaml: CONFIG (with the -o overrides) plus the Arch settings of the authors'
test protocol. Score them with ``python tools/eval.py -c PREFIX.yaml``.
"""
from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.importing import import_weights


def main() -> None:
    parser = config_parser(__doc__)
    parser.add_argument("--source", required=True, help="the authors' weight file (.mat, .pth)")
    parser.add_argument("--output", required=True, help="prefix of the written .pdparams and .yaml")
    args = parser.parse_args()
    result = import_weights(args.source, load_config(args.config, args.override), args.output)
    print(f"imported {args.source} ({result.description}) -> {result.weights}, {result.config}")
    print(f"evaluate: python tools/eval.py -c {result.config}")


if __name__ == "__main__":
    run(main)
