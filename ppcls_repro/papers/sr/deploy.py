"""Super-resolution inference on real images: the paper's colour handling, tiled for large inputs.

For a Y network (SRCNN as in the paper, ``net_input: y_bt601``): the image is converted with
MATLAB's ``rgb2ycbcr`` (BT.601 studio range, rounded to uint8 as MATLAB does for uint8 images);
the net restores Y, Cb and Cr are upscaled by MATLAB bicubic, and the three are converted back
to RGB. A gray image is taken as Y unchanged (as ``demo_SR.m``). An RGB network sees RGB.
Nets that take a pre-upscaled input (``upsample_input``: SRCNN) get the bicubic-upscaled image;
the others (FSRCNN) get the LR image and upscale themselves. Alpha is upscaled by bicubic.

Each input writes ``<stem>_x<scale>.png`` (the network) and ``<stem>_x<scale>_bicubic.png``
(plain bicubic of every channel) for comparison.

Memory stays bounded for any image size: the input is processed in blocks (each with the context
its output pixels depend on: the net's receptive radius and bicubic's 2-pixel reach), and the
output rows are streamed to the PNG files band by band. Only the uint8 input and one band of output
rows are ever held whole; the result equals a whole-image run (tested).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np

from ppcls_repro.data.color import rgb2ycbcr, ycbcr2rgb
from ppcls_repro.deploy.pipeline import Net, TiledImagePipeline
from ppcls_repro.deploy.predictor import ModelDirError
from ppcls_repro.deploy.tiling import Tile, plan_tiles, run_tiled
from ppcls_repro.papers.sr.protocol import bicubic_upscale
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.images import quantize_uint8, read_image, split_image_array
from ppcls_repro.utils.png import PngRowWriter
from ppcls_repro.utils.progress import track

# Input pixels on each side that MATLAB's bicubic (a 4-tap kernel on upscaling) reaches, plus one for
# the rounding of the sample positions.
BICUBIC_CONTEXT = 3


@PIPELINES.register
class SuperResolution(TiledImagePipeline):
    """Single-image SR. Keys of ``pipeline.json`` (the model states the first five at export):

    - ``scale``: upscaling factor; ``upsample_input``: the net wants the bicubic-upscaled image;
    - ``net_input``: ``y_bt601`` (the luminance of MATLAB's rgb2ycbcr) or ``rgb``;
    - ``value_range``: what 0 and 255 map to for the net (SRCNN: [0, 1]);
    - ``halo``: the net's receptive radius in input pixels (tiles overlap by it);
    - ``tile_size``: tiles of the net input are at most this many pixels a side (0: whole image).
    """

    def __init__(self, scale: int, net_input: Literal["y_bt601", "rgb"], upsample_input: bool, halo: int,
                 value_range: tuple[float, float] = (0.0, 1.0), tile_size: int = 512) -> None:
        if scale < 1 or halo < 0 or tile_size < 0 or value_range[1] == value_range[0]:
            raise ValueError(f"SuperResolution: bad settings scale={scale}, halo={halo}, tile_size={tile_size}, "
                             f"value_range={value_range}")
        self.scale = scale
        self.net_input = net_input
        self.upsample_input = upsample_input
        self.halo = halo
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.tile_size = tile_size

    @property
    def channels(self) -> int:
        return 1 if self.net_input == "y_bt601" else 3

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        if len(inputs) != 1 or len(inputs[0].get("shape", [])) != 4:
            raise ModelDirError(f"SuperResolution needs one NCHW image input, the model has {inputs}")
        channels = inputs[0]["shape"][1]
        if channels != self.channels:
            raise ModelDirError(f"the model takes {channels} channel(s) but its pipeline feeds "
                                f"{self.channels} (net_input {self.net_input})")

    def output_paths(self, path: Path, out_dir: Path) -> list[Path]:
        return [out_dir / f"{path.stem}_x{self.scale}.png", out_dir / f"{path.stem}_x{self.scale}_bicubic.png"]

    def process(self, path: Path, net: Net, out_dir: Path, batch_size: int) -> list[Path]:
        pixels, alpha = read_image(path)
        planes = self.with_alpha(pixels, alpha)
        height, width, channels = planes.shape
        s = self.scale
        sr_path, bicubic_path = self.output_paths(path, out_dir)
        with PngRowWriter(sr_path, width * s, height * s, channels) as sr_png, \
                PngRowWriter(bicubic_path, width * s, height * s, channels) as bicubic_png:
            bands = len(self.bands(height, width))
            for sr_rows, bicubic_rows in track(self.band_rows(planes, net, batch_size), f"upscaling {path.name}",
                                               total=bands, unit="bands"):
                sr_png.write(sr_rows)
                bicubic_png.write(bicubic_rows)
        return [sr_path, bicubic_path]

    def predict(self, image: np.ndarray, net: Net, batch_size: int = 1) -> np.ndarray:
        """A uint8 image (HxW, or HxWxC: gray, gray + alpha, RGB, RGBA) -> the super-resolved image of
        the same layout, the pixels ``process`` writes to ``<stem>_x<scale>.png``."""
        pixels, alpha = split_image_array(image)
        result = np.concatenate([rows for rows, _ in self.band_rows(self.with_alpha(pixels, alpha), net, batch_size)])
        return result[:, :, 0] if np.asarray(image).ndim == 2 else result

    @staticmethod
    def with_alpha(pixels: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
        return pixels if alpha is None else np.concatenate([pixels, alpha[:, :, None]], axis=2)

    def band_rows(self, planes: np.ndarray, net: Net, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The output, band by band from the top: (super-resolved rows, bicubic rows), uint8."""
        height, width = planes.shape[:2]
        for band in self.bands(height, width):
            sr_rows, bicubic_rows = zip(*(self.block(planes, t, net, batch_size) for t in band))
            yield np.concatenate(sr_rows, axis=1), np.concatenate(bicubic_rows, axis=1)

    def block_plan(self) -> tuple[int, int]:
        """(block, context) in input pixels: a block's net input is about ``tile_size`` a side."""
        per_net_pixel = self.scale if self.upsample_input else 1
        context = -(-self.halo // per_net_pixel) + BICUBIC_CONTEXT  # the net's radius in input pixels
        return max(16, self.tile_size // per_net_pixel), context

    def net_side(self) -> int:
        block, context = self.block_plan()
        return (block + 2 * context) * (self.scale if self.upsample_input else 1)

    def bands(self, height: int, width: int) -> list[list[Tile]]:
        """The input's blocks, grouped into bands of rows (top to bottom, left to right)."""
        block, context = self.block_plan() if self.tile_size else (max(height, width), 0)
        rows: dict[int, list[Tile]] = {}
        for tile in plan_tiles(height, width, block, context):
            rows.setdefault(tile.core[0], []).append(tile)
        return list(rows.values())

    def block(self, planes: np.ndarray, tile: Tile, net: Net, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """One block's super-resolved and bicubic output pixels (uint8; alpha, if any, is bicubic)."""
        (y0, y1, x0, x1), (ry, ry1, rx, rx1) = tile.core, tile.region
        part = planes[ry:ry1, rx:rx1]
        colour = part[:, :, :self.colour_channels(planes)]
        bicubic = quantize_uint8(bicubic_upscale(part, self.scale)).astype(np.uint8)
        bicubic = bicubic[:, :, None] if bicubic.ndim == 2 else bicubic
        result = self.upscale(colour, net, batch_size, tile_size=0)  # a block is already one net input
        if part.shape[2] > colour.shape[2]:
            result = np.concatenate([result, bicubic[:, :, -1:]], axis=2)
        s = self.scale
        crop = (slice((y0 - ry) * s, (y1 - ry) * s), slice((x0 - rx) * s, (x1 - rx) * s))
        return result[crop], bicubic[crop]

    @staticmethod
    def colour_channels(planes: np.ndarray) -> int:
        """1 for gray (+ alpha), 3 for RGB (+ alpha)."""
        return 1 if planes.shape[2] in (1, 2) else 3

    def upscale(self, pixels: np.ndarray, net: Net, batch_size: int = 1, tile_size: int | None = None) -> np.ndarray:
        """HxWxC uint8 (C = 1 or 3) -> the super-resolved sH x sW x C uint8 image, the net run in
        tiles of ``tile_size`` (default: the pipeline's)."""
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
            raise ValueError(f"expected HxWx1 or HxWx3 pixels, got shape {pixels.shape}")
        gray = pixels.shape[2] == 1
        if self.net_input == "rgb":
            rgb = np.repeat(pixels, 3, axis=2) if gray else pixels
            return quantize_uint8(self.run_net(rgb.astype(np.float64), net, batch_size, tile_size)).astype(np.uint8)
        if gray:
            return quantize_uint8(self.run_net(pixels.astype(np.float64), net, batch_size, tile_size)).astype(np.uint8)
        ycbcr = quantize_uint8(rgb2ycbcr(pixels))  # MATLAB rounds rgb2ycbcr of a uint8 image
        y = quantize_uint8(self.run_net(ycbcr[:, :, :1], net, batch_size, tile_size))
        cbcr = bicubic_upscale(ycbcr[:, :, 1:], self.scale)
        return quantize_uint8(ycbcr2rgb(np.concatenate([y, cbcr], axis=2))).astype(np.uint8)

    def net_array(self, planes: np.ndarray) -> np.ndarray:
        """HxWxC in [0, 255] -> the CHW float32 array the net takes (upscaled if it wants so)."""
        if self.upsample_input:
            planes = bicubic_upscale(planes, self.scale)
            planes = planes[:, :, None] if planes.ndim == 2 else planes
        low, high = self.value_range
        return (low + (high - low) * planes.transpose(2, 0, 1) / 255.0).astype(np.float32)

    def run_net(self, planes: np.ndarray, net: Net, batch_size: int = 1, tile_size: int | None = None) -> np.ndarray:
        """HxWxC in [0, 255] through the net, tiled; returns sH x sW x C in [0, 255] (unrounded)."""
        x = self.net_array(planes)
        out_scale = 1 if self.upsample_input else self.scale
        tile = self.tile_size if tile_size is None else tile_size
        out = run_tiled(lambda batch: net([batch])[0], x, tile, self.halo, out_scale, batch_size)
        low, high = self.value_range
        return (out.astype(np.float64).transpose(1, 2, 0) - low) / (high - low) * 255.0

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        pixels, _ = read_image(path)
        if self.net_input == "y_bt601" and pixels.shape[2] == 3:
            pixels = quantize_uint8(rgb2ycbcr(pixels))[:, :, :1]
        elif self.net_input == "rgb" and pixels.shape[2] == 1:
            pixels = np.repeat(pixels, 3, axis=2)
        x = self.net_array(pixels.astype(np.float64))
        return [self.one_tile(x)[None]]
