"""Drawn faces clustered with the true k: which clusterer, chosen on fit sides only (issue 25, third round).

The folds of ``bench/drawn_protocol.py`` (``--splits`` random character halves, then
leave-one-source-out). Per fold, the shipped head (within-class whitening + views, shrinkage
:data:`drawn_protocol.SHRINKAGE`; ``--head``: a margin-loss head started from it, :data:`HEADS`)
is fitted on the fold's fit characters, and every candidate of :data:`WITH_K` clusters with the
true k:

- the **fit side**: the protocol's inner folds of the fit characters (a head fitted on one
  half, the other half clustered with its k): mean NMI, the figure that chooses;
- the **report side**: the fold's report characters, embedded by the head of all its fit
  characters, clustered with their k: NMI, reported, chooses nothing.

Each candidate gets the head's unit vectors of the faces clustered together and does its own
per-run transform (``standardised``: :func:`raypipe.cluster.base.run_standardised`, as ``auto``
does for this model). The table prints the mean fit-side NMI first (the choice), then the report
sides' mean and worst fold for random splits and leave-one-source-out. ``--report-view grey``
also reports each fold's report characters in that view alone (grey crops: a black-and-white
page), embedded by the same head; it chooses nothing. ``--colour-share``: the head's input
joined with a colour block (issue 25, fourth round; ``drawn_protocol.whitened_inputs``);
``--colour-grid 3``: its histograms per cell of a 3 x 3 split (the fifth round); ``--blocks``:
the backbone blocks the head's input starts with (the sixth round). ``--clusterers NAME ...``:
only these candidates (each is computed alone, so its figures are the same as in a full run).
``--inner across-sources``: fit sides only, no report side (the seventh round's (a')): on each
random split's fit characters, a head fitted on one source's and scored on the other's, both
ways, beside the within-source fit side; with ``--without-k``, BCubed F of the Leiden candidates
clustering without k (resolution 1.0) instead (the eighth round's no-k fit side). The eighth
round's candidates: the ``pseudo-label whitened`` clusterers (C1) and ``--head "within-class
whitening + views, CORAL"`` (C2, :class:`drawn_protocol.Recoloured`).
``--framing-cache CACHE [--framing-augmented]``: the same crops chipped another way count as more
augmented views in fitting (the eleventh round's candidates, :func:`drawn_protocol.other_framing_views`);
``--fuse-framing``: each crop embedded by the mean of both chippings' run views (the twelfth round's).
``--report-subsets K``: each leave-one-source-out fold's report side on every subset of K of its
report characters (how much that figure depends on which characters it holds; chooses nothing).
``--shrinkage S``: the pseudo-character heads' within-class covariance shrunk S (the sixteenth round's).

    OMP_NUM_THREADS=1 nice -n 10 python bench/drawn_with_k.py --views 1 --test-view mirror --folds
"""

from __future__ import annotations

import argparse
import itertools
import time
from functools import partial

import numpy as np
from drawn_features import TEST_VIEWS
from drawn_protocol import (
    PSEUDO,
    SHRINKAGE,
    bind_unlabelled,
    fit_margin_head,
    fit_with_pseudo,
    fit_within_class_views,
    fit_within_class_views_coral,
    inner_means,
    input_arguments,
    unlabelled_inputs,
    view_inputs,
    whitened_inputs,
)
from drawn_run_transforms import pseudo_label_whitened
from sklearn.cluster import SpectralClustering, kmeans_plusplus

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.base import run_standardised
from raypipe.cluster.calibration import CALIBRATION
from raypipe.cluster.graph import Leiden
from raypipe.cluster.knn import nearest_neighbours, neighbour_graph
from raypipe.embed.base import l2_normalize
from raypipe.evaluation.metrics import score_clustering
from raypipe.evaluation.protocol import character_folds, mean_and_worst

#: The shipped no-k graph (edge distance, neighbours) of the drawn-face model.
MODEL = "feature:drawn-densenet"
GRAPH = CALIBRATION[MODEL].communities
N_INIT = 10


def kmeans(Z: np.ndarray, k: int) -> np.ndarray:
    return CLUSTERERS.build({"name": "kmeans", "n_clusters": k, "n_init": N_INIT}).fit(Z).labels_


