"""Resuming a DCGAN run: which checkpoint continues which run, and the run's bookkeeping.

A run continues from ``latest.pt`` only when it was trained with the same config (all but its
length and bookkeeping, :meth:`~thesis_lib.training.gan_config.GanConfig.same_run`) on the same
patches (their SHA-1); its log is cut back to the checkpoint's step, so rows after it are
written once.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib.io import atomic_path
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import n_blocks
from thesis_lib.training.gan_config import GanConfig


def truncate_log(path: Path, last_step: int) -> None:
    """Keep only complete log rows up to ``last_step`` (iterations after the checkpoint rerun)."""
    if not path.is_file():
        return
    rows = pd.read_csv(path, on_bad_lines="skip")
    rows = rows[pd.to_numeric(rows.step, errors="coerce") <= last_step]
    with atomic_path(path) as tmp:
        rows.to_csv(tmp, index=False)


def data_fingerprint(patches: np.ndarray) -> str:
    """SHA-1 of the training patches: a checkpoint resumes only on the data it was trained on."""
    return hashlib.sha1(np.ascontiguousarray(patches).tobytes()).hexdigest()


def start_fresh(out: Path) -> None:
    """Remove a previous run's files from ``out``."""
    for name in ("latest.pt", "best.pt", "log.csv", "eval.csv", "summary.json", "provenance.json"):
        (out / name).unlink(missing_ok=True)
    for name in ("samples", "snapshots", "tensorboard"):
        shutil.rmtree(out / name, ignore_errors=True)


def resumable_state(latest: Path, cfg: GanConfig, fingerprint: str, resume: bool | str) -> dict | None:
    """The checkpoint to continue from, or None to start afresh (see :func:`fit`'s ``resume``)."""
    if not resume or not latest.is_file():
        return None
    try:
        state = checkpoint.load(latest)
    except checkpoint.CheckpointError:
        if resume != "auto":
            raise
        return None  # unreadable or from an older format
    problem = ("another config" if not GanConfig.from_dict(state["config"]).same_run(cfg) else
               "other data" if state.get("data_sha1") != fingerprint else None)
    if problem and resume != "auto":
        raise ValueError(f"{latest} was trained with {problem}; use another out_dir or resume=False")
    return None if problem else state


def iterations_per_epoch(n_patches: int, batch_size: int, world: int = 1) -> int:
    """Iterations of one epoch over ``n_patches`` (each of ``world`` processes takes its share)."""
    usable = (n_patches // world) * world
    return math.ceil((usable // world) / max(batch_size // world, 1))


def resolved(cfg: GanConfig, patches: np.ndarray, world: int = 1) -> GanConfig:
    """``cfg`` for these patches: ``image_size`` set to their size (after checking that they are
    uint8 (N, S, S), S the config's size when set and one the networks support) and, with an
    iteration budget, ``epochs`` the whole epochs that cover it."""
    size = cfg.image_size or (patches.shape[-1] if patches.ndim == 3 else 0)
    if patches.ndim != 3 or patches.shape[1:] != (size, size) or patches.dtype != np.uint8:
        raise ValueError(f"patches must be uint8 (N, {size}, {size}) (gan image_size={cfg.image_size}), "
                         f"got {patches.dtype} {patches.shape}")
    n_blocks(size)
    epochs = cfg.epochs
    if cfg.iterations:
        epochs = math.ceil(cfg.iterations / iterations_per_epoch(len(patches), cfg.batch_size, world))
    return replace(cfg, image_size=size, epochs=epochs)


def is_finished(cfg: GanConfig, patches: np.ndarray, out_dir: str | Path) -> bool:
    """True when ``out_dir`` holds a complete run of ``cfg`` on ``patches`` with its summary
    written: training again would change nothing (and :func:`fit` would only rewrite files)."""
    return (Path(out_dir) / "summary.json").is_file() and is_trained(cfg, patches, out_dir)


def is_trained(cfg: GanConfig, patches: np.ndarray, out_dir: str | Path) -> bool:
    """True when ``out_dir``'s ``latest.pt`` holds the last epoch of ``cfg`` on ``patches`` (its
    summary may be missing: the workflow deletes a step's outputs before it reruns it)."""
    cfg = resolved(cfg, np.asarray(patches))
    state = resumable_state(Path(out_dir) / "latest.pt", cfg, data_fingerprint(patches), "auto")
    return state is not None and state["epoch"] >= cfg.epochs
