"""Clusterers on a thresholded k-NN graph: connected components, Chinese Whispers, Leiden, Infomap.

Each face is linked to its ``k`` nearest neighbours that lie within ``threshold`` (cosine
distance; None: the calibrated single-pair "same person" distance of ``model``, else data-driven), edges weighted
by similarity. The graph has at most n x k edges, so these scale to millions of faces.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from raypipe.cluster.base import Clusterer
from raypipe.cluster.knn import EXACT_LIMIT, nearest_neighbours, neighbour_graph
from raypipe.cluster.whispers import chinese_whispers


class GraphClusterer(Clusterer):
    """Base: builds the k-NN graph; subclasses split it with ``_communities(graph)``."""

    def __init__(
        self,
        *,
        threshold: float | None = None,
        k: int = 10,
        model: str | None = None,
        knn_method: str = "auto",
        exact_limit: int = EXACT_LIMIT,
        cannot_link: bool = False,
        seed: int = 0,
    ):
        self.threshold = threshold
        self.k = k
        self.model = model
        self.knn_method = knn_method
        self.exact_limit = exact_limit
        self.cannot_link = cannot_link
        self.seed = seed

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        neighbours = nearest_neighbours(
            X,
            min(self.k, len(X) - 1),
            method=self.knn_method,
            exact_limit=self.exact_limit,
            seed=self.seed,
        )
        return self._communities(neighbour_graph(neighbours, self._threshold(X, "pair")))

    def _communities(self, graph: sparse.csr_matrix) -> np.ndarray:
        raise NotImplementedError

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        return self._threshold(X, "pair")


class KnnGraph(GraphClusterer):
    """Connected components of the thresholded k-NN graph (single linkage on the graph)."""

    def _communities(self, graph):
        return connected_components(graph, directed=False)[1]


class ChineseWhispers(GraphClusterer):
    """Chinese Whispers (Biemann 2006): seeded weighted label propagation on the k-NN graph."""

    def __init__(
        self,
        *,
        threshold: float | None = None,
        k: int = 10,
        iterations: int = 20,
        model: str | None = None,
        knn_method: str = "auto",
        exact_limit: int = EXACT_LIMIT,
        cannot_link: bool = False,
        seed: int = 0,
    ):
        super().__init__(
            threshold=threshold,
            k=k,
            model=model,
            knn_method=knn_method,
            exact_limit=exact_limit,
            cannot_link=cannot_link,
            seed=seed,
        )
        self.iterations = iterations

    def _communities(self, graph):
        return chinese_whispers(graph, self.iterations, self.seed)


def _igraph(graph: sparse.csr_matrix):
    """Undirected weighted igraph Graph of the upper triangle of ``graph``."""
    import igraph

    upper = sparse.triu(graph, k=1).tocoo()
    g = igraph.Graph(
        n=graph.shape[0], edges=np.column_stack([upper.row, upper.col]), directed=False
    )
    g.es["weight"] = upper.data
    return g


#: Resolutions searched for ``n_clusters`` communities: bisected on a log scale in this range,
#: or above it up to :func:`singleton_resolution` when its top gives too few communities.
RESOLUTION_RANGE = (0.01, 100.0)
RESOLUTION_STEPS = 30


def singleton_resolution(graph: sparse.csr_matrix, objective: str) -> float:
    """The resolution above which every face is a community of its own: no edge gains the
    ``objective``'s quality (modularity, RBConfiguration: ``w_ij - r k_i k_j / 2m``; CPM:
    ``w_ij - r``). It grows with the faces: 11,963 communities of 100k faces need more than 100."""
    edges = graph.tocoo()
    if objective == "cpm" or edges.nnz == 0:
        return float(edges.data.max(initial=0.0))
    degree = np.asarray(graph.sum(axis=1)).ravel()
    return float((edges.data * degree.sum() / (degree[edges.row] * degree[edges.col])).max())


class Leiden(GraphClusterer):
    """Leiden communities (``leidenalg``) of the k-NN graph.

    ``objective``: ``modularity`` (RBConfiguration, scaled by ``resolution``) or ``cpm``
    (constant Potts: a community's mean edge weight must beat ``resolution``).
    ``n_clusters``: the resolution is bisected (log scale, :data:`RESOLUTION_RANGE`, or from its
    top up to where every face is alone when the top gives fewer communities; at most
    :data:`RESOLUTION_STEPS` steps; higher resolutions give more communities) until there are
    that many communities, else the count nearest to it is kept; ``resolution`` is then unused.
    """

    def __init__(
        self,
        *,
        threshold: float | None = None,
        k: int = 10,
        objective: str = "modularity",
        resolution: float = 1.0,
        n_clusters: int | None = None,
        model: str | None = None,
        knn_method: str = "auto",
        exact_limit: int = EXACT_LIMIT,
        cannot_link: bool = False,
        seed: int = 0,
    ):
        super().__init__(
            threshold=threshold,
            k=k,
            model=model,
            knn_method=knn_method,
            exact_limit=exact_limit,
            cannot_link=cannot_link,
            seed=seed,
        )
        self.objective = objective
        self.resolution = resolution
        self.n_clusters = n_clusters

    def _communities(self, graph):
        import leidenalg

        partitions = {
            "modularity": leidenalg.RBConfigurationVertexPartition,
            "cpm": leidenalg.CPMVertexPartition,
        }
        if self.objective not in partitions:
            raise ValueError(
                f"unknown Leiden objective {self.objective!r}; choose one of {sorted(partitions)}"
            )
        g = _igraph(graph)

        def at(resolution: float) -> np.ndarray:
            partition = leidenalg.find_partition(
                g,
                partitions[self.objective],
                weights="weight",
                resolution_parameter=resolution,
                seed=self.seed,
            )
            return np.asarray(partition.membership)

        if self.n_clusters is None:
            return at(self.resolution)
        low, high = RESOLUTION_RANGE
        if at(high).max() + 1 < self.n_clusters:  # more communities than the range's top gives
            low, high = high, 2.0 * singleton_resolution(graph, self.objective)
        return self._searched(at, low, high)

    def _searched(self, at, low: float, high: float) -> np.ndarray:
        """Communities ``at`` the resolution giving ``n_clusters`` of them (or nearest to it),
        searched between the resolutions ``low`` and ``high``."""
        low, high = np.log([low, high])
        best, best_miss = None, np.inf
        for _ in range(RESOLUTION_STEPS):
            middle = (low + high) / 2
            labels = at(float(np.exp(middle)))
            count = int(labels.max()) + 1
            if abs(count - self.n_clusters) < best_miss:
                best, best_miss = labels, abs(count - self.n_clusters)
                self.resolution_ = float(np.exp(middle))
            if count == self.n_clusters:
                break
            low, high = (middle, high) if count < self.n_clusters else (low, middle)
        return best


class Infomap(GraphClusterer):
    """Infomap communities (igraph): the map equation's shortest description of random walks."""

    def __init__(
        self,
        *,
        threshold: float | None = None,
        k: int = 10,
        trials: int = 5,
        model: str | None = None,
        knn_method: str = "auto",
        exact_limit: int = EXACT_LIMIT,
        cannot_link: bool = False,
        seed: int = 0,
    ):
        super().__init__(
            threshold=threshold,
            k=k,
            model=model,
            knn_method=knn_method,
            exact_limit=exact_limit,
            cannot_link=cannot_link,
            seed=seed,
        )
        self.trials = trials

    def _communities(self, graph):
        import random

        import igraph

        igraph.set_random_number_generator(random.Random(self.seed))
        try:
            communities = _igraph(graph).community_infomap(
                edge_weights="weight", trials=self.trials
            )
        finally:
            igraph.set_random_number_generator(random)
        return np.asarray(communities.membership)
