"""What each workflow step asks a cluster for, and the check that the cluster can give it.

A profile's ``resources`` section (:class:`thesis_lib.sections.ResourcesSection`) sets every
step's ``threads``, ``mem_mb`` (MB) and ``runtime`` (minutes): ``default`` for all, ``steps`` for
those that need more, and ``gpu``, the steps that ask for one GPU. The workflow reads it for each
rule (``workflow/Snakefile``: ``threads`` and ``resources``); a local run uses the threads alone,
capped by ``--cores``. On SLURM (``make book EXECUTOR=slurm``, docs/gpu-and-cluster.md) Snakemake's
executor turns them into ``--cpus-per-task``, ``--mem``, ``--time`` and ``--gpus``, with the
partition and account given to ``make``.

Before a cluster run, :func:`check` reads the partitions from ``sinfo`` and stops with one line
per problem, naming the step and the setting, when the partition is missing or unknown, a GPU step
would go to a partition without GPUs, or a step asks for more CPUs or memory than any node of its
partition has (SLURM would leave such a job pending for ever)::

    python -m thesis_lib.cluster check --profile gpu --partition cpu --gpu-partition gpu
    python -m thesis_lib.cluster table --profile gpu       # the resources, as a Markdown table
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pandas as pd

from thesis_lib import config
from thesis_lib.sections import RESOURCE_KEYS

GPU_GRES = re.compile(r"\bgpu(?::[\w.-]+)?:(\d+)")  # a GRES field's GPUs: gpu:4(S:0), gpu:a100:8(S:0-1)
OTHERS = "every other step"


def settings(resources: dict, step: str) -> dict:
    """``step``'s threads, mem_mb and runtime (its ``steps`` entry over ``default``) and ``gpu``."""
    return {**resources["default"], **resources["steps"].get(step, {}), "gpu": step in resources["gpu"]}


def job_resources(resources: dict, step: str, run: dict) -> dict:
    """The Snakemake ``resources`` of ``step``'s jobs: mem_mb and runtime, one GPU for a GPU step,
    and on a cluster (``run`` holds ``slurm_partition``, ``slurm_gpu_partition``, ``slurm_account``:
    ``make book EXECUTOR=slurm`` passes them) the partition and account. A local run gets no
    ``slurm_*`` key, and Snakemake limits none of these unless told to (``--resources``)."""
    s = settings(resources, step)
    out = {"mem_mb": s["mem_mb"], "runtime": s["runtime"]}
    if s["gpu"]:
        out["gpu"] = 1
    partition = run.get("slurm_gpu_partition") or run.get("slurm_partition") if s["gpu"] else run.get("slurm_partition")
    if partition:
        out["slurm_partition"] = partition
    if run.get("slurm_account"):
        out["slurm_account"] = run["slurm_account"]
    return out


def named_steps(resources: dict) -> list[str]:
    """The steps the section names (in ``steps`` or ``gpu``), sorted."""
    return sorted(set(resources["steps"]) | set(resources["gpu"]))


def by_step(resources: dict) -> dict[str, dict]:
    """:func:`settings` of every named step, then of the rest under :data:`OTHERS` (the default)."""
    return {**{step: settings(resources, step) for step in named_steps(resources)},
            OTHERS: {**resources["default"], "gpu": False}}


def unknown_steps(resources: dict, rules: list[str]) -> list[str]:
    """Names in ``resources.steps`` or ``resources.gpu`` that are no rule of the workflow."""
    return sorted(set(named_steps(resources)) - set(rules))


def table(resources: dict) -> pd.DataFrame:
    """One row for every step but those at the default, and one for the rest (:data:`OTHERS`)."""
    out = pd.DataFrame(by_step(resources)).T[[*RESOURCE_KEYS, "gpu"]]
    out["gpu"] = out.gpu.map({True: "1", False: ""})
    return out.rename(columns={"mem_mb": "memory (MB)", "runtime": "time (min)", "gpu": "GPUs"}).rename_axis("step")


def markdown(frame: pd.DataFrame) -> str:
    """A table as GitHub Markdown, its index the first column."""
    head = [frame.index.name or "", *map(str, frame.columns)]
    rows = [[str(i), *map(str, r)] for i, r in zip(frame.index, frame.itertuples(index=False))]
    return "\n".join("| " + " | ".join(r) + " |" for r in [head, ["---"] * len(head), *rows])


