"""Run logging: console and ``train.log`` through ``logging``, scalars and images to VisualDL."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

LOGGER_NAME = "ppcls_repro"


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def setup_logging(log_file: Path | None = None) -> logging.Logger:
    """Console output plus, when given, a log file (appended to, so a resumed run keeps its history)."""
    logger = get_logger()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
    fmt = logging.Formatter("[%(asctime)s] %(levelname)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="a"))
    for handler in handlers:
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    return logger


def metric_charts(metrics: dict[str, float], paper: dict[str, float]) -> dict[str, dict[str, float]]:
    """One chart per metric, its lines: the model's value, every baseline measured beside it (a key
    ``<baseline>_<metric>``: ``bicubic_psnr`` on the ``psnr`` chart, as ``bicubic``) and the paper's
    number. Non-finite values are left out (VisualDL cannot draw them), and a chart left empty."""
    charts = {}
    for name, value in metrics.items():
        if any(name.endswith(f"_{other}") for other in metrics if other != name):
            continue  # a baseline: a line of its metric's chart
        lines = {"model": value, **{key[: -len(name) - 1]: v for key, v in metrics.items() if key.endswith(f"_{name}")}}
        if name in paper:
            lines["paper"] = paper[name]
        finite = {k: float(v) for k, v in lines.items() if isinstance(v, (int, float)) and np.isfinite(v)}
        if finite:
            charts[name] = finite
    return charts


class VisualDLWriter:
    """Scalars and images for ``visualdl --logdir <output_dir>/vdl``; a no-op when disabled.
    ``paper``: the paper's numbers (``Paper.metrics``), drawn on the charts of their metrics."""

    def __init__(self, logdir: Path | None, paper: dict[str, float] | None = None) -> None:
        self._writer = None
        self.paper = dict(paper or {})
        if logdir is not None:
            from visualdl import LogWriter  # imported lazily: it is slow to import

            self._writer = LogWriter(logdir=str(logdir))

    def scalars(self, values: dict[str, float], step: int, prefix: str) -> None:
        if self._writer is None:
            return
        for name, value in values.items():
            if isinstance(value, (int, float)) and np.isfinite(value):
                self._writer.add_scalar(tag=f"{prefix}/{name}", value=float(value), step=step)

    def eval_charts(self, metrics: dict[str, float], step: int) -> None:
        """``metric_charts``: VisualDL draws each chart's lines together (as runs ``eval_<metric>_<line>``)."""
        if self._writer is None:
            return
        for name, lines in metric_charts(metrics, self.paper).items():
            self._writer.add_scalars(main_tag=f"eval/{name}", tag_scalar_dict=lines, step=step)

    def text(self, tag: str, text: str, step: int = 0) -> None:
        if self._writer is not None:
            self._writer.add_text(tag=tag, text_string=text, step=step)

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        """``image``: HWC (or HW) uint8."""
        if self._writer is None:
            return
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        self._writer.add_image(tag=tag, img=image, step=step, dataformats="HWC")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
