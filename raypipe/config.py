"""The one typed configuration of a run: defaults that work, YAML files and ``--set`` overrides.

Sections mirror the pipeline: ``extract`` (read, detect, align, embed), ``quality`` (which faces
are fit to cluster), ``cluster``, ``comic`` (pages -> panels), ``tracking`` (MLflow) and ``ray``.
The resolved config is written as ``config.json`` beside a run's outputs.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration file or override is invalid."""


@dataclass
class ExtractConfig:
    """Reading, detection, alignment and embedding."""

    #: ``photo`` (people) or ``comic`` (pages split into panels, drawn faces).
    domain: str = "photo"
    #: ``auto``: on photos ``rfb`` when its models are under ``model_root`` (else dlib-hog); on comic
    #: pages raypipe's shipped ``drawn-faces`` (see :mod:`raypipe.detect.select`).
    detector: dict[str, Any] = field(default_factory=lambda: {"name": "auto"})
    #: ``auto`` picks ArcFace when a model is configured or under ``model_root``, else dlib.
    embedder: dict[str, Any] = field(default_factory=lambda: {"name": "auto"})
    #: Folder of model files (ArcFace ONNX, insightface packs under ``models/<pack>``).
    model_root: str | None = None
    #: ``embedder: auto`` without a model fetches one once (``raypipe models fetch``; the
    #: environment variable ``RAYPIPE_AUTO_FETCH=0`` also turns this off).
    auto_fetch: bool = True
    #: A folder of small square images each filled by one face is read as aligned crops
    #: (``detector: aligned``) when the detector is the photo default.
    detect_crops: bool = True
    #: Images with more pixels than this are refused (decompression bombs).
    max_image_pixels: int = 100_000_000
    #: Decoded images are downscaled to this longest side before detection and alignment.
    max_side: int = 2400
    #: Images per shard; a shard is written atomically and skipped when a run resumes. Shards
    #: start at ``shard_size`` (small folders still spread over every worker) and double every
    #: ``SHARDS_PER_SIZE`` shards up to ``max_shard_size``, so that many small images do not pay
    #: a shard's fixed cost (a task, its table files, its marker) every 64 images.
    shard_size: int = 64
    max_shard_size: int = 1024
    #: Images per batch in the detection stage and chips per batch in the embedding stage.
    detect_batch_size: int = 4
    embed_batch_size: int = 32
    #: Save aligned chips in the shards (``chips.parquet/``: face_id, JPEG bytes).
    save_chips: bool = True


@dataclass
class QualityConfig:
    """Faces below these thresholds are left unassigned (-1) instead of joining a person.

    Off by default: on held-out identities every filter lowered BCubed F (``bench/set_asides.py``).
    """

    enabled: bool = True
    min_face_px: float = 0.0
    min_det_score: float = -1.0
    #: Variance of the Laplacian of the grey chip; lower is blurrier.
    min_sharpness: float = 0.0
    #: Largest yaw (degrees, estimated from the five landmarks) still clustered.
    max_abs_yaw: float = 90.0


@dataclass
class ClusterConfig:
    #: ``auto`` picks a threshold clusterer calibrated for the embedding model.
    clusterer: dict[str, Any] = field(default_factory=lambda: {"name": "auto"})
    #: Never put two faces of the same image in one cluster.
    cannot_link: bool = True
    #: Feature under ``RUN/features/<name>`` to cluster instead of the run's embedding.
    feature: str | None = None
    #: Reducer fitted on the clustered faces before the clusterer, e.g. ``{name: pca, n_components: 64}``.
    reducer: dict[str, Any] | None = None


@dataclass
class ComicConfig:
    """Comic and manga pages: panels, text regions and drawn faces."""

    right_to_left: bool = False
    #: How text is kept from the face detector: ``lettering-filter`` (paint the lettering over,
    #: drop a face whose box is mostly balloon or lettering), ``mask`` (paint balloons and
    #: lettering over), ``lettering`` (paint only), ``filter`` (drop only), ``none``, or ``auto``:
    #: ``none`` when the detector verifies its boxes, else ``lettering-filter``
    #: (:func:`raypipe.detect.select.resolve_text_mode`; docs/drawn-detection.md).
    text_mode: str = "auto"
    #: How panels are found: ``learned`` (the page model alone; chosen on synthetic validation
    #: pages, docs/manga-pages.md), ``hybrid`` (the rules' panels cut and completed by the
    #: model) or ``rules`` (border lines and gutters only).
    panels: str = "learned"

    def __post_init__(self) -> None:
        if self.panels not in ("hybrid", "learned", "rules"):
            raise ConfigError(f"comic.panels must be hybrid, learned or rules, not {self.panels!r}")
        if self.text_mode not in ("auto", "mask", "lettering", "filter", "lettering-filter", "none"):
            raise ConfigError(f"comic.text_mode must be auto, mask, lettering, filter, lettering-filter or none, not {self.text_mode!r}")


