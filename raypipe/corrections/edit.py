"""What each ``raypipe correct`` action records, with ids read from the run's current clusters.csv."""

from __future__ import annotations

import pandas as pd

from raypipe.corrections.store import CannotLink, Corrections, MustLink, Person
from raypipe.errors import UsageError


class Targets:
    """Resolves the words of a command (cluster id, face id or person name) to face ids."""

    def __init__(self, clusters: pd.DataFrame, corrections: Corrections):
        self.clusters = clusters
        self.corrections = corrections
        self.known = set(clusters["face_id"])

    def face(self, word: str) -> str:
        if word not in self.known:
            raise UsageError(f"unknown face id {word!r}: not in this run's clusters.csv")
        return word

    def cluster(self, word: str) -> int | None:
        """The cluster id ``word`` names, None when it is not a number."""
        try:
            cluster = int(word)
        except ValueError:
            return None
        if cluster < 0 or not (self.clusters["cluster"] == cluster).any():
            raise UsageError(
                f"unknown cluster id {cluster}: not a cluster of this run's clusters.csv"
            )
        return cluster

    def faces(self, word: str) -> list[str]:
        """The faces of a cluster id, a person's cluster and anchors, or one face id."""
        if word in self.known:
            return [word]
        cluster = self.cluster(word)
        if cluster is None and word in self.corrections.names:
            cluster = self.corrections.names[word].cluster
            extra = self.corrections.names[word].faces
        elif cluster is None:
            raise UsageError(
                f"unknown face id or cluster id {word!r}: not in this run's clusters.csv"
            )
        else:
            extra = []
        return list(
            dict.fromkeys(
                self.clusters.loc[self.clusters["cluster"] == cluster, "face_id"].tolist() + extra
            )
        )

    def free_cluster_id(self) -> int:
        kept = [p.cluster for p in self.corrections.names.values()]
        return max([int(self.clusters["cluster"].max()), *kept]) + 1


def kept_apart(corrections: Corrections, faces: list[str]) -> set[str]:
    """Those of ``faces`` (a cluster's) that a `not` keeps apart from the others: not its person."""
    group = set(faces)
    return {c.face for c in corrections.not_ if c.face in group and group.intersection(c.not_with)}


def expand(corrections: Corrections, targets: Targets, words: list[str]) -> list[str]:
    """Face ids of ``words``; a cluster or person stands for its faces less those kept apart from it."""
    faces = []
    for word in words:
        found = targets.faces(word)
        faces += (
            found
            if word in targets.known
            else [f for f in found if f not in kept_apart(corrections, found)]
        )
    return list(dict.fromkeys(faces))


def unanchor(corrections: Corrections, faces: set[str], keep: str | None = None) -> list[str]:
    """Take ``faces`` off every name but ``keep`` (the latest word wins); returns names left empty (dropped)."""
    dropped = []
    for name, person in list(corrections.names.items()):
        if name != keep:
            person.faces = [f for f in person.faces if f not in faces]
            if not person.faces:
                dropped.append(corrections.names.pop(name) and name)
    return dropped


def name(corrections: Corrections, targets: Targets, word: str, person: str) -> str:
    """Name a cluster (renaming its person, if any) or a face; returns what was done."""
    person = person.strip()
    if not person or person.lstrip("-").isdigit():
        raise UsageError(f"a person's name must not be empty or a number: {person!r}")
    faces = expand(corrections, targets, [word])
    if word in corrections.names:
        cluster = corrections.names[word].cluster
    else:
        cluster = targets.cluster(word) if word not in targets.known else None
    current = next(
        (n for n, p in corrections.names.items() if cluster is not None and p.cluster == cluster),
        None,
    )
    if current and current != person and person not in corrections.names:
        corrections.names[person] = corrections.names.pop(current)
        done = f"renamed {current!r} to {person!r}"
    elif person in corrections.names:
        done = f"added {len(faces)} face(s) to {person!r}"
    else:
        own = cluster if cluster is not None and current is None else None
        if own is None and word in targets.known:
            face_cluster = int(
                targets.clusters.loc[targets.clusters.face_id == word, "cluster"].iloc[0]
            )
            taken = {p.cluster for p in corrections.names.values()}
            own = face_cluster if face_cluster >= 0 and face_cluster not in taken else None
        corrections.names[person] = Person(targets.free_cluster_id() if own is None else own, [])
        done = f"named {person!r} (cluster {corrections.names[person].cluster})"
    anchors = corrections.names[person]
    anchors.faces = list(dict.fromkeys(anchors.faces + faces))
    dropped = unanchor(corrections, set(faces), keep=person)
    return done + "".join(f"; {d!r} had no face left and is removed" for d in dropped)


def merge(corrections: Corrections, targets: Targets, words: list[str]) -> str:
    if len(words) < 2:
        raise UsageError("merge needs at least two clusters or faces")
    faces = expand(corrections, targets, words)
    if len(faces) < 2:
        raise UsageError(f"merge {' '.join(words)}: fewer than two faces to merge")
    corrections.merge.append(MustLink(faces, "merge " + " ".join(words)))
    return f"merged {len(faces)} faces into one person"


def not_person(corrections: Corrections, targets: Targets, face_word: str, word: str) -> str:
    face = targets.face(face_word)
    found = targets.faces(word)
    fellows = kept_apart(
        corrections, found
    )  # already said not to be this person: not kept from ``face``
    others = [f for f in found if f != face and f not in fellows]
    for link in corrections.not_:
        if link.face in fellows:
            link.not_with = [f for f in link.not_with if f != face]
    if not others:
        raise UsageError(f"{word} holds no face other than {face}: nothing to keep it apart from")
    for person in corrections.names.values():
        if set(person.faces) & set(others):
            person.faces = [f for f in person.faces if f != face]
    corrections.not_.append(CannotLink(face, others, f"not {face_word} {word}"))
    return f"face {face} kept apart from {len(others)} face(s)"


def ignore(corrections: Corrections, targets: Targets, words: list[str]) -> str:
    faces = [targets.face(word) for word in words]
    corrections.ignore = list(dict.fromkeys(corrections.ignore + faces))
    return f"{len(faces)} face(s) ignored"


def describe(corrections: Corrections) -> str:
    """The corrections as a few readable lines (``raypipe correct RUN list``)."""
    if corrections.is_empty():
        return "no corrections"
    lines = [
        f"name {n!r}: cluster {p.cluster}, {len(p.faces)} face(s)"
        for n, p in corrections.names.items()
    ]
    lines += [f"merge: {len(m.faces)} faces ({m.describe()})" for m in corrections.merge]
    lines += [
        f"not: {c.face} vs {len(c.not_with)} face(s) ({c.describe()})" for c in corrections.not_
    ]
    lines += [f"ignore: {face}" for face in corrections.ignore]
    return "\n".join(lines)
