"""The SR manifests shipped with the package are exactly what regenerating them from the real data gives."""
from pathlib import Path

from ppcls_repro.data.download import load_manifest, read_manifest
from ppcls_repro.papers.sr.manifests import SHIPPED, write_shipped_manifests


def test_shipped_manifests_match_shared_data(shared_data: Path, tmp_path: Path) -> None:
    write_shipped_manifests(shared_data, out_dir=tmp_path)
    for stem, spec in SHIPPED.items():
        shipped = load_manifest(stem)
        assert read_manifest(tmp_path / f"{stem}.json") == shipped
        assert spec.name == shipped.name
    # Cross-check against the independent checksum list that comes with the data.
    sums = {}
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split(maxsplit=1)
        sums[rel.removeprefix("./")] = digest
    for manifest in (load_manifest("t91"), load_manifest("set5")):
        for entry in manifest.files:
            assert sums[f"{manifest.name}/{entry.path}"] == entry.sha256
    assert len(load_manifest("t91").files) == 91 and len(load_manifest("set5").files) == 5
