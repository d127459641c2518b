"""The SR datasets' manifests (T91, Set5): where their files come from, and how to regenerate them.

Every file is pinned by URL at a fixed commit of the upstream repository, size and sha256
(``ppcls_repro/data/manifests/<name>.json``). Regenerate from a folder holding ``T91/`` and ``Set5/``::

    python -m ppcls_repro.papers.sr.manifests /path/to/data
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ppcls_repro.data.download import write_manifest

UPSTREAM_REPO = "tegg89/SRCNN-Tensorflow"
UPSTREAM_COMMIT = "78be1a24697935fc39a3a8cf59a6632264afade7"
UPSTREAM_RAW = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/"
DEFAULT_LICENSE = (
    "Images belong to their authors (T91: Yang et al. 2010; Set5: Bevilacqua et al. 2012); "
    "redistributed in tegg89/SRCNN-Tensorflow (MIT licence for that repository). "
    "Use for research and tests."
)


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
                license_text=DEFAULT_LICENSE,
                sample_split=spec.sample_split,
                out=None if out_dir is None else Path(out_dir) / f"{stem}.json",
            )
        )
    return results


def main(argv: list[str]) -> int:
    """Command line: regenerate the shipped manifests from a shared data folder."""
    if len(argv) != 1:
        print("usage: python -m ppcls_repro.papers.sr.manifests SHARED_DATA_DIR", file=sys.stderr)
        return 2
    for manifest in write_shipped_manifests(Path(argv[0])):
        print(f"{manifest['name']}: {len(manifest['files'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
