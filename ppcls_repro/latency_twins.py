"""The PyTorch twins of the exported nets for the inference-latency table (``tools/benchmark_latency.py``):
each paper's ``*_inference_twin(cfg, weights)`` (its ``reference_torch.py``) by ``Arch.name``, and the
two PyTorch runtimes of a twin (eager, and ``torch.jit`` trace + freeze).

These modules import torch (the ``test`` extra), so nothing in the package imports this list; the tool
and the tests do. A paper whose exported net gains a twin adds its line.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import ppcls_repro.plugins  # noqa: F401  (the models the suite's side builds)
from ppcls_repro.papers.dncnn.reference_torch import dncnn_inference_twin
from ppcls_repro.papers.resnet.reference_torch import resnet_inference_twin
from ppcls_repro.papers.sr.reference_torch import fsrcnn_inference_twin, srcnn_inference_twin
from ppcls_repro.registry import ConfigError

InferenceTwin = Callable[[dict[str, Any], dict[str, np.ndarray]], torch.nn.Module]

TWINS: dict[str, InferenceTwin] = {
    "SRCNN": srcnn_inference_twin,
    "FSRCNN": fsrcnn_inference_twin,
    "DnCNN": dncnn_inference_twin,
    "CifarResNet": resnet_inference_twin,
    "SECifarResNet": resnet_inference_twin,
    "ResNet": resnet_inference_twin,
    "SEResNet": resnet_inference_twin,
}


def torch_twin(cfg: dict[str, Any], weights: dict[str, np.ndarray]) -> torch.nn.Module:
    """The exported network of ``cfg`` in PyTorch, holding ``weights`` (the suite's names), in eval mode."""
    name = cfg["Arch"]["name"]
    if name not in TWINS:
        raise ConfigError(f"Arch.name: {name} has no PyTorch inference twin (ppcls_repro/latency_twins.py: "
                          f"{', '.join(TWINS)})")
    return TWINS[name](cfg, weights)


def torch_runners(module: torch.nn.Module, x: np.ndarray, threads: int) -> dict[str, Callable[[], np.ndarray]]:
    """``module`` on ``x`` with ``threads`` CPU threads, eager and as ``torch.jit.trace`` + ``freeze``
    (constants folded, the deployment form of TorchScript); both under ``inference_mode``."""
    torch.set_num_threads(threads)
    tensor = torch.from_numpy(x)
    with torch.inference_mode():
        traced = torch.jit.freeze(torch.jit.trace(module, tensor))

    def eager() -> np.ndarray:
        with torch.inference_mode():
            return module(tensor).numpy()

    def jit() -> np.ndarray:
        with torch.inference_mode():
            return traced(tensor).numpy()
    return {"eager": eager, "jit": jit}
