"""A 2-D map of the embeddings (t-SNE, UMAP or PCA) on a bounded sample of faces."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

METHODS = ("auto", "tsne", "umap", "pca")
#: Below this many faces ``auto`` uses PCA: t-SNE and UMAP need some neighbours to be meaningful.
MIN_FACES_FOR_MANIFOLD = 30
#: Half of scikit-learn's default: the map settles well before on face embeddings, at half the time.
TSNE_ITERATIONS = 500


@dataclass
class Projection:
    xy: np.ndarray
    rows: np.ndarray
    method: str
    total: int


def project(
    embeddings: np.ndarray, method: str = "auto", max_points: int = 1000, seed: int = 0
) -> Projection | None:
    """2-D coordinates of at most ``max_points`` rows drawn at random; None below three rows."""
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose from {', '.join(METHODS)}")
    total = len(embeddings)
    if total < 3:
        return None
    rows = np.arange(total)
    if total > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(total, size=max_points, replace=False))
    X = embeddings[rows].astype(np.float32)
    if method == "auto":
        method = "pca" if len(rows) < MIN_FACES_FOR_MANIFOLD else "tsne"
    log.info("projecting %d of %d faces to 2-D with %s", len(rows), total, method)
    return Projection(reduce_2d(X, method, seed), rows, method, total)


def reduce_2d(X: np.ndarray, method: str, seed: int) -> np.ndarray:
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(X)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(X) - 1) / 3)
        tsne = TSNE(
            n_components=2,
            perplexity=perplexity,
            init="pca",
            max_iter=TSNE_ITERATIONS,
            random_state=seed,
        )
        return tsne.fit_transform(X)
    import umap

    return umap.UMAP(n_neighbors=min(15, len(X) - 1), random_state=seed).fit_transform(X)
