"""The prepared device check runs end to end at toy sizes on the CPU."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "device_check.py"


@pytest.mark.slow
def test_dry_run_writes_every_measurement_and_an_estimate(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
    check = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "device_check", check)  # as when run as a script
    spec.loader.exec_module(check)
    check.main(["--dry-run", "--out", str(tmp_path / "check.json")])
    result = json.loads((tmp_path / "check.json").read_text())
    assert result["dry_run"] and result["device"] == "cpu" and result["check_seconds"] < 60
    trainer = result["trainer"]
    assert set(trainer) == {"reference fp32 NCHW", "ours fp32 NCHW", "ours fp32 channels_last"}
    assert trainer["reference fp32 NCHW"]["ratio"] == pytest.approx(1.0)
    assert all(row["median"] > 0 and row["min"] <= row["median"] for row in trainer.values())
    assert result["gk"]["iterations"] == 8 and result["gk"]["full_budget_iterations"] == 1000 * 2
    assert result["fid"]["samples"] == 8 and result["classifier"]["patches"] == 75
    steps = result["estimate"]["steps_s"]
    assert len(steps) == 4 and all(v > 0 for v in steps.values())
    assert result["estimate"]["total_s"] == pytest.approx(sum(steps.values()))
