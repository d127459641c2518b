"""Image classification inference (ResNet, SE-ResNet): the Eval transform of the training data, then
the exported net (softmax appended), then the top-k classes of each image.

The preprocessing is that of the config's ``DataLoader.Eval.dataset``, written into
``pipeline.json`` at export (the dataset's ``inference_facts``), so inference reads no config:

- MNIST: gray, ``pad`` pixels of 0 on each side (28 -> 32), ``(x / 255 - 0.1307) / 0.3081``;
- CIFAR-10/100: RGB 32x32, ``x / 255`` minus the per-pixel mean image of the training rows the
  Eval dataset uses (``mean_image.npy`` beside the model: it is data, so export needs the data);
- ImageNet: RGB, shorter side ``resize_short`` (bilinear), centre ``crop_size`` crop,
  per-channel mean/std. Inference takes the single centre crop, also where Eval used 10 crops.

Each image writes ``<stem>_top<k>.json`` (class index, name if known, probability) and logs it.
An image whose size the transform does not bring to the net's input size is an error naming it
(MNIST/CIFAR take their native 28x28 / 32x32 images; they are not resized).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from ppcls_repro.data.transforms import center_crop, pad, resize_shorter
from ppcls_repro.deploy.pipeline import Net, Pipeline
from ppcls_repro.deploy.predictor import ModelDirError, ShapeRange
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import read_image, split_image_array
from ppcls_repro.utils.logger import get_logger

MNIST_SIZE = 28


@PIPELINES.register
class Classification(Pipeline):
    """Keys of ``pipeline.json``: the model states ``num_classes``, ``channels``, ``input_size``; the
    Eval data states ``dataset``, ``color``, ``pad``, ``resize_short``, ``crop_size``, ``mean`` and
    ``std`` (per channel) or ``mean_image`` (a file beside the model), ``class_names``; ``top_k`` is
    how many classes are reported (default 5)."""

    facts_from_data = True

    def __init__(self, num_classes: int, channels: Literal[1, 3], input_size: tuple[int, int],
                 color: Literal["gray", "rgb"], dataset: str = "", pad: int = 0,
                 resize_short: int | None = None, crop_size: int | None = None,
                 mean: list[float] | None = None, std: list[float] | None = None, mean_image: str | None = None,
                 class_names: list[str] | None = None, top_k: int = 5) -> None:
        if (color == "gray") != (channels == 1):
            raise ValueError(f"Classification: color {color} does not fit a net with {channels} input channel(s)")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"Classification: {len(class_names)} class_names for {num_classes} classes")
        if top_k < 1 or pad < 0 or (mean_image is None) == (mean is None):
            raise ValueError(f"Classification: need top_k >= 1, pad >= 0 and exactly one of mean / mean_image "
                             f"(got top_k={top_k}, pad={pad}, mean={mean}, mean_image={mean_image})")
        if crop_size is not None and [crop_size, crop_size] != list(input_size):
            raise ValueError(f"Classification: the data's crop_size {crop_size} is not the net's input size "
                             f"{list(input_size)}")
        self.num_classes, self.channels, self.input_size = num_classes, channels, tuple(input_size)
        self.color, self.dataset, self.pad = color, dataset, pad
        self.resize_short, self.crop_size = resize_short, crop_size
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.std = np.asarray(std if std is not None else [1.0] * channels, np.float32)
        self.mean_image_file, self.mean_image = mean_image, None
        self.class_names, self.top_k = class_names, min(top_k, num_classes)

    def load_assets(self, model_dir: Path) -> None:
        if self.mean_image_file is None:
            return
        path = model_dir / self.mean_image_file
        if not path.is_file():
            raise ModelDirError(f"{model_dir}: {self.mean_image_file} is missing (export writes the training "
                                "set's mean image there)")
        mean = np.load(path)
        if mean.shape != (*self.input_size, self.channels):
            raise ModelDirError(f"{path}: mean image of shape {mean.shape}, expected "
                                f"{(*self.input_size, self.channels)}")
        self.mean_image = mean.astype(np.float32)

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        if len(inputs) != 1 or inputs[0].get("shape", [])[1:] != [self.channels, *self.input_size]:
            raise ModelDirError(f"Classification needs one [N, {self.channels}, {self.input_size[0]}, "
                                f"{self.input_size[1]}] input, the model has {inputs}")

    def output_paths(self, path: Path, out_dir: Path) -> list[Path]:
        return [out_dir / f"{path.stem}_top{self.top_k}.json"]

    def preprocess(self, path: Path) -> np.ndarray:
        """An image file -> the [C, H, W] float32 array the net takes (the Eval transform)."""
        pixels, _ = read_image(path)  # alpha is not part of any training set: dropped
        return self.transform(pixels, str(path))

    def transform(self, pixels: np.ndarray, name: str) -> np.ndarray:
        """HxWxC uint8 pixels (C = 1 or 3) -> the [C, H, W] float32 array the net takes; ``name`` names
        the image in errors."""
        if self.color == "gray" and pixels.shape[2] == 3:
            pixels = np.asarray(Image.fromarray(pixels).convert("L"))[:, :, None]
        if warning := self.inverted_warning(pixels, name):
            get_logger().warning(warning)
        elif self.color == "rgb" and pixels.shape[2] == 1:
            pixels = np.repeat(pixels, 3, axis=2)
        if self.resize_short:
            image = Image.fromarray(pixels[:, :, 0] if self.channels == 1 else pixels)
            resized = np.asarray(resize_shorter(image, self.resize_short))
            pixels = resized.reshape(*resized.shape[:2], self.channels)
        x = pad(pixels.astype(np.float32), self.pad) / 255.0
        if self.crop_size:
            x = center_crop(x, self.crop_size)
        if x.shape[:2] != self.input_size:
            raise DataError(f"{name}: the {self.dataset or 'model'} transform makes it {x.shape[1]}x{x.shape[0]}, "
                            f"the net takes {self.input_size[1]}x{self.input_size[0]}")
        x = x - (self.mean_image if self.mean_image is not None else self.mean)
        return np.ascontiguousarray((x / self.std).transpose(2, 0, 1), dtype=np.float32)

    def inverted_warning(self, pixels: np.ndarray, name: str) -> str | None:
        """MNIST digits are light strokes on a black ground (its border pixels are 0); a dark digit on
        paper-white, the usual photo or scan, is confidently misread. Say so when the border is light."""
        if self.dataset.upper() != "MNIST" or min(pixels.shape[:2]) < 3:
            return None
        border = np.concatenate([pixels[0].ravel(), pixels[-1].ravel(), pixels[:, 0].ravel(), pixels[:, -1].ravel()])
        if border.mean() <= 127:
            return None
        return (f"{name}: light background (border mean {border.mean():.0f} of 255): MNIST digits are light on "
                "black, so this looks inverted and its prediction means little; invert it (255 - x) first")

    def top(self, probabilities: np.ndarray) -> list[dict[str, Any]]:
        order = np.argsort(-probabilities, kind="stable")[:self.top_k]
        return [{"class_id": int(i), "score": float(probabilities[i]),
                 **({"label": self.class_names[i]} if self.class_names else {})} for i in order]

    def process(self, path: Path, net: Net, out_dir: Path, batch_size: int) -> list[Path]:
        probabilities = net([self.preprocess(path)[None]])[0][0]
        predictions = self.top(probabilities)
        (target,) = self.output_paths(path, out_dir)
        target.write_text(json.dumps({"image": str(path), "predictions": predictions}, indent=2) + "\n")
        get_logger().info(f"{path.name}: " + ", ".join(
            f"{p.get('label', p['class_id'])} {p['score']:.4f}" for p in predictions))
        return [target]

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        return [self.preprocess(path)[None]]

    def predict(self, image: np.ndarray, net: Net, batch_size: int = 1) -> list[dict[str, Any]]:
        """A uint8 image (HxW or HxWxC; alpha dropped) -> its top-k, as ``<stem>_top<k>.json`` lists them."""
        pixels, _ = split_image_array(image)
        return self.top(net([self.transform(pixels, "the image")[None]])[0][0])

    def shape_range(self, inputs: list[dict[str, Any]], batch_size: int) -> ShapeRange:
        shape = [self.channels, *self.input_size]
        return {inputs[0]["name"]: ([1, *shape], [1, *shape], [max(1, batch_size), *shape])}

