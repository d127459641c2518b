#!/usr/bin/env bash
# Data for a TIPC chain: bash test_tipc/prepare.sh CONFIG_TXT MODE
#   lite_train_lite_infer: a few small real photographs (scikit-image's, the suite's sample stand-in) in
#     test_tipc/data/lite/{train,eval}; nothing is downloaded.
#   whole_train_whole_infer: the paper's data under dataset/ (the runs check them against their sha256
#     manifests and fetch what is missing; see dataset/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${2:?usage: prepare.sh CONFIG_TXT MODE}
case "$MODE" in
  lite_train_lite_infer)
    python - test_tipc/data/lite <<'PY'
import sys
from pathlib import Path
from PIL import Image
from ppcls_repro.data.sample import sample_images
for split in ("train", "eval"):  # disjoint photographs, cut to at most 96 pixels a side: a chain in seconds
    out = Path(sys.argv[1]) / split
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(sample_images(split).glob("*.png")):
        image = Image.open(path)
        image.thumbnail((96, 96))
        image.save(out / path.name)
    print(f"{out}: {len(list(out.glob('*.png')))} images")
PY
    ;;
  whole_train_whole_infer)
    echo "whole_train_whole_infer: the configs read dataset/ (verified, fetched when missing)" ;;
  *)
    echo "prepare.sh: unknown mode '$MODE' (lite_train_lite_infer or whole_train_whole_infer)" >&2; exit 2 ;;
esac
