"""Fit the projection of the DenseNet drawn-face encoder (``raypipe/features/weights/drawn_projection.npz``).

Every face of ``../shared/data/anime_unlabelled`` (unlabelled drawn faces, no character of
``../shared/data/anime``) is chipped as a ``--detector whole-image`` run chips it, embedded by
the backbone (square roots of its pooled features), and a whitening PCA is fitted on them.
Which number of components ships was chosen on the TRAINING characters
(``bench/drawn_clusters.py --characters training``).

    nice -n 10 python bench/fit_drawn_projection.py --model-root ~/.raypipe/models --components 384
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from drawn_clusters import load_images, whole_image_chips
from sklearn.decomposition import PCA

from raypipe.embed import EMBEDDERS
from raypipe.embed.select import drawn_embedder
from raypipe.features.drawn_densenet import BACKBONE_FILE, PROJECTION, save_projection

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
log = logging.getLogger("fit_drawn_projection")


def fit_whitening(features: np.ndarray, components: int, out: Path) -> float:
    """A whitening PCA of ``components`` fitted on ``features``, written to ``out``
    (:func:`save_projection`); the share of the variance it keeps."""
    pca = PCA(components, random_state=0).fit(features)
    save_projection(out, pca.mean_, pca.components_, pca.explained_variance_)
    return float(pca.explained_variance_ratio_.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "anime_unlabelled")
    parser.add_argument("--model-root", help="folder holding " + BACKBONE_FILE)
    parser.add_argument("--components", type=int, default=384)
    parser.add_argument("--features", type=Path, help="cache of the backbone features (.npy), read or written")
    parser.add_argument("--out", type=Path, default=PROJECTION)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.features and args.features.is_file():
        features = np.load(args.features, allow_pickle=False)
    else:
        spec = drawn_embedder(args.model_root)
        if spec["feature"] == "drawn":
            raise SystemExit(f"no {BACKBONE_FILE} under --model-root: `raypipe models fetch` installs it")
        embedder = EMBEDDERS.build({**spec, "feature": {**spec["feature"], "projection": None}})
        started = time.perf_counter()
        features = embedder.extractor.pooled(list(whole_image_chips(embedder, load_images(args.data)[0])))
        log.info("%d faces embedded in %.0f s", len(features), time.perf_counter() - started)
        if args.features:
            np.save(args.features, features)
    kept = fit_whitening(features, args.components, args.out)
    log.info("wrote %s (%d -> %d, %.1f%% of the variance)", args.out, features.shape[1], args.components, 100 * kept)


if __name__ == "__main__":
    main()
