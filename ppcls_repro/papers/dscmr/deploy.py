"""Cross-modal retrieval inference (DSCMR): queries of one modality rank a gallery of the other.

The export holds two static models, ``image/`` and ``text/``, each mapping its modality's features
into the common space. ``tools/infer.py --input QUERIES --gallery GALLERY --query_modality image``
encodes the query features with the query modality's model and the gallery with the other one,
ranks the gallery by cosine similarity (as DSCMR's evaluation, ``metrics.retrieval``) and writes
``<query stem>_top<k>.json``: per query row, the gallery rows and similarities of the top k.

Feature files are ``.npy`` ([N, dim]) or ``.mat``: the official DSCMR files hold the variable named
like the file (``test_img.mat`` -> ``test_img``); another .mat must hold exactly one variable.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.io

from ppcls_repro.deploy.pipeline import Net, Pipeline
from ppcls_repro.deploy.predictor import ModelDirError, ShapeRange
from ppcls_repro.papers.dscmr.data import check_features, load_mat_array
from ppcls_repro.papers.dscmr.metrics import cosine_similarity
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.logger import get_logger

FEATURE_SUFFIXES = (".npy", ".mat")
ENCODE_CHUNK = 512  # rows per predictor run: bounded memory for large galleries
MODALITIES = ("image", "text")


@PIPELINES.register
class CrossModalRetrieval(Pipeline):
    """Keys: the model states ``image_dim``, ``text_dim``, ``common_dim``; inference sets ``gallery``
    (a feature file of the other modality), ``query_modality`` and ``top_k``."""

    input_suffixes = FEATURE_SUFFIXES

    def __init__(self, image_dim: int, text_dim: int, common_dim: int, gallery: str | None = None,
                 query_modality: Literal["image", "text"] = "image", top_k: int = 10) -> None:
        if top_k < 1:
            raise ValueError(f"CrossModalRetrieval: top_k must be >= 1, got {top_k}")
        self.dims = {"image": image_dim, "text": text_dim}
        self.common_dim, self.gallery, self.query_modality, self.top_k = common_dim, gallery, query_modality, top_k
        self._gallery_embedding: np.ndarray | None = None

    @property
    def gallery_modality(self) -> str:
        return "text" if self.query_modality == "image" else "image"

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        for modality in MODALITIES:
            found = [i for i in inputs if i.get("branch") == modality]
            if len(found) != 1 or found[0].get("shape") != [-1, self.dims[modality]]:
                raise ModelDirError(f"CrossModalRetrieval needs a '{modality}' model taking [N, "
                                    f"{self.dims[modality]}] features, the export lists {inputs}")

    def output_paths(self, path: Path, out_dir: Path) -> list[Path]:
        return [out_dir / f"{path.stem}_top{self.top_k}.json"]

    def read(self, path: Path, modality: str) -> np.ndarray:
        """[N, dim] float32 features of ``modality`` from a .npy or .mat file."""
        return check_features(read_feature_file(path), str(path), self.dims[modality], modality)

    def encode(self, features: np.ndarray, net: Net) -> np.ndarray:
        parts = [net([features[i:i + ENCODE_CHUNK]])[0] for i in range(0, len(features), ENCODE_CHUNK)]
        return np.concatenate(parts)

    def gallery_embedding(self, nets: dict[str, Net]) -> np.ndarray:
        if self._gallery_embedding is None:  # encoded once per run, for every query file
            if not self.gallery:
                raise DataError(f"no gallery: pass --gallery <{self.gallery_modality} feature file (.npy/.mat)>")
            features = self.read(Path(self.gallery), self.gallery_modality)
            self._gallery_embedding = self.encode(features, nets[self.gallery_modality])
        return self._gallery_embedding

    def rank(self, queries: np.ndarray, nets: dict[str, Net],
             gallery: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Query features -> (gallery indices [Q, k] best first, their cosine similarities); ``gallery``
        the gallery's embedding, or None for the ``gallery`` file's."""
        gallery = self.gallery_embedding(nets) if gallery is None else gallery
        similarity = cosine_similarity(self.encode(queries, nets[self.query_modality]), gallery)
        k = min(self.top_k, similarity.shape[1])
        order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(similarity, order, axis=1)

    def predict(self, queries: np.ndarray | tuple[np.ndarray, np.ndarray], net: dict[str, Net],
                batch_size: int = 1) -> dict[str, np.ndarray]:
        """Query features ``[Q, dim]`` of ``query_modality`` (or ``(queries, gallery)``, the gallery's
        features in memory instead of the ``gallery`` file) -> ``{"gallery": [Q, k] row indices best
        first, "similarity": [Q, k] cosines}`` (``ppcls_repro.load``; ``process`` writes the same as JSON)."""
        self._check_branches(net)
        gallery = None
        if isinstance(queries, tuple):
            queries, gallery = queries
            gallery = self.encode(check_features(np.asarray(gallery), "gallery", self.dims[self.gallery_modality],
                                                 self.gallery_modality), net[self.gallery_modality])
        queries = check_features(np.asarray(queries), "queries", self.dims[self.query_modality], self.query_modality)
        order, scores = self.rank(queries, net, gallery)
        return {"gallery": order, "similarity": scores}

    @staticmethod
    def _check_branches(net: Any) -> None:
        if not isinstance(net, dict) or set(net) != set(MODALITIES):
            raise ModelDirError("CrossModalRetrieval runs the image and text models of a DSCMR export")

    def process(self, path: Path, net: dict[str, Net], out_dir: Path, batch_size: int) -> list[Path]:
        self._check_branches(net)
        order, scores = self.rank(self.read(path, self.query_modality), net)
        results = [{"query": q, "gallery": [int(g) for g in order[q]],
                    "similarity": [round(float(s), 6) for s in scores[q]]} for q in range(len(order))]
        (target,) = self.output_paths(path, out_dir)
        target.write_text(json.dumps({"queries": str(path), "query_modality": self.query_modality,
                                      "gallery": self.gallery, "results": results}, indent=1) + "\n")
        log = get_logger()
        for row in results[:5]:
            log.info(f"{path.name} query {row['query']}: gallery rows {row['gallery']}")
        if len(results) > 5:
            log.info(f"{path.name}: {len(results) - 5} more queries in {target.name}")
        return [target]

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        return [self.read(path, self.query_modality)[:1]]

    def shape_range(self, inputs: list[dict[str, Any]], batch_size: int) -> ShapeRange:
        return {i["name"]: ([1, self.dims[i["branch"]]], [ENCODE_CHUNK, self.dims[i["branch"]]],
                            [ENCODE_CHUNK, self.dims[i["branch"]]]) for i in inputs}


def read_feature_file(path: Path) -> np.ndarray:
    """The array of a .npy file, or of a .mat file (its variable named like the file, or its only one)."""
    if not path.is_file():
        raise DataError(f"feature file not found: {path}")
    if path.suffix.lower() == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise DataError(f"{path}: not a readable .npy array ({err})") from None
    if path.suffix.lower() != ".mat":
        raise DataError(f"{path}: expected a .npy or .mat feature file")
    try:
        names = [n for n, _, _ in scipy.io.whosmat(str(path))]
    except Exception as err:  # a truncated or foreign file; load_mat_array names v7.3 files
        names = []
        if not isinstance(err, NotImplementedError):
            raise DataError(f"{path}: not a readable .mat file ({type(err).__name__}: {err})") from None
    if path.stem in names or not names:
        return load_mat_array(path, path.stem)
    if len(names) != 1:
        raise DataError(f"{path}: holds {', '.join(names)}; expected a variable named '{path.stem}' or exactly one")
    return load_mat_array(path, names[0])
