"""Do the clusterers generalise? Sets x embedders x clusterers, on fit and held-out identities.

    python bench/generalisation.py RUN/faces.parquet CROPS.parquet ... [--clusterers auto,leiden]

Every set is split by identity (``raypipe.evaluation.protocol``, seed 0): thresholds were fitted
on the ``fit`` identities (``bench/cluster_calibrate.py``), the ``held_out`` ones were never seen.
Each clusterer runs with its default settings (no k, no threshold) on each half; the largest face
of each image is scored: NMI, pairwise F, BCubed F, clusters found vs people.
``auto/data-driven`` is the default clusterer told no model (the threshold read off the data).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from raypipe.cluster import CLUSTERERS
from raypipe.evaluation.compare import default_spec, load_labelled_faces, markdown_table
from raypipe.evaluation.protocol import fit_and_score, identity_halves

CLUSTERERS_COMPARED = (
    "auto,auto/data-driven,agglomerative,chinese-whispers,leiden,infomap,finch,hdbscan"
)


def spec_of(name: str, model: str | None) -> dict:
    return {"name": "auto"} if name == "auto/data-driven" else default_spec(name, model)


def set_name(path: str) -> str:
    path = Path(path)
    return path.parent.name if path.name == "faces.parquet" else path.stem


def rows_of(path: str, names: list[str]) -> list[dict]:
    halves = identity_halves(load_labelled_faces(path))
    rows = []
    for name in names:
        for side, faces in halves.items():
            scores = fit_and_score(CLUSTERERS.build(spec_of(name, faces.model)), faces)
            rows.append(
                {
                    "set": set_name(path),
                    "model": faces.model,
                    "clusterer": name,
                    "side": side,
                    **scores,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="faces.parquet files (one labelled set each)")
    parser.add_argument("--clusterers", default=CLUSTERERS_COMPARED)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    table = pd.DataFrame(
        [row for path in args.sets for row in rows_of(path, args.clusterers.split(","))]
    )
    table = table.round({"nmi": 4, "pairwise_f": 4, "bcubed_f": 4})
    print(markdown_table(table) if args.markdown else table.to_string(index=False))


if __name__ == "__main__":
    main()
