"""Every released weight file carries its sha256, and the file matches it (loading checks it too)."""
from pathlib import Path

import pytest

from ppcls_repro.utils.files import recorded_checksum, sha256_file

RELEASES = Path(__file__).resolve().parents[1] / "releases"
# Resume checkpoints change every session and are not releases.
WEIGHTS = sorted(p for p in RELEASES.rglob("*.pdparams") if "resume" not in p.parts)


def test_releases_hold_weights():
    assert len(WEIGHTS) >= 10


@pytest.mark.parametrize("path", WEIGHTS, ids=lambda p: str(p.relative_to(RELEASES)))
def test_release_weights_match_their_sha256(path):
    recorded = recorded_checksum(path)
    assert recorded is not None, f"{path} has no .sha256: run python tools/checksum.py {path}"
    assert recorded == sha256_file(path)
