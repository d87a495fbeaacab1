"""Profiles and notebook parameters.

A profile (``configs/<name>.yaml``) holds one section per notebook step. A notebook's
parameters cell sets ``profile`` and leaves the other parameters at ``None``, meaning "the
profile's value"; papermill ``-p name value`` overrides one of them. :func:`resolve` merges
the two and rejects names the profile does not know, so a typo is an error, not a silent
default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from thesis_lib.sections import check_profile

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "configs"


RESOLVED_ENV = "THESIS_RESOLVED_CONFIG"  # a profile as the workflow resolved it (with --config overrides)


def profile_path(profile: str) -> Path:
    """Path of the profile's file: the workflow's resolved copy when ``$THESIS_RESOLVED_CONFIG``
    names one of this profile (so ``snakemake --config`` overrides reach every step), else
    ``configs/<profile>.yaml``; a clear error lists the profiles that exist."""
    resolved = os.environ.get(RESOLVED_ENV)
    if resolved and Path(resolved).is_file() and yaml.safe_load(Path(resolved).read_text()).get("profile") == profile:
        return Path(resolved)
    path = CONFIG_DIR / f"{profile}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"profile {profile!r}: no file {path}; known profiles: {known}")
    return path


def load_profile(profile: str) -> dict[str, Any]:
    """The whole profile as a dict (``profile``, ``seed`` and one section per step), every
    section checked against its frozen dataclass (:mod:`thesis_lib.sections`)."""
    path = profile_path(profile)
    with path.open() as f:
        cfg = yaml.safe_load(f)
    if cfg.get("profile") != profile:
        raise ValueError(f"{path}: 'profile' must be {profile!r}")
    check_profile(cfg, path)
    return cfg


def artifacts_dir(profile: str) -> Path:
    """Where a profile's outputs live: ``$THESIS_ARTIFACTS/<profile>`` or ``artifacts/<profile>``."""
    root = Path(os.environ.get("THESIS_ARTIFACTS", REPO_ROOT / "artifacts"))
    return root / profile


def _typed(name: str, value: Any, default: Any) -> Any:
    """An override as its setting's type: a list or mapping setting given as text (papermill's
    ``-p classifier_seeds "[0, 1, 2]"`` passes a string) is read as YAML; text that does not read
    as the setting's type is an error naming the parameter."""
    if not isinstance(value, str) or not isinstance(default, (list, dict)):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ValueError(f"{name}={value!r}: not readable as a {type(default).__name__} ({exc})") from None
    if isinstance(default, list) and isinstance(parsed, (int, float, str)):
        parsed = [parsed]  # -p k 100 for a list of k
    if not isinstance(parsed, type(default)):
        raise ValueError(f"{name}={value!r}: need a {type(default).__name__}, e.g. {default!r}")
    return parsed


def resolve(step: str, profile: str, **overrides: Any) -> dict[str, Any]:
    """Parameters of ``step``: the profile's section, updated by the non-``None`` overrides.

    The result also holds ``profile``, ``seed`` (the step's own or the profile's) and
    ``artifacts`` (the profile's output folder, as a string).
    """
    cfg = load_profile(profile)
    if step not in cfg:
        raise KeyError(f"{profile_path(profile)} has no section {step!r}")
    params = {"seed": cfg["seed"], **cfg[step]}
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise KeyError(f"unknown parameter(s) for step {step!r}: {unknown}; known: {sorted(params)}")
    params.update({k: _typed(k, v, params[k]) for k, v in overrides.items() if v is not None})
    params["profile"] = profile
    params["artifacts"] = str(artifacts_dir(profile))
    return params
