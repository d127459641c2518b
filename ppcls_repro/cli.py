"""Shared command-line plumbing for ``tools/*.py``: ``-c``/``-o`` parsing and one-line errors."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from ppcls_repro.engine.checkpoint import CheckpointError
import ppcls_repro.plugins  # noqa: F401  (registers every buildable part for the tools)
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.errors import DataError

# Errors that come from the user's input: shown as one line, no traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ConfigError, DataError, CheckpointError, FileNotFoundError)


def config_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-c", "--config", required=True, help="YAML config, e.g. configs/srcnn.yaml")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. -o Global.epochs=10 (repeatable)")
    return parser


def run(main: Callable[[], object]) -> None:
    """Call ``main``; user errors and a diverged training exit with one line on stderr."""
    from ppcls_repro.engine.trainer import TrainingDiverged, TrainingInterrupted

    try:
        main()
    except USER_ERRORS as err:
        sys.exit(f"error: {err}")
    except TrainingDiverged as err:
        sys.exit(f"error: training diverged: {err}")
    except TrainingInterrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        sys.exit(128 + err.signal_number)  # the shell's convention for a run ended by a signal
    except KeyboardInterrupt:
        sys.exit("interrupted")
    except OSError as err:  # a full disk, a read-only or missing folder: the file and the reason
        if err.filename is None:
            raise
        sys.exit(f"error: {err.filename}: {err.strerror}")
