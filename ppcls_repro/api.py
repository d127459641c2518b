"""The Python API: a config and its weights as a callable, without exporting.

    predictor = ppcls_repro.load("configs/srcnn.yaml", "releases/srcnn_x3/srcnn_x3")
    upscaled = predictor(image)  # HxWx3 uint8 -> 3Hx3Wx3 uint8

``load`` builds what ``tools/export_model.py`` would export (the model's ``export_spec()``: the
traced network, e.g. with softmax appended, and the pre/post-processing pipeline of
``pipeline.json``), but keeps the network in dygraph, so the result equals ``tools/infer.py`` on
the exported model up to float reordering. A predictor takes one input in memory: an image for SR
(the super-resolved image), denoising (DnCNN: the denoised image) and classification (its top-k,
``[{"class_id", "score", "label"?}]``); noise ``[N, noise_dim]`` for the GAN (samples ``[N, C, H, W]``
in [0, 1]; ``predictor.pipeline.noise_batch(N, seed)`` draws what ``tools/infer.py --seed`` does); a
``(rows, cols, bands)`` cube for HybridSN (the 1-based class map); query features for DSCMR, with the
gallery as a file (``pipeline_options={"gallery": ...}``) or in memory (``predictor((queries,
gallery))``): ``{"gallery": [Q, k] indices, "similarity": [Q, k]}``.
Bad paths and config keys raise the errors the tools print as one line (``ConfigError``,
``CheckpointError``, ``DataError``).
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import paddle

import ppcls_repro.plugins  # noqa: F401  (registers every model and pipeline)
from ppcls_repro.config import load_config
from ppcls_repro.deploy.export import as_list, export_spec_of
from ppcls_repro.deploy.pipeline import Net, Pipeline
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.setup import build_network, select_device
from ppcls_repro.registry import PIPELINES


class Predictor:
    """A trained network behind its deployment pipeline: ``predictor(image)`` -> the pipeline's result."""

    def __init__(self, pipeline: Pipeline, net: Net | dict[str, Net]) -> None:
        self.pipeline = pipeline
        self.net = net

    def __call__(self, image: np.ndarray, batch_size: int = 1) -> Any:
        with paddle.no_grad():
            return self.pipeline.predict(image, self.net, batch_size)


def load(config: str | Path, weights: str | Path, overrides: Iterable[str] = (),
         pipeline_options: dict[str, Any] | None = None) -> Predictor:
    """The predictor of ``config`` (a YAML path) with ``weights`` (a ``.pdparams`` path or its prefix),
    ``overrides`` as ``-o`` takes them (``["Arch.padding_mode=replicate"]``), ``pipeline_options`` the
    pipeline keys ``tools/infer.py`` takes as ``--option`` (DSCMR: ``{"gallery": file, "top_k": 5}``)."""
    cfg = load_config(config, list(overrides))
    select_device(cfg["Global"]["device"], cfg["Global"]["cpu_threads"])
    net = build_network(cfg, load_weights(weights), source=str(weights))
    spec = export_spec_of(net, cfg)
    pipeline = PIPELINES.build({**spec.pipeline, **(pipeline_options or {})}, "pipeline_options")
    if spec.assets:  # arrays export saves beside the model (e.g. a mean image): read back the same way
        with tempfile.TemporaryDirectory() as folder:
            for name, array in spec.assets.items():
                np.save(Path(folder) / name, array)
            pipeline.load_assets(Path(folder))
    nets = {sub: _dygraph(branch.network) for sub, branch in spec.static_models(net).items()}
    return Predictor(pipeline, nets[""] if "" in nets else nets)


def _dygraph(layer: paddle.nn.Layer) -> Net:
    """The layer as a pipeline's ``Net``: numpy arrays in, numpy arrays out, eval mode."""
    layer.eval()

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        with paddle.no_grad():
            return [out.numpy() for out in as_list(layer(*[paddle.to_tensor(x) for x in inputs]))]

    return run
