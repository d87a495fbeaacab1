"""Provenance: every run records what produced its outputs, next to them."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from thesis_lib.config import REPO_ROOT
from thesis_lib.io import write_json

PACKAGES = (
    "numpy", "scipy", "pandas", "torch", "torchvision", "pydicom", "h5py", "scikit-learn",
    "scikit-image", "openTSNE", "matplotlib", "papermill", "snakemake", "jupyter-book",
)


def git_commit() -> str:
    """The repository's HEAD commit, with ``+dirty`` when tracked files are modified."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+dirty" if dirty else "")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (``"not installed"`` where absent)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.machine(),
            "packages": package_versions(),
            **extra,
        }

    def write(self, out_dir: str | Path, **extra: Any) -> dict[str, Any]:
        """Write the record as ``out_dir/provenance.json`` (atomically) and return it."""
        rec = self.record(**extra)
        write_json(Path(out_dir) / "provenance.json", rec)
        return rec
