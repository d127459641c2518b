"""Image transforms for classification, and the seeded per-sample randomness they draw from.

Randomness: a dataset that augments derives one generator per sample from (seed, epoch, index)
(``EpochSeeded.sample_rng``). The training loop tells the dataset the epoch (``set_epoch``)
before each epoch's loader is iterated, so an augmentation depends on nothing else: not on
the worker that loads the sample, not on how many samples came before, not on the global
RNG. A resumed run therefore sees exactly the augmentations of an uninterrupted one.
(The loader must not keep persistent workers across epochs; ours starts them per epoch.)

Arrays are HWC (uint8 or float32) until ``to_chw``; PIL images are used only for resizing.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

# ImageNet channel statistics (RGB, [0, 1]) and AlexNet's PCA lighting basis (Krizhevsky et
# al. 2012, Section 4.1), the "standard color augmentation" ResNet cites as [21].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PCA_EIGVAL = np.array([0.2175, 0.0188, 0.0045], np.float32)
PCA_EIGVEC = np.array([[-0.5675, 0.7192, 0.4009],
                       [-0.5808, -0.0045, -0.8140],
                       [-0.5836, -0.6948, 0.4203]], np.float32)


class EpochSeeded:
    """Mixin for datasets with random augmentation: ``seed`` is set at construction (the run's
    ``Global.seed``), ``set_epoch`` by the training loop."""

    seed: int = 0
    epoch: int = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def sample_rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, int(index)])


def pad(image: np.ndarray, width: int, value: float = 0.0) -> np.ndarray:
    """Pad ``width`` pixels of ``value`` on each side of an HWC image."""
    if width <= 0:
        return image
    return np.pad(image, ((width, width), (width, width), (0, 0)), constant_values=value)


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size`` x ``size`` crop at a uniformly random position."""
    h, w = image.shape[:2]
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} from a {w}x{h} image")
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    return image[top:top + size, left:left + size]


def random_hflip(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror left-right with probability 1/2."""
    return image[:, ::-1] if rng.random() < 0.5 else image


def pad_crop_flip(image: np.ndarray, padding: int, rng: np.random.Generator, flip: bool = True) -> np.ndarray:
    """ResNet's CIFAR augmentation (Section 4.2): pad, random crop back to the size, random flip."""
    size = image.shape[0]
    out = random_crop(pad(image, padding), size, rng)
    return random_hflip(out, rng) if flip else out


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} from a {w}x{h} image")
    top, left = (h - size) // 2, (w - size) // 2
    return image[top:top + size, left:left + size]


def ten_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The four corner crops and the centre crop, and their mirror images: [10, size, size, C]."""
    h, w = image.shape[:2]
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} from a {w}x{h} image")
    corners = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size)]
    crops = [image[t:t + size, l:l + size] for t, l in corners] + [center_crop(image, size)]
    return np.stack(crops + [c[:, ::-1] for c in crops])


def resize_shorter(image: Image.Image, size: int) -> Image.Image:
    """Resize (bilinear) so that the shorter side is ``size``, keeping the aspect ratio."""
    w, h = image.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    return image if new == (w, h) else image.resize(new, Image.BILINEAR)


def random_scale(image: Image.Image, shorter: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """ResNet's scale augmentation (Section 3.4): the shorter side drawn uniformly from
    [shorter[0], shorter[1]] (256..480 in the paper)."""
    return resize_shorter(image, int(rng.integers(shorter[0], shorter[1] + 1)))


def random_resized_crop(image: Image.Image, size: int, rng: np.random.Generator,
                        scale: tuple[float, float] = (0.08, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> Image.Image:
    """Inception-style crop (Szegedy et al. 2015): a random area fraction in ``scale`` and aspect
    ratio in ``ratio`` (log-uniform), resized to ``size``; 10 tries, then the central crop."""
    w, h = image.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            return image.resize((size, size), Image.BILINEAR, box=(left, top, left + cw, top + ch))
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.resize((size, size), Image.BILINEAR, box=(left, top, left + side, top + side))


def pca_lighting(image: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """AlexNet's colour augmentation on an HWC float image in [0, 1]: add the RGB principal
    components scaled by their eigenvalues times N(0, std^2) draws (one draw per image)."""
    if std <= 0:
        return image
    alpha = rng.normal(0.0, std, size=3).astype(np.float32)
    return image + PCA_EIGVEC @ (alpha * PCA_EIGVAL)


def normalize(image: np.ndarray, mean: tuple[float, ...] | np.ndarray,
              std: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """(image - mean) / std with per-channel (or per-pixel) statistics, float32."""
    return ((image - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).astype(np.float32)


def to_chw(image: np.ndarray) -> np.ndarray:
    """HWC (or NHWC) -> CHW (or NCHW), contiguous float32."""
    axes = (2, 0, 1) if image.ndim == 3 else (0, 3, 1, 2)
    return np.ascontiguousarray(image.transpose(axes), dtype=np.float32)
