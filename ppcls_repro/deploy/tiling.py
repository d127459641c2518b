"""Run a fully convolutional net on a large image in overlapping tiles, with bounded memory.

An output pixel of such a net depends only on input pixels within its receptive radius ``halo``.
Each tile's core (a ``tile`` x ``tile`` block of the input grid) is run with ``halo`` extra pixels
on every side, clipped at the image border, and only the core of the result is kept. Inside the
image the extra pixels make every kept pixel see exactly what it sees in a whole-image run; at the
image border the tile edge is the image edge, so the net's own padding (zero or replicate) is
the same too.
The tiled result therefore equals the whole-image result (up to float summation order).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

# A net on one input batch: NCHW float32 in, NC'H'W' out.
BatchNet = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Tile:
    core: tuple[int, int, int, int]  # y0, y1, x0, x1 of the kept block, input coordinates
    region: tuple[int, int, int, int]  # the same block grown by the halo, clipped to the image

    @property
    def shape(self) -> tuple[int, int]:
        y0, y1, x0, x1 = self.region
        return y1 - y0, x1 - x0


def plan_tiles(height: int, width: int, tile: int, halo: int) -> list[Tile]:
    """Cores of at most ``tile`` x ``tile`` covering the image, each with its halo region."""
    if tile < 1 or halo < 0:
        raise ValueError(f"tile must be >= 1 and halo >= 0, got tile={tile}, halo={halo}")
    tiles = []
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
            region = (max(0, y0 - halo), min(height, y1 + halo), max(0, x0 - halo), min(width, x1 + halo))
            tiles.append(Tile(core=(y0, y1, x0, x1), region=region))
    return tiles


def run_tiled(net: BatchNet, image: np.ndarray, tile: int, halo: int, out_scale: int = 1,
              batch_size: int = 1) -> np.ndarray:
    """``net`` on a CHW image, tile by tile; the result is C'H'W' with H' = H * ``out_scale``.

    ``tile <= 0`` or an image no larger than one tile runs whole. Tiles of equal shape are
    batched ``batch_size`` at a time.
    """
    if image.ndim != 3:
        raise ValueError(f"expected a CHW image, got shape {image.shape}")
    _, height, width = image.shape
    if tile <= 0 or (height <= tile and width <= tile):
        return _check_scale(net(image[None])[0], image.shape, out_scale)
    tiles = plan_tiles(height, width, tile, halo)
    groups: dict[tuple[int, int], list[Tile]] = {}
    for item in tiles:
        groups.setdefault(item.shape, []).append(item)
    output: np.ndarray | None = None
    s = out_scale
    for group in groups.values():
        for start in range(0, len(group), max(1, batch_size)):
            chunk = group[start:start + max(1, batch_size)]
            batch = np.stack([image[:, t.region[0]:t.region[1], t.region[2]:t.region[3]] for t in chunk])
            result = net(batch)
            for t, out in zip(chunk, result):
                out = _check_scale(out, batch.shape[1:], s)
                if output is None:
                    output = np.empty((out.shape[0], height * s, width * s), dtype=out.dtype)
                (y0, y1, x0, x1), (ry, _, rx, _) = t.core, t.region
                output[:, y0 * s:y1 * s, x0 * s:x1 * s] = out[:, (y0 - ry) * s:(y1 - ry) * s,
                                                              (x0 - rx) * s:(x1 - rx) * s]
    assert output is not None
    return output


def _check_scale(out: np.ndarray, in_shape: tuple[int, ...], scale: int) -> np.ndarray:
    expected = (in_shape[-2] * scale, in_shape[-1] * scale)
    if out.ndim != 3 or tuple(out.shape[1:]) != expected:
        raise ValueError(f"the net turned an input of {in_shape[-2]}x{in_shape[-1]} into {tuple(out.shape)}; "
                         f"expected {expected[0]}x{expected[1]} (scale {scale}): the model does not fit "
                         "this pipeline")
    return out
