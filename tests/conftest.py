"""Shared fixtures: a small synthetic cohort in the CBIS-DDSM layout, built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from thesis_lib.data.phantom import ImagingSpec
from thesis_lib.data.synthetic import CohortSpec, write_cohort

SMALL_SPEC = CohortSpec(n_patients=6, imaging=ImagingSpec(rows=512, cols=416, spacing_mm=0.25))


@pytest.fixture(scope="session")
def cohort(tmp_path_factory) -> Path:
    """A read-only 6-patient cohort (24 images); copy it before changing files."""
    return write_cohort(tmp_path_factory.mktemp("cohort") / "synthetic", SMALL_SPEC, seed=7, progress=False)


@pytest.fixture
def cohort_copy(cohort, tmp_path) -> Path:
    """A private copy of the cohort that a test may damage."""
    return Path(shutil.copytree(cohort, tmp_path / "synthetic"))


APT = ["apt-get", "install", "-y", "chromium", "chromium-driver"]


@pytest.fixture(scope="session")
def chrome():
    """Chromium and chromedriver, installed with apt-get when absent and we may."""
    from thesis_lib.book.headless import find_chrome

    try:
        return find_chrome()
    except FileNotFoundError as missing:
        if not (shutil.which("apt-get") and os.geteuid() == 0):
            pytest.fail(f"{missing}\nInstall them: sudo {' '.join(APT)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(APT, capture_output=True, env=env).returncode != 0:  # stale package lists
            subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env)
            subprocess.run(APT, check=True, capture_output=True, env=env)
        return find_chrome()
