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
    python - test_tipc/data/lite <<'PY'
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from ppcls_repro.data.mnist import write_idx
# MNIST-format digits for the classification chain: scikit-learn's 1,797 real handwritten 8x8 digits
# (0-16), drawn as MNIST draws them: 20x20 in a 28x28 black frame, light strokes, 0-255
digits = load_digits()
small = [np.asarray(Image.fromarray((d * 255 / 16).astype(np.uint8)).resize((20, 20), Image.BICUBIC)) for d in digits.images]
images = np.pad(np.stack(small), ((0, 0), (4, 4), (4, 4)))
out = Path(sys.argv[1]) / "mnist"
out.mkdir(parents=True, exist_ok=True)
for part, rows in (("train", slice(0, 256)), ("t10k", slice(256, 320))):
    write_idx(out / f"{part}-images-idx3-ubyte.gz", images[rows])
    write_idx(out / f"{part}-labels-idx1-ubyte.gz", digits.target[rows].astype(np.uint8))
pngs = Path(sys.argv[1]) / "mnist_png"
pngs.mkdir(exist_ok=True)
for i in range(320, 324):
    Image.fromarray(images[i]).save(pngs / f"digit{i}_label{digits.target[i]}.png")
print(f"{out}: 256 training and 64 test digits; {pngs}: 4 PNG digits")
PY
    python - test_tipc/data/lite <<'PY'
import sys
from pathlib import Path
import numpy as np
# DSCMR's inference reads feature files (its inputs are VGG-19 fc7 and sentence-CNN features, not
# images): 4 image queries and a gallery of 10 texts, non-negative like ReLU features
out = Path(sys.argv[1]) / "dscmr"
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
np.save(out / "image_queries.npy", rng.random((4, 4096), dtype=np.float32))
np.save(out / "text_gallery.npy", rng.random((10, 300), dtype=np.float32))
print(f"{out}: 4 image queries (4096-d), a gallery of 10 texts (300-d)")
PY
    python - test_tipc/data/lite <<'PY'
import sys
from pathlib import Path
import numpy as np
import scipy.io
# HybridSN: an Indian-Pines-shaped label map of 16 classes in 36x36 blocks (the synthetic config lays
# its seeded cube on it), and a small 200-band cube for inference
root = Path(sys.argv[1])
(root / "IndianPines").mkdir(parents=True, exist_ok=True)
rows, cols = np.indices((145, 145))
labels = 1 + (rows // 37) * 4 + cols // 37
labels[(rows % 37 < 3) | (cols % 37 < 3)] = 0  # unlabelled seams, as the real map has
scipy.io.savemat(root / "IndianPines" / "Indian_pines_gt.mat", {"indian_pines_gt": labels.astype(np.uint8)})
(root / "hsi_cube").mkdir(exist_ok=True)
cube = np.random.default_rng(0).integers(1000, 9000, size=(30, 30, 200)).astype(np.uint16)
scipy.io.savemat(root / "hsi_cube" / "patch.mat", {"indian_pines_corrected": cube})
print(f"{root / 'IndianPines'}: a 145x145 label map of 16 block classes; {root / 'hsi_cube'}: a 30x30x200 cube")
PY
    ;;
  whole_train_whole_infer)
    echo "whole_train_whole_infer: the configs read dataset/ (verified, fetched when missing)" ;;
  *)
    echo "prepare.sh: unknown mode '$MODE' (lite_train_lite_infer or whole_train_whole_infer)" >&2; exit 2 ;;
esac
