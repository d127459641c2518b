"""Classification maps and a per-class report for an HSI model (HybridSN):
``python tools/hsi_map.py -c configs/hybridsn_ip.yaml -o Global.pretrained_model=output/hybridsn_ip/latest``.

Writes ``<Global.output_dir>/map/``: classification_map.png (every labelled pixel predicted),
ground_truth.png, split.png (white train, blue test, orange guard), report.json (split, OA/AA/kappa,
per-class accuracy, confusion matrix) and map.log.
"""
from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.papers.hybridsn.evaluate import write_hsi_report


def main() -> None:
    args = config_parser(__doc__).parse_args()
    write_hsi_report(load_config(args.config, args.override))


if __name__ == "__main__":
    run(main)
