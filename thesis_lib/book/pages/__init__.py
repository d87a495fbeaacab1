"""The chapters' pages: for each chapter, the results it reads (loaded once) and every table,
figure and paragraph it shows, so that a chapter's notebook only narrates and calls them.

A method returning prose returns Markdown text; one returning a figure draws it, saves it with
the run's figures (PNG and PDF) and returns the files written. :func:`show` displays what a
method returns: text as Markdown, tables as tables, lists item by item, nothing for ``None`` or
an empty text.
"""

from __future__ import annotations

from typing import Any

from IPython.display import Markdown, display


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
