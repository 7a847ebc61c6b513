"""What a reader sees says nothing of how the project's work was organised, and names no default
that is not the current one.

Reader-facing text: the book's pages (``book/*.md``), the notebooks' sources (``notebooks/*.py``)
and the README; the Markdown the report modules write onto pages is checked in the built smoke
book (``test_book_browser.py`` uses :func:`internal_words` on every rendered page).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
READER_FILES = sorted([*(REPO / "book").glob("*.md"), *(REPO / "notebooks").glob("[0-9][0-9]_*.py"),
                       REPO / "README.md"])

#: Words of the project's work organisation (a bar chart stays a bar chart: "bar" alone is fine).
INTERNAL = {
    "an issue number": re.compile(r"\bissues? #?\d+", re.I),
    "the issue": re.compile(r"\bthe issue('s)?\b", re.I),
    "the bars": re.compile(r"\bthe bars\b(?! of)", re.I),
    "bar:": re.compile(r"\bbars?:", re.I),
    "landing": re.compile(r"\b(after )?landing\b", re.I),
}

#: How a page says which strategy or mode is the default; group 1 is the name.
DEFAULT_CLAIMS = (
    re.compile(r"`([a-z0-9-]+)`\s*\((?:the )?default\)"),
    re.compile(r"\bthe default(?: strategy| mode)?,? `([a-z0-9-]+)`"),
    re.compile(r"`([a-z0-9-]+)` by default\b"),
    re.compile(r"\*\*`([a-z0-9-]+)` default\*\*"),
    re.compile(r"\|\s*`([a-z0-9-]+)`\s*\|\s*\*\*the default\*\*"),
)


def internal_words(text: str) -> list[str]:
    """Each phrase of ``text`` that speaks of the work organisation, with its context."""
    found = []
    for what, pattern in INTERNAL.items():
        for m in pattern.finditer(text):
            found.append(f"{what}: ...{text[max(0, m.start() - 40):m.end() + 40]}...")
    return found


def stale_defaults(text: str) -> list[str]:
    """Each claim of ``text`` that a strategy or refinement mode is the default when the code's
    registry says another one is (:data:`cam2seg_utils.prompting.DEFAULT_STRATEGY`,
    :data:`cam2seg_utils.refinement.DEFAULT_MODE`)."""
    from cam2seg_utils.prompting import DEFAULT_STRATEGY, STRATEGIES
    from cam2seg_utils.refinement import DEFAULT_MODE, REFINEMENT_MODES

    strategies, modes = set(STRATEGIES.names()), set(REFINEMENT_MODES.names())
    found = []
    for pattern in DEFAULT_CLAIMS:
        for m in pattern.finditer(text):
            name = m.group(1)
            current = DEFAULT_STRATEGY if name in strategies else DEFAULT_MODE if name in modes else None
            if current is not None and name != current:
                found.append(f"`{name}` called the default (the code's default: `{current}`): "
                             f"...{text[max(0, m.start() - 40):m.end() + 40]}...")
    return found


@pytest.mark.parametrize("path", READER_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_reader_text_has_no_internal_words(path):
    assert internal_words(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", READER_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_reader_text_names_only_the_current_defaults(path):
    assert stale_defaults(path.read_text(encoding="utf-8")) == []


def test_the_checks_catch_what_they_are_for(monkeypatch):
    """The patterns find the phrases the pages once had, and leave ordinary words alone."""
    for bad in ("measured after landing with the same command", "see issue 21", "NoC@85 4.56 (bar: at most 4)",
                "## The bars, on these images", "the issue's box edits"):
        assert internal_words(bad), bad
    for fine in ("a bar chart of the IoU", "the bars of the chart", "error bars", "the landmark"):
        assert internal_words(fine) == [], fine
    from cam2seg_utils import prompting, refinement

    monkeypatch.setattr(prompting, "DEFAULT_STRATEGY", "image-prior")
    monkeypatch.setattr(refinement, "DEFAULT_MODE", "points")
    claims = stale_defaults("| `candidates` (the default) | the default `candidates` | **`box-edit` default** |")
    assert len(claims) == 3 and all("called the default" in c for c in claims)
    assert stale_defaults("`image-prior` (the default), `points` by default, `centred-box` (60 %)") == []


def test_one_miss_definition_everywhere():
    """A miss is IoU < 0.01 (the headline's count); the strategies table's IoU = 0 count is
    named as such (``n_zero_iou``, zero-IoU images), never "complete failures" beside it."""
    from cam2seg_utils.report.headline import MISS_IOU

    assert MISS_IOU == 0.01
    glossary = (REPO / "book" / "glossary.md").read_text()
    assert "IoU **below 0.01**" in glossary and "IoU **exactly 0**" in glossary
    for path in READER_FILES:
        text = path.read_text(encoding="utf-8")
        assert "complete failures" not in text, path.name
