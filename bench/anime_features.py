"""Feature x reducer x clusterer table on the labelled anime crops (../shared/data/anime).

Builds the run folder (one face per crop) unless it exists, extracts the classical features,
trains SimCLR on the chips (CPU: bounded by --simclr-seconds; or reuse a stored encoder's
feature with --simclr-feature), combines colour with SimCLR, sweeps reducers x clusterers
(Ray Tune trials) and prints the results table (NMI, BCubed F, Hungarian accuracy). k-means and
agglomerative get the true number of characters; HDBSCAN chooses its own.

    nice -n 10 python bench/anime_features.py --run runs/anime
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from raypipe.layout import RunLayout
from raypipe.ray_session import ensure_ray
from raypipe.research.combine import combine_features
from raypipe.research.extract import extract_feature
from raypipe.research.sweep import TRUE_K, sweep_features
from raypipe.testing.labelled import make_labelled_run

ANIME = Path(__file__).resolve().parents[2] / "shared" / "data" / "anime"

FEATURES = {
    "hog-seed": {"name": "hog", "size": 64},  # the seed baseline: HOG of the 64x64 grey crop
    "lbp": {"name": "lbp", "grid": 4},
    "pixels": {"name": "pixels", "size": 32, "colour": True},
    "sift-fisher": {"name": "sift-fisher"},
    "orb-fisher": {"name": "orb-fisher"},
    "color-hist": {"name": "color-hist", "grid": 3},
}
REDUCERS = ["none", {"name": "pca", "n_components": 50}, {"name": "umap", "n_components": 10}]
CLUSTERERS = [
    {"name": "kmeans", "n_clusters": TRUE_K, "n_init": 10},
    {"name": "agglomerative", "n_clusters": TRUE_K, "linkage": "ward"},
    {"name": "hdbscan", "min_cluster_size": 10},
]
COLUMNS = ["feature", "reducer", "clusterer", "nmi", "bcubed_f", "accuracy", "clusters"]


def markdown(table) -> str:
    """A pandas table as a GitHub markdown table (no tabulate dependency)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ANIME)
    parser.add_argument("--run", type=Path, default=Path("runs/anime"))
    parser.add_argument("--simclr-seconds", type=float, default=240.0, help="CPU training budget")
    parser.add_argument(
        "--simclr-feature", help="stored SimCLR feature to use instead of training one"
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not (args.run / "faces.parquet").exists():
        make_labelled_run(args.data, args.run, size=128)
    timings = {}
    for name, spec in FEATURES.items():
        started = time.monotonic()
        extract_feature(str(args.run), spec, name)
        timings[name] = time.monotonic() - started
    simclr = args.simclr_feature
    if simclr is None:
        simclr, started = "simclr", time.monotonic()
        spec = {
            "name": "simclr",
            "epochs": 100,
            "max_seconds": args.simclr_seconds,
            "size": 48,
            "width": 16,
        }
        extract_feature(str(args.run), spec, simclr)
        timings[simclr] = time.monotonic() - started
    combined = f"color-hist+{simclr}"
    combine_features(str(args.run), ["color-hist", simclr], combined)
    ensure_ray()
    table, _ = sweep_features(str(args.run), [*FEATURES, simclr, combined], REDUCERS, CLUSTERERS)
    print("feature extraction seconds (942 faces, 2 shared cores):",
          {name: round(seconds, 1) for name, seconds in timings.items()})  # fmt: skip
    print(markdown(table[COLUMNS].round(3)))
    print(f"results table: {RunLayout.at(args.run).results / 'results.csv'}")


if __name__ == "__main__":
    main()
