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
