"""The run folders of the DCGAN trainings and the records they hold.

``artifacts/<profile>/gan/fold<f>`` (a fold's lesion-simulation GAN), ``fold<f>_k<k>`` (a G_k
of the augmentation study), with ``_g<seed>`` and ``_<recipe>`` for its further seeds and
recipes. Each holds ``log.csv``, ``eval.csv``, ``samples/``, ``summary.json`` and, when the
pipeline trained it, ``provenance.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thesis_lib import paths


def read_run(out_dir: str | Path) -> dict:
    """A finished run's records: ``log`` and ``scores`` (DataFrames), ``samples`` (list of
    ``(epoch, path)``), ``summary`` and ``provenance`` (dicts; the latter empty when the run was
    trained by :func:`fit` alone). Raises ``FileNotFoundError`` naming the step."""
    out = Path(out_dir)
    if not (out / "summary.json").is_file():
        raise FileNotFoundError(f"{out}: no finished training run (summary.json missing); train it first "
                                "(notebook 01_train_dcgan, or python -m thesis_lib.training.gan)")
    samples = sorted((int(p.stem.split("_")[1]), p) for p in (out / "samples").glob("epoch_*.png"))
    scores = pd.read_csv(out / "eval.csv") if (out / "eval.csv").is_file() else pd.DataFrame(columns=["epoch", "step", "score"])
    provenance = out / "provenance.json"
    return {"log": pd.read_csv(out / "log.csv"), "scores": scores, "samples": samples,
            "summary": json.loads((out / "summary.json").read_text()),
            "provenance": json.loads(provenance.read_text()) if provenance.is_file() else {}}


def timing_table(summary: dict, name: str) -> pd.DataFrame:
    """A run's device, precision, size and speed as a one-column table."""
    seconds, epochs = summary["seconds"], max(summary["epochs_done"], 1)
    return pd.Series({
        "device": summary["device"], "precision": summary["precision"],
        "processes": summary["world_size"], "epochs": summary["epochs_done"],
        "iterations": summary["steps"], "training time (s)": round(seconds, 1),
        "s per epoch": round(seconds / epochs, 2), "images per s": round(summary["images_per_s"], 1),
        "kept epoch": summary["best_epoch"],
        "kept score": None if summary["best_score"] is None else round(summary["best_score"], 4),
    }, name=name).to_frame()


def summarise_runs(folder: str | Path, pattern: str = r".*") -> pd.DataFrame:
    """One row per finished run in ``folder`` (sub-folders whose whole name matches the regular
    expression ``pattern``, e.g. ``"fold[0-9]+"`` for the fold GANs), in natural order."""
    rows = []
    for out in sorted(Path(folder).glob("*"), key=lambda p: [int(t) if t.isdigit() else t
                                                              for t in re.split(r"(\d+)", p.name)]):
        if re.fullmatch(pattern, out.name) and (out / "summary.json").is_file():
            s = read_run(out)["summary"]
            rows.append({"run": out.name, "epochs": s["epochs_done"], "iterations": s["steps"],
                         "kept epoch": s["best_epoch"], "kept score": s["best_score"],
                         "training time (s)": round(s["seconds"], 1)})
    return pd.DataFrame(rows, columns=["run", "epochs", "iterations", "kept epoch", "kept score",
                                       "training time (s)"]).set_index("run")


SATURATED = 0.01  # D's mean output within this of 0 or 1: its gradient to G has all but vanished
MOSTLY = 0.9  # share of iterations that makes a reading hold "in most iterations"


@dataclass(frozen=True)
class Balance:
    """How the game went over the second half of a run (iterations ``first``-``last``, 1-based):
    mean D(x) and D(G(z)) (D's outputs in [0, 1] on real and generated batches, before G's
    update), the share of iterations with D(x) > D(G(z)), the share in which either output was
    saturated (within :data:`SATURATED` of 0 or 1), and the lowest D(G(z)) of the first tenth
    (how hard D won at the start). ``reading``: "discriminator wins" (saturated in more than
    1 - :data:`MOSTLY` of the iterations), else "balanced" (D(x) above D(G(z)) in at least
    :data:`MOSTLY` of them) or "generator ahead" (in fewer)."""
    first: int
    last: int
    d_real: float
    d_fake: float
    d_ahead: float
    saturated: float
    early_min_fake: float
    reading: str


def balance(log: pd.DataFrame) -> Balance:
    """Read ``log`` (a run's ``log.csv``: one row per iteration, columns ``d_x``, ``d_g_z1``) as
    :class:`Balance`. Raises ``ValueError`` for a log of fewer than 2 iterations."""
    if len(log) < 2:
        raise ValueError(f"a training log of {len(log)} iterations: too short to read")
    half = log.iloc[len(log) // 2:]
    d_x, d_gz = half["d_x"].to_numpy(float), half["d_g_z1"].to_numpy(float)
    saturated = float(((d_x > 1 - SATURATED) | (d_gz < SATURATED) | (d_x < SATURATED) | (d_gz > 1 - SATURATED)).mean())
    d_ahead = float((d_x > d_gz).mean())
    reading = ("discriminator wins" if saturated > 1 - MOSTLY else
               "balanced" if d_ahead >= MOSTLY else "generator ahead")
    return Balance(first=len(log) // 2 + 1, last=len(log), d_real=float(d_x.mean()), d_fake=float(d_gz.mean()),
                   d_ahead=d_ahead, saturated=saturated,
                   early_min_fake=float(log["d_g_z1"].iloc[:max(len(log) // 10, 1)].min()), reading=reading)


def run_dir(profile_artifacts: str | Path, fold: int, k: int | None, replicate: int = 0,
            recipe: str | None = None) -> Path:
    """Where a run writes: ``artifacts/<profile>/gan/fold<f>``, ``.../fold<f>_k<k>``, for the
    further training seeds of a G_k ``.../fold<f>_k<k>_g<replicate>``, and for a G_k of a further
    recipe (``aug.generators``) that name with ``_<recipe>`` added."""
    if (replicate or recipe) and k is None:
        raise ValueError("replicate, recipe: only G_k (k given) has several training seeds and recipes")
    name = f"fold{fold}" if k is None else f"fold{fold}_k{k}" + (f"_g{replicate}" if replicate else "")
    return paths.gan(profile_artifacts) / (name + (f"_{recipe}" if recipe else ""))
