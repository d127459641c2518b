"""Files written whole or not at all, and file checksums.

``atomic_write`` is the one way this package writes a file that another run may read (checkpoints,
caches, downloads, sample images): the content goes to a temporary file beside the target, is
flushed to disk, and replaces the target in one rename. A run killed mid-write leaves the previous
file (or none) and no partial one; the temporary file is removed on any error.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1 << 16


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, fsync it and rename it onto
    ``path``. The caller writes the temporary path however it likes (open, h5py, PIL, np.save)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:  # the data must be on disk before the rename makes it visible
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:  # e.g. a full disk: name the file the user asked for, not the temporary one
        raise OSError(err.errno, f"cannot write: {err.strerror}", str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)  # gone after a successful rename; a partial file otherwise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """``path.write_bytes(data)``, atomically."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)


CHECKSUM_SUFFIX = ".sha256"


def checksum_path(path: Path) -> Path:
    """Where the sha256 of ``path`` is kept: ``<file>.sha256`` beside it, in ``sha256sum`` format, so
    ``sha256sum -c releases/srcnn_x3/srcnn_x3.pdparams.sha256`` checks it too (from its folder)."""
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def write_checksum(path: Path) -> Path:
    """Write the ``.sha256`` file of ``path`` and return its path."""
    path = Path(path)
    sidecar = checksum_path(path)
    write_bytes_atomic(sidecar, f"{sha256_file(path)}  {path.name}\n".encode())
    return sidecar


def recorded_checksum(path: Path) -> str | None:
    """The sha256 recorded beside ``path``, or None when there is no ``.sha256`` file.

    Raises ValueError when the ``.sha256`` file does not start with 64 hex digits."""
    sidecar = checksum_path(path)
    if not sidecar.is_file():
        return None
    fields = sidecar.read_text(encoding="utf-8", errors="replace").split()
    if not fields or len(fields[0]) != 64 or any(c not in "0123456789abcdef" for c in fields[0].lower()):
        raise ValueError(f"{sidecar}: not a sha256 line (64 hex digits, then the file name)")
    return fields[0].lower()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()