def spherical_kmeans(Z: np.ndarray, k: int, iterations: int = 100) -> np.ndarray:
    """k-means on the sphere: centres are unit means, faces join the most similar centre; the
    best of :data:`N_INIT` k-means++ starts by total similarity."""
    best, best_score = None, -np.inf
    for seed in range(N_INIT):
        centres = l2_normalize(kmeans_plusplus(Z, k, random_state=seed)[0])
        labels = np.full(len(Z), -1)
        for _ in range(iterations):
            new = np.argmax(Z @ centres.T, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            sums = np.zeros_like(centres)
            np.add.at(sums, labels, Z)
            centres = np.where(np.bincount(labels, minlength=k)[:, None] > 0, l2_normalize(sums), centres)
        score = float(np.sum(Z * centres[labels]))
        if score > best_score:
            best, best_score = labels, score
    return best


def agglomerative(linkage: str):
    return lambda Z, k: CLUSTERERS.build({"name": "agglomerative", "linkage": linkage, "n_clusters": k}).fit(Z).labels_


def knn_graph(Z: np.ndarray):
    """The shipped Leiden graph of ``Z``: its ``k`` nearest within the edge distance, by similarity."""
    return neighbour_graph(nearest_neighbours(Z, min(GRAPH.k, len(Z) - 1)), GRAPH.distance)


def spectral_on_graph(Z: np.ndarray, k: int) -> np.ndarray:
    return SpectralClustering(k, affinity="precomputed", random_state=0, n_init=N_INIT).fit_predict(knn_graph(Z))


def spectral_nearest(neighbours: int):
    def cluster(Z: np.ndarray, k: int) -> np.ndarray:
        spectral = SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=neighbours, random_state=0,
                                      n_init=N_INIT)  # fmt: skip
        return spectral.fit_predict(Z)

    return cluster


def auto_given_k(Z: np.ndarray, k: int) -> np.ndarray:
    """What raypipe's ``auto`` does for the drawn-face model given ``n_clusters`` (candidate 8,
    moved into :class:`raypipe.cluster.graph.Leiden` once chosen): the run standardised, then
    Leiden modularity communities of the shipped graph, the resolution bisected (log scale, 0.01
    to 100) until there are ``k``, else the count closest to ``k``."""
    return AutoClusterer(model=MODEL, n_clusters=k, cannot_link=False).fit(Z).labels_


def leiden_to_k(neighbours: int, distance: float, adapt: int = 0):
    """Leiden searched to k (as :func:`auto_given_k`) on another graph: ``neighbours`` nearest
    within ``distance`` (second set of candidates); given k None: at resolution 1.0 (no k).
    ``adapt``: that many rounds of :func:`drawn_run_transforms.pseudo_label_whitened` with the
    communities found, each clustered again the same way (the eighth round's C1)."""

    def cluster(Z: np.ndarray, k: int | None) -> np.ndarray:
        leiden = Leiden(threshold=distance, k=neighbours, n_clusters=k)
        labels = leiden.fit(Z).labels_
        for _ in range(adapt):
            Z = pseudo_label_whitened(Z, labels)
            labels = leiden.fit(Z).labels_
        return labels

    return cluster


def standardised(cluster):
    return lambda Z, k: cluster(run_standardised(Z), k)


#: The candidates, fixed before any run (docs/drawn-faces.md, "Issue 25, third round").
WITH_K = {
    "k-means, standardised (the protocol's until now)": standardised(kmeans),
    "k-means, not standardised (`kmeans` today)": kmeans,
    "spherical k-means, standardised": standardised(spherical_kmeans),
    "average linkage, standardised": standardised(agglomerative("average")),
    "ward linkage, standardised": standardised(agglomerative("ward")),
    "spectral, shipped k-NN graph, standardised": standardised(spectral_on_graph),
    "spectral, 10 nearest, standardised": standardised(spectral_nearest(10)),
    "Leiden, resolution searched to k, standardised": auto_given_k,
}
#: The second set: the graph Leiden is searched on (the shipped one: 30 neighbours within 0.90).
WITH_K |= {f"Leiden to k, {n} nearest within {d}, standardised": standardised(leiden_to_k(n, d))
           for n, d in ((10, 0.90), (20, 0.90), (50, 0.90), (30, 2.0), (30, 0.80))}  # fmt: skip
#: The shipped graph (30 neighbours within 0.94; the sixth round's 20 were undone), named so that
#: it stays fixed whatever ships: the seventh round's (a') is measured on it for both candidates.
WITH_K["Leiden to k, 30 nearest within 0.94, standardised"] = standardised(leiden_to_k(30, 0.94))
#: The eighth round's C1 and C1 x2: that graph, the run re-embedded by a whitening fitted with its
#: own communities as labels and clustered again, once or twice.
WITH_K |= {f"Leiden to k, 30 nearest within 0.94, standardised, pseudo-label whitened {rounds}":
           standardised(leiden_to_k(30, 0.94, adapt=n)) for n, rounds in ((1, "once"), (2, "twice"))}  # fmt: skip
