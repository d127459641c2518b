"""ImageNet (ILSVRC-2012) from a PaddleClas-style list file, or from one folder per class.

Layout (as PaddleClas documents it)::

    dataset/ILSVRC2012/train/n01440764/n01440764_10026.JPEG ...
    dataset/ILSVRC2012/val/ILSVRC2012_val_00000001.JPEG ...
    dataset/ILSVRC2012/train_list.txt   lines "train/n01440764/n01440764_10026.JPEG 0"
    dataset/ILSVRC2012/val_list.txt     lines "val/ILSVRC2012_val_00000001.JPEG 65"

List paths are relative to ``root``. Without a list file (``list_file: null``), ``root`` holds
one sub-folder per class and labels are the sorted folder names' positions.

Training transforms (``mode: train``), ResNet Section 3.4:
- ``train_crop: scale_aug`` (the paper): shorter side drawn from ``scale_range`` [256, 480], a
  random ``crop_size`` (224) crop; ``random_resized_crop`` is the Inception crop that
  PaddleClas/torchvision and SENet (Section 5 of that paper) use;
- random horizontal flip; AlexNet's PCA colour augmentation with std ``lighting`` (0.1; 0 = off);
- per-channel mean/std normalisation.
Evaluation (``mode: eval``): shorter side ``resize_short`` (256), then the centre ``crop_size``
crop, or ``eval_crop: ten_crop``: the 10-crop testing of Table 3 (4 corners + centre, and their
mirrors) as a [10, 3, H, W] input that ``ClassificationEvaluator`` averages.

Deviation: the paper subtracts a per-pixel mean image; here per-channel mean and std are used
(PaddleClas, torchvision), since the mean image of ImageNet is not part of the data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from paddle.io import Dataset
from PIL import Image, UnidentifiedImageError

from ppcls_repro.data.download import DataSource
from ppcls_repro.data.transforms import (IMAGENET_MEAN, IMAGENET_STD, EpochSeeded, center_crop, normalize,
                                         pca_lighting, random_crop, random_hflip, random_resized_crop,
                                         random_scale, resize_shorter, ten_crop, to_chw)
from ppcls_repro.registry import DATASETS, Positive
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.spec import DataFacts

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".bmp")
WHERE_TO_GET = ("register at https://image-net.org/download-images.php, download ILSVRC2012 train and "
                "val, and arrange them as PaddleClas documents (train/<wnid>/*.JPEG, val/*.JPEG, "
                "train_list.txt, val_list.txt)")


def read_list_file(path: Path, root: Path) -> list[tuple[Path, int]]:
    """``(image path, label)`` per line of a PaddleClas list file; a bad line names its number."""
    if not path.is_file():
        raise DataError(f"ImageNet list file not found: {path}; {WHERE_TO_GET}")
    items = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        name, _, label = line.strip().rpartition(" ")
        if not name or not label.isdigit():
            raise DataError(f"{path}:{number}: expected '<relative image path> <label>', got {line!r}")
        items.append((root / name, int(label)))
    if not items:
        raise DataError(f"{path}: the list file is empty")
    return items


def write_list_file(path: Path, items: list[tuple[str, int]]) -> None:
    """A PaddleClas list file: one '<path relative to root> <label>' line per image."""
    path.write_text("".join(f"{name} {label}\n" for name, label in items))


def scan_class_folders(root: Path) -> tuple[list[tuple[Path, int]], list[str]]:
    """Images of ``root/<class>/``; classes are the sorted folder names."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"{root}: no class folders (and no list_file given); {WHERE_TO_GET}")
    items = [(f, label) for label, name in enumerate(classes)
             for f in sorted((root / name).iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not items:
        raise DataError(f"{root}: class folders hold no images ({', '.join(IMAGE_SUFFIXES)})")
    return items, classes


def load_image(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"image not found: {path} (listed in the list file)") from None
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{path}: cannot decode image ({err})") from None


@DATASETS.register
class ImageNet(EpochSeeded, Dataset):
    """ILSVRC-2012 classification images with ResNet's training and testing transforms.

    Args:
        root: dataset folder: the list file's image paths are relative to it; without a list file it holds one
            sub-folder per class. Default: "dataset/ILSVRC2012".
        list_file: PaddleClas list file ("<path relative to root> <label>" per line), a path of its own (not
            relative to ``root``); None reads the class folders of ``root`` (labels: sorted folder names).
            Default: "dataset/ILSVRC2012/train_list.txt".
        mode: "train" (random crop, flip, PCA lighting) or "eval" (resize, then centre or ten crops).
            Default: "train".
        num_classes: number of classes; every label must lie in [0, num_classes). Default: 1000.
        train_crop: "scale_aug" (the paper's: shorter side random in ``scale_range``, random ``crop_size`` crop)
            or "random_resized_crop" (Inception crop: 8-100% of the area, aspect 3/4-4/3); mode "train".
            Default: "scale_aug".
        scale_range: [min, max] of the shorter side in pixels for "scale_aug", an integer drawn uniformly
            (both ends included); crop_size <= min <= max. Default: (256, 480).
        crop_size: side in pixels of the square training and evaluation crops. Default: 224.
        lighting: std of AlexNet's PCA colour noise (one draw per image); 0 turns it off; mode "train".
            Default: 0.1.
        resize_short: shorter side in pixels before the evaluation crop, >= crop_size; mode "eval". Default: 256.
        eval_crop: "center" (one centre crop) or "ten_crop" (4 corners and the centre, and their mirrors, as a
            [10, 3, H, W] input); mode "eval". Default: "center".
        mean: per-channel RGB mean subtracted from pixels in [0, 1]. Default: (0.485, 0.456, 0.406).
        std: per-channel RGB std the centred pixels are divided by. Default: (0.229, 0.224, 0.225).
    """

    inference_pipeline = "Classification"

    @classmethod
    def inference_facts(cls, args: dict[str, Any]) -> DataFacts:
        """The single centre crop of the eval transform (also where Eval uses ten crops); no data needed."""
        return DataFacts({"dataset": "ImageNet", "color": "rgb", "resize_short": args["resize_short"],
                          "crop_size": args["crop_size"], "mean": list(args["mean"]), "std": list(args["std"])})

    def __init__(self, root: str = "dataset/ILSVRC2012", list_file: str | None = "dataset/ILSVRC2012/train_list.txt",
                 mode: Literal["train", "eval"] = "train", num_classes: Positive = 1000,
                 train_crop: Literal["scale_aug", "random_resized_crop"] = "scale_aug",
                 scale_range: tuple[Positive, Positive] = (256, 480), crop_size: Positive = 224, lighting: float = 0.1,
                 resize_short: Positive = 256, eval_crop: Literal["center", "ten_crop"] = "center",
                 mean: tuple[float, float, float] = IMAGENET_MEAN, std: tuple[float, float, float] = IMAGENET_STD,
                 seed: int = 0) -> None:
        folder = Path(root)
        if not folder.is_dir():
            raise DataError(f"ImageNet folder not found: {folder}; {WHERE_TO_GET}")
        if list_file:
            self.items = read_list_file(Path(list_file), folder)
        else:
            self.items, _ = scan_class_folders(folder)
        bad = [label for _, label in self.items if not 0 <= label < num_classes]
        if bad:
            raise DataError(f"{list_file or folder}: label {bad[0]} outside [0, {num_classes})")
        if scale_range[0] < crop_size or scale_range[1] < scale_range[0] or resize_short < crop_size:
            raise DataError(f"ImageNet: scale_range {list(scale_range)} and resize_short {resize_short} "
                            f"must be >= crop_size {crop_size} (and ordered)")
        self.mode, self.train_crop, self.scale_range = mode, train_crop, tuple(scale_range)
        self.crop_size, self.lighting, self.resize_short, self.eval_crop = crop_size, lighting, resize_short, eval_crop
        self.mean, self.std, self.seed = tuple(mean), tuple(std), seed
        self.num_classes = num_classes
        self.source = DataSource(kind="real", path=folder, name="ImageNet",
                                 note=f"{mode}: {len(self.items)} images from {list_file or folder}")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        path, label = self.items[index]
        image = load_image(path)
        x = self._train(image, index) if self.mode == "train" else self._eval(image)
        return {"input": to_chw(x), "target": np.int64(label)}

    def _train(self, image: Image.Image, index: int) -> np.ndarray:
        rng = self.sample_rng(index)
        if self.train_crop == "scale_aug":
            x = random_crop(np.asarray(random_scale(image, self.scale_range, rng)), self.crop_size, rng)
        else:
            x = np.asarray(random_resized_crop(image, self.crop_size, rng))
        x = random_hflip(x, rng).astype(np.float32) / 255.0
        return normalize(pca_lighting(x, self.lighting, rng), self.mean, self.std)

    def _eval(self, image: Image.Image) -> np.ndarray:
        x = np.asarray(resize_shorter(image, self.resize_short)).astype(np.float32) / 255.0
        crops = ten_crop(x, self.crop_size) if self.eval_crop == "ten_crop" else center_crop(x, self.crop_size)
        return normalize(crops, self.mean, self.std)
