"""The workflow's checks before any step runs: one line naming what the user typed, nothing touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from thesis_lib.studies.preflight import PreflightError, check_run, parse_overrides

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "smoke.yaml"


@pytest.mark.parametrize("configfile, overrides, message", [
    (REPO / "configs" / "thsis.yaml", {}, r"PROFILE=thsis: no such profile .*known: gpu, smoke, thesis"),
    (SMOKE, {"dataset": "cbis-ddsm", "data_root": "/no/such/CBIS-DDSM"},
     r"DATA_ROOT=/no/such/CBIS-DDSM: no such folder \(DATASET=cbis-ddsm"),
    (SMOKE, {"dataset": "cbis-ddsm"}, r"DATASET=cbis-ddsm needs the dataset's folder: add DATA_ROOT="),
    (SMOKE, {"dataset": "cbis"}, r"DATASET=cbis: unknown dataset; expected one of cbis-ddsm, inbreast"),
    (SMOKE, {"n_patients": -3}, r"N_PATIENTS=-3: expected a whole number"),
    (SMOKE, {"gan": {"ngff": 16}}, r"unknown gan setting\(s\) \['ngff'\]"),
    (SMOKE, {"aug": {"epochs": "many"}}, r"aug.*epochs"),
    (SMOKE, {"gann": {"ngf": 16}}, r"--config gann=\.\.\.: .* has no setting or section 'gann'"),
])
def test_bad_runs_are_named_before_anything_runs(configfile, overrides, message):
    with pytest.raises(PreflightError, match=message):
        check_run(configfile, overrides)


def test_good_runs_pass_with_their_overrides(tmp_path):
    profile = check_run(SMOKE, parse_overrides(["gan={ngf: 16}", f"data_root={tmp_path}", "dataset=inbreast"]))
    assert profile["gan"]["ngf"] == 16 and profile["gan"]["nz"] == 100  # merged into the section
    assert profile["data_prep"]["dataset"] == "inbreast"
    for name in ("smoke", "gpu", "thesis"):
        check_run(REPO / "configs" / f"{name}.yaml", {})


def test_make_stops_with_one_line_before_snakemake_runs(tmp_path):
    """tools/run_workflow.py with a missing data folder: one line, exit 1, and the command that
    would have run Snakemake never starts (it would have written a marker)."""
    marker = tmp_path / "snakemake-ran"
    fake = tmp_path / "snakemake"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    result = subprocess.run([sys.executable, "tools/run_workflow.py", str(fake), "--cores", "1", "--configfile",
                             "configs/smoke.yaml", "--config", "dataset=cbis-ddsm", "data_root=/no/such/folder"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1 and not marker.exists()
    assert result.stderr.strip().splitlines() == [
        "make: DATA_ROOT=/no/such/folder: no such folder (DATASET=cbis-ddsm reads its files there); nothing was changed"]