#: Candidates that also cluster without k (``--without-k``: given k None, Leiden at resolution 1.0).
WITHOUT_K = [name for name in WITH_K if name.startswith("Leiden to k, 30 nearest within 0.94")]


def nmis(Z: np.ndarray, truth: np.ndarray, names=tuple(WITH_K), with_k: bool = True) -> list[float]:
    """NMI of every candidate of ``names`` clustering ``Z`` into the true number of characters;
    ``with_k`` False: BCubed F of each clustering ``Z`` without k (:data:`WITHOUT_K` only)."""
    k, metric = (len(np.unique(truth)), "nmi") if with_k else (None, "bcubed_f")
    return [score_clustering(truth, WITH_K[name](Z, k))[metric] for name in names]


#: Heads (``--head``), each giving unit vectors with no per-run transform (each clusterer does
#: its own): the shipped within-class whitening, or a margin-loss head started from it.
HEADS = {"within-class whitening + views": partial(fit_within_class_views, shrinkage=SHRINKAGE),
         "within-class whitening + views, CORAL": fit_within_class_views_coral,
         "CosFace head": partial(fit_margin_head, loss="cosface"),
         "ArcFace head": partial(fit_margin_head, loss="arcface")}  # fmt: skip
#: The ninth round's candidates: that head refitted with pseudo-characters of ``anime_unlabelled``.
HEADS |= {name: partial(fit_with_pseudo, settings=settings, rounds=rounds) for name, (settings, rounds) in PSEUDO.items()}


def print_table(fit_side: list, report: list, folds: list, names=tuple(WITH_K)) -> None:
    """The candidates' mean fit-side NMI and their ``report`` sides' mean / worst fold by kind."""
    chosen = int(np.argmax(np.mean(fit_side, axis=0)))
    groups = {"random": [f.name.startswith("random") for f in folds]}
    groups["loso"] = [not keep for keep in groups["random"]]
    print("| clusterer given k | fit-side NMI (12 folds, the choice) | random splits mean / worst | leave-one-source-out mean / worst |")
    print("|---|---|---|---|")
    for i, name in enumerate(names):
        cells = []
        for keep in groups.values():
            summary = mean_and_worst([{"nmi": row[i]} for row, k in zip(report, keep) if k])
            cells.append(f"{summary['mean']['nmi']:.3f} / {summary['worst']['nmi']:.3f}")
        mark = " (chosen)" if i == chosen else ""
        print(f"| {name}{mark} | {np.mean([row[i] for row in fit_side]):.4f} | {cells[0]} | {cells[1]} |")


def print_fit_sides(fit_head, white, views, labels, source_of, folds, score, names, show: bool, measure: str = "NMI with k") -> None:
    """``--inner across-sources`` (issue 25, seventh round): per fold, its fit characters only
    (no report character read): the fit side within sources (the random-halves inner folds, rule
    a) and, on the random splits, across sources ((a'): fitted on one source's fit characters,
    scored on the other's, both ways); then each clusterer's (a') mean and worst split beside rule
    (a) on the same splits and on all folds."""
    within, across = [], []
    for fold in folds:
        train = fold.masks(labels)[0]
        fit_side = (fit_head, white[train], views[:, train], labels[train], source_of, score)
        within.append(inner_means(*fit_side))
        if fold.name.startswith("random"):
            across.append(inner_means(*fit_side, across_sources=True))
        if show:
            print(f"{fold.name}: fit side within sources " + " ".join(f"{v:.4f}" for v in within[-1])
                  + (" | across sources " + " ".join(f"{v:.4f}" for v in across[-1]) if fold.name.startswith("random") else ""),
                  flush=True)  # fmt: skip
    within_splits = [row for row, fold in zip(within, folds) if fold.name.startswith("random")]
    print(f"| clusterer ({measure}) | across-source fit side (a'), mean of {len(across)} splits | worst split "
          f"| within-source fit side (rule a), the same splits | rule a, all {len(folds)} folds |")  # fmt: skip
    print("|---|---|---|---|---|")
    for i, name in enumerate(names):
        a = [row[i] for row in across]
        print(f"| {name} | {np.mean(a):.4f} | {np.min(a):.4f} | {np.mean([row[i] for row in within_splits]):.4f} "
              f"| {np.mean([row[i] for row in within]):.4f} |")  # fmt: skip


