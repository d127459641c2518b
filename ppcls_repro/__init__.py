"""ppcls_repro: faithful PaddlePaddle reproductions of classic deep-learning papers.

``ppcls_repro.load(config, weights)`` returns a predictor (``ppcls_repro/api.py``); importing the
package itself loads no Paddle.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppcls_repro.utils.cpu import fast_cpu_enabled, keep_freed_memory

if TYPE_CHECKING:
    from ppcls_repro.api import Predictor

# Paddle's bundled MKL picks a slow GEMM path on AMD CPUs unless told otherwise; measured here:
# 64 -> 170 GFLOP/s. It must be set before Paddle loads, so it lives in the package import.
os.environ.setdefault("MKL_DEBUG_CPU_TYPE", "5")
if fast_cpu_enabled():
    keep_freed_memory()
# Paddle warns about a missing ccache on every import; it concerns C++ extension builds only.
warnings.filterwarnings("ignore", message="No ccache found")

__version__ = "0.1.0"


def load(config: str | Path, weights: str | Path, overrides: Iterable[str] = (),
         pipeline_options: dict[str, Any] | None = None) -> Predictor:
    """A config's network with ``weights``, behind the pipeline ``tools/infer.py`` runs, in dygraph:
    ``ppcls_repro.load("configs/srcnn.yaml", "releases/srcnn_x3/srcnn_x3")(image)`` upscales a uint8
    numpy image; ``pipeline_options`` are ``tools/infer.py``'s ``--option`` keys. See ``ppcls_repro/api.py``
    for every paper's input and result."""
    from ppcls_repro.api import load as load_predictor  # here, so that importing the package stays cheap

    return load_predictor(config, weights, overrides, pipeline_options)
