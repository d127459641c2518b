"""Align the suite's network with a reference implementation (the PaddlePaddle reproduction guide's
reprod_log checks): ``python tools/align.py -c configs/srcnn.yaml --out output/align/srcnn``.

Forward outputs (eval mode), the loss and every parameter's gradient after one backward, and the loss
curve and final weights after ``--steps`` optimiser steps with the config's optimiser, schedule and
loss, on the same seeded inputs of the config's training shapes. Writes ``forward_*``, ``backward_*``
and ``train_*`` (``*_paddle.npy``, ``*_ref.npy``, ``*_diff.log``) and ``summary.json`` into ``--out``;
exits 0 only if every check passes. ``--weights FILE`` starts both sides from an authors' release (the
importer's formats; for DnCNN's PyTorch model also the reference's structure: ``independent: true``).
Needs the test extra (torch==2.13.0, reprod_log==1.0.1).
"""
from pathlib import Path

from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.engine.alignment import run_alignment


def main() -> None:
    parser = config_parser(__doc__)
    parser.add_argument("--out", required=True, type=Path, help="folder for the reprod_log files and summary.json")
    parser.add_argument("--steps", type=int, default=5, help="optimiser steps of the train check (default 5)")
    parser.add_argument("--batch-size", type=int, default=4, help="samples per batch (default 4)")
    parser.add_argument("--steps-per-epoch", type=int, default=1,
                        help="iterations per epoch the schedule assumes (default 1: epoch-based schedules move)")
    parser.add_argument("--weights", type=Path, default=None, help="an authors' weight file both sides start from")
    args = parser.parse_args()
    cfg = load_config(args.config, args.override)
    try:
        import ppcls_repro.alignment_references  # noqa: F401  (registers the references; imports torch)
    except ImportError as err:
        raise SystemExit(f"error: tools/align.py needs the test extra (pip install -e '.[test]'): {err}")
    summary = run_alignment(cfg, args.config, args.out, args.steps, args.batch_size, args.steps_per_epoch,
                            args.weights)
    for name, check in summary["checks"].items():
        value = check.get("max_abs_diff", check.get("max_rel_diff"))
        kind = "abs" if "max_abs_diff" in check else "rel"
        print(f"{name:9s} {kind} diff {value:.3e} (threshold {check['threshold']:g}): "
              f"{'passed' if check['passed'] else 'FAILED'}")
    print(f"reference: {summary['reference']} (independent: {str(summary['independent']).lower()}); "
          f"logs in {args.out}")
    if not summary["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    run(main)
