"""Sweep "same person" thresholds on labelled embeddings; print the ranges meeting a target.

    python bench/cluster_calibrate.py RUN/faces.parquet [--target 0.97]

Prints, for average-linkage agglomerative (the ``average`` threshold) and for the single-link
methods (the ``pair`` threshold), NMI and BCubed F of the largest face of each image at each
threshold, and the range where both reach the target. Copy mid-range values into
raypipe/cluster/calibration.py.
"""

from __future__ import annotations

import argparse

import numpy as np

from raypipe.cluster import CLUSTERERS
from raypipe.evaluation.compare import load_labelled_faces
from raypipe.evaluation.metrics import score_clustering

METHODS = {"average": ["agglomerative"], "pair": ["chinese-whispers", "knn-graph", "finch"]}


def sweep(faces, name: str, thresholds: np.ndarray) -> list[tuple[float, float, float]]:
    """(threshold, NMI, BCubed F) per threshold, with cannot-link on."""
    results = []
    for threshold in thresholds:
        spec = {"name": name, "threshold": float(threshold), "cannot_link": True}
        labels = CLUSTERERS.build(spec).fit(faces.X, groups=faces.groups).labels_
        scores = score_clustering(faces.labels[faces.scored], labels[faces.scored])
        results.append((float(threshold), scores["nmi"], scores["bcubed_f"]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces_parquet")
    parser.add_argument("--target", type=float, default=0.97)
    parser.add_argument("--max", type=float, default=0.8, help="largest threshold tried")
    parser.add_argument("--steps", type=int, default=80)
    args = parser.parse_args()
    faces = load_labelled_faces(args.faces_parquet)
    thresholds = np.linspace(args.max / args.steps, args.max, args.steps)
    print(f"{args.faces_parquet}: {len(faces.X)} faces, model {faces.model}")
    for kind, names in METHODS.items():
        for name in names:
            results = sweep(faces, name, thresholds)
            good = [t for t, nmi, bcubed in results if min(nmi, bcubed) >= args.target]
            best = max(results, key=lambda r: min(r[1], r[2]))
            span = f"{min(good):.3f}..{max(good):.3f}" if good else "none"
            print(
                f"  {kind:7s} {name:17s} target met for {span}; best {best[0]:.3f}: "
                f"NMI {best[1]:.4f} BCubed F {best[2]:.4f}"
            )


if __name__ == "__main__":
    main()
