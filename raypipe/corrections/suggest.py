"""``RUN/suggestions.csv``: for unassigned faces and faces of unnamed clusters, the nearest named person."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raypipe.cluster.constraints import centroids
from raypipe.embed.base import l2_normalize

SUGGESTION_COLUMNS = ["face_id", "cluster", "person", "person_cluster", "similarity"]


def suggest_people(face_ids: np.ndarray, embeddings: np.ndarray, labels: np.ndarray, persons: dict[int, str],
                   ignored: set[str]) -> pd.DataFrame:  # fmt: skip
    """One row per unnamed, not ignored face: the named person whose centre is most similar (cosine).

    Most similar first; empty when nobody is named.
    """
    named = np.array(sorted(set(persons) & set(labels.tolist())), dtype=np.int64)
    candidates = ~np.isin(labels, named) & ~np.isin(face_ids, list(ignored))
    if not len(named) or not candidates.any():
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    X = l2_normalize(np.asarray(embeddings, dtype=np.float32))
    centres = centroids(X, np.where(np.isin(labels, named), labels, -1), int(named.max()) + 1)[
        named
    ]
    similarity = X[candidates] @ centres.T
    best = similarity.argmax(axis=1)
    table = pd.DataFrame({
        "face_id": face_ids[candidates], "cluster": labels[candidates],
        "person": [persons[c] for c in named[best]], "person_cluster": named[best],
        "similarity": similarity[np.arange(len(best)), best].round(4),
    })  # fmt: skip
    return table.sort_values(["similarity", "face_id"], ascending=[False, True], ignore_index=True)
