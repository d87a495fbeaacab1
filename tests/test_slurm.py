"""The cluster route against a real SLURM: a single-node cluster from Debian's packages
(tools/slurm_sandbox.py), and the README's command, ``make book EXECUTOR=slurm``, run on it.

Each test works in its own copy of the repository with a toy profile (8 patients, a GAN of three
epochs) and runs Snakemake through ``make workflow``, as ``make book`` does before it builds the
site. Where SLURM cannot start (no packages, not root), the tests are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch
import yaml
from test_end_to_end import TOY

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("slurm_sandbox", REPO / "tools" / "slurm_sandbox.py")
sandbox = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sandbox)

STORE, GAN = "artifacts/toy/patches", "artifacts/toy/gan/fold0"
TARGETS = f"{STORE}/supports.json {GAN}/summary.json"
QUICK = "--slurm-init-seconds-before-status-checks 1 --seconds-between-status-checks 2"  # a test's patience
LIMIT_S = 240  # a run that takes longer hangs: it is stopped with SIGINT (Snakemake ignores SIGTERM while it waits)


def sandbox_folder() -> Path:
    """A folder the daemons' users (mysql, munge) can reach: pytest's own are private to root."""
    folder = Path(tempfile.mkdtemp(prefix="slurm-sandbox-", dir="/tmp"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def cluster():
    folder = sandbox_folder()
    try:
        env = sandbox.start(folder)
    except sandbox.Unavailable as e:
        print(f"\nSKIPPED test_slurm: SLURM cannot start here: {e}", flush=True)
        pytest.skip(f"SLURM cannot start here: {e}")
    yield {**os.environ, **env}
    sandbox.stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


def toy_copy(root: Path) -> Path:
    """The tracked files of the repository in ``root``, a toy profile ``configs/toy.yaml`` (the
    smoke profile at a tiny size, with the gpu profile's GPU steps), and the test's .venv."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    profile = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())
    for section, values in TOY.items():  # the end-to-end test's toy sizes
        profile[section] = {**profile[section], **values}
    profile["profile"] = "toy"
    profile["resources"]["gpu"] = yaml.safe_load((REPO / "configs" / "gpu.yaml").read_text())["resources"]["gpu"]
    (root / "configs" / "toy.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    (root / ".venv").symlink_to(Path(sys.prefix))
    return root


def make(root: Path, env: dict, *args: str, limit: float = LIMIT_S) -> subprocess.CompletedProcess:
    """``make workflow PROFILE=toy ...`` in ``root`` (the venv taken as installed), stopped with
    SIGINT if it runs past ``limit`` seconds: a hang fails the test instead of stalling it."""
    command = ["make", "-o", ".venv/.installed", "workflow", "PROFILE=toy", *args]
    env = {**env, "THESIS_ARTIFACTS": str(root / "artifacts")}
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        pytest.fail(f"{' '.join(command)} still ran after {limit} s (stopped with SIGINT):\n{out[-3000:]}")
    return subprocess.CompletedProcess(command, proc.returncode, out, "")


def slurm_run(root: Path, env: dict, *args: str, limit: float = LIMIT_S) -> subprocess.CompletedProcess:
    return make(root, env, "EXECUTOR=slurm", "PARTITION=cpu", "GPU_PARTITION=gpu", "JOBS=4",
                f"SNAKEMAKE_ARGS={QUICK} {' '.join(args)}", limit=limit)


def tensors(path: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    return {f"{part}.{k}": v for part in ("generator", "discriminator") for k, v in checkpoint[part].items()}


def jobs_of(rule: str, env: dict) -> list[str]:
    """The accounting record (AllocTRES) of each SLURM job of ``rule`` (Snakemake's job comment)."""
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-a", "-S", "now-1hour", "-o", "Comment,AllocTRES"], env=env,
                         capture_output=True, text=True, check=True).stdout
    records = [line.split("|")[1] for line in out.splitlines()
               if line.split("|")[0] == f"rule_{rule}" or line.startswith(f"rule_{rule}_wildcards")]
    assert records, f"no SLURM job of rule {rule} in sacct:\n{out}"
    return records


def test_a_gpu_step_on_a_cluster_without_gpus_stops_before_any_step(tmp_path):
    """First in the file: its cluster and the module's share their ports."""
    folder = sandbox_folder()
    try:
        env = {**os.environ, **sandbox.start(folder, gpu=False)}
    except sandbox.Unavailable as e:
        pytest.skip(f"SLURM cannot start here: {e}")
    try:
        root = toy_copy(tmp_path / "repo")
        result = make(root, env, "EXECUTOR=slurm", "PARTITION=cpu", f"SNAKEMAKE_ARGS={TARGETS}", limit=60)
    finally:
        sandbox.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
    assert result.returncode != 0
    assert "rule train_gan needs a GPU (configs/toy.yaml: resources.gpu), but partition cpu has no GPUs" in result.stdout
    assert not (root / "artifacts").exists()


def test_a_toy_run_on_slurm_gives_the_local_run_s_results_and_asks_for_its_gpus(cluster, tmp_path):
    local = toy_copy(tmp_path / "local")
    result = make(local, cluster, f"SNAKEMAKE_ARGS={TARGETS}")
    assert result.returncode == 0, result.stdout[-3000:]
    remote = toy_copy(tmp_path / "slurm")
    result = slurm_run(remote, cluster, TARGETS)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "cluster check: every step of configs/toy.yaml fits its partition" in result.stdout
    for name in ("folds.csv", "patches.csv", "supports.json"):
        assert (local / STORE / name).read_bytes() == (remote / STORE / name).read_bytes(), name
    ours, theirs = tensors(local / GAN / "latest.pt"), tensors(remote / GAN / "latest.pt")
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    # the gpu profile's GPU step asked SLURM for a GPU, the data step did not
    assert all("gres/gpu=1" in tres for tres in jobs_of("train_gan", cluster))
    assert not any("gres/gpu" in tres for tres in jobs_of("data_prep", cluster))
    assert all("cpu=2" in tres for tres in jobs_of("data_prep", cluster))  # resources.steps.data_prep.threads


def test_a_failed_job_is_reported_with_its_rule_and_error(cluster, tmp_path):
    root = toy_copy(tmp_path)
    gan = root / "thesis_lib" / "training" / "gan.py"
    gan.write_text(gan.read_text().replace("def main(", "def main(*_, **__):\n    raise SystemExit("
                                          "'a deliberate failure of this test')\n\n\ndef _main(", 1))
    result = slurm_run(root, cluster, TARGETS, "--retries 0")
    assert result.returncode != 0
    assert "train_gan" in result.stdout and "a deliberate failure of this test" in result.stdout, result.stdout[-3000:]


def test_a_cancelled_job_is_reported_and_the_rerun_continues(cluster, tmp_path):
    root = toy_copy(tmp_path)
    profile = yaml.safe_load((root / "configs" / "toy.yaml").read_text())
    profile["gan"]["epochs"] = 5000  # minutes: long enough to be cancelled while it runs
    (root / "configs" / "toy.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    env = {**cluster, "THESIS_ARTIFACTS": str(root / "artifacts")}
    command = ["make", "-o", ".venv/.installed", "workflow", "PROFILE=toy", "EXECUTOR=slurm", "PARTITION=cpu",
               "GPU_PARTITION=gpu", f"SNAKEMAKE_ARGS={QUICK} --retries 0 {TARGETS}"]
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        end = time.monotonic() + LIMIT_S
        while time.monotonic() < end and not (root / GAN).is_dir():
            time.sleep(1)  # the GAN's job is running once it made its folder
        assert (root / GAN).is_dir(), "the GAN's job never started"
        time.sleep(3)
        running = subprocess.run(["squeue", "-h", "-t", "R", "-o", "%i"], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()
        subprocess.run(["scancel", *running], env=env, check=True)
        out, _ = proc.communicate(timeout=LIMIT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.communicate(timeout=60)
    assert proc.returncode != 0 and "CANCELLED" in out and "train_gan" in out, out[-3000:]
    store_made = (root / STORE / "patches.h5").stat().st_mtime_ns  # the data steps before it stand
    profile["gan"]["epochs"] = 3
    (root / "configs" / "toy.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    result = slurm_run(root, cluster, TARGETS)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (root / STORE / "patches.h5").stat().st_mtime_ns == store_made  # the data step is not made again
    assert json.loads((root / GAN / "summary.json").read_text())["epochs_done"] == 3


def test_bad_cluster_settings_stop_before_any_step_with_one_line(cluster, tmp_path):
    root = toy_copy(tmp_path)
    result = make(root, cluster, "EXECUTOR=slurm", "PARTITION=nowhere", f"SNAKEMAKE_ARGS={TARGETS}", limit=60)
    assert result.returncode != 0 and "PARTITION=nowhere: no such partition (sinfo: cpu, gpu)" in result.stdout
    profile = yaml.safe_load((root / "configs" / "toy.yaml").read_text())
    profile["resources"]["steps"]["data_prep"]["threads"] = 64
    (root / "configs" / "toy.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    result = make(root, cluster, "EXECUTOR=slurm", "PARTITION=cpu", f"SNAKEMAKE_ARGS={TARGETS}", limit=60)
    assert result.returncode != 0 and ("rule data_prep asks for 64 CPUs (configs/toy.yaml: "
                                       "resources.steps.data_prep.threads)") in result.stdout
    assert not (root / "artifacts").exists()  # nothing ran
