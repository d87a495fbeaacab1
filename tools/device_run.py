#!/usr/bin/env python3
"""Run a device kit's plan on the machine it was made for (``tools/device_kit.py``), then pack the
run's bundle into parts that fit what a call brings back.

    PYTHONUNBUFFERED=1 python3 tools/device_run.py device-kit/call2 --parts /tmp/thesis-kit --out $OUT

In order, each stopping the run with one line that names what failed:

1. join the split wheel from its parts (``--parts``: where call 1 left its part; the kit's
   folder holds the other), checking every part's and the whole's SHA-1;
2. install the wheels with ``pip --no-index --no-deps`` into ``<work>/site`` (nothing of the
   machine's own environment changes), and check that pydicom and openTSNE import and that the
   Inception weights are the FID network's (size and SHA-1);
3. run the plan's steps, each as soon as the steps it waits for are done and its threads fit in
   ``--cores``, GPU steps side by side on the one GPU; every step prints its start and its end
   with its seconds, and a failed step its log's last lines. A step done is recorded in
   ``artifacts/<profile>/device-run.json``, so a second call on the still-warm machine goes on
   where the first stopped; at ``--budget`` seconds the running steps are stopped and the run
   says which are left;
4. pack the bundle (``thesis_lib.bundle``, no chapters: they render where the kit was
   made) and write it to ``--out`` as ``run.tar.1``, ``run.tar.2``, ... of at most 15 MiB with
   ``run.json`` (the parts, the bundle's SHA-1, the steps' seconds, the device);
5. with ``--device-check``, when time is left, ``benchmarks/device_check.py`` into
   ``--out/device_check.json``.

Only the standard library is imported here; the steps and the packing run the checkout's
``thesis_lib`` with the machine's Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PART_BYTES = 15 * 2**20  # under the 16 MiB a call brings back per file
POLL_S = 0.5
TAIL_LINES = 15


def say(message: str, start: float) -> None:
    elapsed = time.monotonic() - start
    print(f"[{int(elapsed // 60):02d}:{int(elapsed % 60):02d}] {message}", flush=True)


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def join_wheels(kit: Path, parts_dir: Path, wheels: Path) -> list[Path]:
    """Every wheel of the kit's ``kit.json`` in ``wheels``: copied, or joined from its parts (found
    in ``kit`` or ``parts_dir``), each checked against its SHA-1."""
    record = json.loads((kit / "kit.json").read_text())
    wheels.mkdir(parents=True, exist_ok=True)
    done = []
    for wheel in record["wheels"]:
        pieces = []
        for part in wheel.get("parts", [{"name": wheel["name"], "sha1": wheel["sha1"]}]):
            found = next((d / part["name"] for d in (kit, parts_dir) if (d / part["name"]).is_file()), None)
            if found is None:
                raise SystemExit(f"{part['name']}: not in {kit} nor in {parts_dir}; make call 1 first "
                                 "(it copies device-kit/call1 to /tmp/thesis-kit), then this one at once")
            data = found.read_bytes()
            if sha1_of(data) != part["sha1"]:
                raise SystemExit(f"{found}: SHA-1 {sha1_of(data)}, kit.json says {part['sha1']}: damaged in transit")
            pieces.append(data)
        data = b"".join(pieces)
        if sha1_of(data) != wheel["sha1"]:
            raise SystemExit(f"{wheel['name']}: joined SHA-1 differs from kit.json's")
        (wheels / wheel["name"]).write_bytes(data)
        done.append(wheels / wheel["name"])
    return done


def environment(work: Path, profile: str, commit: str) -> dict:
    """The steps' environment: ``python`` on the PATH is this interpreter, the kit's packages and
    the checkout on the import path, the resolved profile and the kit's ``commit``."""
    shims = work / "bin"
    shims.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):  # scripts, not links: a link would lose the virtual environment's site
        (shims / name).write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
        (shims / name).chmod(0o755)
    return {**os.environ, "PATH": f"{shims}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join([str(work / "site"), str(REPO), os.environ.get("PYTHONPATH", "")]),
            "THESIS_RESOLVED_CONFIG": str(REPO / "artifacts" / profile / "config.yaml"),
            "THESIS_GIT_COMMIT": commit, "PYTHONUNBUFFERED": "1"}


INSTALL_CHECK = ("import pydicom, openTSNE; from thesis_lib.evaluation.inception import check_weights, "
                 "default_weights_path; print('weights', check_weights(default_weights_path()))")


def install(wheels: list[Path], work: Path, env: dict) -> None:
    """The wheels into ``work/site``, then the imports and weights the steps need, checked."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--disable-pip-version-check", "--target", str(work / "site"), *map(str, wheels)], check=True)
    checked = subprocess.run([sys.executable, "-c", INSTALL_CHECK], env=env, cwd=REPO, capture_output=True, text=True)
    if checked.returncode:
        raise SystemExit(f"the kit's packages do not work here: {(checked.stderr.strip().splitlines() or ['?'])[-1]}")


def log_of(command: str) -> Path | None:
    """The log a step's command writes (its ``> path.log``), if it names one."""
    found = re.search(r">\s*(\S+\.log)", command)
    return REPO / found.group(1) if found else None


