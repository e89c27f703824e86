"""Backbone features of the labelled drawn characters, cached per character and view.

The 20 labelled characters are ``../shared/data/anime`` (source ``anime``, 10 characters) and
``../shared/data/anime_fanart`` (source ``anime_fanart``, 10 characters). Each crop is chipped
as a ``--domain comic --detector whole-image`` run chips it and passed through the drawn-face
backbone (square roots of DenseNet-121's pooled features, before any projection). View 0 is the
crop as it is (at most :data:`PER_CHARACTER` crops of a character, the first by file name);
views 1.. are augmented copies (:data:`AUGMENT`: crop, pose, mirror, colour
balance, grey, line weight), the same for every run (seeded by character and view).

Features are cached as ``<cache>/<source>/<character>.view<v>.npz`` (plain arrays), so the
protocol and the head training rerun in seconds; ``--test-views mirror grey`` adds each crop
mirrored and in grey (:data:`TEST_VIEWS`, ``<character>.mirror.npz``, ``<character>.grey.npz``).
The colour histograms of the same chips (:data:`COLOUR`, issue 25's fourth round) are cached
alike under ``<cache>/colour/`` (warmed with the features), those per cell of a g x g grid (:func:`colour_feature`, the
fifth round) under ``<cache>/colour-grid<g>/``. The pooled features of the backbone's earlier
dense blocks (:data:`BLOCKS`, issue 25's sixth round) come from the same passes and are cached
alike under ``<cache>/block<b>/`` (block 4, the final one, at the top); each block is whitened by
its own PCA fitted on the ``anime_unlabelled`` crops (:func:`block_projection`; block 4: the
shipped ``drawn_projection.npz``). A cache made with ``--reframe drawn-faces`` (recorded in its
:data:`CHIPPING` file, which every later read of that cache follows) chips each labelled crop
around the face the drawn-face detector finds in it, as a run with ``--detector whole-image``
and ``reframe: drawn-faces`` does (issue 25's tenth round); the ``anime_unlabelled`` crops are
chipped whole in every cache. Warm the cache with

    nice -n 10 python bench/drawn_features.py --model-root ~/.raypipe/models --views 2
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np

from raypipe.detect.whole_image import REFRAME_MODES
from raypipe.features.classic import ColorHistogram
from raypipe.features.drawn_densenet import COLOUR, PROJECTION, load_projection, split_blocks
from raypipe.features.learn.augment import Augment

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = ("anime", "anime_fanart")
#: Sources whose crops shipped weights may be fitted on (``SOURCES.md``: ``anime`` is evaluation only).
SHIPPABLE_SOURCES = ("anime_fanart",)
#: Crops used per character (the backbone takes 0.2 to 0.5 s a crop on one shared CPU core): all
#: of anime/ (67 to 139), the first 100 of the 300 of each anime_fanart/ character.
PER_CHARACTER = 100
CACHE = Path.home() / ".cache" / "raypipe" / "bench" / "drawn-densenet"
#: Identity-preserving changes: crop/scale/shift/rotation/mirror, mild colour balance, grey
#: (a black-and-white page) and thicker or thinner lines.
AUGMENT = Augment(min_scale=0.7, max_shift=0.1, max_rotation_deg=12.0, brightness=0.2, contrast=0.25,
                  saturation=0.3, grey_probability=0.3, blur_probability=0.2, line_weight_probability=0.4)  # fmt: skip
#: Deterministic views of every crop, for test-time use (each one backbone pass, cached as
#: ``<character>.<view>.npz``): the crop mirrored left to right, and the crop in grey.
TEST_VIEWS = {
    "mirror": lambda chips: chips[:, :, ::-1],
    "grey": lambda chips: np.repeat(np.round(chips @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)[..., None], 3, axis=3),
}
UNLABELLED = "anime_unlabelled"
#: The backbone's dense blocks every pass pools (one pass gives them all): block 4 is what the
#: shipped embedder takes, 2 and 3 the earlier ones of the sixth round.
BLOCKS = (2, 3, 4)
#: Components of each earlier block's whitening PCA, as block 4's shipped one.
BLOCK_COMPONENTS = 384
#: The file in a cache folder that says how its labelled crops were chipped (``reframe``: a
#: mode of :data:`~raypipe.detect.whole_image.REFRAME_MODES`); no file: whole crops.
CHIPPING = "chipping.json"
log = logging.getLogger("drawn_features")


def characters(data: Path = SHARED) -> list[tuple[str, str]]:
    """``(source, character)`` of every labelled character, sorted."""
    return [(source, folder.name) for source in SOURCES for folder in sorted((data / source).iterdir()) if folder.is_dir()]


def _embedder(model_root: str | None):
    from raypipe.embed import EMBEDDERS
    from raypipe.embed.select import drawn_embedder

    spec = drawn_embedder(model_root)
    if spec["feature"] == "drawn":
        raise SystemExit("no drawn-face backbone under --model-root: `raypipe models fetch` installs it")
    return EMBEDDERS.build({**spec, "feature": {**spec["feature"], "projection": None, "blocks": list(BLOCKS)}})


def augmented(chips: np.ndarray, seed: int) -> np.ndarray:
    """``chips`` (N, S, S, 3) uint8 through :data:`AUGMENT`, seeded."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    images = torch.from_numpy(chips).permute(0, 3, 1, 2).float().div_(255.0)
    views = AUGMENT(images, generator)
    return (views.mul_(255.0).round_().byte().permute(0, 2, 3, 1).numpy()).copy()


