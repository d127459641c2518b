"""Export for deployment: ``python tools/export_model.py -c configs/srcnn.yaml -o Global.pretrained_model=PATH``
(or ``ppcls-repro-export -c ...``).

Writes ``<Export.save_dir or Global.output_dir/inference>/``: ``inference.json`` + ``inference.pdiparams``
(the static model) and ``pipeline.json`` (its pre/post-processing), then checks static == dygraph;
``--format onnx`` adds ``inference.onnx``, checked against Paddle Inference with onnxruntime.
Run it with ``python tools/infer.py --model_dir DIR --input IMAGE_OR_FOLDER --output OUT``.
"""
from __future__ import annotations

from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.deploy.export import export_model
from ppcls_repro.utils.logger import setup_logging


def main(argv: list[str] | None = None) -> None:
    parser = config_parser(__doc__)
    parser.add_argument("--save_dir", default=None, help="output folder (default: Global.save_inference_dir, "
                        "else Export.save_dir, else <Global.output_dir>/inference)")
    parser.add_argument("--format", choices=("paddle", "onnx"), default="paddle",
                        help="onnx: also write inference.onnx (paddle2onnx), checked against Paddle Inference "
                             "with onnxruntime (pip install -e '.[onnx]')")
    args = parser.parse_args(argv)

    def command() -> None:
        setup_logging()
        result = export_model(load_config(args.config, args.override), args.save_dir, onnx=args.format == "onnx")
        print(f"exported to {result.save_dir}: {', '.join(f.name for f in result.files)} "
              f"(static vs dygraph max abs diff {result.max_abs_diff:.2e})")

    run(command)
