"""Record or check the sha256 of release files: ``python tools/checksum.py releases/*/*.pdparams``.

Writes ``<file>.sha256`` beside each file (``sha256sum`` format); loading a weight file checks it
whenever it is present. ``--check`` verifies instead of writing and exits non-zero on a mismatch.
"""
import argparse
import sys
from pathlib import Path

from ppcls_repro.cli import run
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.files import recorded_checksum, sha256_file, write_checksum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="files to record (or check)")
    parser.add_argument("--check", action="store_true", help="verify the recorded sha256 instead of writing it")
    args = parser.parse_args()
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        raise ConfigError(f"not a file: {', '.join(missing)}")
    if not args.check:
        for path in args.files:
            print(f"wrote {write_checksum(path)}")
        return
    failed = [path for path in args.files if recorded_checksum(path) != sha256_file(path)]
    for path in args.files:
        print(f"{'FAILED' if path in failed else 'OK'}: {path}")
    if failed:
        sys.exit(f"error: {len(failed)} of {len(args.files)} files do not match their .sha256 (or have none)")


if __name__ == "__main__":
    run(main)
