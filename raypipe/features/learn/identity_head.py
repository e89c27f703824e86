"""Identity heads on frozen backbone features: linear maps learned from labelled characters.

:func:`within_class_whitening` (what raypipe ships for drawn faces) shrinks the directions along
which crops of one character vary (augmented views of a crop count as more crops) and keeps
those that tell characters apart. :func:`train_identity_head` starts from such a map and trains
it further with a loss that keeps it near that start (on the drawn-face protocol it did worse
than its start: docs/drawn-faces.md). The loss is supervised contrastive (Khosla et al. 2020):
two views of each row in a batch (the features of the crop itself or of augmented copies of
it, computed beforehand), every other row of the same character a positive, every other
character a negative. Or a margin loss (``loss``: ``cosface``, Wang et al. 2018, or
``arcface``, Deng et al. 2019): one learned unit prototype per character, started at its mean,
each row's similarity to its own prototype lowered by a margin before a scaled softmax.
Characters are resampled to the same number of rows, so a character with many crops does not
dominate. Training runs :func:`raypipe.training.train_epochs`.

:func:`pseudo_characters` (issue 25, ninth round): tight communities of unlabelled faces, taken
as more characters for :func:`within_class_whitening` (:func:`with_pseudo_characters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from raypipe.cluster.base import run_standardised
from raypipe.cluster.graph import Leiden
from raypipe.cluster.knn import nearest_neighbours
from raypipe.embed.base import l2_normalize
from raypipe.features.learn.train import TrainLimits
from raypipe.training import train_epochs


@dataclass
class HeadSettings:
    """Output size, loss temperature and training limits of :func:`train_identity_head`."""

    dim: int = 128  # without a start: the identity on the first ``dim`` inputs
    temperature: float = 0.3
    #: Weight of the squared distance of the head from where it started (few characters: a head
    #: free to move learns to tell only them apart).
    proximity: float = 0.1
    limits: TrainLimits = field(default_factory=lambda: TrainLimits(30, 300.0, 256, 1e-3, 0.0))
    #: ``supervised-contrastive``, or a margin loss: ``cosface`` (cosine minus ``margin``) or
    #: ``arcface`` (angle plus ``margin``), logits times ``scale``.
    loss: str = "supervised-contrastive"
    margin: float = 0.25
    scale: float = 16.0


MARGIN_LOSSES = ("cosface", "arcface")


def margin_loss(z: torch.Tensor, prototypes: torch.Tensor, labels: torch.Tensor, settings: HeadSettings) -> torch.Tensor:
    """Cross entropy of ``scale`` x cosine to each prototype, each row's own with the margin."""
    cosine = F.normalize(z, dim=1) @ F.normalize(prototypes, dim=1).t()
    own = F.one_hot(labels, len(prototypes)).bool()
    if settings.loss == "arcface":
        angle = torch.acos(cosine.clamp(-1 + 1e-6, 1 - 1e-6))
        target = torch.cos(angle + settings.margin)
    else:
        target = cosine - settings.margin
    return F.cross_entropy(settings.scale * torch.where(own, target, cosine), labels)


