"""The drawn-face protocol: embeddings of drawn characters scored on characters they never saw.

Folds (:func:`raypipe.evaluation.protocol.character_folds`) over the 20 labelled characters of
``anime`` and ``anime_fanart``: ``--splits`` random halves (5 + 5 characters of each source fitted
on, the other 10 reported on) and leave-one-source-out (fit on one source, report on the other).
For every fold and embedding, everything learned is learned on the fold's FIT characters only:

- the identity head (:mod:`raypipe.features.learn.identity_head`): within-class whitening (of
  the crops, or of the crops and their augmented views), or that trained further with a
  supervised contrastive loss;
- the clusterer and its "same character" distances: the default clusterer's average linkage
  (``auto``: ``average`` and ``leftover``) or Leiden communities of the k-NN graph (edge
  distance, ``k``, resolution): inner folds split the fit characters in halves, an embedding is
  fitted on one half and the grid scored on the other; the setting of best mean BCubed F among
  those leaving at most 15% of faces alone wins.

Then the fold's REPORT characters are clustered without k (that setting) and with the true k
(:func:`nmi_with_k`: what ``auto`` does given k; k-means until issue 25's third round). Candidates besides the embeddings: ``--test-view mirror`` (each crop's features
averaged with its mirror image's, in fitting and in use), ``--train-views grey`` (the grey crops
as more augmented views), and the ``run-centred`` / ``run-standardised`` embeddings (the unit
vectors of the faces clustered together centred on their mean, or standardised, as ``auto``
does before Leiden when :class:`raypipe.cluster.calibration.Communities` says so), and the
``run: ...`` embeddings: the per-run transforms of ``drawn_run_transforms`` (:data:`RUN_TRANSFORMS`);
each fold also prints its fit-side NMI with the true k (:func:`nmi_with_k` on the inner folds). The table holds each embedding's mean and worst fold, and the mean fit-side F (the
inner folds' best) that chose :data:`SHIPPED`. ``--ship`` fits that head on the characters of
the sources shipped weights may be trained on (:data:`drawn_features.SHIPPABLE_SOURCES`:
``anime_fanart``; ``anime`` is evaluation only), or with ``--fold NAME`` on that fold's fit
characters, chooses its distances by the same inner folds and writes
``raypipe/features/weights/drawn_identity.npz`` (``--out``). The shipped head and
``--fold report-anime`` are the same fit. ``--colour-share M`` joins each crop's colour
histogram to the head's input (:func:`whitened_inputs`, scaled to ``M`` components' variance;
issue 25's fourth round: :data:`COLOUR_SHARE`, the shipped head's; 0: none); ``--colour-grid
3``: one histogram per cell of a 3 x 3 split of the chip instead (the fifth round).
``--blocks 3 4``: the head's input starts with the pooled features of these dense blocks of the
backbone, each whitened by its own PCA fitted on ``anime_unlabelled``
(:func:`drawn_features.block_projection`; the sixth round; default: block 4 alone, as shipped).
The ninth round's heads (:data:`PSEUDO`) refit the head with pseudo-characters of the
``anime_unlabelled`` crops (:func:`unlabelled_inputs`) that its first fit finds; ``--ship
--head-pseudo NAME`` ships one (shrinkage :data:`SHRINKAGE`), the file saying so (``fitted_on``).
``--framing-cache CACHE``: the same crops chipped another way (e.g. whole, where ``--cache`` holds
them reframed on their face) count as more augmented views in fitting (the eleventh round); with
``--fuse-framing`` each crop is also embedded by the mean of its two chippings' run views (the
twelfth round). ``--components N``: block 4's whitening PCA keeps N components, refitted on
``anime_unlabelled`` (the thirteenth round; the shipped head's: 768). ``--shrinkage S``: the
shipped head's and its pseudo-character refits' within-class covariance shrunk S (the sixteenth round).

    nice -n 10 python bench/drawn_protocol.py --model-root ~/.raypipe/models
    nice -n 10 python bench/drawn_protocol.py --model-root ~/.raypipe/models --test-view mirror --ship
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from drawn_features import (
    BLOCK_COMPONENTS,
    BLOCKS,
    CACHE,
    SHIPPABLE_SOURCES,
    TEST_VIEWS,
    block_projection,
    load_features,
    reframing,
    test_view_features,
    unlabelled_colours,
    unlabelled_features,
)
from drawn_run_transforms import (
    coral_recoloured,
    neighbour_averaged,
    reciprocal_averaged,
    run_whitened,
    shrunk_covariance,
    symmetric_power,
)

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.base import run_standardised
from raypipe.cluster.calibration import CALIBRATION
from raypipe.embed.base import l2_normalize
from raypipe.evaluation.metrics import score_clustering
from raypipe.evaluation.protocol import CharacterFold, character_folds, mean_and_worst
from raypipe.features.drawn_densenet import (
    IDENTITY,
    joined_projection,
    projected,
    save_identity,
    whitened,
)
from raypipe.features.learn.identity_head import (
    HeadSettings,
    PseudoFilter,
    train_identity_head,
    with_pseudo_characters,
    with_views,
    within_class_whitening,
)

#: "Same character" distance grid of the default clusterer; ``leftover`` is ``average`` plus one of
#: the offsets (None: no face left alone is attached).
AVERAGE_GRID = np.round(np.arange(0.30, 0.99, 0.04), 2)
LEFTOVER_OFFSETS = (None, 0.05, 0.10)
#: Leiden communities of the k-NN graph: edge distances, neighbours and resolutions.
LEIDEN_GRID = {"threshold": (0.74, 0.78, 0.82, 0.86, 0.90, 0.94, 0.98), "k": (10, 20, 30), "resolution": (0.5, 1.0, 2.0)}
MOST_ALONE = 0.15
INNER_SPLITS = 2
#: Shrinkage of the within-class covariance of the shipped head (``--shrinkage``; issue 25,
#: second set: 0.15 of best mean fit-side F, docs/drawn-faces.md).
SHRINKAGE = 0.15
#: The colour block of the shipped head's input (``--colour-share``: its variance that of this many
#: whitened DenseNet components; 0: none; issue 25, fourth round: 32 of best mean fit-side NMI with k).
COLOUR_SHARE = 32.0
#: The colour block's histograms: one per cell of a ``--colour-grid`` x ``--colour-grid`` split
#: of the chip (1: the whole chip, as shipped).
COLOUR_GRID = 1


@dataclass
class Fitted:
    """An embedding fitted on some characters: whitened features -> unit vectors; ``run``: what
    is then done to the unit vectors of the faces clustered together (a key of
    :data:`RUN_TRANSFORMS`: ``"centre"`` on their own mean, ``"standardise"`` each dimension too,
    ...), unit length again."""

    matrix: np.ndarray | None
    run: str | None = None
    pseudo: str = ""  # the pseudo-characters it was also fitted on, in words ("": none)

    def __call__(self, white: np.ndarray) -> np.ndarray:
        z = l2_normalize(white if self.matrix is None else white @ self.matrix)
        return RUN_TRANSFORMS[self.run](z) if self.run else z


#: Per-run transforms (no labels) of the unit vectors of the faces clustered together.
RUN_TRANSFORMS = {"centre": lambda z: l2_normalize(z - z.mean(axis=0)), "standardise": run_standardised,
                  "whiten": run_whitened,
                  "standardise, neighbour-averaged": lambda z: neighbour_averaged(run_standardised(z)),
                  "standardise, reciprocal-averaged": lambda z: reciprocal_averaged(run_standardised(z)),
                  "whiten, neighbour-averaged": lambda z: neighbour_averaged(run_whitened(z)),
                  "whiten 64 components": lambda z: run_whitened(z, components=64)}  # fmt: skip


def fit_projection(white, labels, views) -> Fitted:
    """The unlabelled whitening alone (nothing learned from the characters)."""
    return Fitted(None)


def fit_within_class(white, labels, views) -> Fitted:
    """Within-class whitening alone (closed form, the head's start)."""
    return Fitted(within_class_whitening(white, labels))


def fit_within_class_views(white, labels, views, shrinkage: float = SHRINKAGE) -> Fitted:
    """Within-class whitening, the augmented views counted as more crops of their characters."""
    return Fitted(within_class_whitening(white, labels, shrinkage, views=views))


def fit_within_class_views_run(white, labels, views, shrinkage: float = SHRINKAGE, run: str = "centre") -> Fitted:
    """The shipped head, the run's unit vectors centred (or standardised) on their own mean."""
    return Fitted(within_class_whitening(white, labels, shrinkage, views=views), run)


#: The ninth round's candidates (docs/drawn-faces.md): the shipped head refitted with pseudo-characters
#: of ``anime_unlabelled`` found by its own first fit: (filter, rounds); ``finer`` and ``looser``:
#: the nineteenth round's.
PSEUDO = {"within-class whitening + views + pseudo-characters": (PseudoFilter(), 1),
          "within-class whitening + views + pseudo-characters, strict": (PseudoFilter(resolution=20.0, agree=10), 1),
          "within-class whitening + views + pseudo-characters, twice": (PseudoFilter(), 2),
          "within-class whitening + views + pseudo-characters, twice, finer": (PseudoFilter(resolution=20.0, agree=6), 2),
          "within-class whitening + views + pseudo-characters, twice, looser": (PseudoFilter(agree=6), 2)}  # fmt: skip


def fit_with_pseudo(white, labels, views, unlabelled=None, settings: PseudoFilter | None = None, rounds=1, run=None,
                    shrinkage: float = SHRINKAGE) -> Fitted:  # fmt: skip
    """The shipped head refitted with the pseudo-characters it finds among the ``unlabelled``
    rows (:func:`with_pseudo_characters`; bound by :func:`bind_unlabelled`)."""
    settings = settings or PseudoFilter()
    matrix, count = with_pseudo_characters(white, labels, views, unlabelled, shrinkage, settings, rounds)
    rounds_said = "" if rounds == 1 else f", found {rounds} times (each by the previous refit)"
    return Fitted(matrix, run, f"anime_unlabelled: {count} pseudo-characters ({settings.describe()}{rounds_said}; view0 only)")


def bind_unlabelled(fits: dict, unlabelled: np.ndarray, shrinkage: float = SHRINKAGE) -> None:
    """Give each :func:`fit_with_pseudo` of ``fits`` the ``anime_unlabelled`` rows it draws from
    and its covariance ``shrinkage`` (``--shrinkage``)."""
    for name, fit in fits.items():
        if isinstance(fit, partial) and fit.func is fit_with_pseudo:
            fits[name] = partial(fit, unlabelled=unlabelled, shrinkage=shrinkage)


def fit_head(white, labels, views) -> Fitted:
    """The identity head: within-class whitening, then supervised contrastive training on the
    crops and their augmented views."""
    return Fitted(train_identity_head(white, labels, views, HeadSettings(), start=within_class_whitening(white, labels)))


def fit_margin_head(white, labels, views, loss: str = "cosface", run: str | None = None) -> Fitted:
    """A margin-loss head (``cosface`` or ``arcface``, :class:`HeadSettings`' fixed settings)
    started from the shipped within-class whitening (issue 25, third round)."""
    start = within_class_whitening(white, labels, SHRINKAGE, views=views)
    return Fitted(train_identity_head(white, labels, views, HeadSettings(loss=loss), start=start), run)


def head_inputs(vectors: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """What a clustering stage knows of a head's inputs from its unit vectors ``l2(x H)``:
    ``x / |x H|`` (``H`` square, invertible)."""
    return np.asarray(vectors, np.float64) @ np.linalg.inv(np.asarray(matrix, np.float64))


@dataclass
class Recoloured:
    """A head whose run's inputs are first re-coloured to its fit rows' covariance (CORAL, issue
    25's eighth round, C2), from the run's unit vectors alone: :func:`head_inputs`, then
    :func:`coral_recoloured` to the fit rows' ``mean`` and covariance square ``root`` (both of
    their :func:`head_inputs`), then the head again; unit vectors, no per-run transform."""

    matrix: np.ndarray
    mean: np.ndarray
    root: np.ndarray

    def __call__(self, white: np.ndarray) -> np.ndarray:
        x = head_inputs(l2_normalize(white @ self.matrix), self.matrix)
        return l2_normalize((coral_recoloured(x, self.mean, self.root, SHRINKAGE) @ self.matrix).astype(np.float32))


def fit_within_class_views_coral(white, labels, views) -> Recoloured:
    """The shipped head, and the mean and covariance root of its fit rows' (crops and views)
    :func:`head_inputs`, each covariance shrunk :data:`SHRINKAGE` (C2)."""
    matrix = within_class_whitening(white, labels, SHRINKAGE, views=views)
    x = head_inputs(l2_normalize(with_views(white, views) @ matrix), matrix)
    return Recoloured(matrix, x.mean(axis=0), symmetric_power(shrunk_covariance(x, SHRINKAGE), 0.5))


EMBEDDINGS = {"projection (unlabelled)": fit_projection, "within-class whitening": fit_within_class,
              "within-class whitening + views": fit_within_class_views, "identity head": fit_head,
              "within-class whitening + views, run-centred": fit_within_class_views_run,
              "within-class whitening + views, run-standardised": partial(fit_within_class_views_run, run="standardise")}  # fmt: skip
EMBEDDINGS |= {f"within-class whitening + views, run: {run}": partial(fit_within_class_views_run, run=run)
               for run in ("whiten", "standardise, neighbour-averaged", "standardise, reciprocal-averaged",
                           "whiten, neighbour-averaged", "whiten 64 components")}  # fmt: skip
EMBEDDINGS |= {f"{name} head{suffix}": partial(fit_margin_head, loss=loss, run=run)
               for name, loss in (("CosFace", "cosface"), ("ArcFace", "arcface"))
               for suffix, run in (("", None), (", run-standardised", "standardise"))}  # fmt: skip
EMBEDDINGS |= {f"{name}, run-standardised": partial(fit_with_pseudo, settings=settings, rounds=rounds, run="standardise")
               for name, (settings, rounds) in PSEUDO.items()}  # fmt: skip
#: What ``--ship`` writes: the embedding of best mean fit-side F (inner folds), never a report score.
SHIPPED = "within-class whitening + views, run-standardised"


def cluster_scores(Z: np.ndarray, labels: np.ndarray, spec: dict) -> dict[str, float]:
    """Clusterer ``spec`` (no k): BCubed F, NMI, clusters, faces left alone."""
    predicted = CLUSTERERS.build(spec).fit(Z).labels_
    scores = score_clustering(labels, predicted)
    sizes = np.bincount(predicted[predicted >= 0])
    alone = float(np.mean((predicted < 0) | (sizes[np.maximum(predicted, 0)] == 1)))
    return {"bcubed_f": scores["bcubed_f"], "nmi": scores["nmi"], "clusters": scores["n_clusters"],
            "alone": alone, "unassigned": float(np.mean(predicted < 0))}  # fmt: skip


def settings_grid():
    """Clusterer specs: ``auto`` (average linkage) at every distance, then Leiden communities."""
    for average in AVERAGE_GRID:
        for offset in LEFTOVER_OFFSETS:
            leftover = None if offset is None else round(float(average + offset), 2)
            yield {"name": "auto", "threshold": float(average), "attach_leftovers": leftover is not None,
                   "leftover_distance": leftover}  # fmt: skip
    for threshold, k, resolution in itertools.product(*LEIDEN_GRID.values()):
        yield {"name": "leiden", "threshold": threshold, "k": k, "resolution": resolution}


def inner_means(fit, white, views, labels, source_of, score, across_sources: bool = False) -> np.ndarray:
    """Mean over inner folds of these characters (an embedding fitted on one half, ``score(Z,
    labels)`` on the other) of the score array; ``across_sources``: fitted on one source's
    characters, scored on the other's, both ways (issue 25, seventh round)."""
    inner = character_folds({name: source_of[name] for name in np.unique(labels)}, splits=INNER_SPLITS, seed=1)
    inner = [fold for fold in inner if fold.name.startswith("random") != across_sources]
    total = 0.0
    for fold in inner:
        train, held = fold.masks(labels)
        total = total + np.asarray(score(fit(white[train], labels[train], views[:, train])(white[held]), labels[held]))
    return total / len(inner)


def choose_clusterer(fit, white, views, labels, source_of) -> tuple[dict, float]:
    """``(spec, F)``: the clusterer setting of best mean BCubed F ``F`` over inner folds of these
    characters only, among settings leaving at most :data:`MOST_ALONE` of the faces alone."""
    grid = list(settings_grid())

    def score(Z, truth):
        return [[s["bcubed_f"], s["alone"]] for s in (cluster_scores(Z, truth, spec) for spec in grid)]

    means = inner_means(fit, white, views, labels, source_of, score)
    allowed = means[:, 1] <= MOST_ALONE
    best = int(np.argmax(np.where(allowed, means[:, 0], -1.0) if allowed.any() else means[:, 0]))
    return grid[best], float(means[best, 0])


def choose_pair(fit, white, views, labels, source_of) -> float:
    """Chinese Whispers' single-link distance of best mean BCubed F over the same inner folds."""

    def score(Z, truth):
        spec = {"name": "chinese-whispers"}
        return [score_clustering(truth, CLUSTERERS.build({**spec, "threshold": float(t)}).fit(Z).labels_)["bcubed_f"]
                for t in AVERAGE_GRID]  # fmt: skip

    return float(AVERAGE_GRID[int(np.argmax(inner_means(fit, white, views, labels, source_of, score)))])


def nmi_with_k(Z: np.ndarray, truth: np.ndarray) -> float:
    """NMI against ``truth`` of what ``auto`` does given the true k for the drawn-face model
    (issue 25, third round; k-means before it): Leiden communities of the shipped graph of ``Z``
    (as the embedding gives them: standardised where it says so), resolution searched to k."""
    graph = CALIBRATION["feature:drawn-densenet"].communities
    spec = {"name": "leiden", "threshold": graph.distance, "k": graph.k, "n_clusters": len(np.unique(truth))}
    return score_clustering(truth, CLUSTERERS.build(spec).fit(Z).labels_)["nmi"]


def run_fold(fold: CharacterFold, fit, white, views, labels, source_of) -> dict[str, float]:
    train, report = fold.masks(labels)
    spec, inner_f = choose_clusterer(fit, white[train], views[:, train], labels[train], source_of)
    inner_nmi_k = float(inner_means(fit, white[train], views[:, train], labels[train], source_of, nmi_with_k))
    embed = fit(white[train], labels[train], views[:, train])
    Z, truth = embed(white[report]), labels[report]
    scores = cluster_scores(Z, truth, spec)
    leftover = spec.get("leftover_distance")
    return {**scores, "nmi_k": nmi_with_k(Z, truth), "leiden": float(spec["name"] == "leiden"),
            "distance": spec["threshold"], "leftover": -1.0 if leftover is None else leftover,
            "fit_side_f": inner_f, "fit_side_nmi_k": inner_nmi_k}  # fmt: skip


COLUMNS = ("bcubed_f", "alone", "clusters", "nmi", "nmi_k", "leiden", "distance", "leftover", "fit_side_f",
           "fit_side_nmi_k")  # fmt: skip


def print_table(results: dict[str, list[dict[str, float]]], folds: list[CharacterFold]) -> None:
    print("| embedding | folds | summary | BCubed F (no k) | faces alone | clusters | NMI (no k) | NMI (true k) "
          "| Leiden chosen | distance | leftover | fit-side F | fit-side NMI (true k) |")  # fmt: skip
    print("|---|---|---|" + "---|" * len(COLUMNS))
    groups = {"random splits": [f.name.startswith("random") for f in folds],
              "leave-one-source-out": [not f.name.startswith("random") for f in folds]}  # fmt: skip
    for name, rows in results.items():
        for group, chosen in groups.items():
            summary = mean_and_worst([row for row, keep in zip(rows, chosen) if keep])
            for kind in ("mean", "worst"):
                cells = " | ".join(f"{summary[kind][c]:.3f}" if c not in ("clusters",) else f"{summary[kind][c]:.1f}"
                                   for c in COLUMNS)  # fmt: skip
                print(f"| {name} | {group} ({sum(chosen)}) | {kind} | {cells} |")


def ship(fit, white, views, labels, source_of, projection, fold: CharacterFold | None, out, mirrored=False,
         colour=0.0, blocks=(4,), reframe="none", other_framing="") -> None:  # fmt: skip
    """Fit the head on ``fold``'s fit characters (None: those of :data:`SHIPPABLE_SOURCES`),
    choose its distances on inner folds of the same characters, write it to ``out``
    (``mirrored``: ``white`` are the mean features of each crop and its mirror image;
    ``colour``: ``white`` ends with colour histograms times this; ``blocks``: the backbone
    blocks ``projection`` whitens; ``reframe``: how the crops were chipped; ``other_framing``:
    the other chipping ``views`` also hold, in words)."""
    shippable = [name for name, source in source_of.items() if source in SHIPPABLE_SOURCES]
    train = fold.masks(labels)[0] if fold else np.isin(labels, shippable)
    spec, _ = choose_clusterer(fit, white[train], views[:, train], labels[train], source_of)
    pair = choose_pair(fit, white[train], views[:, train], labels[train], source_of)
    fitted = fit(white[train], labels[train], views[:, train])
    characters = sorted(set(labels[train]))
    save_identity(out, projection, fitted.matrix, characters, [source_of[name] for name in characters], mirrored, colour,
                  blocks, fitted.pseudo, reframe, other_framing)  # fmt: skip
    print(f"wrote {out} (head {fitted.matrix.shape}), trained on {len(characters)} characters "
          f"({fold.name if fold else ', '.join(SHIPPABLE_SOURCES)}; crops reframe: {reframe}; also {other_framing or 'no other chipping'}) "
          f"{fitted.pseudo}; chosen on their inner folds: "
          f"clusterer {spec}, Chinese Whispers pair {pair}")  # fmt: skip


def block_features(args, block: int):
    """``(features, augmented, labels, sources)``: ``block``'s pooled backbone features of every
    crop (averaged with ``--test-view``'s) and of its augmented views (and ``--train-views``)."""
    features, augmented, labels, sources = load_features(args.model_root, args.views, cache=args.cache, block=block)
    extra = [test_view_features(args.model_root, view, cache=args.cache, block=block) for view in args.train_views]
    augmented = np.concatenate([augmented, np.stack(extra)]) if extra else augmented
    if args.test_view:
        features = (features + test_view_features(args.model_root, args.test_view, cache=args.cache, block=block)) / 2
    return features, augmented, labels, sources


def whitened_inputs(args):
    """``(features, white, views, labels, source_of, projection)``: the ``--blocks``' pooled
    backbone features of every crop, joined (:func:`block_features`), whitened by each block's
    unlabelled projection (joined), with the augmented views (and ``--train-views``) whitened
    alike; ``--colour-share``: each row joined with its :func:`colour_block` (of the same view,
    averaged alike)."""
    if args.fuse_framing and not args.framing_cache:
        raise SystemExit("--fuse-framing needs --framing-cache")
    per_block = [block_features(args, block) for block in args.blocks]
    features, augmented = (np.concatenate([p[i] for p in per_block], axis=-1) for i in (0, 1))
    labels, sources = per_block[0][2:]
    projection = joined_projection([block_projection(block, args.model_root, args.cache, args.components) for block in args.blocks])
    white = whitened(features, projection).astype(np.float32)
    views = np.stack([whitened(v, projection) for v in augmented]).astype(np.float32) if len(augmented) else augmented
    if args.colour_share:
        colours, augmented_colours = load_features(args.model_root, args.views, cache=args.cache, colour=args.colour_grid)[:2]
        extra = [test_view_features(args.model_root, view, cache=args.cache, colour=args.colour_grid) for view in args.train_views]
        augmented_colours = np.concatenate([augmented_colours, np.stack(extra)]) if extra else augmented_colours
        if args.test_view:
            colours = (colours + test_view_features(args.model_root, args.test_view, cache=args.cache, colour=args.colour_grid)) / 2
        white = np.hstack([white, colour_block(args, colours)])
        views = np.concatenate([views, colour_block(args, augmented_colours)], axis=-1) if len(views) else views
    if args.framing_cache:
        other_features, other_white, other_views = other_framing_views(args, labels)
        views = np.concatenate([views, other_views])
        if args.fuse_framing:
            features, white = (features + other_features) / 2, (white + other_white) / 2
    return features, white, views, labels, dict(zip(labels, sources)), projection


def other_framing_views(args, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(features, run, views)``: the pooled features and the head's inputs of the same crops
    chipped as ``--framing-cache`` chips them (issue 25, eleventh round): each crop's run view
    there (its mean with ``--test-view``), and the more augmented views they give: that run view,
    and with ``--framing-augmented`` that chipping's augmented views too."""
    other = argparse.Namespace(**{**vars(args), "cache": args.framing_cache, "framing_cache": None, "fuse_framing": False})
    features, white, views, other_labels, _, _ = whitened_inputs(other)
    if not np.array_equal(other_labels, labels):
        raise SystemExit(f"--framing-cache {args.framing_cache} holds other crops than --cache {args.cache}")
    return features, white, np.concatenate([white[None], views]) if args.framing_augmented else white[None]


def share_scale(share: float, model_root: str | None = None, cache=CACHE, grid: int = 1) -> float:
    """The colour block's scale (histograms on a ``grid`` x ``grid`` split): its total variance over
    the ``anime_unlabelled`` crops equals that of ``share`` whitened DenseNet components (unit
    variance each there), issue 25's fourth round."""
    return float(np.sqrt(share / unlabelled_colours(model_root, cache=cache, grid=grid).var(axis=0).sum()))


def colour_block(args, colours: np.ndarray) -> np.ndarray:
    """``colours`` (colour histograms) times :func:`share_scale` of ``--colour-share``."""
    return (share_scale(args.colour_share, args.model_root, args.cache, args.colour_grid) * colours).astype(np.float32)


def unlabelled_inputs(args, projection) -> np.ndarray:
    """The head's input for the ``anime_unlabelled`` crops (view0 only: no mirror image, no
    augmented view cached): the ``--blocks``' whitened features, joined with their
    :func:`colour_block` if ``--colour-share``."""
    features = np.hstack([unlabelled_features(args.model_root, cache=args.cache, block=b) for b in args.blocks])
    white = whitened(features, projection).astype(np.float32)
    if not args.colour_share:
        return white
    return np.hstack([white, colour_block(args, unlabelled_colours(args.model_root, cache=args.cache, grid=args.colour_grid))])


def view_inputs(args, view: str, projection) -> np.ndarray:
    """The head's input for :data:`TEST_VIEWS` ``view`` of every crop alone (e.g. ``grey``):
    whitened backbone features, joined with the view's :func:`colour_block` if ``--colour-share``."""
    features = np.hstack([test_view_features(args.model_root, view, cache=args.cache, block=b) for b in args.blocks])
    white = whitened(features, projection).astype(np.float32)
    if not args.colour_share:
        return white
    return np.hstack([white, colour_block(args, test_view_features(args.model_root, view, cache=args.cache, colour=args.colour_grid))])


def other_framing(args) -> str:
    """What :func:`other_framing_views` adds, in words ("": nothing)."""
    if not args.framing_cache:
        return ""
    views = "run view and augmented views" if args.framing_augmented else "run view"
    return f"the same crops chipped with reframe {reframing(args.framing_cache)}: their {views}"


def input_arguments(parser: argparse.ArgumentParser) -> None:
    """The options :func:`whitened_inputs` reads (and ``--splits``)."""
    parser.add_argument("--model-root", help="folder holding the drawn-face backbone")
    parser.add_argument("--splits", type=int, default=10, help="random character splits")
    parser.add_argument("--views", type=int, default=1, help="augmented views per crop for training")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--test-view", choices=sorted(TEST_VIEWS), help="average each crop's features with this view's")
    parser.add_argument("--train-views", nargs="*", choices=sorted(TEST_VIEWS), default=[],
                        help="these views count as more augmented views in training")  # fmt: skip
    parser.add_argument("--colour-share", type=float, default=COLOUR_SHARE,
                        help="join a colour histogram block with the variance of this many DenseNet components (0: none)")  # fmt: skip
    parser.add_argument("--colour-grid", type=int, default=COLOUR_GRID,
                        help="the colour block: one histogram per cell of this grid x grid split of the chip")  # fmt: skip
    parser.add_argument("--blocks", type=int, nargs="+", choices=BLOCKS, default=[4],
                        help="the backbone's dense blocks whose whitened pooled features start the head's input")  # fmt: skip
    parser.add_argument("--components", type=int, default=BLOCK_COMPONENTS,
                        help="each block's whitening PCA keeps this many components (other than the shipped 384: fitted on anime_unlabelled)")  # fmt: skip
    parser.add_argument("--framing-cache", type=Path,
                        help="the same crops chipped another way (a cache of drawn_features.py): their views count as more augmented views")  # fmt: skip
    parser.add_argument("--framing-augmented", action="store_true",
                        help="with --framing-cache: its augmented views count too, not only each crop's run view")  # fmt: skip
    parser.add_argument("--fuse-framing", action="store_true",
                        help="with --framing-cache: each crop is embedded (fitted and clustered) by the mean of its run views in both chippings")  # fmt: skip
    parser.add_argument("--shrinkage", type=float, default=SHRINKAGE,
                        help="of the within-class covariance of the pseudo-character heads (and of drawn_protocol.py's plain shipped head)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    input_arguments(parser)
    parser.add_argument("--embeddings", nargs="*", choices=sorted(EMBEDDINGS), default=sorted(EMBEDDINGS))
    parser.add_argument("--folds", action="store_true", help="print every fold's scores too")
    parser.add_argument("--ship", action="store_true", help="train on the shippable sources' characters and write the head")
    parser.add_argument("--fold", help="with --ship: train on this fold's fit characters only (e.g. report-anime_fanart)")
    parser.add_argument("--out", type=Path, default=IDENTITY, help="with --ship: where the head goes")
    parser.add_argument("--head-pseudo", choices=sorted(PSEUDO), help="with --ship: this head, refitted with pseudo-characters")
    args = parser.parse_args()
    if args.head_pseudo and not args.ship:
        parser.error("--head-pseudo goes with --ship (elsewhere: --embeddings NAME)")
    if args.ship and args.colour_grid != 1:
        parser.error("--ship: a run computes the whole chip's colour block only (--colour-grid 1)")
    if args.ship and args.fuse_framing:
        parser.error("--ship: a run embeds each crop by one chipping (--fuse-framing is for measuring)")
    EMBEDDINGS[SHIPPED] = partial(EMBEDDINGS[SHIPPED], shrinkage=args.shrinkage)
    import torch

    torch.set_num_threads(1)
    features, white, views, labels, source_of, projection = whitened_inputs(args)
    bind_unlabelled(EMBEDDINGS, unlabelled_inputs(args, projection), args.shrinkage)
    folds = character_folds(source_of, splits=args.splits)
    if args.ship:
        fold = next(f for f in folds if f.name == args.fold) if args.fold else None
        colour = share_scale(args.colour_share, args.model_root, args.cache) if args.colour_share else 0.0
        shipped = f"{args.head_pseudo}, run-standardised" if args.head_pseudo else SHIPPED
        ship(EMBEDDINGS[shipped], white, views, labels, source_of, projection, fold, args.out, args.test_view == "mirror",
             colour, args.blocks, reframing(args.cache), other_framing(args))  # fmt: skip
        return
    dense = white[:4, : len(projection["scale"])]
    assert np.allclose(fit_projection(dense, labels, views)(dense), projected(features[:4], projection), atol=1e-5)
    print(f"{len(labels)} crops of {len(source_of)} characters; {len(folds)} folds; {len(views)} augmented views")
    results = {}
    for name in args.embeddings:
        started = time.perf_counter()
        results[name] = [run_fold(fold, EMBEDDINGS[name], white, views, labels, source_of) for fold in folds]
        print(f"{name}: {time.perf_counter() - started:.0f} s")
        if args.folds:
            for fold, row in zip(folds, results[name]):
                print(f"  {fold.name} report {','.join(fold.report)}: " + " ".join(f"{k} {v:.3f}" for k, v in row.items()))
    print_table(results, folds)


if __name__ == "__main__":
    main()
