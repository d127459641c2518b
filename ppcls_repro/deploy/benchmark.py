"""Latency measurement: warm-up, then repeated runs, interleaved across the things compared.

Interleaving (A, B, C, A, B, C, ...) spreads the noise of a shared machine evenly over all of
them, so their ratio is meaningful even when the absolute numbers move.
"""
from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any, Callable

import numpy as np


@dataclasses.dataclass
class Timing:
    name: str
    seconds: list[float]
    items_per_run: int = 1  # images (or batch items) one run processes

    @property
    def median_ms(self) -> float:
        return 1000.0 * statistics.median(self.seconds)

    @property
    def throughput(self) -> float:
        """Items per second at the median latency."""
        return self.items_per_run / statistics.median(self.seconds)

    def line(self) -> str:
        low, high = 1000.0 * min(self.seconds), 1000.0 * max(self.seconds)
        return (f"{self.name}: median {self.median_ms:.1f} ms (min {low:.1f}, max {high:.1f}, "
                f"{len(self.seconds)} runs), {self.throughput:.2f} items/s")


def time_interleaved(runners: dict[str, Callable[[], Any]], warmup: int = 1, repeats: int = 5,
                     items_per_run: int = 1) -> dict[str, Timing]:
    """Run each callable ``warmup`` times untimed, then ``repeats`` rounds of one timed call each."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}")
    for run in runners.values():
        for _ in range(warmup):
            run()
    timings = {name: Timing(name, [], items_per_run) for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            tic = time.perf_counter()
            run()
            timings[name].seconds.append(time.perf_counter() - tic)
    return timings


def photograph(size: int) -> np.ndarray:
    """A real photograph (scikit-image's astronaut, 512x512 RGB uint8) cropped to its central size x size."""
    import skimage.data

    image = skimage.data.astronaut()
    if not 0 < size <= min(image.shape[:2]):
        raise ValueError(f"image size {size}: the test photograph is {image.shape[1]}x{image.shape[0]}")
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]
