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
    assert result["dry_run"] and result["device"] == "cpu" and result["check_seconds"] < 90
    trainer = result["trainer"]
    assert set(trainer) == {"sync-free loop fp32", "DCGAN example loop fp32 (.item() logging)", "ours fp32"}
    assert trainer["sync-free loop fp32"]["ratio"] == pytest.approx(1.0)
    assert all(row["median"] > 0 and row["min"] <= row["median"] for row in trainer.values())
    assert result["gk"]["iterations"] == 8 and result["gk"]["full_budget_iterations"] == 1000 * 2
    assert result["fid"]["samples"] == 8 and result["classifier"]["patches"] == 75
    assert set(result["concurrent_gk"]) == {"1", "2"} and result["concurrent_gk"]["1"]["speedup"] == 1.0
    assert result["fid_agreement"]["within_1e-4"]
    for name in ("thesis", "gpu"):
        steps = result[f"estimate_{name}"]["steps_s"]
        assert len(steps) == 4 and all(v > 0 for v in steps.values())
        assert result[f"estimate_{name}"]["total_s"] == pytest.approx(sum(steps.values()))


def test_a_failing_measurement_is_recorded_and_the_rest_still_run(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
    check = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "device_check", check)
    spec.loader.exec_module(check)

    def crash(*args):
        raise AssertionError("expected size 450==450, stride 16==1 at dim=1")

    for name in ("trainer", "gk_run", "concurrent_gk", "classifier_epoch", "fid_agreement"):
        monkeypatch.setattr(check, name, crash)
    result = check.main(["--dry-run", "--out", str(tmp_path / "check.json")])
    assert result["trainer"]["error"].startswith("AssertionError: expected size 450==450")
    assert "classifier" in result and "error" in result["classifier"]
    assert result["fid"]["samples"] == 8  # measured although everything before it failed
    assert "error" in result["estimate_thesis"]  # what it needs is missing: said, not invented
    assert json.loads((tmp_path / "check.json").read_text())["fid"]["samples"] == 8


def test_estimates_recomputed_from_the_h200_measurements(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
    check = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "device_check", check)
    spec.loader.exec_module(check)
    measured = SCRIPT.parent / "results" / "device_check_h200_2026-12-04.json"
    as_measured = check.main(["--from-json", str(measured), "--out", str(tmp_path / "a.json")])
    at_target = check.main(["--from-json", str(measured), "--trainer-rate", "11165", "--out", str(tmp_path / "b.json")])
    for name in ("thesis", "gpu"):  # a faster trainer shortens every training step, and nothing else
        a, b = as_measured[f"estimate_{name}"]["steps_s"], at_target[f"estimate_{name}"]["steps_s"]
        assert b["fold GANs (FID selection included)"] < a["fold GANs (FID selection included)"]
        assert b["FID chapter (generated side)"] == a["FID chapter (generated side)"]
    assert at_target["assumed_trainer_images_per_s"] == 11165
    with pytest.raises(SystemExit):
        check.main(["--trainer-rate", "5", "--out", str(tmp_path / "c.json")])


def test_the_console_entry_point_runs_the_clones_check_and_passes_its_exit_status(tmp_path):
    """thesis-device-check runs benchmarks/device_check.py: it recomputes the estimates of the stored
    H200 check (--from-json, nothing measured), and a bad argument exits non-zero with the
    program's own name in the message."""
    import subprocess
    console = str(Path(sys.executable).with_name("thesis-device-check"))
    stored = SCRIPT.parent / "results" / "device_check_h200_2026-12-04.json"
    done = subprocess.run([console, "--from-json", str(stored), "--out", str(tmp_path / "again.json")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "again.json").read_text())["estimate_thesis"]
    bad = subprocess.run([console, "--trainer-rate", "5", "--out", str(tmp_path / "x.json")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("usage: thesis-device-check")


def test_outside_a_clone_the_entry_point_names_the_fix():
    from thesis_lib import clone_scripts
    with pytest.raises(SystemExit, match="pip install -e"):
        clone_scripts.script("no_such_script.py")
