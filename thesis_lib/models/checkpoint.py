"""Checkpoints: written atomically, read as data only (``weights_only=True``).

A training checkpoint (``latest.pt``) holds everything needed to continue bit for bit: both
models, optimisers, schedulers, the RNG states of python, numpy and torch (and CUDA), the
position in training and the config. A generator checkpoint (``best.pt``) holds the generator,
its config and its score, enough to sample with no other file.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from thesis_lib.io import atomic_path
from thesis_lib.results import refuse_at_render

FORMAT = "thesis_lib.dcgan/2"  # 2: latest.pt records the training time spent ("spent")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and why."""


def save(path: str | Path, state: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file, then rename: never a half-written checkpoint."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint of this project as plain data; :class:`CheckpointError` otherwise."""
    path = Path(path)
    refuse_at_render(f"load the checkpoint {path}")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, pickled code, ...
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} checkpoint (format "
                              f"{state.get('format') if isinstance(state, dict) else type(state).__name__!r})")
    return state


def rng_state() -> dict[str, Any]:
    """RNG states of python, numpy and torch (and CUDA when present), as plain data."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": list(random.getstate()[1]), "python_version": random.getstate()[0],
             "python_gauss": random.getstate()[2],
             "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
