"""Super-resolution inference on real images: the paper's colour handling, tiled for large inputs.

For a Y network (SRCNN as in the paper, ``net_input: y_bt601``): the image is converted with
MATLAB's ``rgb2ycbcr`` (BT.601 studio range, rounded to uint8 as MATLAB does for uint8 images);
the net restores Y, Cb and Cr are upscaled by MATLAB bicubic, and the three are converted back
to RGB. A gray image is taken as Y unchanged (as ``demo_SR.m``). An RGB network sees RGB.
Nets that take a pre-upscaled input (``upsample_input``: SRCNN) get the bicubic-upscaled image;
the others (FSRCNN) get the LR image and upscale themselves. Alpha is upscaled by bicubic.

Each input writes ``<stem>_x<scale>.png`` (the network) and ``<stem>_x<scale>_bicubic.png``
(plain bicubic of every channel) for comparison.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from ppcls_repro.data.color import rgb2ycbcr, ycbcr2rgb
from ppcls_repro.deploy.pipeline import Net, TiledImagePipeline
from ppcls_repro.deploy.predictor import ModelDirError
from ppcls_repro.deploy.tiling import run_tiled
from ppcls_repro.papers.sr.protocol import bicubic_upscale
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.images import quantize_uint8
from ppcls_repro.utils.images import read_image, save_image


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
        result = self.upscale(pixels, net, batch_size)
        bicubic = quantize_uint8(bicubic_upscale(pixels, self.scale)).astype(np.uint8)
        if alpha is not None:
            alpha_up = quantize_uint8(bicubic_upscale(alpha, self.scale)).astype(np.uint8)[:, :, None]
            result = np.concatenate([result, alpha_up], axis=2)
            bicubic = np.concatenate([bicubic, alpha_up], axis=2)
        sr_path, bicubic_path = self.output_paths(path, out_dir)
        return [save_image(result, sr_path), save_image(bicubic, bicubic_path)]

    def upscale(self, pixels: np.ndarray, net: Net, batch_size: int = 1) -> np.ndarray:
        """HxWxC uint8 (C = 1 or 3) -> the super-resolved sH x sW x C uint8 image."""
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
            raise ValueError(f"expected HxWx1 or HxWx3 pixels, got shape {pixels.shape}")
        gray = pixels.shape[2] == 1
        if self.net_input == "rgb":
            rgb = np.repeat(pixels, 3, axis=2) if gray else pixels
            return quantize_uint8(self.run_net(rgb.astype(np.float64), net, batch_size)).astype(np.uint8)
        if gray:
            return quantize_uint8(self.run_net(pixels.astype(np.float64), net, batch_size)).astype(np.uint8)
        ycbcr = quantize_uint8(rgb2ycbcr(pixels))  # MATLAB rounds rgb2ycbcr of a uint8 image
        y = quantize_uint8(self.run_net(ycbcr[:, :, :1], net, batch_size))
        cbcr = bicubic_upscale(ycbcr[:, :, 1:], self.scale)
        return quantize_uint8(ycbcr2rgb(np.concatenate([y, cbcr], axis=2))).astype(np.uint8)

    def net_array(self, planes: np.ndarray) -> np.ndarray:
        """HxWxC in [0, 255] -> the CHW float32 array the net takes (upscaled if it wants so)."""
        if self.upsample_input:
            planes = bicubic_upscale(planes, self.scale)
            planes = planes[:, :, None] if planes.ndim == 2 else planes
        low, high = self.value_range
        return (low + (high - low) * planes.transpose(2, 0, 1) / 255.0).astype(np.float32)

    def run_net(self, planes: np.ndarray, net: Net, batch_size: int = 1) -> np.ndarray:
        """HxWxC in [0, 255] through the net, tiled; returns sH x sW x C in [0, 255] (unrounded)."""
        x = self.net_array(planes)
        out_scale = 1 if self.upsample_input else self.scale
        out = run_tiled(lambda batch: net([batch])[0], x, self.tile_size, self.halo, out_scale, batch_size)
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
