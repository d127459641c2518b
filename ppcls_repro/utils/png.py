"""A PNG written row by row, so an image far larger than memory can be produced piece by piece.

PIL needs the whole image in memory to save it; this writer takes horizontal bands of uint8 rows
(8-bit gray, gray + alpha, RGB or RGBA), deflates them as they come and writes the file atomically
when it is closed (nothing is left behind if the run stops first). The result is a plain PNG
(filter type 0 on every row) that any reader decodes to exactly the rows written.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from types import TracebackType

import numpy as np

from ppcls_repro.utils.files import atomic_write

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)
IDAT_BYTES = 1 << 20  # compressed bytes per IDAT chunk


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


class PngRowWriter:
    """``with PngRowWriter(path, width, height, channels) as png: png.write(rows)`` for each band of
    rows, top to bottom (each band HxW or HxWxC uint8); exactly ``height`` rows must be written."""

    def __init__(self, path: Path, width: int, height: int, channels: int) -> None:
        if channels not in COLOR_TYPES or width < 1 or height < 1:
            raise ValueError(f"PNG {path}: bad size {width}x{height}x{channels}")
        self.path, self.width, self.height, self.channels = Path(path), width, height, channels
        self.rows_written = 0
        self._compressor = zlib.compressobj(6)
        self._pending = b""
        self._atomic = atomic_write(self.path)

    def __enter__(self) -> "PngRowWriter":
        self._handle = open(self._atomic.__enter__(), "wb")
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, COLOR_TYPES[self.channels], 0, 0, 0)
        self._handle.write(SIGNATURE + _chunk(b"IHDR", header))
        return self

    def write(self, rows: np.ndarray) -> None:
        rows = rows.reshape(rows.shape[0], self.width, -1) if rows.ndim == 2 else rows
        if rows.dtype != np.uint8 or rows.shape[1:] != (self.width, self.channels):
            raise ValueError(f"PNG {self.path}: rows of shape {rows.shape} ({rows.dtype}) do not fit "
                             f"{self.width}x{self.channels} uint8")
        if self.rows_written + rows.shape[0] > self.height:
            raise ValueError(f"PNG {self.path}: more than {self.height} rows written")
        raw = np.concatenate([np.zeros((rows.shape[0], 1), np.uint8), rows.reshape(rows.shape[0], -1)], axis=1)
        self._emit(self._compressor.compress(raw.tobytes()))
        self.rows_written += rows.shape[0]

    def _emit(self, data: bytes, final: bool = False) -> None:
        self._pending += data
        while len(self._pending) >= IDAT_BYTES or (final and self._pending):
            self._handle.write(_chunk(b"IDAT", self._pending[:IDAT_BYTES]))
            self._pending = self._pending[IDAT_BYTES:]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if error is None:
                if self.rows_written != self.height:
                    raise ValueError(f"PNG {self.path}: {self.rows_written} of {self.height} rows written")
                self._emit(self._compressor.flush(), final=True)
                self._handle.write(_chunk(b"IEND", b""))
        except BaseException as failure:
            self._handle.close()
            self._atomic.__exit__(type(failure), failure, failure.__traceback__)
            raise
        self._handle.close()
        self._atomic.__exit__(kind, error, trace)
