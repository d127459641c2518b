"""Authors' released weights into this suite: ``tools/import_weights.py``.

A weight format (registered in ``WEIGHT_FORMATS``, one per kind of file a paper's authors released,
written in that paper's folder) recognises its files by their structure, not by their names, and
converts them into this suite's state dict for the model it names, with the Arch settings that the
authors' own test code implies (e.g. FSRCNN's edge-replicating padding). ``import_weights`` builds
that model from the user's config with those settings, loads the weights strictly and writes
``PREFIX.pdparams`` and ``PREFIX.yaml``, the config that evaluates and exports them as the authors
tested them (``tools/eval.py -c PREFIX.yaml``). Nothing from a file is ever executed.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import paddle

from ppcls_repro.config import save_config
from ppcls_repro.engine.checkpoint import atomic_save, set_weights_strict
from ppcls_repro.registry import MODELS, WEIGHT_FORMATS, ConfigError
from ppcls_repro.utils.errors import DataError


@dataclasses.dataclass
class ImportedWeights:
    """A converted file: the suite's state dict, the Arch keys the authors' protocol needs, and a
    one-line description of what was read (it goes into the log and the written config)."""

    weights: dict[str, np.ndarray]
    arch: dict[str, Any]
    description: str


class WeightFormat(Protocol):
    """One kind of released file (``tools/import_weights.py`` tries every registered format)."""

    model: ClassVar[str]  # the registered model the weights are for (the config's Arch.name)

    @staticmethod
    def recognise(path: Path) -> bool:
        """Whether ``path`` is a file of this format (by its structure; cheap and never raising)."""

    @staticmethod
    def convert(path: Path, arch: dict[str, Any]) -> ImportedWeights:
        """The weights for ``arch`` (the config's Arch node); a DataError naming ``path`` when its
        content does not fit."""


@dataclasses.dataclass
class ImportResult:
    weights: Path  # PREFIX.pdparams
    config: Path  # PREFIX.yaml
    description: str


def detect_format(path: Path) -> type[WeightFormat]:
    """The registered format that recognises ``path``; a DataError naming it when none does."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    found = [name for name in WEIGHT_FORMATS.names() if WEIGHT_FORMATS.get(name).recognise(path)]
    if not found:
        raise DataError(f"{path}: not a weight file this suite can import (formats: "
                        f"{', '.join(WEIGHT_FORMATS.names())})")
    if len(found) > 1:
        raise DataError(f"{path}: recognised by several formats ({', '.join(found)}); this is a bug")
    return WEIGHT_FORMATS.get(found[0])


def import_weights(source: Path, cfg: dict[str, Any], output: Path) -> ImportResult:
    """Convert ``source`` for ``cfg``'s model and write ``output``.pdparams and ``output``.yaml."""
    source, output = Path(source), Path(output)
    fmt = detect_format(source)
    if cfg["Arch"]["name"] != fmt.model:
        raise ConfigError(f"Arch.name: {source} holds {fmt.model} weights ({fmt.__name__}), "
                          f"but the config builds {cfg['Arch']['name']}")
    imported = fmt.convert(source, cfg["Arch"])
    out_cfg = copy.deepcopy(cfg)
    out_cfg["Arch"] = {**cfg["Arch"], **imported.arch}
    net = MODELS.build(out_cfg["Arch"], "Arch")
    set_weights_strict(net, {k: paddle.to_tensor(v) for k, v in imported.weights.items()}, str(source))
    out_cfg["Global"]["pretrained_model"] = str(output)
    weights_file, config_file = output.with_suffix(".pdparams"), output.with_suffix(".yaml")
    atomic_save(net.state_dict(), weights_file)
    save_config(out_cfg, config_file, header=(
        f"Written by tools/import_weights.py from {source} ({fmt.__name__}): {imported.description}.\n"
        f"Evaluate: python tools/eval.py -c {config_file}"))
    return ImportResult(weights=weights_file, config=config_file, description=imported.description)
