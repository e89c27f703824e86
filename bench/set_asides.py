"""Do the quality set-asides help? Held-out BCubed F with each filter on and off.

    python bench/set_asides.py RUN/faces.parquet ...

On the held-out identities of each run (``raypipe.evaluation.protocol``), faces a filter sets
aside count as unassigned singletons (as in a real run); the rest are clustered by ``auto`` with
cannot-link. Variants: no filter, the defaults, and each filter alone.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.step import quality_reasons
from raypipe.config import Config
from raypipe.evaluation.compare import load_labelled_faces, markdown_table
from raypipe.evaluation.protocol import held_out_scores, split_identities

#: Every filter off; each variant turns one on.
ALL_OFF = [
    "quality.min_face_px=0",
    "quality.max_abs_yaw=90",
    "quality.min_sharpness=0",
    "quality.min_det_score=-1",
]
VARIANTS = {
    "none": ALL_OFF,
    "defaults": [],
    "size >= 20 px": ALL_OFF + ["quality.min_face_px=20"],
    "size >= 40 px": ALL_OFF + ["quality.min_face_px=40"],
    "profile |yaw| <= 75": ALL_OFF + ["quality.max_abs_yaw=75"],
    "profile |yaw| <= 45": ALL_OFF + ["quality.max_abs_yaw=45"],
    "sharpness >= 50": ALL_OFF + ["quality.min_sharpness=50"],
    "detector score >= 0.5": ALL_OFF + ["quality.min_det_score=0.5"],
}


def score_variant(faces_table: pd.DataFrame, faces, overrides: list[str]) -> dict:
    keep = np.array(
        [not r for r in quality_reasons(faces_table, Config().updated(overrides=overrides))]
    )
    labels = np.full(len(faces.X), -1)
    if keep.any():
        spec = {"name": "auto", "model": faces.model}
        labels[keep] = CLUSTERERS.build(spec).fit(faces.X[keep], groups=faces.groups[keep]).labels_
    scored = faces.scored
    return {
        "set_aside": int((~keep & scored).sum()),
        **held_out_scores(faces.labels[scored], labels[scored]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="faces.parquet of labelled runs")
    args = parser.parse_args()
    rows = []
    for path in args.runs:
        faces = load_labelled_faces(path)
        held_out = split_identities(faces.labels)["held_out"]
        table = pd.read_parquet(path)[held_out].reset_index(drop=True)
        for name, overrides in VARIANTS.items():
            rows.append(
                {
                    "run": path,
                    "variant": name,
                    **score_variant(table, faces.subset(held_out), overrides),
                }
            )
    print(markdown_table(pd.DataFrame(rows).round(4)))


if __name__ == "__main__":
    main()
