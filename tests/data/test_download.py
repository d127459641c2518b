"""Tests for pinned dataset fetching and the offline sample fallback.

Downloads are exercised against a real HTTP server on 127.0.0.1 that each test starts, so no
test touches the internet; "offline" is a port that nothing listens on.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import shutil
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ppcls_repro.data import download
from ppcls_repro.data.download import (
    DatasetUnavailable,
    Manifest,
    ensure_dataset,
    ensure_manifest,
    fetch_dataset,
    load_manifest,
    manifest_from_checksums,
    read_manifest,
    verify_folder,
    write_manifest,
)
from ppcls_repro.data.sample import SPLITS, sample_images
from ppcls_repro.utils.errors import DataError

FILES = ("a.bmp", "b.png", "sub/c.png")


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    """Static file handler that keeps the test output clean."""

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Truncating(http.server.BaseHTTPRequestHandler):
    """Promises 1000 bytes, sends 100, then drops the connection (an interrupted download)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 100)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serve(handler: type[http.server.BaseHTTPRequestHandler] | functools.partial) -> Iterator[str]:
    """Run a ThreadingHTTPServer on an ephemeral localhost port; yield its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port_url() -> str:
    """A localhost URL where nothing listens, standing in for being offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _make_images(folder: Path) -> None:
    """Small random images in BMP and PNG, one of them in a subfolder."""
    rng = np.random.default_rng(0)
    for rel in FILES:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)


def _leftovers(folder: Path) -> list[Path]:
    """Temp and partial files a download might have left behind."""
    return [*folder.rglob("*.part"), *folder.rglob(".*.download")] if folder.exists() else []