def colour_feature(grid: int = 1) -> ColorHistogram:
    """:data:`COLOUR` histograms, one per cell of a ``grid`` x ``grid`` split of the chip (1: the whole chip)."""
    return COLOUR if grid == 1 else ColorHistogram(grid=grid)


def _colour_cache(cache: Path, grid: int) -> Path:
    return cache / ("colour" if grid == 1 else f"colour-grid{grid}")


def _feature_cache(cache: Path, colour: int, block: int) -> Path:
    """Where the colour histograms of that grid (``colour``; 0: none) or else ``block``'s pooled features go."""
    return _colour_cache(cache, colour) if colour else cache if block == 4 else cache / f"block{block}"


def _path(cache: Path, source: str, name: str, view: int | str, colour: int, block: int = 4) -> Path:
    stem = f"{name}.{view}" if isinstance(view, str) else f"{name}.view{view}"
    return _feature_cache(cache, colour, block) / source / f"{stem}.npz"


def reframing(cache: Path) -> str:
    """How the labelled crops of ``cache`` are chipped: its :data:`CHIPPING` file's ``reframe``."""
    path = Path(cache) / CHIPPING
    return json.loads(path.read_text())["reframe"] if path.is_file() else "none"


def set_reframing(cache: Path, reframe: str) -> None:
    """Record ``reframe`` for ``cache``; an error if it already holds crops chipped otherwise."""
    cache = Path(cache)
    if reframing(cache) != reframe and any(any((cache / source).glob("*.npz")) for source in SOURCES):
        raise SystemExit(f"{cache} holds crops chipped with reframe {reframing(cache)!r}: give another --cache")
    cache.mkdir(parents=True, exist_ok=True)
    (cache / CHIPPING).write_text(json.dumps({"reframe": reframe}) + "\n")


@functools.cache
def _reframer(reframe: str, model_root: str):
    """The whole-image detector that reframes crops so, loaded once for every character and view."""
    from raypipe.detect.whole_image import WholeImageDetector

    return WholeImageDetector(reframe=reframe, model_root=model_root)


def view_chips(embedder, data: Path, source: str, name: str, view: int | str, reframe: str = "none") -> np.ndarray:
    """One character's chips in ``view`` (0: as they are; a name of :data:`TEST_VIEWS`; 1..: the
    augmented copies, seeded by character and view so they come out the same every time), each
    crop chipped whole or around its drawn face (``reframe``)."""
    from drawn_clusters import load_images, whole_image_chips

    images, _ = load_images(data / source, [name], per_character=PER_CHARACTER)
    detector = _reframer(reframe, str(Path(embedder.extractor.model_path).parent)) if reframe != "none" else None
    chips = whole_image_chips(embedder, images, detector)
    if isinstance(view, str):
        return np.ascontiguousarray(TEST_VIEWS[view](chips))
    if view:
        seed = int.from_bytes(hashlib.sha256(f"{source}/{name}/{view}".encode()).digest()[:4], "little")
        return augmented(chips, seed)
    return chips