def tail(path: Path | None, lines: int = TAIL_LINES) -> str:
    if path is None or not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_plan(steps: list[dict], env: dict, cores: int, budget_s: float, record: Path, start: float) -> list[str]:
    """Run ``steps`` (the plan's, in Snakemake's order) not yet in ``record``; returns the steps
    left undone (empty when all ran). A failed step stops the launching of others: those running
    finish, then the run ends. At ``budget_s`` seconds after ``start``, running steps are
    stopped (their process groups) and counted as left."""
    done = json.loads(record.read_text()) if record.is_file() else {}
    left = [s for s in steps if s["name"] not in done]
    if len(left) < len(steps):
        say(f"{len(steps) - len(left)} steps done before (in {record.name}); {len(left)} to run", start)
    running: dict[str, tuple[subprocess.Popen, dict, float]] = {}
    failed = []
    while left or running:
        for name, (proc, step, began) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[name]
            if proc.returncode == 0:
                done[name] = round(time.monotonic() - began, 1)
                record.write_text(json.dumps(done, indent=1))
                say(f"done  {name} in {done[name]:.0f} s", start)
            else:
                failed.append(name)
                say(f"FAILED {name} (exit {proc.returncode}); its log:\n{tail(log_of(step['command']))}", start)
        if time.monotonic() - start > budget_s:
            for name, (proc, _, _) in running.items():
                os.killpg(proc.pid, signal.SIGTERM)
                say(f"stopped {name}: over the budget of {budget_s:.0f} s", start)
            for proc, _, _ in running.values():
                proc.wait()
            return [s["name"] for s in left] + list(running)
        busy = sum(step["threads"] for _, step, _ in running.values())
        for step in [] if failed else list(left):
            ready = all(after in done for after in step["after"])
            if ready and (busy + step["threads"] <= cores or not running):
                say(f"start {step['name']}" + (" (GPU)" if step["gpu"] else ""), start)
                for folder in step["folders"]:
                    (REPO / folder).mkdir(parents=True, exist_ok=True)
                proc = subprocess.Popen(["bash", "-c", step["command"]], cwd=REPO, env=env, start_new_session=True)
                running[step["name"]] = (proc, step, time.monotonic())
                left.remove(step)
                busy += step["threads"]
        if failed and not running:
            return failed + [s["name"] for s in left]
        time.sleep(POLL_S)
    return []


def send_back(bundle: Path, out: Path, extra: dict) -> dict:
    """``bundle`` cut into parts of at most :data:`PART_BYTES` in ``out``, with ``run.json``."""
    data = bundle.read_bytes()
    parts = []
    for i in range(0, len(data), PART_BYTES):
        parts.append(f"{bundle.name}.{i // PART_BYTES + 1}")
        (out / parts[-1]).write_bytes(data[i:i + PART_BYTES])
    record = {**extra, "bundle": {"name": bundle.name, "bytes": len(data), "sha1": sha1_of(data), "parts": parts}}
    (out / "run.json").write_text(json.dumps(record, indent=1))
    return record


def device_name(env: dict) -> str:
    probe = ("import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu', "
             "torch.__version__)")
    return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="device_run", description=__doc__.split("\n\n")[0])
    p.add_argument("kit", help="the kit's call-2 folder (plan.json, config.yaml, kit.json, wheels)")
    p.add_argument("--parts", default="/tmp/thesis-kit", help="where call 1 left its part")
    p.add_argument("--out", required=True, help="where the bundle's parts go ($OUT)")
    p.add_argument("--work", default="/tmp/thesis-kit/work", help="scratch: joined wheels, installed packages")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--budget", type=float, default=540.0, help="seconds after which running steps are stopped")
    p.add_argument("--device-check", action="store_true", help="then run benchmarks/device_check.py if time is left")
    args = p.parse_args(argv)
    start = time.monotonic()
    kit, out, work = Path(args.kit), Path(args.out), Path(args.work)
    for needed in ("kit.json", "plan.json", "config.yaml"):
        if not (kit / needed).is_file():
            raise SystemExit(f"{kit / needed}: missing; carry the kit's call-2 folder (python tools/device_kit.py build)")
    out.mkdir(parents=True, exist_ok=True)
    plan = json.loads((kit / "plan.json").read_text())
    profile = plan["profile"]
    artifacts = REPO / "artifacts" / profile
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy2(kit / "config.yaml", artifacts / "config.yaml")
    env = environment(work, profile, json.loads((kit / "kit.json").read_text())["commit"])
    install(join_wheels(kit, Path(args.parts), work / "wheels"), work, env)
    device = device_name(env)
    say(f"kit installed; device {device}; {len(plan['steps'])} steps of profile {profile} on {args.cores} cores", start)
    left = run_plan(plan["steps"], env, args.cores, args.budget, artifacts / "device-run.json", start)
    steps = json.loads((artifacts / "device-run.json").read_text()) if (artifacts / "device-run.json").is_file() else {}
    extra = {"profile": profile, "device": device, "done": steps, "left": left,
             "seconds": round(time.monotonic() - start, 1)}
    if left:
        (out / "run.json").write_text(json.dumps(extra, indent=1))
        raise SystemExit(f"{len(left)} steps not done ({', '.join(left[:4])}...); call again at once to go on "
                         "(the warm machine keeps artifacts/), or see the logs above")
    bundle = work / f"{profile}-run.tar"
    subprocess.run([sys.executable, "-m", "thesis_lib.bundle", "--profile", profile, "--no-run",
                    "--out", str(bundle), "--book-results", str(work / "no-chapters")], env=env, cwd=REPO, check=True)
    record = send_back(bundle, out, extra)
    say(f"sent back {bundle.name}: {record['bundle']['bytes'] / 2**20:.1f} MiB in {len(record['bundle']['parts'])} "
        f"parts; join here with python tools/device_kit.py join OUTDIR {bundle.name}", start)
    if args.device_check and time.monotonic() - start < args.budget:
        remaining = args.budget - (time.monotonic() - start)
        say(f"device check, for at most {remaining:.0f} s", start)
        subprocess.run([sys.executable, "benchmarks/device_check.py", "--out", str(out / "device_check.json")],
                       env=env, cwd=REPO, timeout=remaining)


if __name__ == "__main__":
    main()
