"""Synthetic face embeddings whose similarity statistics are fitted to real ArcFace embeddings.

The model works in cosine similarities, so its statistics do not depend on ``dim``:

- identity sizes: a truncated Zipf law on ``[min_size, max_size]`` (fitted on LFW's sizes);
- identity centres: random unit vectors in a ``latent_dim`` space; a share ``lookalike_share``
  of identities are look-alikes, drawn at cosine ``rho ~ U(0, lookalike_rho_max)`` around an
  earlier centre (the heavy upper tail of between-person similarities);
- faces: ``a * centre + sqrt(1 - a^2) * residual``: ``a`` (the face's cosine to its centre) is
  Beta-distributed around an identity quality that is itself Beta-distributed (per-identity
  spread), except a share ``hard_share`` of hard faces (profiles, blur, wrong detections) with
  ``a ~ U(0, hard_max)``; residuals are random unit vectors of the latent space;
- noise faces (``noise_share``): identities of one face (the strangers in the background).

The latent space is placed in ``dim`` by a random orthonormal basis; ``dim`` below
``latent_dim`` works, but then random pairs spread wider than fitted. The parameters and the
real quantiles live in ``face_statistics.json``, written by ``bench/fit_synthetic.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from raypipe.embed.base import l2_normalize
from raypipe.testing.embeddings import SyntheticFaces

STATISTICS_FILE = Path(__file__).with_name("face_statistics.json")
QUANTILES = (5, 25, 50, 75, 95)
#: The low tail of same-identity similarities (hard faces), fitted but not promised.
LOW_TAIL = (0.5, 1, 2)
#: Quantiles of between-person mean similarities: the look-alike tail included.
TAIL = (5, 25, 50, 75, 95, 99, 99.9)


def fitted_statistics() -> dict:
    """``{"params": ..., "real": ..., "command": ...}`` as ``bench/fit_synthetic.py`` wrote them."""
    return json.loads(STATISTICS_FILE.read_text(encoding="utf-8"))


def zipf_sizes(n_ids: int, exponent: float, min_size: int, max_size: int, rng) -> np.ndarray:
    """``n_ids`` identity sizes from a Zipf law truncated to ``[min_size, max_size]``."""
    support = np.arange(min_size, max_size + 1)
    weights = support.astype(float) ** -exponent
    return rng.choice(support, size=n_ids, p=weights / weights.sum())


def sizes_for(n: int, params: dict, max_size: int, rng) -> np.ndarray:
    """Identity sizes summing to ``n``: Zipf identities, then ``noise_share`` of one face each."""
    n_noise = round(n * params["noise_share"])
    sizes, total = [], 0
    while total < n - n_noise:
        batch = zipf_sizes(1024, params["zipf_exponent"], params["min_size"], max_size, rng)
        sizes.append(batch)
        total += int(batch.sum())
    sizes = np.concatenate(sizes)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n - n_noise) + 1]
    sizes[-1] -= int(sizes.sum()) - (n - n_noise)
    return np.concatenate([sizes[sizes > 0], np.ones(n_noise, dtype=sizes.dtype)])


def _beta(mean: np.ndarray | float, concentration: float, rng, size=None) -> np.ndarray:
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(mean * concentration, (1 - mean) * concentration, size=size)


def _unit(rng, rows: int, dim: int) -> np.ndarray:
    return l2_normalize(rng.standard_normal((rows, dim), dtype=np.float32))


def identity_centres(n_ids: int, latent_dim: int, params: dict, rng) -> np.ndarray:
    """Unit centres; look-alikes lie at cosine ``U(0, rho_max)`` from an earlier centre."""
    centres = _unit(rng, n_ids, latent_dim)
    lookalikes = np.flatnonzero(rng.random(n_ids) < params["lookalike_share"])
    lookalikes = lookalikes[lookalikes > 0]
    parents = (rng.random(len(lookalikes)) * lookalikes).astype(int)
    rho = rng.uniform(0, params["lookalike_rho_max"], len(lookalikes)).astype(np.float32)[:, None]
    for child, parent, r in zip(lookalikes, parents, rho):  # in order: chains of look-alikes
        centres[child] = r * centres[parent] + np.sqrt(1 - r * r) * centres[child]
    return l2_normalize(centres)


def faces_from_sizes(
    sizes: np.ndarray,
    dim: int,
    params: dict,
    rng,
    chunk: int = 200_000,
    out: np.ndarray | None = None,
) -> SyntheticFaces:
    """Faces of identities of ``sizes`` (rows shuffled), ``dim``-dimensional, unit length,
    written into ``out`` when given (a float32 memmap, for sets larger than memory)."""
    latent_dim = min(int(params["latent_dim"]), dim)
    centres = identity_centres(len(sizes), latent_dim, params, rng)
    quality = _beta(params["quality_mean"], params["quality_concentration"], rng, len(sizes))
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    basis = np.linalg.qr(rng.standard_normal((dim, latent_dim)))[0].astype(np.float32)
    X = np.empty((len(labels), dim), dtype=np.float32) if out is None else out
    for start in range(0, len(labels), chunk):
        ids = labels[start : start + chunk]
        a = _beta(quality[ids], params["face_concentration"], rng)
        hard = rng.random(len(ids)) < params["hard_share"]
        a[hard] = rng.uniform(0, params["hard_max"], int(hard.sum()))
        a = a.astype(np.float32)[:, None]
        latent = a * centres[ids] + np.sqrt(1 - a * a) * _unit(rng, len(ids), latent_dim)
        X[start : start + chunk] = l2_normalize(latent @ basis.T)
    return SyntheticFaces(X=X, labels=labels)


def make_realistic_faces(
    n: int,
    dim: int = 128,
    *,
    seed: int = 0,
    max_size: int = 500,
    params: dict | None = None,
    out: np.ndarray | None = None,
) -> SyntheticFaces:
    """``n`` faces with the fitted statistics (``params`` overrides them); the largest identity
    has at most ``max_size`` faces (LFW's largest has 530). ``out``: an ``(n, dim)`` float32
    array (a memmap) to write the faces into."""
    params = {**fitted_statistics()["params"], **(params or {})}
    rng = np.random.default_rng(seed)
    return faces_from_sizes(sizes_for(n, params, max_size, rng), dim, params, rng, out=out)


def similarity_quantiles(
    X: np.ndarray, labels: np.ndarray, *, max_faces: int = 4000, seed: int = 0
) -> dict[str, list[float]]:
    """Quantiles (:data:`QUANTILES`) of the cosine similarity of same- and different-identity
    pairs of up to ``max_faces`` rows (a random sample), and :data:`LOW_TAIL` of same ones."""
    rows = np.random.default_rng(seed).permutation(len(X))[:max_faces]
    X, labels = X[rows], np.asarray(labels)[rows]
    first, second = np.triu_indices(len(X), 1)
    sims = (X @ X.T)[first, second]
    same = labels[first] == labels[second]
    quantiles = {
        kind: np.round(np.percentile(sims[mask], QUANTILES), 3).tolist()
        for kind, mask in (("same", same), ("different", ~same))
    }
    return {**quantiles, "same_low_tail": np.round(np.percentile(sims[same], LOW_TAIL), 3).tolist()}


def person_statistics(X: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    """Quantiles of between-person mean similarities (:data:`TAIL`) and of within-person ones."""
    names, ids, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    sums = np.zeros((len(names), X.shape[1]))
    np.add.at(sums, ids, X)
    totals = sums @ sums.T
    between = (totals / np.outer(sizes, sizes))[np.triu_indices(len(names), 1)]
    many = sizes > 1
    within = (np.diag(totals)[many] - sizes[many]) / (sizes[many] * (sizes[many] - 1))
    return {
        "between_person": np.round(np.percentile(between, TAIL), 3).tolist(),
        "within_person": np.round(np.percentile(within, QUANTILES), 3).tolist(),
    }
