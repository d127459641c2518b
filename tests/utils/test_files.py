import errno
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from ppcls_repro.cli import run
from ppcls_repro.utils import files

REPO = Path(__file__).resolve().parents[2]


def test_checksum_file_is_sha256sum_format(tmp_path):
    path = tmp_path / "weights.pdparams"
    path.write_bytes(b"abc")
    sidecar = files.write_checksum(path)
    expected = hashlib.sha256(b"abc").hexdigest()
    assert sidecar.name == "weights.pdparams.sha256"
    assert sidecar.read_text() == f"{expected}  weights.pdparams\n"
    assert files.recorded_checksum(path) == expected
    assert files.recorded_checksum(tmp_path / "other.pdparams") is None


def test_a_full_disk_is_one_line_naming_the_target_and_leaves_no_partial_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "latest.pdckpt"
    target.write_bytes(b"previous")

    def full_disk(self, data):
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(SystemExit) as stop:
        run(lambda: files.write_bytes_atomic(target, b"new checkpoint bytes"))
    assert str(stop.value) == f"error: {target}: cannot write: No space left on device"
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pdckpt"]


def test_checksum_tool_writes_then_checks_and_fails_on_a_changed_file(tmp_path):
    path = tmp_path / "w.pdparams"
    path.write_bytes(b"weights")
    tool = [sys.executable, str(REPO / "tools" / "checksum.py")]
    assert subprocess.run(tool + [str(path)], capture_output=True, cwd=REPO).returncode == 0
    assert subprocess.run(tool + ["--check", str(path)], capture_output=True, cwd=REPO).returncode == 0
    path.write_bytes(b"weightz")
    result = subprocess.run(tool + ["--check", str(path)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1
    assert f"FAILED: {path}" in result.stdout
    assert result.stderr.strip() == "error: 1 of 1 files do not match their .sha256 (or have none)"
