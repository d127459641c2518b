"""Evaluate weights: ``python tools/eval.py -c configs/srcnn.yaml -o Global.pretrained_model=PATH``
(or ``ppcls-repro-eval -c ...``).

``--set NAME=FOLDER`` (repeatable) scores that folder instead of the config's Eval set, with the
config's protocol and nothing else (no manifest, download or sample stand-in), e.g.
``--set Set14=dataset/Set14``. Without it, every set of the config's ``Test`` section is scored.
Results: ``<output_dir>/eval/<NAME>/metrics.json`` per set. ``--save_images DIR`` writes each item's
outputs (SR: the upscaled RGB image; DnCNN: noisy and denoised) to ``DIR/<NAME>/``.
"""
from __future__ import annotations

from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.scoring import evaluate, parse_set_options


def main(argv: list[str] | None = None) -> None:
    parser = config_parser(__doc__)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=FOLDER", dest="sets",
                        help="score FOLDER as test set NAME with the config's protocol (repeatable)")
    parser.add_argument("--save_images", metavar="DIR", default=None,
                        help="write every item's outputs as PNG files to DIR/<set name>/")
    args = parser.parse_args(argv)

    run(lambda: evaluate(load_config(args.config, args.override), parse_set_options(args.sets), args.save_images))
