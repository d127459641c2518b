"""Super-resolution datasets on the SRCNN protocol (``sr_protocol.py``): Y channel, modcrop,
MATLAB bicubic down-then-up.

- ``SRCNNPatches``: training sub-images, ``input_size`` inputs with centred ``label_size`` labels
  cut on a ``stride`` grid (33/21/14 as SRCNN's ``generate_train.m``), cached in HDF5 keyed by
  every setting and the images' checksums, so a second run starts at once.
- ``SRImageFolder``: whole images for evaluation, with bicubic CbCr kept for colour panels.
Values are in [0, 1] (Y / 255) as float32 CHW.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from paddle.io import Dataset

from ppcls_repro.data.cache import cached_arrays
from ppcls_repro.data.color import rgb2ycbcr
from ppcls_repro.data.download import resolve_source
from ppcls_repro.papers.sr.protocol import bicubic_downscale, bicubic_upscale, make_sr_pair, modcrop
from ppcls_repro.registry import DATASETS, Positive
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import list_images, load_as_matlab
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.progress import track

def cut_srcnn_patches(lr_up: np.ndarray, hr: np.ndarray, input_size: int, label_size: int,
                      stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-images on a stride grid: inputs from ``lr_up``, centred labels from ``hr``.

    Top-left corners run from 0 to H - input_size inclusive, as ``generate_train.m``'s loops.
    """
    offset = (input_size - label_size) // 2
    rows = range(0, hr.shape[0] - input_size + 1, stride)
    cols = range(0, hr.shape[1] - input_size + 1, stride)
    inputs = [lr_up[r:r + input_size, c:c + input_size] for r in rows for c in cols]
    labels = [hr[r + offset:r + offset + label_size, c + offset:c + offset + label_size]
              for r in rows for c in cols]
    return np.asarray(inputs, np.float32), np.asarray(labels, np.float32)


@DATASETS.register
class SRCNNPatches(Dataset):
    """SRCNN training sub-images from a folder of HR images (T91 by default).

    Args:
        root: folder of the HR training images (T91 with the default manifest). Required.
        scale: upscaling factor, an integer >= 1 (modcrop, then bicubic down and up by it). Required.
        input_size: side of the bicubic-upscaled input sub-images, in pixels (33 in ``generate_train.m``).
            Default: 33.
        label_size: side of the HR labels centred in the inputs, in pixels; ``input_size - label_size``
            must be even and >= 0 (21 in ``generate_train.m``). Default: 21.
        stride: step of the sub-image grid, in pixels (14 in ``generate_train.m``). Default: 14.
        manifest: sha256 manifest ``root`` is verified against (sample images stand in when it fails,
            unless strict); None reads ``root`` as is, unverified. Default: "t91".
        cache_dir: folder of the HDF5 sub-image cache. Default: "dataset/cache".
        download: fetch missing or mismatched files named by the manifest (no effect without one).
            Default: True.
    """

    def __init__(self, root: str, scale: Positive, input_size: Positive = 33, label_size: Positive = 21,
                 stride: Positive = 14, manifest: str | None = "t91", cache_dir: str = "dataset/cache",
                 strict: bool = False, download: bool = True) -> None:
        if input_size < label_size or (input_size - label_size) % 2:
            raise DataError(f"input_size {input_size} and label_size {label_size}: the label must be "
                            "centred in the input (even difference)")
        self.source = resolve_source(root, manifest, strict, download)
        self.scale = scale
        settings = {"kind": "srcnn", "scale": scale, "input": input_size, "label": label_size,
                    "stride": stride, "version": 2}  # 2: gray files are their own Y
        files = list_images(self.source.path)
        arrays, cache = cached_arrays(cache_dir, f"srcnn_x{scale}", settings, files, lambda: _cut_all(files, settings))
        self.inputs, self.labels = arrays["input"], arrays["label"]
        get_logger().info(f"{len(self.inputs)} sub-images x{scale} from {len(files)} images "
                          f"({self.source.kind}: {self.source.path}), cache {cache}")

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {"input": self.inputs[index][None], "target": self.labels[index][None]}


def _cut_all(files: list[Path], settings: dict) -> dict[str, np.ndarray]:
    get_logger().info(f"extracting sub-images from {len(files)} images (once: they are cached)")
    inputs, labels = [], []
    for path in track(files, "extracting sub-images", unit="images"):
        hr, lr_up = make_sr_pair(load_as_matlab(path), settings["scale"])
        x, y = cut_srcnn_patches(lr_up / 255.0, hr / 255.0, settings["input"], settings["label"],
                                 settings["stride"])
        if len(x) == 0:
            raise DataError(f"{path}: image {hr.shape[1]}x{hr.shape[0]} is smaller than a "
                            f"{settings['input']}x{settings['input']} sub-image")
        inputs.append(x)
        labels.append(y)
    return {"input": np.concatenate(inputs), "label": np.concatenate(labels)}


def check_scorable(path: Path, shape: tuple[int, ...], scale: int) -> None:
    """Refuse an image that leaves nothing to score once modcropped and shaved by ``scale`` on each side."""
    least = 3 * scale  # modcrop keeps multiples of scale; the shave then takes 2 * scale
    if min(shape[:2]) < least:
        raise DataError(f"{path}: image {shape[1]}x{shape[0]} is too small to score at x{scale} "
                        f"(at least {least}x{least}: {scale} pixels are shaved from each border)")


@DATASETS.register
class SRImageFolder(Dataset):
    """Whole images for SR evaluation (Set5 by default): bicubic input and HR target on Y.

    Args:
        root: folder of the HR evaluation images (Set5 with the default manifest). Required.
        scale: upscaling factor, an integer >= 1 (modcrop, then bicubic down and up by it). Required.
        manifest: sha256 manifest ``root`` is verified against (sample images stand in when it fails,
            unless strict); None reads ``root`` as is, unverified. Default: "set5".
        download: fetch missing or mismatched files named by the manifest (no effect without one).
            Default: True.
    """

    def __init__(self, root: str, scale: Positive, manifest: str | None = "set5",
                 strict: bool = False, download: bool = True) -> None:
        self.source = resolve_source(root, manifest, strict, download)
        self.scale = scale
        self.items = [self._load(path) for path in list_images(self.source.path)]

    def _load(self, path: Path) -> dict[str, np.ndarray | str]:
        image = load_as_matlab(path)  # a gray file is its own Y, as in the authors' demo_SR.m
        check_scorable(path, image.shape, self.scale)
        hr, lr_up = make_sr_pair(image, self.scale)
        rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)  # gray: Cb = Cr = 128
        cbcr = rgb2ycbcr(modcrop(rgb, self.scale))[:, :, 1:]
        cbcr_up = bicubic_upscale(bicubic_downscale(cbcr, self.scale), self.scale)
        return {"input": (lr_up / 255.0)[None].astype(np.float32),
                "target": (hr / 255.0)[None].astype(np.float32),
                "cbcr": cbcr_up.transpose(2, 0, 1).astype(np.float32),
                "name": path.stem}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, np.ndarray | str]:
        return self.items[index]
