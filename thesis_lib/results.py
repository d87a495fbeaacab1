"""Render-only mode: at render time a chapter reads the files its steps wrote, and nothing else.

The workflow's chapter rules and :mod:`thesis_lib.book.render` (a bundle rendered as the book)
run the chapters with ``THESIS_RENDER_ONLY=1``. Then

- every computation a chapter could reach refuses to start (:func:`refuse_at_render`, called
  where the patch store is opened, a checkpoint is loaded, the Inception network is built): a
  chapter cannot open the store, sample a generator, run Inception or train anything;
- a chapter's results that are missing, or were computed with other parameters, stop it with
  :class:`ResultsMissing`, which names the step to run (:func:`recorded`).

Outside render-only mode (a user running one chapter with ``papermill ... -p k 100``) a chapter
whose results are missing computes them by calling its step, as before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RENDER_ONLY_ENV = "THESIS_RENDER_ONLY"


class ResultsMissing(FileNotFoundError):
    """A chapter's results are not on disk (or not for its parameters) at render time."""


class ComputeAtRenderTime(RuntimeError):
    """A chapter tried to compute at render time."""


def render_only() -> bool:
    """True while chapters render from results files only (``THESIS_RENDER_ONLY=1``)."""
    return os.environ.get(RENDER_ONLY_ENV, "") not in ("", "0")


def refuse_at_render(what: str) -> None:
    """Raise :class:`ComputeAtRenderTime` in render-only mode; ``what`` names the computation."""
    if render_only():
        raise ComputeAtRenderTime(f"at render time a chapter reads its steps' results files only, but it tried to "
                                  f"{what}; compute it in the workflow step ({RENDER_ONLY_ENV}=1 is set)")


# Where the run kept its outputs: a bundle rendered elsewhere has another, and the results are the same
LOCATION_KEYS = ("artifacts",)


def as_recorded(params: dict) -> dict:
    """``params`` as a JSON record holds them (paths and other objects as text), without the
    outputs' location (:data:`LOCATION_KEYS`)."""
    return {k: v for k, v in json.loads(json.dumps(params, default=str)).items() if k not in LOCATION_KEYS}


def recorded(record_path: str | Path, params: dict | None, step: str) -> dict:
    """The JSON record at ``record_path`` (a step's ``provenance.json`` or results file), checked to
    hold ``params`` under ``"parameters"`` (None: not checked). Raises :class:`ResultsMissing`
    naming ``step`` (the command that writes it) when the file is missing or holds other parameters."""
    path = Path(record_path)
    if not path.is_file():
        raise ResultsMissing(f"{path}: missing; the chapter narrates this step's results: run `{step}` "
                             "(or make book, which runs every step)")
    record = json.loads(path.read_text())
    have = as_recorded(record.get("parameters") or {})
    if params is not None and have != as_recorded(params):
        want = as_recorded(params)
        differ = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
        raise ResultsMissing(f"{path}: computed with other parameters ({', '.join(differ)} differ); run `{step}` "
                             "with this chapter's parameters")
    return record


def current_record(record_path: str | Path, params: dict, step: str, write, inputs=()) -> dict:
    """A step's record as a chapter needs it: at render time :func:`recorded` (or
    :class:`ResultsMissing`); else the record on disk when it holds ``params`` and is newer than
    every file of ``inputs`` (a missing input makes it stale), otherwise ``write()``'s (the step
    computed now)."""
    if render_only():
        return recorded(record_path, params, step)
    try:
        record = recorded(record_path, params, step)
    except ResultsMissing:
        return write()
    written = Path(record_path).stat().st_mtime_ns
    if all(Path(p).is_file() and written >= Path(p).stat().st_mtime_ns for p in inputs):
        return record
    return write()