def supervised_contrastive(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over rows with a positive of the negative log-likelihood of its positives."""
    z = F.normalize(z, dim=1)
    itself = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = (z @ z.t() / temperature).masked_fill(itself, float("-inf"))
    log_prob = logits - logits.logsumexp(dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~itself
    has = positives.any(dim=1)
    per_row = log_prob.masked_fill(~positives, 0.0).sum(dim=1)[has] / positives.sum(dim=1)[has]
    return -per_row.mean()


def with_views(features: np.ndarray, views: np.ndarray | None) -> np.ndarray:
    """The rows of ``features`` followed by those of each of its ``views`` (V, N, D), if any."""
    if views is None or len(views) == 0:
        return features
    return np.concatenate([features[None], views]).reshape(-1, features.shape[1])


def within_class_whitening(features: np.ndarray, labels, shrinkage: float = 0.3, views: np.ndarray | None = None) -> np.ndarray:
    """``(D, D)`` map making the within-character covariance of ``features`` (shrunk towards the
    identity by ``shrinkage``) the identity; ``views`` (V, N, D), augmented features of the same
    rows, count as more crops of their rows' characters."""
    codes = np.unique(np.asarray(labels), return_inverse=True)[1]
    rows = with_views(features, views)
    codes = np.tile(codes, len(rows) // len(features))
    means = np.stack([rows[codes == c].mean(axis=0) for c in range(codes.max() + 1)])
    centred = rows - means[codes]
    covariance = centred.T @ centred / len(centred)
    values, vectors = np.linalg.eigh((1 - shrinkage) * covariance + shrinkage * np.eye(len(covariance)))
    return (vectors / np.sqrt(values)).astype(np.float32)


@dataclass(frozen=True)
class PseudoFilter:
    """Which unlabelled faces make pseudo-characters (:func:`pseudo_characters`): Leiden
    modularity communities at ``resolution`` of the graph of each face's ``graph_k`` nearest
    within cosine ``distance``; a face is confident when at least ``agree`` of its ``nearest``
    nearest (within ``distance``) share its community; a community's confident faces are kept
    when there are at least ``least``."""

    resolution: float = 10.0
    agree: int = 8
    nearest: int = 10
    least: int = 5
    graph_k: int = 30
    distance: float = 0.94

    def describe(self) -> str:
        return (f"Leiden resolution {self.resolution:g} on {self.graph_k} nearest within {self.distance:g}, run standardised; "
                f"faces with >= {self.agree} of {self.nearest} nearest in their community; communities of >= {self.least}")  # fmt: skip


def confident_members(Z: np.ndarray, communities: np.ndarray, settings: PseudoFilter) -> np.ndarray:
    """``communities`` of the unit rows ``Z`` cut to their confident faces (``settings``), those
    with fewer than ``settings.least`` dropped; -1: dropped; kept ones numbered 0, 1, ..."""
    found = nearest_neighbours(Z, min(settings.nearest, len(Z) - 1))
    close = (found.indices >= 0) & (found.distances <= settings.distance)
    agreeing = ((communities[np.maximum(found.indices, 0)] == communities[:, None]) & close).sum(axis=1)
    kept = np.where(agreeing >= settings.agree, communities, -1)
    counts = np.bincount(kept[kept >= 0], minlength=communities.max() + 1)
    kept = np.where((kept >= 0) & (counts[np.maximum(kept, 0)] >= settings.least), kept, -1)
    codes = np.unique(kept[kept >= 0], return_inverse=True)[1]
    out = np.full(len(Z), -1, dtype=np.int64)
    out[kept >= 0] = codes
    return out


def pseudo_characters(Z: np.ndarray, settings: PseudoFilter | None = None) -> np.ndarray:
    """Pseudo-character of each of the unlabelled unit rows ``Z`` (a head's vectors), -1 for
    none: ``Z`` standardised over its rows, Leiden communities, cut to confident faces
    (:func:`confident_members`)."""
    settings = settings or PseudoFilter()
    Z = run_standardised(Z)
    leiden = Leiden(threshold=settings.distance, k=settings.graph_k, resolution=settings.resolution)
    return confident_members(Z, leiden.fit(Z).labels_, settings)


def with_pseudo_characters(features: np.ndarray, labels, views: np.ndarray | None, unlabelled: np.ndarray,
                           shrinkage: float, settings: PseudoFilter | None = None, rounds: int = 1) -> tuple[np.ndarray, int]:  # fmt: skip
    """``(map, count)``: :func:`within_class_whitening` of labelled ``features`` (with their
    ``views``) refitted with the :func:`pseudo_characters` (``count`` of them) that its map finds
    among the ``unlabelled`` rows (one row each, no views), ``rounds`` times (each round's map
    finds the next round's pseudo-characters; the labelled rows are always kept)."""
    labels = np.asarray(labels).astype(str)
    matrix = within_class_whitening(features, labels, shrinkage, views=views)
    rows = with_views(features, views)
    names = np.tile(labels, len(rows) // len(features))
    count = 0
    for _ in range(rounds):
        found = pseudo_characters(l2_normalize(unlabelled @ matrix), settings)
        keep = found >= 0
        count = int(found.max()) + 1
        pseudo = np.char.add("pseudo-character ", found[keep].astype(str))
        matrix = within_class_whitening(np.concatenate([rows, unlabelled[keep]]), np.concatenate([names, pseudo]), shrinkage)
    return matrix, count


def balanced_rows(codes: np.ndarray, seed: int) -> np.ndarray:
    """Row indices with every label repeated (cyclically, shuffled) to the largest label's count."""
    rng = np.random.default_rng(seed)
    most = np.bincount(codes).max()
    return np.concatenate([np.resize(rng.permutation(np.flatnonzero(codes == c)), most) for c in np.unique(codes)])


def train_identity_head(
    features: np.ndarray,
    labels,
    views: np.ndarray | None = None,
    settings: HeadSettings | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """The ``(D, dim)`` head trained on ``features`` (N, D) of characters ``labels``;
    ``views`` (V, N, D): the same rows' augmented features (None: the rows themselves only);
    ``start``: the head to start from (None: the identity on the first ``dim`` inputs)."""
    settings = settings or HeadSettings()
    limits = settings.limits
    torch.manual_seed(limits.seed)
    rows = torch.from_numpy(np.asarray(features, np.float32))
    every_view = rows[None] if views is None or len(views) == 0 else torch.cat([rows[None], torch.from_numpy(views)])
    codes = np.unique(np.asarray(labels), return_inverse=True)[1]
    order = torch.from_numpy(balanced_rows(codes, limits.seed))
    label_of = torch.from_numpy(codes)[order]
    origin = torch.eye(rows.shape[1], settings.dim) if start is None else torch.from_numpy(np.asarray(start, np.float32))
    head = torch.nn.Parameter(origin.clone())
    generator = torch.Generator().manual_seed(limits.seed)
    margin = settings.loss in MARGIN_LOSSES
    if margin:  # one prototype per character, started at its rows' mean
        start_z, code_of = F.normalize(rows @ origin, dim=1), torch.from_numpy(codes)
        prototypes = torch.nn.Parameter(torch.stack([start_z[code_of == c].mean(dim=0) for c in range(codes.max() + 1)]))

    def step(batch: torch.Tensor) -> torch.Tensor:
        picked = order[batch]
        first, second = (torch.randint(len(every_view), (len(batch),), generator=generator) for _ in range(2))
        if margin:
            loss = margin_loss(every_view[first, picked] @ head, prototypes, label_of[batch], settings)
        else:
            z = torch.cat([every_view[first, picked], every_view[second, picked]]) @ head
            loss = supervised_contrastive(z, label_of[batch].repeat(2), settings.temperature)
        return loss + settings.proximity * (head - origin).pow(2).sum()

    params = [head, prototypes] if margin else [head]
    optimiser = torch.optim.AdamW(params, lr=limits.learning_rate, weight_decay=limits.weight_decay)
    train_epochs(step, len(order), optimiser, epochs=limits.epochs, batch_size=limits.batch_size,
                 max_seconds=limits.max_seconds, generator=generator, min_batch=2, name="identity head")  # fmt: skip
    return head.detach().numpy().copy()
