"""``raypipe correct RUN ...``: name, merge, keep apart or ignore faces; stored in RUN/corrections.yaml."""

from __future__ import annotations

import argparse

from raypipe import storage
from raypipe.corrections import edit, store
from raypipe.layout import RunLayout, read_clusters

NAME = "correct"
HELP = (
    "record corrections in RUN/corrections.yaml (cluster ids from RUN/clusters.csv); "
    "the next `raypipe cluster RUN` applies them"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="clustered run folder")
    actions = parser.add_subparsers(dest="action", required=True)
    name = actions.add_parser("name", help="name a cluster (or one face) as a person")
    name.add_argument("target", help="cluster id or face id")
    name.add_argument("person", help='the name, e.g. "Ada Lovelace"')
    merge = actions.add_parser("merge", help="these clusters / faces / people are one person")
    merge.add_argument("targets", nargs="+", help="cluster ids, face ids or person names")
    keep_apart = actions.add_parser("not", help="this face is not that cluster's person")
    keep_apart.add_argument("face", help="face id")
    keep_apart.add_argument("target", help="cluster id, person name or face id")
    ignore = actions.add_parser("ignore", help="not a face, or not wanted: leave out of clustering")
    ignore.add_argument("faces", nargs="+", help="face ids")
    actions.add_parser("list", help="print the run's corrections")


def run(args: argparse.Namespace) -> int:
    layout = RunLayout.at(args.run)
    corrections = store.load(layout)
    if args.action == "list":
        print(edit.describe(corrections))
        return 0
    if not layout.clusters.exists():
        raise FileNotFoundError(
            f"{layout.clusters} not found: run `raypipe cluster {args.run}` first"
        )
    targets = edit.Targets(read_clusters(layout), corrections)
    if args.action == "name":
        done = edit.name(corrections, targets, args.target, args.person)
    elif args.action == "merge":
        done = edit.merge(corrections, targets, args.targets)
    elif args.action == "not":
        done = edit.not_person(corrections, targets, args.face, args.target)
    else:
        done = edit.ignore(corrections, targets, args.faces)
    known = set(storage.read_table(layout.faces, columns=["face_id"]).column("face_id").to_pylist())
    store.save(layout, corrections, known)
    print(f"{done}; saved in {layout.corrections}; `raypipe cluster {args.run}` applies it")
    return 0
