"""Every relative link of README.md and docs/*.md leads to a file that exists and, with a
``#fragment``, to a heading of that file (GitHub's anchors)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def without_fences(text: str) -> str:
    """``text`` without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code, where brackets are not links."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of the headings of ``path``: lower case, punctuation dropped (the
    text of inline code kept, its backticks dropped), spaces as hyphens, a repeated heading
    numbered (``-1``, ``-2``, ...)."""
    found: set[str] = set()
    text = without_fences(path.read_text(encoding="utf-8"))
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(document.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path_part, _, fragment = target.partition("#")
        path = (document.parent / path_part).resolve() if path_part else document
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{target}: no heading #{fragment} in {path.name}")
    return broken


def test_the_link_check_finds_a_missing_file_and_a_missing_heading_and_keeps_inline_code_in_anchors(
    tmp_path,
):
    (tmp_path / "other.md").write_text(
        "# Other\n\n## Run folders and object stores\n\n## Faces from `anime_unlabelled`\n"
    )
    page = tmp_path / "page.md"
    page.write_text("[a](other.md#run-folders-and-object-stores) [b](gone.md) [c](other.md#nope) "
                    "[d](https://example.org) `[e](gone.md)` [f](other.md#faces-from-anime_unlabelled)\n")  # fmt: skip
    assert broken_links(page) == [
        "gone.md: no such file",
        "other.md#nope: no heading #nope in other.md",
    ]


def test_every_relative_link_of_the_readme_and_docs_resolves():
    assert len(documents()) > 5
    broken = {doc.relative_to(REPO).as_posix(): broken_links(doc) for doc in documents()}
    assert {doc: links for doc, links in broken.items() if links} == {}
