"""Gaussian denoising of real images with an exported DnCNN, whole or in tiles.

The noise is taken to be in the photo already: the image is denoised as given. ``sigma`` states the
photo's noise level; a DnCNN-S model is trained for one level (``trained_sigma``, set by the config's
``Export.pipeline``) and refuses another, a blind DnCNN-B (``trained_sigma: null``) takes any.
``add_noise`` (for demos) first adds y = x + add_noise/255 * N(0, 1) with ``noise_seed``, unclipped
as in training, writes the noisy image too and logs the PSNR of both against the original.

A gray network (the paper's) denoises a gray image directly and a colour image channel by channel
(R, G, B independently); a colour network (``channels: 3``) takes RGB. Alpha is kept unchanged.
Each input writes ``<stem>_denoised.png`` (and ``<stem>_noisy.png`` with ``add_noise``).

Memory stays bounded for any image size: the image is denoised in blocks (each with the net's
receptive radius around it), the demo noise is drawn row band by row band (the same numbers as one
whole-image draw) and the PNGs are written band by band; the result equals a whole-image run.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from ppcls_repro.deploy.pipeline import Net, TiledImagePipeline
from ppcls_repro.deploy.predictor import ModelDirError
from ppcls_repro.deploy.tiling import Tile, plan_tiles, run_tiled
from ppcls_repro.metrics.noise import noise_sigma
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.images import quantize_uint8, read_image, split_image_array
from ppcls_repro.utils.logger import get_logger
from ppcls_repro.utils.png import PngRowWriter
from ppcls_repro.utils.progress import track


class NoiseRows:
    """Rows of ``default_rng(seed).standard_normal((height, width, channels))`` drawn only as far as
    asked: ``take(a, b)`` with non-decreasing ``a`` (rows before ``a`` are dropped)."""

    def __init__(self, seed: int, width: int, channels: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.start = 0
        self.rows = np.empty((0, width, channels))

    def take(self, a: int, b: int) -> np.ndarray:
        end = self.start + len(self.rows)
        if b > end:  # a Generator's draws continue one stream: chunks equal one large draw
            self.rows = np.concatenate([self.rows, self.rng.standard_normal((b - end, *self.rows.shape[1:]))])
        self.rows, self.start = self.rows[a - self.start:], a
        return self.rows[:b - a]


@PIPELINES.register
class Denoise(TiledImagePipeline):
    """Keys of ``pipeline.json``: ``channels``, ``halo``, ``value_range`` (stated by the model);
    ``trained_sigma`` (the config), ``tile_size``; ``sigma``, ``add_noise``, ``noise_seed`` (infer)."""

    def __init__(self, channels: int, halo: int, value_range: tuple[float, float] = (0.0, 1.0),
                 trained_sigma: float | None = None, sigma: float | None = None, add_noise: float = 0.0,
                 noise_seed: int = 0, tile_size: int = 512) -> None:
        if channels not in (1, 3) or halo < 0 or tile_size < 0 or value_range[1] == value_range[0]:
            raise ValueError(f"Denoise: bad settings channels={channels}, halo={halo}, tile_size={tile_size}, "
                             f"value_range={value_range}")
        if add_noise < 0 or (sigma is not None and sigma < 0):
            raise ValueError(f"Denoise: sigma and add_noise must be >= 0, got sigma={sigma}, add_noise={add_noise}")
        level = sigma if sigma is not None else (add_noise or None)
        if trained_sigma is not None and level is not None and abs(level - trained_sigma) > 1e-6:
            raise ValueError(f"Denoise: this DnCNN-S model is trained for sigma {trained_sigma:g}, not {level:g}; "
                             "export the model of that level (configs/dncnn_s<sigma>.yaml) or a blind DnCNN-B")
        self.channels = channels
        self.halo = halo
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.trained_sigma = trained_sigma
        self.add_noise = add_noise
        self.noise_seed = noise_seed
        self.tile_size = tile_size

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        if len(inputs) != 1 or len(inputs[0].get("shape", [])) != 4 or inputs[0]["shape"][1] != self.channels:
            raise ModelDirError(f"Denoise needs one NCHW input of {self.channels} channel(s), the model has {inputs}")

    def output_paths(self, path: Path, out_dir: Path) -> list[Path]:
        names = [f"{path.stem}_denoised.png"] + ([f"{path.stem}_noisy.png"] if self.add_noise else [])
        return [out_dir / name for name in names]

    def process(self, path: Path, net: Net, out_dir: Path, batch_size: int) -> list[Path]:
        pixels, alpha = read_image(path)
        height, width, channels = pixels.shape
        if not self.add_noise and (warning := self.clean_input_warning(pixels, path.name)):
            get_logger().warning(warning)
        noise = NoiseRows(self.noise_seed, width, channels) if self.add_noise else None
        squared_errors = {"noisy": 0.0, "denoised": 0.0}
        paths = self.output_paths(path, out_dir)
        with contextlib.ExitStack() as stack:
            pngs = [stack.enter_context(PngRowWriter(p, width, height, channels + (alpha is not None))) for p in paths]
            for band in track(self.bands(height, width), f"denoising {path.name}", unit="bands"):
                (y0, y1), (ry0, ry1) = band[0].core[:2], band[0].region[:2]
                noisy = pixels[ry0:ry1].astype(np.float64)
                if noise is not None:
                    noisy = noisy + self.add_noise * noise.take(ry0, ry1)  # unclipped, as in training
                denoised = np.concatenate([self.block(noisy, t, net, batch_size) for t in band], axis=1)
                core = noisy[y0 - ry0:y1 - ry0]
                clean = pixels[y0:y1].astype(np.float64)
                squared_errors["noisy"] += float(((core - clean) ** 2).sum())
                squared_errors["denoised"] += float(((denoised - clean) ** 2).sum())
                bands = [denoised.astype(np.uint8)] + ([quantize_uint8(core).astype(np.uint8)] if noise else [])
                for png, rows in zip(pngs, bands):
                    png.write(rows if alpha is None else np.concatenate([rows, alpha[y0:y1, :, None]], axis=2))
        if self.add_noise:
            count = pixels.size
            get_logger().info(f"{path.name}: PSNR vs the original: noisy {_psnr(squared_errors['noisy'], count):.2f} dB "
                              f"(sigma {self.add_noise:g}), denoised {_psnr(squared_errors['denoised'], count):.2f} dB")
        return paths

    def clean_input_warning(self, pixels: np.ndarray, name: str) -> str | None:
        """A DnCNN-S model removes noise of its one level: on a photo with far less (``noise_sigma``
        below a third of it) it smooths real detail away. Say so, rather than run silently."""
        if self.trained_sigma is None or pixels.shape[0] < 2 or pixels.shape[1] < 2:
            return None  # a blind DnCNN-B takes any level, clean included
        estimate = noise_sigma(pixels)
        if estimate >= self.trained_sigma / 3:
            return None
        return (f"{name}: looks clean (estimated noise sigma {estimate:.1f} on the 0-255 scale; this DnCNN-S "
                f"model removes sigma {self.trained_sigma:g}): its detail will be smoothed away; --add_noise "
                f"{self.trained_sigma:g} shows the model on the noise it was trained for")

    def bands(self, height: int, width: int) -> list[list[Tile]]:
        """Blocks of ``tile_size`` (the whole image when 0) with the net's halo, in bands of rows."""
        rows: dict[int, list[Tile]] = {}
        for tile in plan_tiles(height, width, self.tile_size or max(height, width), self.halo):
            rows.setdefault(tile.core[0], []).append(tile)
        return list(rows.values())

    def block(self, noisy_band: np.ndarray, tile: Tile, net: Net, batch_size: int) -> np.ndarray:
        """One block of the band, denoised and rounded to uint8 values (float64)."""
        (y0, y1, x0, x1), (ry0, _, rx0, rx1) = tile.core, tile.region
        out = quantize_uint8(self.denoise(noisy_band[:, rx0:rx1], net, batch_size, tile_size=0))
        return out[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]

    def noisy_input(self, pixels: np.ndarray) -> np.ndarray:
        """The image as float64 [0, 255], with the demo noise added (unclipped) when asked."""
        image = pixels.astype(np.float64)
        if self.add_noise:
            rng = np.random.default_rng(self.noise_seed)
            image = image + self.add_noise * rng.standard_normal(image.shape)
        return image

    def denoise(self, image: np.ndarray, net: Net, batch_size: int = 1, tile_size: int | None = None) -> np.ndarray:
        """HxWxC (C = 1 or 3) in [0, 255] -> the denoised HxWxC in [0, 255], unrounded; the net runs
        in tiles of ``tile_size`` (default: the pipeline's)."""
        if image.ndim != 3 or image.shape[2] not in (1, 3):
            raise ValueError(f"expected HxWx1 or HxWx3 pixels, got shape {image.shape}")
        if self.channels == 3:
            rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
            return self.run_net(rgb, net, batch_size, tile_size)
        planes = [self.run_net(image[:, :, c:c + 1], net, batch_size, tile_size) for c in range(image.shape[2])]
        return np.concatenate(planes, axis=2)

    def predict(self, image: np.ndarray, net: Net, batch_size: int = 1) -> np.ndarray:
        """A uint8 image (HxW, or HxWxC: gray, gray + alpha, RGB, RGBA), taken as noisy -> the denoised
        uint8 image of the same layout, the pixels ``process`` writes to ``<stem>_denoised.png``."""
        pixels, alpha = split_image_array(image)
        if warning := self.clean_input_warning(pixels, "the image"):
            get_logger().warning(warning)
        out = quantize_uint8(self.denoise(pixels.astype(np.float64), net, batch_size)).astype(np.uint8)
        if alpha is not None:
            out = np.concatenate([out, alpha[:, :, None]], axis=2)
        return out[:, :, 0] if np.asarray(image).ndim == 2 else out

    def run_net(self, planes: np.ndarray, net: Net, batch_size: int = 1, tile_size: int | None = None) -> np.ndarray:
        """HxWxC in [0, 255] through the net, tiled; returns HxWxC in [0, 255]."""
        low, high = self.value_range
        x = (low + (high - low) * planes.transpose(2, 0, 1) / 255.0).astype(np.float32)
        tile = self.tile_size if tile_size is None else tile_size
        out = run_tiled(lambda batch: net([batch])[0], x, tile, self.halo, 1, batch_size)
        return (out.astype(np.float64).transpose(1, 2, 0) - low) / (high - low) * 255.0

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        pixels, _ = read_image(path)
        image = self.noisy_input(pixels)
        if self.channels == 3 and image.shape[2] == 1:
            image = np.repeat(image, 3, axis=2)
        x = (image[:, :, :self.channels].transpose(2, 0, 1) / 255.0).astype(np.float32)
        low, high = self.value_range
        x = (low + (high - low) * x).astype(np.float32)
        return [self.one_tile(x)[None]]


def _psnr(squared_error_sum: float, count: int) -> float:
    """``metrics.image.psnr`` from a sum of squared errors over ``count`` values ([0, 255])."""
    return math.inf if squared_error_sum == 0 else 10.0 * math.log10(255.0**2 * count / squared_error_sum)
