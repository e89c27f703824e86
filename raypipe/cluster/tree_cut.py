"""Flat clusters of a hierarchical tree cut at a distance, as ``scipy``'s ``fcluster`` makes them."""

from __future__ import annotations

import numpy as np


def cut_tree_at(tree: np.ndarray, threshold: float) -> np.ndarray:
    """The flat clusters of ``fcluster(tree, threshold, "distance")`` (numbered from 0, in
    another order): the rows under each merge whose subtree merges nowhere above ``threshold``.
    Written out because ``fcluster`` checks its tree at each call (0.2-0.5 ms, most of the
    linkage of the tens of thousands of small communities of 1M faces)."""
    n = len(tree) + 1
    children = tree[:, :2].astype(np.int64).tolist()
    highest = tree[:, 2].tolist()
    for merge, (a, b) in enumerate(children):  # the highest merge of each subtree
        highest[merge] = max(
            highest[merge],
            highest[a - n] if a >= n else -np.inf,
            highest[b - n] if b >= n else -np.inf,
        )
    flat = list(range(2 * n - 1))  # each node's flat cluster: the highest merge within threshold
    for merge in range(n - 2, -1, -1):
        node = n + merge
        if flat[node] != node or highest[merge] <= threshold:
            flat[children[merge][0]] = flat[children[merge][1]] = flat[node]
    return np.unique(flat[:n], return_inverse=True)[1].astype(np.int64)
