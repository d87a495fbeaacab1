"""Numbers the thesis and others reported, for comparison with this reproduction's own.

They are read from ``thesis_reported.yaml``, where each block names its source; the book cites
those sources. Nothing here is computed: these are the targets, not results.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml


@lru_cache(maxsize=1)
def reported() -> dict:
    """The whole file as a dict."""
    return yaml.safe_load((Path(__file__).with_name("thesis_reported.yaml")).read_text())


def departures(section: str, params: dict) -> list[str]:
    """Each setting of a resolved profile ``section`` (e.g. ``data_prep``, ``tsne``) that differs
    from the thesis' own (the ``settings`` of this file's block of that name), as
    "setting: ours (the thesis: theirs)", in the file's order."""
    thesis = reported()[section]["settings"]
    return [f"{name}: {params[name]} (the thesis: {value})" for name, value in thesis.items()
            if name in params and str(params[name]) != str(value)]
