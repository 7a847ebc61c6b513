"""The book's vocabulary: the glossary page ``book/glossary.md`` is the one home of every
definition (a Sphinx ``glossary``); this module reads its terms and writes links to them.

:func:`glossary_terms` lists the terms of the page; :func:`term_link` writes one link, as MyST
for a book page (``{term}`candidates```, checked by the book build: an unknown term fails it) or as a
Markdown link to the page for the README; :func:`link_names` links every backticked name of a
Markdown text that is a term (the README's headline table); :func:`undefined` lists the names of
the code's registries (prompting strategies, refinement modes) the page does not define.
"""
from __future__ import annotations

import re
from pathlib import Path

#: The glossary page, relative to the repository root.
GLOSSARY_PAGE = Path("book") / "glossary.md"
_REPO = Path(__file__).resolve().parents[2]


def glossary_terms(path: str | Path | None = None) -> list[str]:
    """The terms of the glossary page, in page order: every unindented, non-empty line inside a
    ```` ```{glossary} ```` block (a term; several lines before one definition are synonyms)."""
    path = Path(path) if path is not None else _REPO / GLOSSARY_PAGE
    terms: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```{glossary}"):
            inside = True
        elif inside and line.startswith("```"):
            inside = False
        elif inside and line.strip() and not line[0].isspace() and not line.startswith(":"):
            terms.append(line.strip())
    if not terms:
        raise ValueError(f"{path}: no glossary term found (expected ```{{glossary}} blocks)")
    return terms


def term_link(term: str, text: str | None = None, style: str = "myst", href: str = str(GLOSSARY_PAGE)) -> str:
    """A link to ``term`` of the glossary, shown as ``text`` (default: the term, in backticks when
    it is a code name such as ``candidates``). ``style="myst"``: the Sphinx ``{term}`` role (a
    book page; the build fails on an unknown term); ``"markdown"``: ``[text](href)`` (the README,
    ``href`` relative to it)."""
    shown = text if text is not None else term
    if style == "myst":     # a term role shows plain text: no backticks inside it
        return f"{{term}}`{shown} <{term}>`" if shown != term else f"{{term}}`{term}`"
    if style == "markdown":
        return f"[`{shown}`]({href})" if shown == term and is_code_name(term) else f"[{shown}]({href})"
    raise ValueError(f"style must be 'myst' or 'markdown', got {style!r}")


#: code names without a hyphen, underscore or digit (shown in backticks in Markdown links)
_CODE_WORDS = {"candidates", "component", "refine", "points", "hybrid", "margin", "far", "delta", "reach"}


def is_code_name(name: str) -> bool:
    """Whether ``name`` is a name of the code (a strategy, a mode, a parameter: shown as code)
    rather than a word (``miss``, ``oracle``)."""
    return name in _CODE_WORDS or re.fullmatch(r"[a-z][a-z0-9]*[-_@0-9][a-z0-9_@-]*", name) is not None


#: Plain-text names (not code) that :func:`link_names` links too.
PHRASES = ("Algorithm 1", "whole-image box")


def link_names(text: str, style: str = "markdown", href: str = str(GLOSSARY_PAGE),
               terms: list[str] | None = None, phrases: tuple[str, ...] = PHRASES) -> str:
    """``text`` with every backticked name that is a glossary term (`` `candidates` ``), and every
    plain ``phrases`` entry (``Algorithm 1``), turned into a link to it (:func:`term_link`); other
    code spans stay as they are, and text already inside a link is left alone."""
    known = set(terms if terms is not None else glossary_terms())

    def sub(m: re.Match) -> str:
        name = m.group(1)
        return term_link(name, style=style, href=href) if name in known else m.group(0)

    text = re.sub(r"(?<![\[\w])`([^`\s]+)`(?!\])", sub, text)
    for phrase in phrases:
        if phrase in known:
            text = re.sub(rf"(?<![\[\w`]){re.escape(phrase)}(?![\]\w`])",
                          lambda m: term_link(phrase, style=style, href=href), text)
    return text


def undefined(terms: list[str] | None = None) -> dict[str, list[str]]:
    """Names of the code's registries the glossary does not define: ``{"strategies": [...],
    "refinement modes": [...]}`` (empty lists when it defines them all)."""
    from ..prompting import STRATEGIES
    from ..refinement import REFINEMENT_MODES

    known = set(terms if terms is not None else glossary_terms())
    return {"strategies": [n for n in STRATEGIES.names() if n not in known],
            "refinement modes": [n for n in REFINEMENT_MODES.names() if n not in known]}


__all__ = ["GLOSSARY_PAGE", "PHRASES", "glossary_terms", "is_code_name", "term_link", "link_names", "undefined"]
