"""Retrieval metrics (pure NumPy): mean average precision over all retrieved items.

This is the cross-modal protocol of DSCMR and the papers it compares with: every query of one
modality ranks the WHOLE gallery of the other modality by cosine similarity (mAP@all, the official
code's ``fx_calc_map_label`` with ``k = 0``); a gallery item is relevant when it has the query's
class. The average precision of a query is the mean, over its relevant items, of the precision at
each one's rank; a query without any relevant item scores 0 (as the official code).

Ties in similarity are ranked by gallery index (a stable sort), so results are deterministic; with
real-valued features ties practically never occur.
"""
from __future__ import annotations

import numpy as np


def cosine_similarity(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """[Q, D] x [G, D] -> [Q, G] cosine similarities; an all-zero vector has similarity 0 to everything."""
    queries = np.asarray(queries, dtype=np.float64)
    gallery = np.asarray(gallery, dtype=np.float64)
    if queries.ndim != 2 or gallery.ndim != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"cosine_similarity: expected [Q, D] and [G, D] features, got "
                         f"{queries.shape} and {gallery.shape}")
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-12)
    return q @ g.T


def average_precision(relevance: np.ndarray) -> float:
    """AP of one ranked list given as 0/1 relevances in rank order (0 when nothing is relevant)."""
    relevance = np.asarray(relevance, dtype=bool)
    ranks = np.flatnonzero(relevance)  # 0-based ranks of the relevant items
    if ranks.size == 0:
        return 0.0
    hits = np.arange(1, ranks.size + 1)  # relevant items seen up to and including each one
    return float(np.mean(hits / (ranks + 1)))


def average_precisions(similarity: np.ndarray, query_labels: np.ndarray,
                       gallery_labels: np.ndarray) -> np.ndarray:
    """Per-query AP over the whole gallery ranked by decreasing ``similarity`` [Q, G]."""
    similarity = np.asarray(similarity)
    query_labels = np.asarray(query_labels).reshape(-1)
    gallery_labels = np.asarray(gallery_labels).reshape(-1)
    if similarity.shape != (query_labels.size, gallery_labels.size):
        raise ValueError(f"average_precisions: similarity {similarity.shape} does not match "
                         f"{query_labels.size} query and {gallery_labels.size} gallery labels")
    order = np.argsort(-similarity, axis=1, kind="stable")
    relevant = gallery_labels[order] == query_labels[:, None]
    return np.array([average_precision(row) for row in relevant])


def retrieval_map(queries: np.ndarray, gallery: np.ndarray, query_labels: np.ndarray,
                  gallery_labels: np.ndarray) -> float:
    """mAP over all retrieved items with cosine similarity (e.g. images querying texts: i2t)."""
    return float(np.mean(average_precisions(cosine_similarity(queries, gallery), query_labels,
                                            gallery_labels)))