@dataclass(frozen=True)
class Partition:
    name: str
    default: bool
    cpus: int  # the most CPUs of one node
    memory_mb: int  # the most memory of one node
    gpus: int  # the most GPUs of one node


def partitions(sinfo_text: str) -> dict[str, Partition]:
    """Partitions from ``sinfo -h -o '%P|%c|%m|%G'`` (one line per partition and node kind)."""
    out: dict[str, Partition] = {}
    for line in sinfo_text.strip().splitlines():
        name, cpus, memory, gres = line.split("|")
        default = name.endswith("*")
        name = name.rstrip("*")
        gpus = sum(int(n) for n in GPU_GRES.findall(gres))  # gpu:4(S:0), gpu:a100:8(S:0-1)
        old = out.get(name)
        out[name] = Partition(name, default, max(int(cpus.rstrip("+")), old.cpus if old else 0),
                              max(int(memory.rstrip("+")), old.memory_mb if old else 0), max(gpus, old.gpus if old else 0))
    return out


def read_sinfo() -> str:
    if shutil.which("sinfo") is None:
        raise RuntimeError("no SLURM client here (sinfo not found): run on the cluster's login node, or install "
                           "slurm-client")
    run = subprocess.run(["sinfo", "-h", "-o", "%P|%c|%m|%G"], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"sinfo failed: {run.stderr.strip()}")
    return run.stdout


def check(resources: dict, where: str, partition: str | None, gpu_partition: str | None,
          sinfo_text: str) -> list[str]:
    """Every reason the cluster that ``sinfo_text`` describes cannot run the profile's steps, one
    line each naming the step and the setting (``where``: the profile file); empty when it can."""
    known = partitions(sinfo_text)
    names = ", ".join(sorted(known)) or "none"
    default = next((p.name for p in known.values() if p.default), None)
    chosen = partition or default
    if chosen is None:
        return [f"no partition: give one (make book EXECUTOR=slurm PARTITION=...); this cluster has no default "
                f"partition (sinfo: {names})"]
    problems = [f"PARTITION={name}: no such partition (sinfo: {names})"
                for name in dict.fromkeys(p for p in (chosen, gpu_partition) if p) if name not in known]
    if problems:
        return problems
    for step, s in by_step(resources).items():
        part = known[(gpu_partition or chosen) if s["gpu"] else chosen]
        key = f"{where}: resources" + ("" if step == OTHERS else f".steps.{step}")
        if s["gpu"] and part.gpus < 1:
            problems.append(f"rule {step} needs a GPU ({where}: resources.gpu), but partition {part.name} has no GPUs "
                            "(give GPU_PARTITION=... or a profile without GPU steps)")
        if s["threads"] > part.cpus:
            problems.append(f"rule {step} asks for {s['threads']} CPUs ({key}.threads), but the nodes of partition "
                            f"{part.name} have at most {part.cpus}: SLURM would leave the job pending for ever")
        if s["mem_mb"] > part.memory_mb:
            problems.append(f"rule {step} asks for {s['mem_mb']} MB ({key}.mem_mb), but the nodes of partition "
                            f"{part.name} have at most {part.memory_mb} MB")
    return problems


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="The profile's cluster resources: check them against SLURM, or print them.")
    p.add_argument("action", choices=["check", "table"])
    p.add_argument("--profile", default="smoke")
    p.add_argument("--partition", default="", help="the partition of the CPU steps (default: the cluster's default)")
    p.add_argument("--gpu-partition", default="", help="the partition of the GPU steps (default: --partition)")
    args = p.parse_args(argv)
    cfg = config.load_profile(args.profile)
    where = str(config.profile_path(args.profile).relative_to(config.REPO_ROOT))
    if args.action == "table":
        print(markdown(table(cfg["resources"])))
        return
    try:
        problems = check(cfg["resources"], where, args.partition or None, args.gpu_partition or None, read_sinfo())
    except RuntimeError as e:
        problems = [str(e)]
    for line in problems:
        print(f"make book EXECUTOR=slurm: {line}", file=sys.stderr)
    if problems:
        sys.exit(2)
    print(f"cluster check: every step of {where} fits its partition", flush=True)


if __name__ == "__main__":
    main()
