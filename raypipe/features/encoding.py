"""Encode a variable number of local descriptors per face into one vector.

``fisher``: Fisher vectors of a diagonal Gaussian mixture (mean and variance gradients, power and
L2 normalised; Perronnin et al. 2010); ``vlad``: residuals to the nearest k-means centre;
``bow``: a histogram of nearest centres. The vocabulary is fitted on a sample of descriptors,
after a PCA that decorrelates them (the mixture is diagonal).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

ENCODINGS = ("fisher", "vlad", "bow")


class DescriptorEncoder:
    """Fitted vocabulary for ``encoding`` with ``n_words`` words on ``pca_dim``-d descriptors."""

    def __init__(
        self, *, encoding: str = "fisher", n_words: int = 32, pca_dim: int = 32, seed: int = 0
    ):
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}; choose one of {ENCODINGS}")
        self.encoding = encoding
        self.n_words = n_words
        self.pca_dim = pca_dim
        self.seed = seed

    @property
    def dim(self) -> int:
        word_dim = self.state["mean"].shape[1]
        return {
            "fisher": 2 * self.n_words * word_dim,
            "vlad": self.n_words * word_dim,
            "bow": self.n_words,
        }[self.encoding]

    def fit(self, descriptors: np.ndarray) -> DescriptorEncoder:
        """Learn the PCA and the vocabulary from stacked descriptors (M, d)."""
        pca = PCA(min(self.pca_dim, *descriptors.shape), random_state=self.seed).fit(descriptors)
        reduced = pca.transform(descriptors)
        if self.encoding == "fisher":
            gmm = GaussianMixture(
                self.n_words, covariance_type="diag", random_state=self.seed, reg_covar=1e-4
            ).fit(reduced)
            words = {"mean": gmm.means_, "variance": gmm.covariances_, "weight": gmm.weights_}
        else:
            kmeans = KMeans(self.n_words, n_init=3, random_state=self.seed).fit(reduced)
            words = {"mean": kmeans.cluster_centers_}
        self.state = {"pca_mean": pca.mean_, "pca_components": pca.components_, **words}
        self.state = {key: np.asarray(value, dtype=np.float32) for key, value in self.state.items()}
        return self

    def encode(self, per_face: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per face from its (M_i, d) descriptors; faces with none get zeros."""
        out = np.zeros((len(per_face), self.dim), dtype=np.float32)
        for i, descriptors in enumerate(per_face):
            if len(descriptors):
                reduced = (descriptors - self.state["pca_mean"]) @ self.state["pca_components"].T
                out[i] = getattr(self, f"_{self.encoding}")(reduced.astype(np.float32))
        return out

    def _assign(self, x: np.ndarray) -> np.ndarray:
        distance = ((x[:, None, :] - self.state["mean"][None]) ** 2).sum(axis=2)
        return distance.argmin(axis=1)

    def _bow(self, x: np.ndarray) -> np.ndarray:
        histogram = np.bincount(self._assign(x), minlength=self.n_words).astype(np.float32)
        return _l2(np.sqrt(histogram))

    def _vlad(self, x: np.ndarray) -> np.ndarray:
        words = self._assign(x)
        residuals = np.zeros_like(self.state["mean"])
        np.add.at(residuals, words, x - self.state["mean"][words])
        residuals = _l2(residuals)  # intra-normalisation per word
        return _l2(_power(residuals.ravel()))

    def _fisher(self, x: np.ndarray) -> np.ndarray:
        mean, variance, weight = self.state["mean"], self.state["variance"], self.state["weight"]
        std = np.sqrt(variance)
        z = (x[:, None, :] - mean[None]) / std[None]  # (M, K, d)
        log_p = -0.5 * (z**2).sum(axis=2) - np.log(std).sum(axis=1)[None] + np.log(weight)[None]
        log_p -= log_p.max(axis=1, keepdims=True)
        posterior = np.exp(log_p)
        posterior /= posterior.sum(axis=1, keepdims=True)  # (M, K)
        m = len(x)
        d_mean = (posterior[..., None] * z).sum(axis=0) / (m * np.sqrt(weight)[:, None])
        d_var = (posterior[..., None] * (z**2 - 1)).sum(axis=0) / (m * np.sqrt(2 * weight)[:, None])
        return _l2(_power(np.concatenate([d_mean.ravel(), d_var.ravel()])))


def _power(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.sqrt(np.abs(x))


def _l2(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)
