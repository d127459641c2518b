"""What a model says about how it is exported.

A model that can be deployed defines ``export_spec(self) -> ExportSpec``. It names the network to
trace (the model itself, or a wrapper, e.g. a classifier with softmax appended), the inputs with
their dynamic dimensions, and the pre/post-processing pipeline with the facts only the model knows
(e.g. the SR scale). ``tools/export_model.py`` reads nothing else from the model.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import paddle


@dataclasses.dataclass
class ExportSpec:
    inputs: list[paddle.static.InputSpec]  # None marks a dynamic dimension (batch, height, width)
    pipeline: dict[str, Any]  # {name: <registered pipeline>, **facts the model knows}, see deploy/pipeline.py
    network: paddle.nn.Layer | None = None  # what is traced; None: the model itself

    def __post_init__(self) -> None:
        if not self.inputs or not all(spec.name for spec in self.inputs):
            raise ValueError("ExportSpec.inputs: every input needs a name (it is the predictor's input name)")
        if "name" not in self.pipeline:
            raise ValueError("ExportSpec.pipeline: expected {'name': <registered pipeline>, ...}")