class _FlakyRanges(http.server.SimpleHTTPRequestHandler):
    """Serves files with Range support; the first request of each file sends half of it and drops the
    connection, or fails with 503 ``failures`` times first. Records every request's Range header."""

    failures = 0
    seen: list[tuple[str, str | None]] = []
    dropped: set[str] = set()

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Range")))
        if sum(1 for p, _ in self.seen if p == self.path) <= self.failures:
            self.send_error(503)
            return
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if self.path not in self.dropped:  # the first transfer stops halfway
            self.dropped.add(self.path)
            self.wfile.write(data[start:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries back off with time.sleep: record the waits instead of sleeping."""
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    return waits


@pytest.fixture()
def served(tmp_path: Path) -> Path:
    """Folder of generated images that the local server publishes."""
    root = tmp_path / "served"
    _make_images(root)
    return root


@pytest.fixture()
def server_url(served: Path) -> Iterator[str]:
    with _serve(functools.partial(_QuietFiles, directory=str(served))) as url:
        yield url


@pytest.fixture()
def manifest(served: Path, server_url: str, tmp_path: Path) -> Manifest:
    """Manifest of the served folder, built with the same generator as the shipped ones."""
    out = tmp_path / "tiny.json"
    write_manifest(served, server_url, "Tiny", "local test server", license_text="test files", sample_split="eval", out=out)
    return read_manifest(out)


@pytest.fixture()
def sample_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the sample cache at a temp folder so tests never write to ~/.cache."""
    root = tmp_path_factory.getbasetemp() / "sample_cache"
    monkeypatch.setenv("PPCLS_REPRO_CACHE", str(root))
    return root


def _forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any download attempt fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network accessed although the folder was complete")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_manifest_lists_files_with_hashes(manifest: Manifest, server_url: str) -> None:
    assert [f.path for f in manifest.files] == sorted(FILES)
    assert manifest.files[0].url == server_url + manifest.files[0].path
    assert all(len(f.sha256) == 64 and f.size > 0 for f in manifest.files)


def test_fetch_into_empty_folder(manifest: Manifest, served: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    assert sorted(verify_folder(dest, manifest)) == sorted(FILES)
    fetch_dataset(dest, manifest, timeout=5.0)
    assert verify_folder(dest, manifest) == []
    for rel in FILES:
        assert (dest / rel).read_bytes() == (served / rel).read_bytes()
    assert _leftovers(dest) == []


def test_fetch_replaces_corrupt_local_file(manifest: Manifest, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    fetch_dataset(dest, manifest, timeout=5.0)
    original = (dest / "a.bmp").read_bytes()
    (dest / "a.bmp").write_bytes(bytes([original[0] ^ 1]) + original[1:])
    assert verify_folder(dest, manifest) == ["a.bmp"]
    fetch_dataset(dest, manifest, timeout=5.0)
    assert (dest / "a.bmp").read_bytes() == original


def test_corrupted_served_file_raises(manifest: Manifest, served: Path, tmp_path: Path) -> None:
    data = (served / "b.png").read_bytes()
    (served / "b.png").write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    dest = tmp_path / "dest"
    entry = next(f for f in manifest.files if f.path == "b.png")
    with pytest.raises(DataError, match="b.png") as info:
        fetch_dataset(dest, manifest, timeout=5.0)
    assert entry.sha256 in str(info.value)
    assert download.sha256_file(served / "b.png") in str(info.value)
    assert not (dest / "b.png").exists()
    assert _leftovers(dest) == []


def test_wrong_size_served_file_raises(manifest: Manifest, served: Path, tmp_path: Path) -> None:
    (served / "a.bmp").write_bytes((served / "a.bmp").read_bytes() + b"extra")
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match=r"a\.bmp.*more than"):
        fetch_dataset(dest, manifest, timeout=5.0)
    assert not (dest / "a.bmp").exists()
    assert _leftovers(dest) == []


def test_server_down_raises_unavailable(manifest: Manifest, tmp_path: Path) -> None:
    url = _closed_port_url()
    dest = tmp_path / "dest"
    with pytest.raises(DatasetUnavailable, match=url):
        fetch_dataset(dest, manifest, timeout=5.0, base_url=url)
    assert not dest.exists()


def test_interrupted_download_keeps_its_part_aside_and_nothing_at_the_final_path(
        manifest: Manifest, tmp_path: Path, no_waiting: list[float]) -> None:
    dest = tmp_path / "dest"
    with _serve(_Truncating) as url:
        with pytest.raises(DatasetUnavailable, match="connection closed after 100 bytes"):
            fetch_dataset(dest, manifest, timeout=5.0, base_url=url, retries=2, backoff=1.5)
    assert no_waiting == [1.5, 3.0]  # two retries, each waiting twice as long
    assert not (dest / "a.bmp").exists()
    assert download.partial_path(dest / "a.bmp").read_bytes() == b"x" * 100  # for the next attempt


def test_a_dropped_download_resumes_where_it_stopped(manifest: Manifest, served: Path, tmp_path: Path,
                                                     no_waiting: list[float]) -> None:
    handler = type("Handler", (_FlakyRanges,), {"seen": [], "dropped": set()})
    dest = tmp_path / "dest"
    with _serve(functools.partial(handler, directory=str(served))) as url:
        fetch_dataset(dest, manifest, timeout=5.0, base_url=url)
    assert verify_folder(dest, manifest) == [] and _leftovers(dest) == []
    for rel in FILES:  # each file: a whole request dropped halfway, then only the rest asked for
        size = (served / rel).stat().st_size
        assert [r for p, r in handler.seen if p == "/" + rel] == [None, f"bytes={size // 2}-"]
    assert len(no_waiting) == len(FILES)


def test_server_errors_are_retried_with_backoff(manifest: Manifest, served: Path, tmp_path: Path,
                                                no_waiting: list[float]) -> None:
    handler = type("Handler", (_FlakyRanges,), {"seen": [], "dropped": set(FILES) | {"/" + f for f in FILES},
                                                "failures": 2})
    dest = tmp_path / "dest"
    with _serve(functools.partial(handler, directory=str(served))) as url:
        fetch_dataset(dest, manifest, timeout=5.0, base_url=url, backoff=0.5)
    assert verify_folder(dest, manifest) == []
    assert no_waiting == [0.5, 1.0] * len(FILES)


def test_being_offline_is_not_retried(manifest: Manifest, tmp_path: Path, no_waiting: list[float]) -> None:
    with pytest.raises(DatasetUnavailable):
        fetch_dataset(tmp_path / "dest", manifest, timeout=5.0, base_url=_closed_port_url())
    assert no_waiting == []  # a refused connection will not answer a second later: fail (or fall back) now


def test_a_long_download_logs_its_progress(manifest: Manifest, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []
    logger = logging.getLogger("test_download.progress")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    monkeypatch.setattr("ppcls_repro.utils.progress.LOGGER", logger)
    monkeypatch.setattr("ppcls_repro.utils.progress.DEFAULT_INTERVAL", 0.0)  # a line per file
    fetch_dataset(tmp_path / "dest", manifest, timeout=5.0)
    logger.removeHandler(handler)
    assert [line.split(" (")[0] for line in lines] == [
        "downloading Tiny: 1/3 files", "downloading Tiny: 2/3 files", "downloading Tiny: 3/3 files",
        "downloading Tiny: 3 files in 0 s"]


def test_ensure_strict_offline_raises(manifest: Manifest, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(DatasetUnavailable) as info:
        ensure_manifest(dest, manifest, strict=True, base_url=_closed_port_url(), timeout=5.0)
    message = str(info.value)
    assert "\n" not in message
    assert str(dest) in message and "a.bmp" in message and "Copy or link" in message


def test_ensure_offline_falls_back_to_sample(
    manifest: Manifest, tmp_path: Path, sample_cache: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a run earlier in the session stops the package logger's propagation (its own handlers print)
    monkeypatch.setattr(logging.getLogger("ppcls_repro"), "propagate", True)
    with caplog.at_level(logging.WARNING, logger="ppcls_repro"):
        source = ensure_manifest(
            tmp_path / "dest", manifest, strict=False, base_url=_closed_port_url(), timeout=5.0
        )
    assert source.kind == "sample" and source.name == "Tiny"
    assert source.path == sample_cache / "sample" / "eval"
    assert len(list(source.path.glob("*.png"))) == len(SPLITS["eval"])
    banner = "\n".join(r.getMessage() for r in caplog.records if r.name == "ppcls_repro")
    assert "SAMPLE DATA IN USE" in banner and "NOT the paper's" in banner
    assert "-o Global.strict_data=true" in banner  # the spelling a user types


def test_a_relative_folder_names_the_working_directory_in_the_banner(
    manifest: Manifest, tmp_path: Path, sample_cache: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logging.getLogger("ppcls_repro"), "propagate", True)
    monkeypatch.chdir(tmp_path)  # a run started outside the repository root: dataset/ is not here
    with caplog.at_level(logging.WARNING, logger="ppcls_repro"):
        ensure_manifest(Path("dataset/Tiny"), manifest, strict=False, base_url=_closed_port_url(), timeout=5.0)
    banner = "\n".join(r.getMessage() for r in caplog.records if r.name == "ppcls_repro")
    assert f"# folder: dataset/Tiny, relative to the working directory {tmp_path} (" in banner


def test_ensure_without_download_uses_sample(
    manifest: Manifest, tmp_path: Path, sample_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_network(monkeypatch)
    source = ensure_manifest(tmp_path / "dest", manifest, strict=False, download=False)
    assert source.kind == "sample"


def test_ensure_downloads_then_real(manifest: Manifest, tmp_path: Path) -> None:
    source = ensure_manifest(tmp_path / "dest", manifest, strict=True, timeout=5.0)
    assert source.kind == "real" and source.path == tmp_path / "dest"
    assert "downloaded 3 of 3" in source.note


def test_ensure_complete_folder_needs_no_network(
    manifest: Manifest, served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "dest"
    shutil.copytree(served, dest)
    _forbid_network(monkeypatch)
    source = ensure_manifest(dest, manifest, strict=True)
    assert source.kind == "real" and source.name == "Tiny"


def test_sample_splits_are_disjoint_and_reused(sample_cache: Path) -> None:
    train, evaluation = sample_images("train"), sample_images("eval")
    train_names = {p.name for p in train.glob("*.png")}
    eval_names = {p.name for p in evaluation.glob("*.png")}
    assert len(train_names) == 6 and len(eval_names) == 3
    assert not train_names & eval_names
    for path in evaluation.glob("*.png"):
        with Image.open(path) as image:
            assert image.mode == "RGB" and min(image.size) >= 300
    stamps = {p: p.stat().st_mtime_ns for p in evaluation.glob("*.png")}
    sample_images("eval")
    assert stamps == {p: p.stat().st_mtime_ns for p in evaluation.glob("*.png")}
    with pytest.raises(DataError, match="unknown sample split"):
        sample_images("test")


def test_bad_manifest_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no manifest named"):
        load_manifest("nope")
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x"}')
    with pytest.raises(DataError, match="broken.json.*lacks"):
        read_manifest(broken)
    unsafe = tmp_path / "unsafe.json"
    entry = {"path": "../x.bmp", "url": "http://h/x", "sha256": "0" * 64, "size": 1}
    fields = {"name": "x", "source": "s", "license": "l", "sample_split": "eval"}
    unsafe.write_text(json.dumps({**fields, "files": [entry]}))
    with pytest.raises(DataError, match="unsafe file path"):
        read_manifest(unsafe)



def _checksum_manifest(served: Path, url: str, out: Path) -> Manifest:
    """A manifest of the served folder made from its ``sha256sum`` listing: no sizes."""
    listing = "\n".join(f"{download.sha256_file(served / rel)}  {rel}" for rel in FILES)
    manifest_from_checksums(listing, url, "Tiny", "local test server", license_text="test files", out=out)
    return read_manifest(out)


def test_checksum_manifest_downloads_and_checks_by_sha256_alone(
    served: Path, server_url: str, tmp_path: Path
) -> None:
    manifest = _checksum_manifest(served, server_url, tmp_path / "tiny.json")
    assert [f.path for f in manifest.files] == sorted(FILES) and all(f.size is None for f in manifest.files)
    source = ensure_manifest(tmp_path / "dest", manifest, strict=True, timeout=5.0)
    assert source.kind == "real" and verify_folder(tmp_path / "dest", manifest) == []
    # a file of another size is still caught, by its checksum
    (tmp_path / "dest" / "a.bmp").write_bytes(b"not the image")
    assert verify_folder(tmp_path / "dest", manifest) == ["a.bmp"]
    data = (served / "b.png").read_bytes()
    (served / "b.png").write_bytes(data + b"tail")
    (tmp_path / "dest" / "b.png").unlink()
    with pytest.raises(DataError, match="b.png: checksum mismatch"):
        fetch_dataset(tmp_path / "dest", manifest, timeout=5.0)
    assert not (tmp_path / "dest" / "b.png").exists() and _leftovers(tmp_path / "dest") == []


def test_unsized_download_stops_at_the_limit(
    served: Path, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _checksum_manifest(served, server_url, tmp_path / "tiny.json")
    monkeypatch.setattr(download, "MAX_UNSIZED_BYTES", 100)
    with pytest.raises(DataError, match="more than the limit for a file of unknown size"):
        fetch_dataset(tmp_path / "dest", manifest, timeout=5.0)
    assert _leftovers(tmp_path / "dest") == []


def test_bad_checksum_listing_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="line 2: expected '<sha256>  <path>'"):
        manifest_from_checksums("0" * 64 + "  a.png\nnot a line", "http://h/", "X", "s", license_text="l",
                                out=tmp_path / "x.json")
    with pytest.raises(DataError, match="is not 64 lowercase hex digits"):
        manifest_from_checksums("abc  a.png", "http://h/", "X", "s", license_text="l", out=tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("name, count, first", [("set14", 14, "baboon.bmp"), ("bsd68", 68, "test001.png")])
def test_shipped_checksum_manifests_pin_the_dncnn_test_sets(name: str, count: int, first: str) -> None:
    manifest = load_manifest(name)
    pinned = "https://raw.githubusercontent.com/cszn/DnCNN/e93b27812d3ff523a3a79d19e5e50d233d7a8d0a/testsets/"
    assert len(manifest.files) == count and manifest.files[0].path == first
    assert all(f.url == f"{pinned}{manifest.name}/{f.path}" for f in manifest.files)
    assert len({f.sha256 for f in manifest.files}) == count
    assert manifest.sample_split == "eval"


def test_ensure_dataset_on_shared_set5(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "Set5"
    shutil.copytree(shared_data / "Set5", dest)
    (dest / "bird_GT.bmp").unlink()
    with pytest.raises(DatasetUnavailable, match="bird_GT.bmp"):
        ensure_dataset(dest, "set5", strict=True, base_url=_closed_port_url(), timeout=5.0)
    shutil.copy2(shared_data / "Set5" / "bird_GT.bmp", dest / "bird_GT.bmp")
    _forbid_network(monkeypatch)
    source = ensure_dataset(dest, "Set5", strict=True)
    assert source.kind == "real" and source.name == "Set5"


def test_a_folder_of_other_files_is_refused_not_replaced_by_the_sample(
    manifest: Manifest, tmp_path: Path, sample_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trap of pointing ``root`` at one's own images with the config's manifest kept."""
    mine = tmp_path / "mine"
    mine.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(mine / "own.png")
    (mine / ".DS_Store").write_bytes(b"")
    _forbid_network(monkeypatch)
    for strict in (False, True):
        with pytest.raises(DataError, match=r"mine: holds none of the 3 Tiny files but 1 others, so it is not "
                                            r"Tiny; .*manifest=null.*--set NAME="):
            ensure_manifest(mine, manifest, strict=strict)
    assert sorted(p.name for p in mine.iterdir()) == [".DS_Store", "own.png"]  # nothing downloaded into it
    (tmp_path / "partial").mkdir()  # a folder with some of the files (corrupt here) is the dataset, unfinished
    shutil.copy2(mine / "own.png", tmp_path / "partial" / "a.bmp")
    assert ensure_manifest(tmp_path / "partial", manifest, strict=False, download=False).kind == "sample"


def test_shipped_set14_manifest_downloads_through_a_mirror_and_checks_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real Set14 manifest against a local mirror serving wrong bytes under its names: each download
    is checked by sha256 alone and refused, naming the file; nothing is left behind."""
    served = tmp_path / "mirror"
    served.mkdir()
    manifest = load_manifest("set14")
    for entry in manifest.files:
        (served / entry.path).write_bytes(b"BM not the image " + entry.path.encode())
    with _serve(functools.partial(_QuietFiles, directory=str(served))) as url:
        with pytest.raises(DataError, match=r"^baboon.bmp: checksum mismatch for .*/baboon.bmp: expected sha256 8650f4"):
            fetch_dataset(tmp_path / "Set14", manifest, timeout=5.0, base_url=url)
        with pytest.raises(DataError, match="checksum mismatch"):  # wrong bytes are an error, never the sample
            ensure_manifest(tmp_path / "Set14b", manifest, strict=False, base_url=url, timeout=5.0)
    assert _leftovers(tmp_path / "Set14") == [] and not (tmp_path / "Set14" / "baboon.bmp").exists()
