"""Clusterers, chosen by name, with scikit-learn conventions.

Every clusterer is built from keyword settings, ``fit(X, y=None, groups=None)`` returns self
and sets ``labels_`` (noise / unassigned = -1). ``X`` holds L2-normalised embeddings and
distances are cosine. ``groups`` (one id per row, e.g. the image id) marks cannot-link sets:
clusterers with ``cannot_link=True`` never put two rows of one group in one cluster.
"""

from raypipe.registry import Registry

CLUSTERERS: Registry = Registry(
    "clusterer",
    {
        "auto": "raypipe.cluster.auto:AutoClusterer",
        "agglomerative": "raypipe.cluster.agglomerative:Agglomerative",
        "kmeans": "raypipe.cluster.kmeans:KMeans",
        "minibatch-kmeans": "raypipe.cluster.kmeans:MiniBatchKMeans",
        "dbscan": "raypipe.cluster.density:DBSCAN",
        "hdbscan": "raypipe.cluster.density:HDBSCAN",
        "chinese-whispers": "raypipe.cluster.graph:ChineseWhispers",
        "knn-graph": "raypipe.cluster.graph:KnnGraph",
        "leiden": "raypipe.cluster.graph:Leiden",
        "infomap": "raypipe.cluster.graph:Infomap",
        "finch": "raypipe.cluster.finch:FINCH",
    },
)

__all__ = ["CLUSTERERS"]
