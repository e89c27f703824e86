"""Every clusterer with its default settings on a run's faces: one table.

    python bench/cluster_compare.py RUN/faces.parquet [--markdown]

Scores the largest face of each image against its label (``label`` column, else the image's
parent folder); all faces are clustered, with their image ids as cannot-link groups.
"""

from __future__ import annotations

import argparse
import logging

from raypipe.evaluation.compare import compare_clusterers, load_labelled_faces, markdown_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces_parquet")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    faces = load_labelled_faces(args.faces_parquet)
    table = compare_clusterers(
        faces.X, faces.labels, faces.groups, model=faces.model, scored=faces.scored
    )
    print(
        f"{args.faces_parquet}: {len(faces.X)} faces, {faces.scored.sum()} scored, "
        f"model {faces.model}"
    )
    table = table.round({"nmi": 4, "pairwise_f": 4, "bcubed_f": 4, "seconds": 2})
    print(markdown_table(table) if args.markdown else table.to_string(index=False))


if __name__ == "__main__":
    main()
