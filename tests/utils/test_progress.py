"""Progress lines: silent for short steps, periodic with rate and eta for long ones, a last line."""
import logging

import pytest

from ppcls_repro.utils.progress import Progress, track


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Lines(logging.Handler):
    """The messages logged to a private logger (independent of how other tests set up ppcls_repro's)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.logger = logging.getLogger(f"test_progress.{id(self)}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_short_step_prints_nothing() -> None:
    clock, out = _Clock(), _Lines()
    progress = Progress("scoring Set5", 5, "images", interval=10, clock=clock, logger=out.logger)
    for _ in range(5):
        clock.now += 1.0
        progress.update()
    progress.close()
    assert out.lines == []


def test_a_long_step_logs_count_rate_and_eta_then_its_wall_time() -> None:
    clock, out = _Clock(), _Lines()
    progress = Progress("scoring Set12", 12, "images", interval=10, clock=clock, logger=out.logger)
    for _ in range(12):
        clock.now += 4.0  # 4 s an image: a line at 12 s (3 done), 24 s (6), 36 s (9), 48 s (12)
        progress.update()
    progress.close()
    assert out.lines == [
        "scoring Set12: 3/12 images (0.25/s, eta 36 s)",
        "scoring Set12: 6/12 images (0.25/s, eta 24 s)",
        "scoring Set12: 9/12 images (0.25/s, eta 12 s)",
        "scoring Set12: 12/12 images (0.25/s, eta 0 s)",
        "scoring Set12: 12 images in 48 s",
    ]


def test_track_takes_the_total_from_the_items_and_closes_on_error() -> None:
    clock, out = _Clock(), _Lines()

    def slow(items):
        for item in track(items, "cutting patches", unit="files", interval=1, clock=clock, logger=out.logger):
            clock.now += 2.0
            if item == 2:
                raise RuntimeError("bad file")
            yield item

    with pytest.raises(RuntimeError):
        list(slow([0, 1, 2, 3]))
    assert out.lines == ["cutting patches: 1/4 files (0.5/s, eta 6 s)",
                                 "cutting patches: 2/4 files (0.5/s, eta 4 s)",
                                 "cutting patches: 2 files in 6 s"]


def test_an_unknown_total_gives_count_and_rate_only() -> None:
    clock, out = _Clock(), _Lines()
    progress = Progress("reading", None, "batches", interval=5, clock=clock, logger=out.logger)
    clock.now = 5.0
    progress.update(10)
    assert out.lines == ["reading: 10 batches (2/s)"]
