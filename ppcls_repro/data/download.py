"""Dataset fetching pinned by sha256 manifests, with an offline sample fallback.

A manifest (``manifests/<name>.json`` beside this module) lists every file of a dataset
with its URL at a fixed upstream commit, its size and its sha256. ``ensure_dataset`` checks a
local folder against it, downloads what is missing or corrupt, and, when the data cannot be
obtained, either fails with instructions (``strict=True``) or falls back to a small folder of
real photographs shipped with scikit-image, announced with a loud warning banner so a sample
run is never mistaken for a reproduction of the paper.

Regenerate the shipped manifests from a folder holding ``T91/`` and ``Set5/``::

    python -m ppcls_repro.data.download /path/to/shared/data
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ppcls_repro.data.errors import DataError
from ppcls_repro.data.sample import sample_images

LOGGER = logging.getLogger("ppcls_repro")
MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
CHUNK_BYTES = 1 << 16

UPSTREAM_REPO = "tegg89/SRCNN-Tensorflow"
UPSTREAM_COMMIT = "78be1a24697935fc39a3a8cf59a6632264afade7"
UPSTREAM_RAW = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/"
DEFAULT_LICENSE = (
    "Images belong to their authors (T91: Yang et al. 2010; Set5: Bevilacqua et al. 2012); "
    "redistributed in tegg89/SRCNN-Tensorflow (MIT licence for that repository). "
    "Use for research and tests."
)


class DatasetUnavailable(DataError):
    """The dataset could not be obtained (network failure, or offline in strict mode)."""


@dataclass(frozen=True)
class ManifestFile:
    """One file of a dataset: where it goes, where it comes from, and what it must hash to."""

    path: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """A pinned dataset: name, provenance, and the exact files it consists of."""

    name: str
    source: str
    license: str
    sample_split: str
    files: tuple[ManifestFile, ...]


@dataclass(frozen=True)
class DataSource:
    """Where a run's data comes from; ``kind`` tells a real dataset from the sample fallback."""

    kind: str  # "real" | "sample"
    path: Path
    name: str
    note: str


@dataclass(frozen=True)
class _ShippedSpec:
    """How one shipped manifest is generated from a local copy of the data."""

    name: str
    upstream_dir: str
    sample_split: str


# The manifests this package ships: key = manifest file stem; name = folder name of the data.
SHIPPED: dict[str, _ShippedSpec] = {
    "t91": _ShippedSpec(name="T91", upstream_dir="Train/", sample_split="train"),
    "set5": _ShippedSpec(name="Set5", upstream_dir="Test/Set5/", sample_split="eval"),
}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_relative(rel: str, where: Path) -> str:
    """Refuse manifest paths that could write outside the dataset folder."""
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or ".." in pure.parts or "\\" in rel:
        raise DataError(f"{where}: unsafe file path {rel!r} in manifest")
    return rel


