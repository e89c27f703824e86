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
    },
)

__all__ = ["CLUSTERERS"]
