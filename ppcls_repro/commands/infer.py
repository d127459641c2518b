"""Run an exported model on real files with Paddle Inference.

    python tools/infer.py --model_dir output/srcnn/inference --input photo.png --output out/
    ppcls-repro-infer --model_dir output/srcnn/inference --input photo.png --output out/

``--input`` is a file or a folder. For super-resolution each image gives ``<stem>_x<scale>.png``
and ``<stem>_x<scale>_bicubic.png``; for classification ``<stem>_top<k>.json``; for a hyperspectral
cube (.mat) ``<stem>_map.png``; for cross-modal retrieval (DSCMR) the input holds query features and
``--gallery`` the other modality's: ``--query_modality image|text``, ``<stem>_top<k>.json``; for a GAN
generator no input: ``--num_samples N --seed S`` writes a grid PNG of N samples.
A GPU request on a CPU-only Paddle runs on CPU (said once).
Inputs that fail are listed at the end; the others are still processed. No result ever replaces an input;
an existing result file is replaced only with --overwrite.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ppcls_repro.cli import run
from ppcls_repro.deploy.infer import InferOptions, infer, parse_pipeline_options
from ppcls_repro.deploy.predictor import PredictorOptions
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.logger import setup_logging


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_dir", required=True, help="folder written by tools/export_model.py")
    parser.add_argument("--input", default=None, help="an input file or a folder of them (not for a GAN)")
    parser.add_argument("--output", default="output/infer", help="folder for the results (default: output/infer)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--gpu_id", type=int, default=0)
    parser.add_argument("--use_tensorrt", action="store_true", help="TensorRT engines (GPU only)")
    parser.add_argument("--precision", choices=("fp32", "fp16"), default="fp32", help="fp16 needs a GPU")
    parser.add_argument("--cpu_threads", type=int, default=None, help="CPU math threads (default: all cores)")
    parser.add_argument("--enable_onednn", action=argparse.BooleanOptionalAction, default=None,
                        help="oneDNN kernels on CPU (default: on, the fastest measured)")
    parser.add_argument("--batch_size", type=int, default=1, help="tiles of one shape per predictor run")
    parser.add_argument("--tile_size", type=int, default=None,
                        help="largest tile side of the net input in pixels, 0 = whole image (default: from pipeline.json)")
    parser.add_argument("--sigma", type=float, default=None,
                        help="denoising: the photos' noise level (0-255 scale); a DnCNN-S model checks it")
    parser.add_argument("--add_noise", type=float, default=None,
                        help="denoising demo: add Gaussian noise of this sigma first, write the noisy image too")
    parser.add_argument("--noise_seed", type=int, default=None, help="denoising demo: the seed of --add_noise")
    parser.add_argument("--top_k", type=int, default=None, help="classes / gallery items reported (classification, "
                        "retrieval; default: from pipeline.json)")
    parser.add_argument("--gallery", default=None, help="retrieval: feature file (.npy/.mat) of the gallery")
    parser.add_argument("--query_modality", choices=("image", "text"), default=None,
                        help="retrieval: the modality of --input (the gallery is the other one; default image)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="set another pipeline.json key for this run (YAML value), e.g. cube_key=data")
    parser.add_argument("--num_samples", type=int, default=100, help="GAN: samples in the grid")
    parser.add_argument("--seed", type=int, default=0, help="GAN: the noise seed")
    parser.add_argument("--overwrite", action="store_true", help="replace existing result files (never an input)")
    parser.add_argument("--benchmark", action="store_true", help="time the predictor: warm-up, then median latency")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    return parser.parse_args(argv)


def denoise_options(args: argparse.Namespace) -> dict:
    """The denoising options given (only those: other pipelines do not take them)."""
    given = {"sigma": args.sigma, "add_noise": args.add_noise, "noise_seed": args.noise_seed}
    return {key: value for key, value in given.items() if value is not None}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run(lambda: infer_files(args))


def infer_files(args: argparse.Namespace) -> None:
    """Run the exported model of ``args.model_dir`` on ``args.input``; failed inputs end in one error."""
    setup_logging()
    predictor = PredictorOptions(device=args.device, gpu_id=args.gpu_id, use_tensorrt=args.use_tensorrt,
                                 precision=args.precision, cpu_threads=args.cpu_threads,
                                 enable_onednn=args.enable_onednn)
    named = {"top_k": args.top_k, "gallery": args.gallery, "query_modality": args.query_modality}
    options = {**parse_pipeline_options(args.option), **denoise_options(args),
               **{k: v for k, v in named.items() if v is not None}}
    source = Path(args.input) if args.input else None
    report, _ = infer(InferOptions(model_dir=Path(args.model_dir), input=source, output=Path(args.output),
                                   predictor=predictor, batch_size=args.batch_size, tile_size=args.tile_size,
                                   benchmark=args.benchmark, warmup=args.warmup, repeats=args.repeats,
                                   pipeline_options=options, num_samples=args.num_samples, seed=args.seed,
                                   overwrite=args.overwrite))
    total = len(report.seconds) + len(report.failed)
    print(f"{len(report.seconds)} of {total} input(s) done, results in {args.output}")
    if report.failed:
        print(f"failed ({len(report.failed)}):", file=sys.stderr)
        for _, reason in report.failed:
            print(f"  {reason}", file=sys.stderr)
        raise DataError(f"{len(report.failed)} of {total} input(s) failed (listed above)")