def _load(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as stored:
        return stored["features"]


def _cached(path: Path) -> np.ndarray:
    return _load(path)[:PER_CHARACTER]


def _store(path: Path, features: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, features=features.astype(np.float32))


def _store_blocks(pooled: np.ndarray, path_of) -> None:
    """Each of :data:`BLOCKS`' share of joined ``pooled`` features at ``path_of(block)``, where
    missing; where cached, logs how far the cached features are from these."""
    for block, features in zip(BLOCKS, split_blocks(pooled, BLOCKS)):
        path = path_of(block)
        if not path.is_file():
            _store(path, features)
        else:
            log.info("block %d: cached at %s, max difference %.2g", block, path, np.abs(_load(path)[: len(features)] - features).max())


def character_features(embedder, data: Path, source: str, name: str, view: int | str, cache: Path,
                       colour: int = 0, block: int = 4) -> np.ndarray:  # fmt: skip
    """Backbone features of ``block`` (``colour``: :func:`colour_feature` of that grid instead) of one
    character's crops in ``view`` (:func:`view_chips`), cached; a backbone pass caches every block's."""
    path = _path(cache, source, name, view, colour, block)
    if path.is_file():
        return _cached(path)
    chips = view_chips(embedder, data, source, name, view, reframing(cache))
    started = time.perf_counter()
    if colour:
        _store(path, colour_feature(colour).transform(list(chips)))
    else:
        _store_blocks(embedder.extractor.pooled(list(chips)), lambda b: _path(cache, source, name, view, 0, b))
    log.info("%s/%s view %s: %d crops in %.0f s", source, name, view, len(chips), time.perf_counter() - started)
    return _cached(path)


def load_features(model_root: str | None, views: int = 0, data: Path = SHARED, cache: Path = CACHE,
                  colour: int = 0, block: int = 4):  # fmt: skip
    """``(features, labels, sources)`` of ``block`` for view 0 and ``(views, N, D)`` augmented
    features in the same row order (empty when ``views`` is 0); backbone run only for what the
    cache lacks; ``colour``: the :func:`colour_feature` histograms of that grid instead."""
    embedder = None
    rows, augmented_rows, labels, sources = [], [], [], []
    for source, name in characters(data):
        if embedder is None and not all(_path(cache, source, name, v, colour, block).is_file() for v in range(views + 1)):
            embedder = _embedder(model_root)
        per_view = [character_features(embedder, data, source, name, v, cache, colour, block) for v in range(views + 1)]
        rows.append(per_view[0])
        augmented_rows.append(np.stack(per_view[1:]) if views else np.zeros((0, *per_view[0].shape), np.float32))
        labels += [name] * len(per_view[0])
        sources += [source] * len(per_view[0])
    return np.concatenate(rows), np.concatenate(augmented_rows, axis=1), np.array(labels), np.array(sources)


def test_view_features(model_root: str | None, view: str, data: Path = SHARED, cache: Path = CACHE,
                       colour: int = 0, block: int = 4) -> np.ndarray:  # fmt: skip
    """``(N, D)`` features of ``block`` (``colour``: histograms of that grid) of :data:`TEST_VIEWS`
    ``view`` of every crop, in :func:`load_features`' row order; backbone run only for what the cache lacks."""
    embedder, rows = None, []
    for source, name in characters(data):
        if embedder is None and not _path(cache, source, name, view, colour, block).is_file():
            embedder = _embedder(model_root)
        rows.append(character_features(embedder, data, source, name, view, cache, colour, block))
    return np.concatenate(rows)


def _unlabelled_chips(embedder, data: Path, batch: int = 64):
    """Batches of the ``anime_unlabelled`` chips (6,087 in all, a few at a time), in file-name order."""
    import cv2
    from drawn_clusters import whole_image_chips

    files = sorted((data / UNLABELLED).iterdir())
    for start in range(0, len(files), batch):
        images = [cv2.imread(str(file), cv2.IMREAD_COLOR) for file in files[start : start + batch]]
        yield list(whole_image_chips(embedder, [cv2.cvtColor(i, cv2.COLOR_BGR2RGB) for i in images if i is not None]))


def unlabelled_features(model_root: str | None, data: Path = SHARED, cache: Path = CACHE, colour: int = 0,
                        block: int = 4) -> np.ndarray:  # fmt: skip
    """``block``'s pooled features (``colour``: :func:`colour_feature` histograms of that grid instead)
    of every ``anime_unlabelled`` crop, chipped as the labelled ones, cached (a backbone pass caches every block's)."""
    path = _feature_cache(cache, colour, block) / f"{UNLABELLED}.npz"
    if not path.is_file():
        embedder, started = _embedder(model_root), time.perf_counter()
        describe = colour_feature(colour).transform if colour else embedder.extractor.pooled
        rows = np.concatenate([describe(chips) for chips in _unlabelled_chips(embedder, data)])
        log.info("%s: %d crops in %.0f s", UNLABELLED, len(rows), time.perf_counter() - started)
        if colour:
            _store(path, rows)
        else:
            _store_blocks(rows, lambda b: _feature_cache(cache, 0, b) / f"{UNLABELLED}.npz")
    return _load(path)


def unlabelled_colours(model_root: str | None, data: Path = SHARED, cache: Path = CACHE, grid: int = 1) -> np.ndarray:
    """:func:`colour_feature` histograms of every ``anime_unlabelled`` crop, chipped as the labelled ones, cached."""
    return unlabelled_features(model_root, data, cache, colour=grid)


def block_projection(block: int, model_root: str | None = None, cache: Path = CACHE,
                     components: int = BLOCK_COMPONENTS) -> dict[str, np.ndarray]:  # fmt: skip
    """The whitening PCA of ``block``'s pooled features: block 4's shipped one (of
    :data:`BLOCK_COMPONENTS`), else ``components`` fitted on the ``anime_unlabelled`` crops only, cached."""
    if block == 4 and components == BLOCK_COMPONENTS:
        return load_projection(PROJECTION)
    name = "projection.npz" if components == BLOCK_COMPONENTS else f"projection-{components}.npz"
    path = _feature_cache(cache, 0, block) / name
    if not path.is_file():
        from fit_drawn_projection import fit_whitening

        kept = fit_whitening(unlabelled_features(model_root, cache=cache, block=block), components, path)
        log.info("block %d: %d components, %.1f%% of the variance on %s", block, components, 100 * kept, UNLABELLED)
    return load_projection(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-root", help="folder holding the drawn-face backbone")
    parser.add_argument("--views", type=int, default=2, help="augmented views besides the crop itself")
    parser.add_argument("--test-views", nargs="*", choices=sorted(TEST_VIEWS), default=[], help="also these views")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--reframe", choices=REFRAME_MODES, help="chip each labelled crop whole (none) or around its "
                        "drawn face, recorded for --cache (default: as the cache says, none for a new one)")
    parser.add_argument("--block", type=int, choices=BLOCKS, default=4,
                        help="make sure this block's features are cached (a pass caches every block's), and its unlabelled projection")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.reframe:
        set_reframing(args.cache, args.reframe)
    X, A, labels, _ = load_features(args.model_root, args.views, cache=args.cache, block=args.block)
    for view in args.test_views:
        assert len(test_view_features(args.model_root, view, cache=args.cache, block=args.block)) == len(X)
    load_features(args.model_root, args.views, cache=args.cache, colour=1)
    for view in args.test_views:
        test_view_features(args.model_root, view, cache=args.cache, colour=1)
    if args.block != 4:
        block_projection(args.block, args.model_root, args.cache)
    print(f"{len(X)} crops of {len(set(labels))} characters, {A.shape[0]} augmented views, cached in {args.cache}")


if __name__ == "__main__":
    main()
