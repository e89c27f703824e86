"""The default clusterer: average linkage, made scalable by cutting a k-NN graph first.

Average linkage cut at a "same person" distance ``t`` only merges clusters with at least one pair
closer than ``t``, so each of its clusters lies in one connected component of the graph of pairs
closer than ``t``. The clusterer builds that graph from the ``k`` nearest neighbours of each face
(exact up to 20k faces, a faiss index above: :mod:`raypipe.cluster.knn`), takes its components,
and runs exact average linkage inside each. A component above ``component_limit`` faces (one
huge identity, or chained look-alikes) is first split by Chinese Whispers; a community still
that large is kept as one person. A face with no fellow member within the ``member`` distance
leaves its cluster: a stranger sits at an average distance under ``average`` from the photos of
a look-alike person without being close to any one of them, where a photo of that person is
close to at least one other. A cluster of exactly two faces farther apart than the ``lone_pair``
distance is split: two people seen once each (look-alike strangers) pair up at distances where a
person with three or more photos still holds together. Last, each face left alone (a hard face:
profile, blur, low resolution) joins the cluster whose centre is nearest among its neighbours'
clusters, when that centre is within the ``leftover`` distance and one of its members within
the ``member`` distance. Without a model of known calibration, the linkage distance is read
off the data (:func:`raypipe.cluster.calibration.data_driven_threshold`) and no face left alone
is attached: a data-driven attachment was neutral on held-out identities (-0.006 to +0.007
BCubed F per set), and a default that does not help is not kept. A model calibrated with
:class:`~raypipe.cluster.calibration.Communities` (drawn faces) is clustered into the Leiden
communities of its k-NN graph instead, when no ``threshold`` is given. Given ``n_clusters`` (a
user who knows how many people or characters there are), such a model gets as many Leiden
communities of the same graph (the resolution searched), and any other model k-means.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import pdist

from raypipe.cluster.base import Clusterer, run_standardised
from raypipe.cluster.calibration import CALIBRATION
from raypipe.cluster.graph import Leiden
from raypipe.cluster.knn import EXACT_LIMIT, nearest_neighbours, neighbour_graph
from raypipe.cluster.tree_cut import cut_tree_at
from raypipe.embed.base import l2_normalize

log = logging.getLogger(__name__)

WHISPERS_ITERATIONS = 20
#: Leftover faces compared with their candidate centres at a time (bounds the memory on 1M faces).
LEFTOVER_BLOCK = 4096


def average_linkage_tree_labels(X: np.ndarray):
    """A function: cosine threshold -> average-linkage clusters (0-based) of the rows of ``X``."""
    if len(X) < 2:
        return lambda threshold: np.zeros(len(X), np.int64)
    tree = linkage(pdist(X.astype(np.float64), "cosine"), method="average")
    return lambda threshold: cut_tree_at(tree, threshold)


def members_of(labels: np.ndarray, max_size: int | None, min_size: int = 2):
    """Rows of each label held by ``min_size`` to ``max_size`` rows (None: no limit), in one sort."""
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0])
    sizes = np.diff(np.r_[starts, len(labels)])
    wanted = (sizes >= min_size) & (sizes <= (max_size if max_size is not None else len(labels)))
    for start, size in zip(starts[wanted], sizes[wanted]):
        yield order[start : start + size]


class AutoClusterer(Clusterer):
    """Average linkage within the components of a thresholded k-NN graph; no k, no threshold.

    Parameters
    ----------
    threshold : "same person" cosine distance (None: calibrated for ``model``, else data-driven).
    n_clusters : the number of clusters, when the user knows it (None: read off the data).
    model : embedding model name (faces.parquet ``embedder``).
    cannot_link : no two faces of one group (image) in one cluster.
    k : neighbours per face in the graph.
    component_limit : larger components are split by Chinese Whispers before the linkage.
    attach_leftovers : let singletons join the nearest cluster centre within ``leftover_distance``.
    leftover_distance : cosine distance to a centre (None: calibrated for ``model``, else 0: none).
    lone_pair_distance : a cluster of two faces farther apart is split into two faces left alone
        (None: calibrated for ``model``, else no limit).
    member_distance : a face stays in (or joins) a cluster only with a fellow member this close
        among its graph neighbours (None: calibrated for ``model``, else no limit; 2.0: none).
    knn_method, exact_limit : k-NN search (see :func:`raypipe.cluster.knn.nearest_neighbours`).
    """

    def __init__(
        self,
        *,
        threshold: float | None = None,
        n_clusters: int | None = None,
        model: str | None = None,
        cannot_link: bool = True,
        k: int = 10,
        component_limit: int = 5000,
        attach_leftovers: bool = True,
        leftover_distance: float | None = None,
        lone_pair_distance: float | None = None,
        member_distance: float | None = None,
        knn_method: str = "auto",
        exact_limit: int = EXACT_LIMIT,
        seed: int = 0,
    ):
        self.threshold = threshold
        self.n_clusters = n_clusters
        self.model = model
        self.cannot_link = cannot_link
        self.k = k
        self.component_limit = component_limit
        self.attach_leftovers = attach_leftovers
        self.leftover_distance = leftover_distance
        self.lone_pair_distance = lone_pair_distance
        self.member_distance = member_distance
        self.knn_method = knn_method
        self.exact_limit = exact_limit
        self.seed = seed

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        communities = getattr(CALIBRATION.get(self.model), "communities", None)
        if communities is not None and (self.threshold is None or self.n_clusters is not None):
            return self._communities(X, communities)
        if self.n_clusters is not None:
            from raypipe.cluster.kmeans import KMeans

            self.threshold_ = None
            return KMeans(n_clusters=self.n_clusters, seed=self.seed).fit(X).labels_
        self.threshold_ = self._threshold(X, "average")
        neighbours = nearest_neighbours(
            X,
            min(self.k, len(X) - 1),
            method=self.knn_method,
            exact_limit=self.exact_limit,
            seed=self.seed,
        )
        graph = neighbour_graph(neighbours, self.threshold_)
        components = self._split_large(graph, connected_components(graph, directed=False)[1])
        log.info(
            "auto clusterer: graph of %d edges, %d components", graph.nnz, components.max() + 1
        )
        within = np.zeros(len(X), np.int64)  # cluster within the component
        for rows in members_of(components, self.component_limit):  # a larger one is one person
            within[rows] = average_linkage_tree_labels(X[rows])(self.threshold_)
        labels = np.unique(components * (int(within.max()) + 1) + within, return_inverse=True)[1]
        member = self._calibrated("member", self.member_distance, None)
        self.member_distance_ = None if member is None or member >= 2.0 else member
        labels = self._split_far_pairs(X, self._leave_unsupported(graph, labels))
        if self.attach_leftovers:
            labels = self._attach_leftovers(X, labels, neighbours.indices, graph)
        log.info(
            "auto clusterer: %d faces, threshold %.3f, %d clusters",
            len(X),
            self.threshold_,
            len(np.unique(labels)),
        )
        return labels

    def _communities(self, X: np.ndarray, communities) -> np.ndarray:
        """Leiden communities of the k-NN graph, as calibrated for ``model`` (``n_clusters`` of them
        when given)."""
        self.threshold_ = communities.distance
        X = run_standardised(X) if communities.standardised else X
        leiden = Leiden(threshold=self.threshold_, k=communities.k, resolution=communities.resolution,
                        n_clusters=self.n_clusters, knn_method=self.knn_method, exact_limit=self.exact_limit,
                        seed=self.seed)  # fmt: skip
        labels = leiden.fit(X).labels_
        log.info("auto clusterer: %d faces, Leiden communities (%s), %d clusters", len(X), communities,
                 len(np.unique(labels)))  # fmt: skip
        return labels

    def _split_large(self, graph, components: np.ndarray) -> np.ndarray:
        """Components above ``component_limit`` faces replaced by their Chinese Whispers communities."""
        from raypipe.cluster.whispers import chinese_whispers

        top = len(np.bincount(components))
        for rows in members_of(components, None, min_size=self.component_limit + 1):
            communities = chinese_whispers(graph[rows][:, rows], WHISPERS_ITERATIONS, self.seed)
            components[rows] = np.where(communities == 0, components[rows], top + communities)
            top += int(communities.max()) + 1
        return components

    def _calibrated(self, kind: str, value: float | None, fallback: float | None) -> float | None:
        """``value``, else the ``kind`` distance calibrated for ``model``, else ``fallback``."""
        if value is not None:
            return float(value)
        calibrated = getattr(CALIBRATION.get(self.model), kind, None)
        return fallback if calibrated is None else calibrated

    def _close_edges(self, graph) -> tuple[np.ndarray, np.ndarray]:
        """Both ends of each graph edge within ``member_distance`` (the graph is symmetric)."""
        edges = graph.tocoo()
        close = edges.data >= 1.0 - self.member_distance_
        return edges.row[close], edges.col[close]

    def _leave_unsupported(self, graph, labels: np.ndarray) -> np.ndarray:
        """Each face of a cluster with no fellow member within ``member_distance``: alone.

        One pass is enough: a face that leaves was no other face's close fellow member.
        """
        if self.member_distance_ is None:
            return labels
        rows, cols = self._close_edges(graph)
        fellow = labels[rows] == labels[cols]
        supported = np.bincount(rows[fellow], minlength=len(labels)) > 0
        leaving = np.flatnonzero(~supported & (np.bincount(labels)[labels] > 1))
        split = labels.copy()
        split[leaving] = labels.max() + 1 + np.arange(len(leaving))
        return np.unique(split, return_inverse=True)[1]

    def _split_far_pairs(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Each cluster of exactly two faces farther apart than ``lone_pair_distance``: both alone."""
        self.lone_pair_distance_ = self._calibrated("lone_pair", self.lone_pair_distance, None)
        rows = np.flatnonzero(np.bincount(labels)[labels] == 2)
        if self.lone_pair_distance_ is None or len(rows) == 0:
            return labels
        pairs = rows[np.argsort(labels[rows], kind="stable")].reshape(-1, 2)
        far = 1.0 - np.einsum("id,id->i", X[pairs[:, 0]], X[pairs[:, 1]]) > self.lone_pair_distance_
        split = labels.copy()
        split[pairs[far, 1]] = labels.max() + 1 + np.arange(int(far.sum()))
        return split

    def _attach_leftovers(self, X: np.ndarray, labels: np.ndarray, neighbours: np.ndarray, graph):
        """Singletons moved to the nearest centre of their neighbours' clusters, if close enough
        and one of its members is within ``member_distance``."""
        self.leftover_distance_ = self._calibrated("leftover", self.leftover_distance, 0.0)
        sizes = np.bincount(labels)
        leftovers = np.flatnonzero(sizes[labels] == 1)
        members = np.flatnonzero(sizes[labels] > 1)
        if len(leftovers) == 0 or len(members) == 0:
            return labels
        clusters, rows = np.unique(labels[members], return_inverse=True)
        indicator = sparse.csr_matrix((np.ones(len(members), np.float32), (rows, members)))
        centres = l2_normalize(indicator @ X[: members.max() + 1])
        centre_of = np.full(len(sizes), -1)
        centre_of[clusters] = np.arange(len(clusters))
        joined = labels.copy()
        for block in np.array_split(leftovers, -(-len(leftovers) // LEFTOVER_BLOCK)):
            near = neighbours[block]
            candidates = np.where(near >= 0, centre_of[labels[near]], -1)
            similarity = np.einsum("ijd,id->ij", centres[candidates], X[block])
            similarity[candidates < 0] = -np.inf
            best = np.argmax(similarity, axis=1)
            close = similarity[np.arange(len(block)), best] >= 1.0 - self.leftover_distance_
            joined[block[close]] = clusters[candidates[close, best[close]]]
        return np.unique(self._keep_supported(joined, labels, graph), return_inverse=True)[1]

    def _keep_supported(self, joined: np.ndarray, labels: np.ndarray, graph) -> np.ndarray:
        """``joined`` with each moved face back alone unless a member of its new cluster is
        within ``member_distance``."""
        if self.member_distance_ is None:
            return joined
        rows, cols = self._close_edges(graph)
        moved = joined != labels
        support = moved[rows] & (joined[rows] == labels[cols]) & ~moved[cols]
        unsupported = moved & (np.bincount(rows[support], minlength=len(labels)) == 0)
        return np.where(unsupported, labels, joined)

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        return self.threshold_
