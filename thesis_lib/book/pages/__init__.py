"""The chapters' pages: for each chapter, the results it reads (loaded once) and every table,
figure and paragraph it shows, so that a chapter's notebook only narrates and calls them.

A method returning prose returns Markdown text; one returning a figure draws it, saves it with
the run's figures (PNG and PDF) and returns the files written. :func:`show` displays what a
method returns: text as Markdown, tables as tables, lists item by item, nothing for ``None`` or
an empty text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from IPython.display import Markdown, display
from matplotlib.figure import Figure

from thesis_lib.book import plots

CHAPTERS = Path("book") / "results"  # where the book's executed chapters are, from the build's folder


class Page:
    """What every chapter's page shares: the folder its figures go in (``figures``, set by the
    page), and the vector files of the figures it drew, offered for download."""

    figures: Path

    def save(self, fig: Figure, name: str, close: bool = False) -> list[Path]:
        """``fig`` written as ``name``.png and .pdf in the run's figures folder (closed after when
        ``close``: drawn for a thesis, not shown); returns the files."""
        written = plots.save_figure(fig, name, self.figures, close)
        self.__dict__.setdefault("drawn", []).extend(p for p in written if p.suffix == ".pdf")
        return written

    def downloads(self) -> str:
        """A line of download links to every figure this page drew, as PDF (empty when none); Sphinx
        copies each file into the site."""
        drawn = self.__dict__.get("drawn", [])
        if not drawn:
            return ""
        here = CHAPTERS.resolve()
        return ("**This chapter's figures as vector files (PDF), for a paper:** "
                + ", ".join(f"{{download}}`{p.stem} <{os.path.relpath(p.resolve(), here)}>`" for p in drawn) + ".")


def show(*items: Any) -> None:
    """Display each of ``items`` in the executing notebook (strings as Markdown, lists and tuples
    item by item, ``None`` and ``""`` skipped)."""
    for item in items:
        if isinstance(item, (list, tuple)):
            show(*item)
        elif isinstance(item, str):
            if item:
                display(Markdown(item))
        elif item is not None:
            display(item)
