"""``RUN/corrections.yaml``: what people decided about a run's faces, anchored on face ids.

The file is meant to be edited by hand as well as by ``raypipe correct``::

    names:                  # person -> the cluster id it keeps and the faces it is anchored on
      Ada Lovelace: {cluster: 3, faces: [3f2a..._000, 9c1b..._001]}
    merge:                  # faces of one person (must-link)
    - {faces: [3f2a..._000, 77d0..._000], made_by: merge 3 5}
    not:                    # ``face`` is not the person of ``not_with`` (cannot-link)
    - {face: 5e6f..._000, not_with: [3f2a..._000], made_by: not 5e6f..._000 3}
    ignore: [aa01..._002]   # not a face, or not wanted: left out of every clustering

Face ids (not cluster ids) are stored, so the corrections outlive any re-clustering.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from raypipe.errors import UsageError
from raypipe.layout import RunLayout, atomic_write_text

HEADER = (
    "# raypipe corrections (hand-editable): face ids are those of faces.parquet / clusters.csv.\n"
    "# names: person -> {cluster: id it keeps, faces: [...]}; merge: faces of one person;\n"
    "# not: `face` is not the person of `not_with`; ignore: faces left out of clustering.\n"
)


@dataclass
class Person:
    cluster: int
    faces: list[str]


@dataclass
class MustLink:
    faces: list[str]
    made_by: str = ""

    def describe(self) -> str:
        return f"`{self.made_by}`" if self.made_by else f"merge of {', '.join(self.faces[:3])}"


@dataclass
class CannotLink:
    face: str
    not_with: list[str]
    made_by: str = ""

    def describe(self) -> str:
        return f"`{self.made_by}`" if self.made_by else f"not {self.face}"


@dataclass
class Corrections:
    names: dict[str, Person] = field(default_factory=dict)
    merge: list[MustLink] = field(default_factory=list)
    not_: list[CannotLink] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.names or self.merge or self.not_ or self.ignore)

    def links(self) -> Iterator[tuple[str, list[str]]]:
        """Every must-link set with a description: each name's anchors, each merge."""
        for name, person in self.names.items():
            yield f"name {name!r}", person.faces
        for link in self.merge:
            yield link.describe(), link.faces

    def face_ids(self) -> set[str]:
        faces = {f for _, group in self.links() for f in group} | set(self.ignore)
        for link in self.not_:
            faces |= {link.face, *link.not_with}
        return faces

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": {n: {"cluster": p.cluster, "faces": p.faces} for n, p in self.names.items()},
            "merge": [{"faces": m.faces, "made_by": m.made_by} for m in self.merge],
            "not": [
                {"face": c.face, "not_with": c.not_with, "made_by": c.made_by} for c in self.not_
            ],
            "ignore": self.ignore,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "corrections") -> Corrections:
        """Parse the YAML structure; a malformed entry is a one-line UsageError saying where."""
        data = data or {}
        try:
            return cls(
                names={str(n): Person(int(p["cluster"]), _ids(p["faces"])) for n, p in (data.get("names") or {}).items()},
                merge=[MustLink(_ids(m["faces"]), str(m.get("made_by") or "")) for m in data.get("merge") or []],
                not_=[CannotLink(str(c["face"]), _ids(c["not_with"]), str(c.get("made_by") or ""))
                      for c in data.get("not") or []],
                ignore=_ids(data.get("ignore") or []),
            )  # fmt: skip
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            raise UsageError(
                f"{where}: malformed entry ({type(err).__name__}: {err}); see the header of the file"
            ) from None


def _ids(values: Iterable) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"expected a list of face ids, got {values!r}")
    return [str(v) for v in values]


def load(layout: RunLayout, known_faces: set[str] | None = None) -> Corrections:
    """The run's corrections (empty when it has none), checked for conflicts and unknown faces."""
    path = layout.corrections
    if not path.exists():
        return Corrections()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    corrections = Corrections.from_dict(data, str(path))
    check(corrections, known_faces)
    return corrections


def save(layout: RunLayout, corrections: Corrections, known_faces: set[str]) -> None:
    """Check ``corrections`` against the run's faces, then write them."""
    check(corrections, known_faces)
    text = yaml.safe_dump(
        corrections.to_dict(),
        sort_keys=False,
        allow_unicode=True,
        width=120,
        default_flow_style=None,
    )
    atomic_write_text(layout.corrections, HEADER + text)


class Components:
    """Faces joined by must-links (union-find), remembering which links join them."""

    def __init__(self, links: Iterable[tuple[str, list[str]]]):
        self.parent: dict[str, str] = {}
        self.sources: dict[str, list[str]] = {}
        for description, faces in links:
            for face in faces:
                self.sources.setdefault(face, []).append(description)
                self.union(faces[0], face)

    def find(self, face: str) -> str:
        root = self.parent.setdefault(face, face)
        while root != self.parent[root]:
            root = self.parent[root]
        self.parent[face] = root
        return root

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def linked(self, a: str, b: str) -> bool:
        return a in self.parent and b in self.parent and self.find(a) == self.find(b)

    def why_linked(self, a: str, b: str) -> str:
        """The links holding both faces, else those holding either."""
        both = [s for s in self.sources[a] if s in self.sources[b]]
        return " and ".join(both or dict.fromkeys(self.sources[a] + self.sources[b]))


def check(corrections: Corrections, known_faces: set[str] | None = None) -> None:
    """Refuse unknown face ids and contradictions, naming both sides (UsageError)."""
    if known_faces is not None:
        unknown = sorted(corrections.face_ids() - known_faces)
        if unknown:
            raise UsageError(f"unknown face id {unknown[0]!r} in the corrections: not in this run's faces.parquet"
                             + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))  # fmt: skip
    components = Components(corrections.links())
    by_cluster: dict[int, str] = {}
    for name, person in corrections.names.items():
        if person.cluster in by_cluster:
            raise UsageError(
                f"conflicting corrections: name {by_cluster[person.cluster]!r} and name {name!r} both keep cluster {person.cluster}"
            )
        by_cluster[person.cluster] = name
    named = list(corrections.names.items())
    for i, (name, person) in enumerate(named):
        for other, other_person in named[i + 1 :]:
            if (
                person.faces
                and other_person.faces
                and components.linked(person.faces[0], other_person.faces[0])
            ):
                raise UsageError(f"conflicting corrections: name {name!r} and name {other!r} are made one person by "
                                 f"{components.why_linked(person.faces[0], other_person.faces[0])}")  # fmt: skip
    for link in corrections.not_:
        for face in link.not_with:
            if face == link.face:
                raise UsageError(f"corrections: {link.describe()} says face {face} is not itself")
            if components.linked(link.face, face):
                raise UsageError(f"conflicting corrections: {link.describe()} and {components.why_linked(link.face, face)} "
                                 f"on faces {link.face} and {face}: one says one person, the other two")  # fmt: skip
    for face in corrections.ignore:
        if face in components.sources:
            raise UsageError(
                f"conflicting corrections: ignore {face} and {components.sources[face][0]} (which keeps it)"
            )
