"""What a model says about how it is exported.

A model that can be deployed defines ``export_spec(self) -> ExportSpec``. It names the network to
trace (the model itself, or a wrapper, e.g. a classifier with softmax appended), the inputs with
their dynamic dimensions, and the pre/post-processing pipeline with the facts only the model knows
(e.g. the SR scale). ``tools/export_model.py`` reads nothing else from the model.

A dataset whose inference preprocessing differs from its siblings' (MNIST's normalisation, CIFAR's
mean image, HybridSN's PCA) states it likewise: the pipeline it serves (``inference_pipeline``) and a
classmethod ``inference_facts(args) -> DataFacts``, given its config node's arguments with defaults
filled in; export writes the facts into ``pipeline.json`` and saves the arrays beside the model.

A model with several separately useful parts (DSCMR: one encoder per modality) lists them in
``branches``: each is traced and saved as its own static model in ``<save_dir>/<branch>/``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import paddle


@dataclasses.dataclass
class Branch:
    """One static model of a multi-network export: what is traced and its inputs."""

    network: paddle.nn.Layer
    inputs: list[paddle.static.InputSpec]


@dataclasses.dataclass
class ExportSpec:
    inputs: list[paddle.static.InputSpec]  # None marks a dynamic dimension (batch, height, width)
    pipeline: dict[str, Any]  # {name: <registered pipeline>, **facts the model knows}, see deploy/pipeline.py
    network: paddle.nn.Layer | None = None  # what is traced; None: the model itself
    branches: dict[str, Branch] = dataclasses.field(default_factory=dict)  # instead of inputs/network
    assets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # file name -> array saved beside
    # pipeline keys set by the model or its data (e.g. the SR scale), filled at export: inference may not change them
    fixed_keys: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.branches:
            if self.inputs or self.network is not None:
                raise ValueError("ExportSpec: give either inputs (and network) or branches, not both")
            specs = [s for b in self.branches.values() for s in b.inputs]
        else:
            specs = self.inputs
        if not specs or not all(spec.name for spec in specs):
            raise ValueError("ExportSpec.inputs: every input needs a name (it is the predictor's input name)")
        if "name" not in self.pipeline:
            raise ValueError("ExportSpec.pipeline: expected {'name': <registered pipeline>, ...}")

    def static_models(self, model: paddle.nn.Layer) -> dict[str, Branch]:
        """Sub-folder -> what to trace there; ``""`` is the save folder itself (one network)."""
        if self.branches:
            return dict(self.branches)
        return {"": Branch(self.network or model, self.inputs)}


@dataclasses.dataclass
class DataFacts:
    """What a dataset states for inference: keys of its pipeline's ``pipeline.json`` node, and arrays
    saved beside the model (file name -> array) that the pipeline reads back."""

    facts: dict[str, Any]
    assets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


class Applied(paddle.nn.Layer):
    """A traceable one-input layer computing ``function(x)``, a method of ``model`` (e.g. one DSCMR
    encoder), whose parameters are the model's. (One named argument: to_static cannot trace *args.)"""

    def __init__(self, model: paddle.nn.Layer, function: Callable[..., Any]) -> None:
        super().__init__()
        self.model = model
        self._function = function

    def forward(self, x: paddle.Tensor) -> Any:
        return self._function(x)


class WithSoftmax(paddle.nn.Layer):
    """A classifier returning logits, with a softmax over classes appended for inference."""

    def __init__(self, classifier: paddle.nn.Layer) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return paddle.nn.functional.softmax(self.classifier(x), axis=-1)
