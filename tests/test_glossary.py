"""The glossary defines the book's own terms once, and each chapter links a term where it first
uses it: in every chapter's prose (its markdown cells, headings aside) and the book's own pages,
the first use of a glossary term is a {term} role. Text that code prints is not checked here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GLOSSARY = REPO / "book" / "glossary.md"
ROLE = re.compile(r"\{term\}`([^`<]*?)\s*(?:<([^>`]+)>)?`")


def glossary_terms() -> list[str]:
    """The terms of the glossary directive: its lines at the block's left edge."""
    block = GLOSSARY.read_text().split("```{glossary}\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith((" ", ":"))]


def prose(page: Path) -> str:
    """A page's prose: a notebook's markdown cells, or a Markdown page; headings left out."""
    if page.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(page.read_text())["cells"]
                         if c["cell_type"] == "markdown")
    else:
        text = page.read_text()
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


# what is not prose: roles other than {term} (citations, references), inline code, a link's
# target, maths
NOT_PROSE = re.compile(r"\{[\w:-]+\}`[^`]*`|`[^`]*`|\]\([^)]*\)|\$[^$]+\$")


def blank_non_prose(text: str) -> str:
    """``text`` with what is not prose blanked out (same length, so positions hold); {term}
    roles are kept."""
    return NOT_PROSE.sub(lambda m: m.group() if m.group().startswith("{term}") else " " * len(m.group()), text)


def unlinked_first_uses(text: str, terms: list[str]) -> list[str]:
    """The terms whose first use in ``text``'s prose is not inside a {term} role naming them."""
    roles = [(m.start(), m.end(), (m.group(2) or m.group(1)).strip().lower()) for m in ROLE.finditer(text)]
    text = blank_non_prose(text)
    missing = []
    for term in terms:
        first = re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text, re.I)
        if first and not any(a <= first.start() < b and target == term.lower() for a, b, target in roles):
            missing.append(term)
    return missing


PAGES = sorted((REPO / "notebooks").glob("*.ipynb")) + [REPO / "book" / "methods.md", REPO / "book" / "introduction.md"]


def test_the_glossary_defines_the_terms_the_examiner_found_undefined():
    terms = {t.lower() for t in glossary_terms()}
    assert {"smoke", "dex", "floor", "g_k", "called masses", "too close", "spread", "permutation null",
            "detectable difference", "primary endpoint", "tost", "borderline", "seed-dependent"} <= terms


def test_the_check_finds_a_term_used_before_it_is_linked():
    terms = ["floor", "G_k"]
    assert unlinked_first_uses("FID over the floor, then the {term}`floor`.", terms) == ["floor"]
    assert unlinked_first_uses("the {term}`matched floor <floor>` and the floor; G_k", terms) == ["G_k"]
    assert unlinked_first_uses("a {term}`G_k` of the {term}`floor`", terms) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_page_links_a_glossary_term_where_it_first_uses_it(page):
    assert unlinked_first_uses(prose(page), glossary_terms()) == []
