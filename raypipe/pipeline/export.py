"""``raypipe export RUN --folders``: a folder per cluster, ``clustered_faces/<cluster>/``.

Clustering writes only ``clusters.csv`` and ``clusters.parquet``; this export turns them into
folders for people who browse files. Ray tasks write it, one per shard of ``chips.parquet/``
(each reads its shard's chips once and writes that shard's faces), or, with ``link``, one per
batch of faces, each entry a link to the face's source photo instead of a copy of its chip. An
export starts by deleting the last one, so running it twice gives the same folders.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from raypipe import storage
from raypipe.chips import ChipStore
from raypipe.errors import UsageError
from raypipe.ids import safe_stem
from raypipe.layout import RunLayout

log = logging.getLogger(__name__)

#: Faces per task where no chips shard decides it (links, legacy ``chips/`` folders).
FACES_PER_TASK = 2000


@dataclass
class ExportResult:
    folders: int
    files: int
    tasks: int
    seconds: float


def export_folders(run: str, link: bool = False) -> ExportResult:
    """Write ``RUN/clustered_faces/<cluster>/<cluster>_<photo>_<face>.jpg`` for every clustered
    face (unassigned faces under ``-1``): its chip, or with ``link`` a link to its photo."""
    from raypipe.ray_session import ensure_ray

    started = time.perf_counter()
    layout = RunLayout.at(run)
    faces = clustered_faces(layout)
    if link:
        check_linkable(layout, faces)
    store = ChipStore(layout)
    if not link:
        faces = faces[store.available(faces["face_id"])]
        if faces.empty:
            raise UsageError(f"{layout.root} holds no chips (extracted with save_chips off?): use --link")
    faces = faces.assign(target=entry_names(faces, link))
    parts = export_parts(faces, store, link)
    storage.remove_tree(layout.clustered_faces)
    ensure_ray()
    import ray

    task = ray.remote(export_part)
    written = sum(ray.get([task.remote(str(layout.root), source, entries, link) for source, entries in parts]))
    result = ExportResult(int(faces["cluster"].nunique()), written, len(parts), time.perf_counter() - started)
    log.info("exported %d faces into %d folders of %s with %d tasks in %.1fs",
             written, result.folders, layout.clustered_faces, len(parts), result.seconds)  # fmt: skip
    return result


def clustered_faces(layout: RunLayout) -> pd.DataFrame:
    """Each face's cluster and photo (``clusters.parquet``, ``clusters.csv`` in older runs) with
    its image id and index in the photo (``faces.parquet``)."""
    columns = ["face_id", "image_path", "cluster"]
    if layout.clusters_table.exists():
        clusters = storage.read_table(layout.clusters_table, columns=columns).to_pandas()
    elif layout.clusters.exists():
        clusters = storage.read_csv(layout.clusters, usecols=columns)
    else:
        raise FileNotFoundError(f"{layout.clusters} not found: run `raypipe cluster {layout.root}` first")
    faces = layout.read_table("faces", columns=["face_id", "image_id", "face_index"]).to_pandas()
    return clusters.merge(faces, on="face_id", how="inner")


def check_linkable(layout: RunLayout, faces: pd.DataFrame) -> None:
    """Links need the run folder and the photos on this machine's file system."""
    if not isinstance(layout.root, Path):
        raise UsageError(f"--link needs a local run folder, not {layout.root}")
    remote = next((p for p in faces["image_path"] if storage.is_remote(p)), None)
    if remote is not None:
        raise UsageError(f"--link needs local photos, and {remote} is not one: export without --link")


def entry_names(faces: pd.DataFrame, link: bool) -> pd.Series:
    """``<cluster>/<cluster>_<photo stem>_<face index><suffix>``; a photo stem seen twice in one
    cluster (equal names in different folders) gets the first 8 digits of its image id."""
    paths = faces["image_path"].astype(str)
    stems = paths.map(safe_stem)
    suffix = paths.map(lambda p: Path(p).suffix.lower() or ".jpg") if link else ".jpg"
    cluster = faces["cluster"].astype(str)
    names = cluster + "_" + stems + "_" + faces["face_index"].astype(str) + suffix
    twice = names.duplicated()
    names[twice] = (cluster + "_" + stems + "-" + faces["image_id"].str[:8] + "_" + faces["face_index"].astype(str) + suffix)[twice]
    return cluster + "/" + names


def export_parts(faces: pd.DataFrame, store: ChipStore, link: bool) -> list[tuple[str | None, list[tuple[str, str, str]]]]:
    """The tasks' work: (chips shard file or None, [(face id, target, photo)]) each."""
    entries = faces[["face_id", "target", "image_path"]].itertuples(index=False, name=None)
    if link or not store.sharded:
        rows = list(entries)
        return [(None, rows[start : start + FACES_PER_TASK]) for start in range(0, len(rows), FACES_PER_TASK)]
    shard = store.index.loc[faces["face_id"]].astype(str).to_numpy()
    parts: dict[str, list] = {}
    for source, entry in zip(shard, entries):
        parts.setdefault(source, []).append(entry)
    return sorted(parts.items())


def export_part(root: str, source: str | None, entries: list[tuple[str, str, str]], link: bool) -> int:
    """One task: write ``entries`` under ``clustered_faces/`` (chips of the shard file ``source``,
    or of a legacy ``chips/`` folder when None, or links to the photos); returns the count."""
    layout = RunLayout.at(root)
    folder = layout.clustered_faces
    if link:
        for _, target, photo in entries:
            storage.link(storage.location(photo), folder / target)
        return len(entries)
    store, faces = ChipStore(layout), [face for face, _, _ in entries]
    chips = store.read(faces) if source is None else store.read_shards([source], faces)
    storage.write_files([folder / target for _, target, _ in entries], [chips[face] for face, _, _ in entries])
    return len(entries)
