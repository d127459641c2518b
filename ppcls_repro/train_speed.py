"""The rows of the training-speed table (``tools/benchmark_train.py``): each a config, its batch size and
the paper's speed case (Paddle's step and the PyTorch twin, from the paper's ``reference_torch.py``).

These modules import torch (the ``test`` extra), so nothing in the package imports this list; the tool and
the tests do. A paper that gains a row adds its line; ``NETS`` is what ``--net`` chooses from.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import ppcls_repro.plugins  # noqa: F401  (the models, steps, losses and optimisers the suite's side builds)
from ppcls_repro.config import load_config
from ppcls_repro.engine.speed import SpeedCase
from ppcls_repro.papers.dncnn.reference_torch import dncnn_speed_case
from ppcls_repro.papers.gan.reference_torch import gan_speed_case
from ppcls_repro.papers.resnet.reference_torch import cifar_resnet_speed_case
from ppcls_repro.papers.sr.reference_torch import fsrcnn_speed_case, srcnn_speed_case


@dataclasses.dataclass(frozen=True)
class SpeedRow:
    net: str  # the --net name
    config: str  # relative to the repository (the tools run from its root)
    batch_size: int
    case: Callable[[dict[str, Any]], SpeedCase]


ROWS = (
    SpeedRow("srcnn", "configs/srcnn.yaml", 16, srcnn_speed_case),  # the config's batch
    SpeedRow("srcnn", "configs/srcnn.yaml", 128, srcnn_speed_case),  # the batch of FSRCNN and ResNet
    SpeedRow("fsrcnn", "configs/fsrcnn_x3.yaml", 128, fsrcnn_speed_case),
    SpeedRow("resnet", "configs/resnet20_cifar10.yaml", 128, cifar_resnet_speed_case),
    SpeedRow("dncnn", "configs/dncnn_s25.yaml", 32, dncnn_speed_case),  # the released run's batch (the config's: 128)
    SpeedRow("gan", "configs/gan_mnist.yaml", 100, gan_speed_case),
)
NETS = tuple(dict.fromkeys(row.net for row in ROWS))


def speed_cases(nets: list[str] | None = None, batch_size: int | None = None,
                overrides: list[str] | None = None) -> list[SpeedCase]:
    """The table's cases for ``nets`` (None: all), in table order; ``batch_size`` replaces every row's,
    ``overrides`` (``KEY=VALUE``) are applied to every chosen row's config."""
    chosen = [row for row in ROWS if nets is None or row.net in nets]
    cases = []
    for row in chosen:
        size = row.batch_size if batch_size is None else batch_size
        cfg = load_config(row.config, [f"DataLoader.Train.sampler.batch_size={size}", *(overrides or [])])
        cases.append(row.case(cfg))
    if batch_size is not None:  # two rows of one net that differed only by batch size are now the same
        cases = list({case.label: case for case in cases}.values())
    return cases