def print_report_subsets(fit_head, white, views, labels, folds, score, names, size: int) -> None:
    """``--report-subsets K`` (measurement only, after the eleventh round): how much each
    leave-one-source-out fold's report side depends on which characters it reports. The fold's
    head (fitted on all its fit characters, as the report side's) embeds every subset of ``size``
    of its report characters, each clustered with its own k; prints the median, the range and
    the share of subsets at NMI >= 0.75 per clusterer."""
    for fold in folds:
        if fold.name.startswith("random"):
            continue
        train, held = fold.masks(labels)
        Z, truth = fit_head(white[train], labels[train], views[:, train])(white[held]), labels[held]
        subsets = list(itertools.combinations(fold.report, size))
        scores = np.array([score(Z[np.isin(truth, chosen)], truth[np.isin(truth, chosen)]) for chosen in subsets])
        whole = score(Z, truth)
        for i, name in enumerate(names):
            column = scores[:, i]
            print(f"{fold.name}, {name}: all {len(fold.report)} characters {whole[i]:.3f}; {len(subsets)} subsets of "
                  f"{size}: median {np.median(column):.3f}, range {column.min():.3f} to {column.max():.3f}, "
                  f"{np.mean(column >= 0.75):.0%} at >= 0.75", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    input_arguments(parser)
    parser.add_argument("--folds", action="store_true", help="print every fold's scores too")
    parser.add_argument("--head", choices=sorted(HEADS), default="within-class whitening + views")
    parser.add_argument("--report-view", choices=sorted(TEST_VIEWS), help="also report the report characters in this view alone")
    parser.add_argument("--clusterers", nargs="+", choices=list(WITH_K), default=list(WITH_K), help="only these candidates")
    parser.add_argument("--inner", choices=("random", "across-sources"), default="random",
                        help="across-sources: fit sides only, within and across sources (no report side)")  # fmt: skip
    parser.add_argument("--without-k", action="store_true", help="BCubed F without k instead of NMI with k")
    parser.add_argument("--report-subsets", type=int, metavar="K",
                        help="leave-one-source-out report sides only, on every subset of K report characters")  # fmt: skip
    args = parser.parse_args()
    names = tuple(args.clusterers)
    if args.without_k and not set(names) <= set(WITHOUT_K):
        parser.error(f"--without-k: only --clusterers {WITHOUT_K}")
    score = partial(nmis, names=names, with_k=not args.without_k)
    _, white, views, labels, source_of, projection = whitened_inputs(args)
    heads = {args.head: HEADS[args.head]}
    bind_unlabelled(heads, unlabelled_inputs(args, projection), args.shrinkage)
    fit_head = heads[args.head]
    seen = view_inputs(args, args.report_view, projection) if args.report_view else None
    folds = character_folds(source_of, splits=args.splits)
    if args.report_subsets:
        print_report_subsets(fit_head, white, views, labels, folds, score, names, args.report_subsets)
        return
    if args.inner == "across-sources":
        started = time.perf_counter()
        measure = "BCubed F without k" if args.without_k else "NMI with k"
        print_fit_sides(fit_head, white, views, labels, source_of, folds, score, names, args.folds, measure)
        print(f"{args.head}, blocks {args.blocks}, colour share {args.colour_share:g}: {len(folds)} folds, fit sides only, "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        return
    fit_side, report, report_view = [], [], []
    started = time.perf_counter()
    for fold in folds:
        train, held = fold.masks(labels)
        fit_side.append(inner_means(fit_head, white[train], views[:, train], labels[train], source_of, score))
        head = fit_head(white[train], labels[train], views[:, train])
        report.append(np.array(score(head(white[held]), labels[held])))
        if seen is not None:
            report_view.append(np.array(score(head(seen[held]), labels[held])))
        if args.folds:
            print(f"{fold.name}: fit side " + " ".join(f"{v:.3f}" for v in fit_side[-1])
                  + " | report " + " ".join(f"{v:.3f}" for v in report[-1])
                  + (" | report, " + args.report_view + " " + " ".join(f"{v:.3f}" for v in report_view[-1]) if seen is not None else ""),
                  flush=True)  # fmt: skip
    print(f"{args.head}, blocks {args.blocks}, colour share {args.colour_share:g} (grid {args.colour_grid}): {len(labels)} crops, {len(folds)} folds, "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    print_table(fit_side, report, folds, names)
    if seen is not None:
        print(f"\nThe report characters in view {args.report_view} alone (the same heads; chooses nothing):")
        print_table(fit_side, report_view, folds, names)


if __name__ == "__main__":
    main()
