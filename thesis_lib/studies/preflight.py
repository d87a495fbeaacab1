"""Checks of a workflow run before any step starts: the profile, every override, the data.

A typo found an hour into a build costs the hour, and a step that Snakemake starts deletes its
old outputs first. So ``tools/run_workflow.py`` (what ``make book`` runs) checks the profile file,
every ``--config`` override, the dataset's name and the data folder here, and stops with one line
that names the ``make`` variable the user typed (``PROFILE=``, ``DATASET=``, ``DATA_ROOT=``,
``N_PATIENTS=``), before Snakemake touches anything.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from thesis_lib.data.datasets import LOADERS
from thesis_lib.sections import check_profile
from thesis_lib.training.gan_config import GanConfig

MAKE_VARIABLES = {"dataset": "DATASET", "data_root": "DATA_ROOT", "n_patients": "N_PATIENTS"}
CLUSTER_VARIABLES = {"executor": "EXECUTOR", "slurm_partition": "PARTITION", "slurm_gpu_partition": "GPU_PARTITION",
                     "slurm_account": "ACCOUNT"}  # where a cluster run's jobs go (thesis_lib.cluster checks them)


class PreflightError(ValueError):
    """A run that would fail: the message names the setting as the user typed it."""


def parse_overrides(items: list[str]) -> dict:
    """Snakemake's ``--config`` items (``key=value``; a value read as YAML, e.g. ``gan={ngf: 16}``)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PreflightError(f"--config {item!r}: expected key=value")
        out[key] = yaml.safe_load(value) if value.strip() else value
    return out


def check_run(configfile: str | Path, overrides: dict) -> dict:
    """The profile in ``configfile`` with ``overrides`` applied (as the Snakefile applies them),
    after checking all of it; raises :class:`PreflightError` with a one-line message."""
    path = Path(configfile)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml"))) or "none"
        raise PreflightError(f"PROFILE={path.stem}: no such profile ({path}); known: {known}")
    profile = yaml.safe_load(path.read_text())
    data = {k: overrides[k] for k in MAKE_VARIABLES if k in overrides}
    for key, value in overrides.items():
        if key in MAKE_VARIABLES or key in CLUSTER_VARIABLES:
            continue
        if key not in profile:
            raise PreflightError(f"--config {key}=...: {path} has no setting or section {key!r}")
        profile[key] = {**profile[key], **value} if isinstance(profile[key], dict) and isinstance(value, dict) else value
    profile["data_prep"] = {**profile["data_prep"], **data}
    try:
        check_profile(profile, path)
        for name, settings in {"gan": profile["gan"], **{f"recipes.{r}": {**profile["gan"], **s}
                                                         for r, s in (profile.get("recipes") or {}).items()}}.items():
            GanConfig.from_dict({**settings, "profile": profile["profile"]})
    except (KeyError, TypeError, ValueError) as exc:
        raise PreflightError(str(exc).strip("'\"")) from None
    _check_data(profile["data_prep"])
    return profile


def _check_data(prep: dict) -> None:
    dataset, root = prep["dataset"], prep.get("data_root")
    if dataset not in LOADERS:
        raise PreflightError(f"DATASET={dataset}: unknown dataset; expected one of {', '.join(sorted(LOADERS))}")
    if dataset != "synthetic":
        if not root:
            raise PreflightError(f"DATASET={dataset} needs the dataset's folder: add DATA_ROOT=/path/to/it")
        if not Path(root).is_dir():
            raise PreflightError(f"DATA_ROOT={root}: no such folder (DATASET={dataset} reads its files there); "
                                 "nothing was changed")
    n = prep.get("n_patients")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise PreflightError(f"N_PATIENTS={n}: expected a whole number >= 0 (0: every patient of a real dataset)")
