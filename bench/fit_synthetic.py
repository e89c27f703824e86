"""Fit the realistic synthetic embeddings (raypipe.testing.realistic_faces) to a real run.

    nice -n 10 python bench/fit_synthetic.py /work/cache/runs/lfw-arcface

Reads the run's faces table (labels: the parent folder of each image's largest face; the other
faces are the noise faces), measures the statistics, fits the generator's parameters by
Nelder-Mead on simulated data of the same identity sizes, and writes
``raypipe/testing/face_statistics.json`` (parameters, real quantiles, this command).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from raypipe.evaluation.labels import face_labels
from raypipe.layout import RunLayout
from raypipe.testing.realistic_faces import (
    STATISTICS_FILE,
    faces_from_sizes,
    person_statistics,
    similarity_quantiles,
)

#: LFW's people have at least two photos (a person with one face found is not fitted).
MIN_SIZE = 2
#: Fitted by Nelder-Mead, in this order, from these starts.
FREE = {
    "latent_dim": 100.0,
    "quality_mean": 0.82,
    "quality_concentration": 60.0,
    "face_concentration": 60.0,
    "lookalike_share": 0.1,
    "lookalike_rho_max": 0.7,
    "hard_share": 0.02,
    "hard_max": 0.5,
}


def statistics(X: np.ndarray, labels: np.ndarray, labelled: np.ndarray) -> dict[str, list[float]]:
    """Pair quantiles over every face (noise faces: their own identity), person ones over labelled."""
    return {
        **similarity_quantiles(X, labels),
        **person_statistics(X[labelled], labels[labelled]),
    }


def zipf_exponent(sizes: np.ndarray, min_size: int, max_size: int) -> float:
    """Maximum-likelihood exponent of a Zipf law truncated to ``[min_size, max_size]``."""
    support = np.arange(min_size, max_size + 1, dtype=float)

    def nll(a: float) -> float:
        return a * np.log(sizes).sum() + len(sizes) * np.log((support**-a).sum())

    return float(minimize_scalar(nll, bounds=(0.1, 5.0), method="bounded").x)


def load(run: str) -> tuple[np.ndarray, np.ndarray]:
    faces = RunLayout.at(run).read_table("faces").to_pandas()
    X = np.stack(faces["embedding"].to_numpy()).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True), face_labels(faces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder of a labelled set (faces.parquet)")
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    X, labels = load(args.run)
    labelled = np.array([label is not None for label in labels])
    noise = np.flatnonzero(~labelled)
    labels = labels.copy()
    labels[noise] = [f"noise-{i}" for i in noise]
    real = statistics(X, labels, labelled)
    sizes = np.unique(labels[labelled], return_counts=True)[1]
    fitted_sizes = sizes[sizes >= MIN_SIZE]
    fixed = {
        "noise_share": round(len(noise) / len(X), 4),
        "min_size": MIN_SIZE,
        "zipf_exponent": round(zipf_exponent(fitted_sizes, MIN_SIZE, int(sizes.max())), 3),
    }
    all_sizes = np.concatenate([sizes, np.ones(len(noise), dtype=int)])
    is_labelled = np.arange(len(all_sizes)) < len(sizes)
    target = np.concatenate(list(real.values()))

    def params_of(v: np.ndarray) -> dict:
        p = dict(zip(FREE, v.tolist()))
        p["latent_dim"] = round(max(p["latent_dim"], 8))
        return {**fixed, **p}

    def loss(v: np.ndarray) -> float:
        p = params_of(v)
        shares = (p["lookalike_share"], p["hard_share"], p["lookalike_rho_max"], p["hard_max"])
        if not (0 < p["quality_mean"] < 1 and all(0 <= v < 1 for v in shares)):
            return 1e3
        data = faces_from_sizes(all_sizes, 512, p, np.random.default_rng(0))
        keep = is_labelled[data.labels]
        simulated = np.concatenate(list(statistics(data.X, data.labels, keep).values()))
        return float(((simulated - target) ** 2).sum())

    result = minimize(
        loss,
        np.array(list(FREE.values())),
        method="Nelder-Mead",
        options={"maxiter": args.iterations, "xatol": 1e-3, "fatol": 1e-6},
    )
    params = {
        k: (round(v, 4) if isinstance(v, float) else v) for k, v in params_of(result.x).items()
    }
    best = faces_from_sizes(all_sizes, 512, params, np.random.default_rng(0))
    fitted = statistics(best.X, best.labels, is_labelled[best.labels])
    out = {
        "command": "python bench/fit_synthetic.py " + " ".join(sys.argv[1:]),
        "source": f"{args.run}: {len(X)} ArcFace faces, {len(sizes)} people, {len(noise)} noise faces",
        "params": params,
        "real": real,
        "fitted_simulation": fitted,
        "loss": round(float(result.fun), 5),
    }
    STATISTICS_FILE.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
