"""Imports every module that registers a buildable part (explicitly: no directory scans)."""
from ppcls_repro import losses  # noqa: F401
from ppcls_repro.data import sr_datasets  # noqa: F401
from ppcls_repro.engine import evaluate, optim, steps  # noqa: F401
from ppcls_repro.models import srcnn  # noqa: F401
