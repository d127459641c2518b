"""Image files: listing a folder, reading and writing 8-bit images, MATLAB's uint8 rounding.

Paper-free: every paper that reads image folders (SR, DnCNN, classification inference) uses these.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ppcls_repro.utils.errors import DataError


IMAGE_SUFFIXES = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder, sorted by name; an empty or missing folder is an error."""
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return files


def load_as_matlab(path: str | Path) -> np.ndarray:
    """An image file as MATLAB's ``imread`` gives it to the SR authors' code: HxW uint8 for an 8-bit
    gray (or 1-bit) file, which their ``demo_SR.m`` takes as the Y channel unchanged, else HxWx3
    uint8 RGB (alpha dropped). Converting gray to RGB first would put it through ``rgb2ycbcr`` and
    compress it to [16, 235]."""
    try:
        with Image.open(path) as image:
            if image.mode not in ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr"):
                # 16-bit or float pixels: PIL's 8-bit conversion saturates them (a white image)
                raise ValueError(f"{image.mode} pixels are not 8-bit; save it as 8-bit gray or RGB")
            # convert() also forces the lazy decode, so corrupt data fails here.
            pixels = image.convert("L" if image.mode in ("1", "L") else "RGB")
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise DataError(f"cannot read image {path}: {error}") from None
    return np.asarray(pixels, dtype=np.uint8)


def split_image_array(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """An in-memory uint8 image (HxW gray, HxWx1, HxWx2 gray + alpha, HxWx3 RGB, HxWx4 RGBA) as
    ``read_image`` gives a file: (HxWxC with C = 1 or 3, HxW alpha or None)."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and not 1 <= array.shape[2] <= 4) \
            or 0 in array.shape:
        raise DataError(f"expected a uint8 image of shape HxW or HxWxC (C = 1 to 4), got {array.dtype} "
                        f"of shape {array.shape}")
    if array.ndim == 2:
        return array[:, :, None], None
    if array.shape[2] in (2, 4):
        return array[:, :, :-1], array[:, :, -1]
    return array, None


def read_image(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """An image file as (HxWxC uint8 with C = 1 gray or 3 RGB, HxW uint8 alpha or None).

    EXIF orientation is applied, so the result is the picture as viewers show it.
    """
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()  # decode now, so a truncated file fails here
            target = _target_mode(image)
            if target is None:
                bands = "".join(image.getbands())
                raise DataError(f"{path}: image mode {image.mode} ({len(bands)} channel(s): {bands}) is not "
                                "supported; save it as 8-bit gray, RGB or RGBA")
            pixels = np.asarray(image.convert(target))
    except DataError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"cannot read image {path}: {err}") from None
    if pixels.ndim == 2:
        return pixels[:, :, None], None
    if target in ("LA", "RGBA"):
        return pixels[:, :, :-1], pixels[:, :, -1]
    return pixels, None


def _target_mode(image: Image.Image) -> str | None:
    if image.mode in ("1", "L"):
        return "L"
    if image.mode in ("LA", "La"):
        return "LA"
    if image.mode in ("RGB", "RGBX", "CMYK", "YCbCr"):
        return "RGB"
    if image.mode in ("RGBA", "RGBa", "PA"):
        return "RGBA"
    if image.mode == "P":
        return "RGBA" if "transparency" in image.info else "RGB"
    return None  # 16/32-bit and float images, LAB, HSV: no faithful 8-bit reading


def save_image(pixels: np.ndarray, path: Path) -> Path:
    """Write HxW, HxWx1, HxWx3 or HxWx4 uint8 as PNG."""
    array = pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array.astype(np.uint8))).save(path)
    return path


def quantize_uint8(image: np.ndarray) -> np.ndarray:
    """MATLAB's uint8() conversion on [0, 255] values, returned as float64.

    Rounds half away from zero and saturates to [0, 255]; NaN is rejected.
    """
    array = np.asarray(image, dtype=np.float64)
    if np.isnan(array).any():
        raise ValueError("cannot quantize an image containing NaN")
    # After clipping everything is >= 0, where floor(x + 0.5) is MATLAB's round.
    return np.floor(np.clip(array, 0.0, 255.0) + 0.5)


LABEL_STRIP = 16  # pixels of the caption row above a panel


def labelled_panel(parts: dict[str, np.ndarray]) -> np.ndarray:
    """The images side by side (all of one height; HxW or HxWx3 uint8), each under its caption (the
    dict key, e.g. ``bicubic 30.39 dB``) on a dark strip: VisualDL shows an image without any legend,
    so the panel names its own parts. Returns HxWx3 uint8, ``LABEL_STRIP`` rows taller."""
    from PIL import ImageDraw  # only panels draw text

    rgb = [np.repeat(p[:, :, None], 3, axis=2) if p.ndim == 2 else p for p in parts.values()]
    if len({p.shape[0] for p in rgb}) != 1:
        raise ValueError(f"panel parts differ in height: {[p.shape[:2] for p in rgb]}")
    body = np.concatenate(rgb, axis=1).astype(np.uint8)
    canvas = Image.new("RGB", (body.shape[1], body.shape[0] + LABEL_STRIP), (40, 40, 40))
    canvas.paste(Image.fromarray(body), (0, LABEL_STRIP))
    left = 0
    for caption, part in zip(parts, rgb):  # each caption drawn on its own part's strip: clipped there
        strip = Image.new("RGB", (part.shape[1], LABEL_STRIP), (40, 40, 40))
        ImageDraw.Draw(strip).text((3, 2), caption, fill=(255, 255, 255))
        canvas.paste(strip, (left, 0))
        left += part.shape[1]
    return np.asarray(canvas)