def _parse_file(raw: object, where: Path) -> ManifestFile:
    """One ``files`` entry of a manifest JSON, with types checked."""
    if not isinstance(raw, dict):
        raise DataError(f"{where}: every entry of 'files' must be an object, got {raw!r}")
    try:
        path, url, sha, size = raw["path"], raw["url"], raw["sha256"], raw["size"]
    except KeyError as exc:
        raise DataError(f"{where}: file entry {raw!r} lacks key {exc.args[0]!r}") from None
    if not (isinstance(path, str) and isinstance(url, str) and isinstance(sha, str)):
        raise DataError(f"{where}: path, url and sha256 must be strings in {raw!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise DataError(f"{where}: size must be a non-negative integer in {raw!r}")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise DataError(f"{where}: sha256 {sha!r} of {path!r} is not 64 lowercase hex digits")
    return ManifestFile(path=_check_relative(path, where), url=url, sha256=sha, size=size)


def read_manifest(path: Path) -> Manifest:
    """Parse a manifest JSON file; any malformed content is a DataError naming the file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read manifest ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise DataError(f"{path}: manifest must be a JSON object")
    missing = [k for k in ("name", "source", "license", "sample_split", "files") if k not in raw]
    if missing:
        raise DataError(f"{path}: manifest lacks key(s) {', '.join(missing)}")
    if not isinstance(raw["files"], list) or not raw["files"]:
        raise DataError(f"{path}: 'files' must be a non-empty list")
    files = tuple(_parse_file(entry, path) for entry in raw["files"])
    return Manifest(
        name=str(raw["name"]),
        source=str(raw["source"]),
        license=str(raw["license"]),
        sample_split=str(raw["sample_split"]),
        files=files,
    )


def load_manifest(name: str) -> Manifest:
    """Load a manifest shipped with the package, by name (case-insensitive: 't91', 'Set5')."""
    path = MANIFEST_DIR / f"{name.lower()}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in MANIFEST_DIR.glob("*.json")))
        raise DataError(f"{path}: no manifest named {name!r} (known: {known})")
    return read_manifest(path)


def write_manifest(
    folder: Path,
    url_prefix: str,
    name: str,
    source: str,
    *,
    license_text: str = DEFAULT_LICENSE,
    sample_split: str = "train",
    out: Path | None = None,
) -> dict:
    """Hash every file under ``folder`` into a manifest dict and write it as JSON.

    Written to ``out`` or, by default, to the package's ``manifests/<name lower>.json``.
    Files are listed sorted by relative path so regenerating gives identical bytes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a directory, cannot build manifest {name}")
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    if not paths:
        raise DataError(f"{folder}: no files to put in manifest {name}")
    files = []
    for path in paths:
        rel = path.relative_to(folder).as_posix()
        files.append(
            {
                "path": rel,
                "url": url_prefix + urllib.parse.quote(rel),
                "sha256": sha256_file(path),
                "size": path.stat().st_size,
            }
        )
    manifest = {
        "name": name,
        "source": source,
        "license": license_text,
        "sample_split": sample_split,
        "files": files,
    }
    target = Path(out) if out is not None else MANIFEST_DIR / f"{name.lower()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def write_shipped_manifests(shared_data: Path, out_dir: Path | None = None) -> list[dict]:
    """Regenerate every shipped manifest from ``shared_data/<T91|Set5>``."""
    results = []
    for stem, spec in SHIPPED.items():
        results.append(
            write_manifest(
                Path(shared_data) / spec.name,
                UPSTREAM_RAW + spec.upstream_dir,
                spec.name,
                f"{UPSTREAM_REPO}@{UPSTREAM_COMMIT}, {spec.upstream_dir}",
                sample_split=spec.sample_split,
                out=None if out_dir is None else Path(out_dir) / f"{stem}.json",
            )
        )
    return results


def verify_folder(folder: Path, manifest: Manifest) -> list[str]:
    """Relative paths of manifest files that are missing, of the wrong size, or mis-hashed."""
    folder = Path(folder)
    bad = []
    for entry in manifest.files:
        target = folder / entry.path
        if not target.is_file() or target.stat().st_size != entry.size:
            bad.append(entry.path)
        elif sha256_file(target) != entry.sha256:
            bad.append(entry.path)
    return bad


def _file_url(entry: ManifestFile, base_url: str | None) -> str:
    """The manifest URL, or the same relative path under ``base_url`` (mirrors, tests)."""
    if base_url is None:
        return entry.url
    return base_url.rstrip("/") + "/" + urllib.parse.quote(entry.path)


def _unavailable(url: str, exc: BaseException) -> DatasetUnavailable:
    """A one-line DatasetUnavailable naming the URL and the network-level reason."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = str(reason) or type(exc).__name__
    return DatasetUnavailable(f"cannot download {url}: {text}")


def _read_chunk(response: http.client.HTTPResponse, url: str) -> bytes:
    """Read one chunk; a dropped connection or timeout becomes DatasetUnavailable."""
    try:
        return response.read(CHUNK_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        raise _unavailable(url, exc) from exc


def _copy_checked(
    response: http.client.HTTPResponse, handle: BinaryIO, entry: ManifestFile, url: str
) -> str:
    """Stream the body into ``handle``; check its size; return its sha256."""
    digest = hashlib.sha256()
    size = 0
    while chunk := _read_chunk(response, url):
        size += len(chunk)
        # Stop early rather than fill the disk when a server sends something else entirely.
        if size > entry.size:
            raise DataError(f"{entry.path}: {url} sent more than the expected {entry.size} bytes")
        digest.update(chunk)
        handle.write(chunk)
    # read(amt) returns b"" on a dropped connection; bytes still owed per Content-Length
    # (response.length) tell an interrupted transfer from a server sending a shorter file.
    if size < entry.size and response.length:
        raise DatasetUnavailable(f"cannot download {url}: connection closed after {size} bytes")
    if size != entry.size:
        raise DataError(f"{entry.path}: {url} sent {size} bytes, expected {entry.size}")
    return digest.hexdigest()


def _download_file(url: str, dest: Path, entry: ManifestFile, timeout: float) -> None:
    """Download to a temp file beside ``dest``, verify, then atomically move it in place."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _unavailable(url, exc) from exc
    with response:
        # Create the folder only once the server answered, so an offline attempt leaves no trace.
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                actual = _copy_checked(response, handle, entry, url)
            if actual != entry.sha256:
                raise DataError(
                    f"{entry.path}: checksum mismatch for {url}: "
                    f"expected sha256 {entry.sha256}, got {actual}"
                )
            os.replace(tmp, dest)
        finally:
            # After a successful os.replace the temp name is gone; otherwise drop the partial file.
            tmp.unlink(missing_ok=True)


def fetch_dataset(
    folder: Path, manifest: Manifest, timeout: float = 20.0, base_url: str | None = None
) -> None:
    """Download every missing or corrupt manifest file into ``folder``.

    Raises DataError on a size or checksum mismatch and DatasetUnavailable when the network
    fails; in both cases no partial file is left at the final path.
    """
    folder = Path(folder)
    by_path = {entry.path: entry for entry in manifest.files}
    for rel in verify_folder(folder, manifest):
        entry = by_path[rel]
        _download_file(_file_url(entry, base_url), folder / entry.path, entry, timeout)


def _url_hint(manifest: Manifest, base_url: str | None) -> str:
    """Where the files can be downloaded from, for the error message (common URL prefix)."""
    first = manifest.files[0]
    url = _file_url(first, base_url)
    quoted = urllib.parse.quote(first.path)
    return url[: -len(quoted)] if url.endswith(quoted) else url


def _missing_summary(bad: list[str], total: int) -> str:
    """'3 of 91 files missing or corrupt (a.bmp, b.bmp, ...)' kept to one short line."""
    shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
    return f"{len(bad)} of {total} files missing or corrupt ({shown})"


def _sample_source(manifest: Manifest, folder: Path, bad: list[str], reason: str) -> DataSource:
    """Materialize the sample images and announce loudly that they are not the real data."""
    path = sample_images(manifest.sample_split)
    count = sum(1 for p in path.iterdir() if p.suffix == ".png")
    rule = "#" * 78
    LOGGER.warning(
        "\n%s\n# SAMPLE DATA IN USE instead of %s: the real dataset is not available.\n"
        "# folder: %s (%s)\n# reason: %s\n"
        "# Using %d scikit-image photographs from %s (%s split).\n"
        "# Results are NOT the paper's and NOT comparable to published numbers.\n"
        "# Put the real %s files in the folder (or pass strict=True to fail instead).\n%s",
        rule, manifest.name, folder, _missing_summary(bad, len(manifest.files)), reason,
        count, path, manifest.sample_split, manifest.name, rule,
    )
    note = f"SAMPLE stand-in for {manifest.name} ({count} skimage photos); not the paper's data"
    return DataSource(kind="sample", path=path, name=manifest.name, note=note)


def ensure_manifest(
    folder: str | Path,
    manifest: Manifest,
    strict: bool,
    download: bool = True,
    *,
    base_url: str | None = None,
    timeout: float = 20.0,
) -> DataSource:
    """``ensure_dataset`` for an already loaded manifest (e.g. one not shipped with the package)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: expected a directory for {manifest.name}, found a file")
    bad = verify_folder(folder, manifest)
    total = len(manifest.files)
    if not bad:
        note = f"{manifest.name}: all {total} files verified against sha256 manifest"
        return DataSource(kind="real", path=folder, name=manifest.name, note=note)
    reason = "download disabled"
    if download:
        try:
            fetch_dataset(folder, manifest, timeout=timeout, base_url=base_url)
        except DatasetUnavailable as exc:
            reason = str(exc)
        else:
            note = f"{manifest.name}: downloaded {len(bad)} of {total} files, all verified"
            return DataSource(kind="real", path=folder, name=manifest.name, note=note)
    if strict:
        raise DatasetUnavailable(
            f"{manifest.name} not available in {folder}: {_missing_summary(bad, total)}; "
            f"{reason}. Copy or link the {manifest.name} files into {folder}, "
            f"or download them from {_url_hint(manifest, base_url)} ({manifest.source})"
        )
    return _sample_source(manifest, folder, bad, reason)


def ensure_dataset(
    folder: str | Path,
    manifest_name: str,
    strict: bool,
    download: bool = True,
    *,
    base_url: str | None = None,
    timeout: float = 20.0,
) -> DataSource:
    """Make sure ``folder`` holds the verified dataset, downloading it if allowed.

    Returns kind "real" when the folder verifies (possibly after a download). When the data
    cannot be obtained: strict → DatasetUnavailable with instructions; otherwise the sample
    fallback (kind "sample") announced by a warning banner on the ``ppcls_repro`` logger.
    """
    manifest = load_manifest(manifest_name)
    return ensure_manifest(
        folder, manifest, strict, download, base_url=base_url, timeout=timeout
    )


def main(argv: list[str]) -> int:
    """Command line: regenerate the shipped manifests from a shared data folder."""
    if len(argv) != 1:
        print("usage: python -m ppcls_repro.data.download SHARED_DATA_DIR", file=sys.stderr)
        return 2
    for manifest in write_shipped_manifests(Path(argv[0])):
        print(f"{manifest['name']}: {len(manifest['files'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
