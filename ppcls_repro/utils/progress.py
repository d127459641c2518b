"""Progress lines for long steps (downloads, cache building, evaluation, tiled inference).

A step that ends within ``interval`` seconds prints nothing; a longer one logs ``label: done/total
(rate, eta)`` every ``interval`` seconds and a last line with its wall time. Lines go through the
``ppcls_repro`` logger, so they reach ``train.log`` as well as the console (a redrawn terminal bar
would fill a log file with carriage returns), and a long step is never silent.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

LOGGER = logging.getLogger("ppcls_repro")
DEFAULT_INTERVAL = 10.0  # seconds between lines

T = TypeVar("T")


class Progress:
    """Counts units of work towards ``total`` (None: unknown) and logs as described above."""

    def __init__(self, label: str, total: int | None, unit: str = "items", *, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic, logger: logging.Logger | None = None) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.interval = DEFAULT_INTERVAL if interval is None else interval
        self.clock, self.logger = clock, logger or LOGGER
        self.done = 0
        self.start = self.last_line = clock()
        self.lines = 0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.last_line >= self.interval:
            self.last_line = now
            self.lines += 1
            self.logger.info("%s: %s", self.label, self._status(now))

    def close(self) -> None:
        """The last line, only when the step was long enough to have logged progress."""
        if self.lines:
            self.logger.info("%s: %d %s in %.0f s", self.label, self.done, self.unit, self.clock() - self.start)

    def _status(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        text = f"{count} {self.unit} ({rate:.3g}/s"
        if self.total and rate > 0:
            text += f", eta {(self.total - self.done) / rate:.0f} s"
        return text + ")"


def track(items: Iterable[T], label: str, total: int | None = None, unit: str = "items", **kwargs) -> Iterator[T]:
    """``items``, one ``Progress.update`` per item (total from ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    progress = Progress(label, total, unit, **kwargs)
    try:
        for item in items:
            yield item
            progress.update()
    finally:
        progress.close()
