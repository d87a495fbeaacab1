"""Provenance: every run records what produced its outputs, next to them."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from thesis_lib.config import REPO_ROOT
from thesis_lib.io import write_json

PACKAGES = (
    "numpy", "scipy", "pandas", "torch", "torchvision", "pydicom", "h5py", "scikit-learn",
    "scikit-image", "openTSNE", "matplotlib", "papermill", "snakemake", "jupyter-book",
)


COMMIT_ENV = "THESIS_GIT_COMMIT"  # the commit of a copy without .git (a device kit's run), as its maker read it


def git_commit() -> str:
    """The repository's HEAD commit, with ``+dirty`` when tracked files are modified; in a copy
    that is not a git checkout, the commit that ``$THESIS_GIT_COMMIT`` names (set by whoever made
    the copy, e.g. ``tools/device_run.py``), else ``unknown (not a git checkout)``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get(COMMIT_ENV) or "unknown (not a git checkout)"
    return commit + ("+dirty" if dirty else "")


def short_commit(commit: str) -> str:
    """A commit as a page shows it: 12 digits, and ``+dirty`` kept (the run's code had changes
    not committed, so the commit alone does not rebuild it)."""
    commit = str(commit)
    return commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (``"not installed"`` where absent)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def cpu_cores() -> int:
    """CPU cores this process may use (its affinity: a cluster job's share, not the node's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def hardware() -> dict[str, Any]:
    """CPU cores available to this process and the GPUs torch sees (names), for the record."""
    cpus = cpu_cores()
    try:
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except RuntimeError:  # a broken CUDA setup: record none
        gpus = []
    return {"cpu_cores": cpus, "gpus": gpus, "machine": platform.machine(), "system": platform.platform()}


class Run:
    """Times a step and writes ``provenance.json`` for it.

    >>> run = Run("data_prep", params)      # at the start of the step
    >>> run.write(out_dir, counts=...)      # at the end, next to the outputs
    """

    def __init__(self, step: str, params: dict[str, Any]):
        self.step = step
        self.params = dict(params)
        self.started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()

    def record(self, **extra: Any) -> dict[str, Any]:
        return {
            "step": self.step,
            "profile": self.params.get("profile"),
            "seed": self.params.get("seed"),
            "parameters": self.params,
            "git_commit": git_commit(),
            "started_utc": self.started.isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - self._t0, 1),
            **peak_memory(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.machine(),
            "hardware": hardware(),
            "packages": package_versions(),
            **extra,
        }

    def write(self, out_dir: str | Path, **extra: Any) -> dict[str, Any]:
        """Write the record as ``out_dir/provenance.json`` (atomically) and return it."""
        rec = self.record(**extra)
        write_json(Path(out_dir) / "provenance.json", rec)
        return rec


def peak_memory() -> dict[str, float]:
    """``peak_rss_mb``: the largest resident memory so far of this process or of any child it
    waited for (MB; a cluster job needs at least this, see the profiles' ``resources``), and
    ``peak_gpu_mb``: the most GPU memory PyTorch allocated, where a GPU was used."""
    rss_kb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    out = {"peak_rss_mb": round(rss_kb / 1024, 1)}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def collect(artifacts: str | Path) -> list[dict[str, Any]]:
    """Every ``provenance.json`` under ``artifacts`` (a profile's outputs), each with its
    ``folder`` relative to ``artifacts``, sorted by start time."""
    art = Path(artifacts)
    records = []
    for path in art.rglob("provenance.json"):
        if any(part.startswith(".") for part in path.relative_to(art).parts):
            continue  # a temporary folder of an unfinished write
        rec = json.loads(path.read_text())
        rec["folder"] = str(path.parent.relative_to(art))
        records.append(rec)
    return sorted(records, key=lambda r: r.get("started_utc", ""))


def steps_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per recorded step: folder, step, seed, commit (12 digits), start, duration, hardware."""
    rows = []
    for r in records:
        hw = r.get("hardware") or {}
        gpus = ", ".join(hw.get("gpus") or []) or "none"
        rows.append({"folder": r["folder"], "step": r["step"], "seed": r.get("seed"),
                     "commit": str(r.get("git_commit", ""))[:12] + ("+dirty" if "+dirty" in str(r.get("git_commit")) else ""),
                     "started (UTC)": r.get("started_utc"), "duration (s)": r.get("duration_s"),
                     "peak memory (MB)": r.get("peak_rss_mb"),
                     "CPU cores": hw.get("cpu_cores", "not recorded"), "GPUs": gpus if hw else "not recorded"})
    table = pd.DataFrame(rows)
    if len(table):
        table["seed"] = table["seed"].astype("Int64")  # whole numbers even beside a step without a seed
    return table


def parameters_table(records: list[dict[str, Any]], step: str) -> pd.DataFrame:
    """The parameters of every record of ``step``, one column per record (its folder)."""
    cols = {r["folder"]: {k: json.dumps(v) if isinstance(v, (dict, list)) else v
                          for k, v in r.get("parameters", {}).items() if k != "artifacts"}
            for r in records if r["step"] == step}
    return pd.DataFrame(cols)


def packages_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Package versions, one row per package, with every distinct version seen across records."""
    seen: dict[str, set] = {}
    for r in records:
        for name, version in (r.get("packages") or {}).items():
            seen.setdefault(name, set()).add(version)
    seen.setdefault("python", set()).update(r["python"] for r in records if "python" in r)
    return pd.DataFrame({"version": {k: ", ".join(sorted(v)) for k, v in sorted(seen.items())}}).rename_axis("package")
