"""Every relative link in README.md and docs/ points at a file (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])
# [text](target) and ![alt](target), with an optional "title"; code is left out first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(markdown: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", markdown))


def _anchors(markdown: str) -> set[str]:
    """Heading ids as GitHub makes them (lower case, punctuation dropped, spaces to -),
    plus explicit <a id="..."> anchors."""
    slugs = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in HEADING.findall(FENCE.sub("", markdown))
    }
    return slugs | set(re.findall(r"<a id=\"([^\"]+)\"", markdown))


def _relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(_prose(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_the_pages_are_found() -> None:
    names = {page.relative_to(REPO).as_posix() for page in PAGES}
    assert {"README.md", "docs/design.md", "docs/operations/install.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in _relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif (
            anchor
            and destination.suffix == ".md"
            and anchor not in _anchors(destination.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_no_page_points_outside_the_repository() -> None:
    outside = [
        f"{page.relative_to(REPO)}: {target}"
        for page in PAGES
        for target in _relative_links(page)
        if not (page.parent / target.partition("#")[0]).resolve().is_relative_to(REPO)
    ]
    assert outside == []
    assert all("shared/DESIGN.md" not in page.read_text(encoding="utf-8") for page in PAGES)
