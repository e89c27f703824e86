"""Identity-structured synthetic embeddings for tests and benchmarks.

Identities have Zipf-distributed sizes; each face is its identity's random unit-sphere centre
plus isotropic Gaussian noise, re-normalised. A share of "noise faces" are uniform on the
sphere, each its own identity. Generated in chunks, so a million 128-d faces need ~0.5 GB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raypipe.embed.base import l2_normalize


@dataclass(frozen=True)
class SyntheticFaces:
    X: np.ndarray  # (n, dim) float32, L2-normalised
    labels: np.ndarray  # identity per row; noise faces have unique ids


def identity_sizes(n: int, mean_size: float, zipf_a: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf-distributed identity sizes summing to ``n``."""
    n_ids = max(1, int(n / mean_size))
    weights = 1.0 / np.arange(1, n_ids + 1) ** zipf_a
    sizes = (
        1 + rng.multinomial(n - n_ids, weights / weights.sum()) if n >= n_ids else np.ones(n, int)
    )
    return rng.permutation(sizes)


def make_faces(
    n: int,
    dim: int = 128,
    *,
    mean_size: float = 20.0,
    zipf_a: float = 1.0,
    spread: float = 0.9,
    noise_fraction: float = 0.05,
    seed: int = 0,
    chunk: int = 100_000,
) -> SyntheticFaces:
    """``n`` faces; ``spread``: noise norm relative to the centre (0.9: cos to centre ~0.74)."""
    rng = np.random.default_rng(seed)
    n_noise = int(n * noise_fraction)
    sizes = identity_sizes(n - n_noise, mean_size, zipf_a, rng)
    labels = np.concatenate(
        [np.repeat(np.arange(len(sizes)), sizes), len(sizes) + np.arange(n_noise)]
    )
    labels = rng.permutation(labels)
    centres = l2_normalize(rng.standard_normal((len(sizes), dim), dtype=np.float32))
    X = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        ids = labels[start : start + chunk]
        noise = rng.standard_normal((len(ids), dim), dtype=np.float32) * (spread / np.sqrt(dim))
        is_noise_face = ids >= len(sizes)
        base = centres[np.minimum(ids, len(sizes) - 1)]
        base[is_noise_face] = 0.0
        noise[is_noise_face] *= np.sqrt(dim) / spread
        X[start : start + chunk] = l2_normalize(base + noise)
    return SyntheticFaces(X=X, labels=labels)