@dataclass
class TrackingConfig:
    enabled: bool = True
    #: MLflow tracking URI; default: ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` here.
    uri: str | None = None
    experiment: str = "raypipe"


@dataclass
class RayConfig:
    #: ``None``: ``RAY_ADDRESS`` or a new local Ray; ``auto`` or ``ray://...`` to connect.
    address: str | None = None
    #: Shard workers running at once (tasks on CPUs, actors on GPUs); ``None`` sizes them from the cluster.
    detect_actors: int | None = None
    #: GPUs per actor when the cluster has GPUs (fractions share one GPU).
    gpus_per_actor: float = 0.25
    #: Chips per embedding batch of an embedder on a GPU (CPU: ``extract.embed_batch_size``).
    gpu_embed_batch_size: int = 256
    #: ``fused``: every stage of a shard in one task; ``pools``: a pool per stage (models on
    #: actors); ``auto``: pools when a stage wants a GPU and the cluster has one.
    topology: str = "auto"


@dataclass
class Config:
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    comic: ComicConfig = field(default_factory=ComicConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    ray: RayConfig = field(default_factory=RayConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        return _build(cls, _renamed_settings(data), "")

    @classmethod
    def load(
        cls, path: str | Path | None = None, overrides: Sequence[str] = (), base: dict[str, Any] | None = None
    ) -> Config:
        """``base`` (default: the defaults), then the YAML/JSON file at ``path``, then overrides.

        Overrides are ``section.key=value`` strings, values parsed as YAML.
        """
        data = copy.deepcopy(base) if base is not None else cls().to_dict()
        if path is not None:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"{path}: expected a mapping at the top level")
            _merge(data, loaded)
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep or not key:
                raise ConfigError(f"override {item!r} is not of the form section.key=value")
            keys = key.strip().split(".")
            patch: dict[str, Any] = {}
            node = patch
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            node[keys[-1]] = yaml.safe_load(raw)
            _merge(data, patch)
        return cls.from_dict(data)

    def updated(self, path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
        """A copy of this config with a file and overrides applied on top."""
        return Config.load(path, overrides, base=self.to_dict())


#: Settings an earlier raypipe wrote under another name: (section, old key) -> (new key, old
#: value -> new value). Run folders and config files of those versions stay readable.
_RENAMED = {("comic", "mask_text"): ("text_mode", {True: "mask", False: "none"})}


def _renamed_settings(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every old setting name of :data:`_RENAMED` moved to its new name."""
    data = dict(data)
    for (section, old), (new, values) in _RENAMED.items():
        node = data.get(section)
        if isinstance(node, dict) and old in node:
            node = dict(node)
            value = node.pop(old)
            node[new] = values.get(value, value)
            data[section] = node
    return data


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> None:
    """Deep-merge ``patch`` into ``base``; a component given a new ``name`` is replaced whole."""
    for key, value in patch.items():
        if isinstance(value, str) and isinstance(base.get(key), dict) and "name" in base[key]:
            value = {"name": value}
        current = base.get(key)
        renamed = isinstance(value, dict) and "name" in value and isinstance(current, dict) and (
            value["name"] != current.get("name")
        )
        if isinstance(value, dict) and isinstance(current, dict) and not renamed:
            _merge(current, value)
        else:
            base[key] = value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {sorted(unknown)} in {where or 'config'}; known: {sorted(fields)}"
        )
    kwargs = {}
    for name, value in data.items():
        sub = fields[name].type
        target = _SECTIONS.get(sub) if isinstance(sub, str) else None
        if target is not None:
            kwargs[name] = _build(target, value, f"{where}{name}.")
        else:
            kwargs[name] = value
    return cls(**kwargs)


_SECTIONS = {
    "ExtractConfig": ExtractConfig,
    "QualityConfig": QualityConfig,
    "ClusterConfig": ClusterConfig,
    "ComicConfig": ComicConfig,
    "TrackingConfig": TrackingConfig,
    "RayConfig": RayConfig,
}
