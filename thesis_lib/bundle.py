"""One run's results as one file: run a profile's workflow, then pack what its chapters show.

A bundle is one tar holding ``artifacts/<profile>/`` without what can be made again or is
heavy (the synthetic cohort's DICOMs, the patch store, the Inception feature cache,
checkpoints, TensorBoard logs, the figures the chapters draw again when they render), the
executed chapters (``book/results/*.ipynb``) and one ``manifest.json``:

- the profile and its resolved config, and the sizes that define it (patch size, widths,
  batch, folds, k list, seeds, budgets);
- the device and the hardware, the package versions, the commit and the date of packing;
- each step's wall time (from its ``provenance.json``);
- every file with its size in bytes and SHA-256.

Packing stops, before anything is written, when the bundle would exceed ``--max-mib`` (60 MiB
by default), naming its largest files. On a GPU machine with the project installed::

    python -m thesis_lib.bundle --profile gpu --out gpu-run.tar --cores 16
    python -m thesis_lib.bundle --profile smoke --out smoke.tar --no-run   # pack a built run
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from thesis_lib import config, paths
from thesis_lib.io import atomic_path
from thesis_lib.provenance import collect, git_commit, hardware, package_versions

# Folders and file types of artifacts/<profile>/ that stay out: re-creatable, heavy, or both
LEFT_OUT_DIRS = ("synthetic", "cache", "tensorboard", "figures")  # figures: the chapters draw them again
LEFT_OUT_SUFFIXES = (".pt", ".h5", ".dcm")  # checkpoints, the patch store, mammograms
MAX_MIB = 60.0


def bundled_files(artifacts: Path) -> list[Path]:
    """The files of ``artifacts`` (a profile's folder) that a bundle holds, sorted."""
    keep = []
    for path in sorted(artifacts.rglob("*")):
        rel = path.relative_to(artifacts)
        if path.is_file() and not (set(rel.parts[:-1]) & set(LEFT_OUT_DIRS)) and path.suffix not in LEFT_OUT_SUFFIXES:
            keep.append(path)
    return keep


def sizes(profile: dict) -> dict:
    """What a reader needs to tell one run's scale from another's."""
    gan, aug, data = profile["gan"], profile["aug"], profile["data_prep"]
    return {"patch_size": data["patch_size"], "n_patients": data["n_patients"], "dataset": data["dataset"],
            "n_folds": data["n_folds"], "nz": gan["nz"], "ngf": gan["ngf"], "ndf": gan["ndf"],
            "batch_size": gan["batch_size"], "gan_budget": gan["iterations"] or f"{gan['epochs']} epochs",
            "k": aug["k"], "classifier_seeds": aug["classifier_seeds"], "gan_seeds": aug["gan_seeds"],
            "gk_settings": aug.get("gan", {}), "classifier_epochs": aug["epochs"]}


def step_times(records: list[dict]) -> dict[str, float]:
    """Wall seconds of each step, by its folder; ``records``: the run's step records (:func:`collect`)."""
    return {record["folder"]: record["duration_s"] for record in records if "duration_s" in record}


def ran_between(records: list[dict]) -> list[str]:
    """The first and last start (UTC, ISO) of the steps of ``records``."""
    starts = sorted(record["started_utc"] for record in records if record.get("started_utc"))
    return [starts[0], starts[-1]] if starts else []


def step_commits(records: list[dict]) -> list[str]:
    """The commits (``+dirty`` when the tree had changes) at which the steps of ``records`` ran,
    sorted; a step not rerun since keeps the commit it ran at."""
    return sorted({record["git_commit"] for record in records if record.get("git_commit")})


def data_counts(artifacts: Path) -> dict:
    """Patients, images and patches of the patch store as the data step counted them (empty
    before the data report)."""
    cohort = artifacts / "data_report" / "cohort.json"
    if not cohort.is_file():
        return {}
    store = json.loads(cohort.read_text())["store"]
    return {"patients": store["n_patients"], "images": store["n_images_used"], "patches": store["n_patches"],
            "source": store["source"]}


def run_device(records: list[dict]) -> str:
    """Where the run's networks trained: the GPUs its training steps recorded, else ``cpu``."""
    gpus = set()
    for record in records:
        if str((record.get("result") or {}).get("device", "")).startswith("cuda"):
            gpus.update((record.get("hardware") or {}).get("gpus") or ["cuda"])
    return ", ".join(sorted(gpus)) or "cpu"


def gan_runs(artifacts: Path) -> dict[str, dict]:
    """Per GAN run folder (fold GANs and G_k), the epochs and iterations it trained."""
    runs = {}
    for summary in sorted((artifacts / "gan").glob("*/summary.json")):
        s = json.loads(summary.read_text())
        runs[summary.parent.name] = {"epochs": s.get("epochs_done"), "iterations": s.get("steps")}
    return runs


def run_record(profile_name: str, artifacts: Path) -> dict:
    """What a reader needs to tell one run from another: the profile, its resolved config and
    sizes, whether it differs from ``configs/<profile>.yaml`` (``overridden``: the keys that do), the
    device its networks trained on, the packing machine, packages, commit (of the packing) and the
    commits the steps ran at, dates, step times."""
    resolved_path = artifacts / "config.yaml"
    profile = yaml.safe_load(resolved_path.read_text()) if resolved_path.is_file() else config.load_profile(profile_name)
    declared = yaml.safe_load(config.CONFIG_DIR.joinpath(f"{profile_name}.yaml").read_text()) \
        if config.CONFIG_DIR.joinpath(f"{profile_name}.yaml").is_file() else {}
    overridden = sorted(f"{section}.{key}" for section, values in profile.items() if isinstance(values, dict)
                        for key in values if (declared.get(section) or {}).get(key, values[key]) != values[key])
    records = collect(artifacts)  # every step's provenance.json, read once
    return {"profile": profile_name, "sizes": sizes(profile), "data": data_counts(artifacts), "config": profile,
            "overridden": overridden, "hardware": hardware(), "device": run_device(records),
            "packages": package_versions(), "commit": git_commit(),
            "packed": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "ran": ran_between(records), "step_commits": step_commits(records), "step_seconds": step_times(records),
            "gan_runs": gan_runs(artifacts)}


def manifest(profile_name: str, artifacts: Path, files: dict[str, Path]) -> dict:
    """The bundle's ``manifest.json`` (:func:`run_record` and every file with its size and SHA-256);
    ``files`` maps names in the tar to files on disk."""
    return {**run_record(profile_name, artifacts),
            "files": {name: {"bytes": path.stat().st_size, "sha256": _sha256(path)} for name, path in files.items()}}


def pack(profile_name: str, artifacts: str | Path, out: str | Path, book_results: str | Path | None = None,
         max_mib: float = MAX_MIB) -> dict:
    """Write the bundle of the run in ``artifacts`` (its profile's folder) and the executed
    chapters in ``book_results`` to ``out`` (a tar, written atomically); returns its manifest.
    Raises ``ValueError`` naming the largest files when the bundle would exceed ``max_mib``."""
    artifacts = Path(artifacts)
    if not (artifacts / "config.yaml").is_file() and not any(artifacts.glob("*/provenance.json")):
        raise FileNotFoundError(f"{artifacts}: no run of profile {profile_name!r} here; run its workflow first "
                                f"(python -m thesis_lib.bundle --profile {profile_name} --out ...)")
    files = {f"artifacts/{p.relative_to(artifacts)}": p for p in bundled_files(artifacts)}
    if book_results and Path(book_results).is_dir():
        files.update({f"book/results/{p.name}": p for p in sorted(Path(book_results).glob("*.ipynb"))})
    total = sum(p.stat().st_size for p in files.values())
    if total > max_mib * 2**20:
        largest = sorted(files.items(), key=lambda item: -item[1].stat().st_size)[:5]
        names = ", ".join(f"{name} ({path.stat().st_size / 2**20:.1f} MiB)" for name, path in largest)
        raise ValueError(f"the bundle of {artifacts} would hold {total / 2**20:.1f} MiB, over --max-mib {max_mib}; "
                         f"largest: {names}")
    record = manifest(profile_name, artifacts, files)
    with atomic_path(Path(out)) as tmp:
        with tarfile.open(tmp, "w") as tar:
            data = json.dumps(record, indent=2, default=str).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
            for name, path in files.items():
                tar.add(path, arcname=name, recursive=False)
    return record


def run_workflow(profile_name: str, cores: int, overrides: list[str]) -> None:
    """The profile's whole workflow (every step and chapter), continuing an interrupted build."""
    snakemake = Path(sys.executable).with_name("snakemake")
    command = [sys.executable, "tools/run_workflow.py", str(snakemake), "--cores", str(cores),
               "--configfile", str(config.profile_path(profile_name))]
    if overrides:
        command += ["--config", *overrides]
    print("running:", " ".join(command), flush=True)
    if subprocess.run(command).returncode:
        raise SystemExit(f"the workflow of profile {profile_name!r} failed; its logs are in "
                         f"{paths.logs(config.artifacts_dir(profile_name))}")


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="thesis-bundle", description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="gpu", help="the profile to run and pack (configs/<profile>.yaml)")
    p.add_argument("--out", required=True, help="the tar to write")
    p.add_argument("--cores", type=int, default=2, help="cores for the workflow (Snakemake --cores)")
    p.add_argument("--config", nargs="*", default=[], help="Snakemake --config overrides, e.g. n_patients=20")
    p.add_argument("--no-run", action="store_true", help="pack a run that is already built, without running it")
    p.add_argument("--artifacts", default=None, help="the run's folder (default artifacts/<profile>)")
    p.add_argument("--book-results", default="book/results", help="the executed chapters to include")
    p.add_argument("--max-mib", type=float, default=MAX_MIB)
    args = p.parse_args(argv)
    config.profile_path(args.profile)  # an unknown profile stops here, naming the known ones
    artifacts = Path(args.artifacts) if args.artifacts else config.artifacts_dir(args.profile)
    if not args.no_run:
        run_workflow(args.profile, args.cores, args.config)
    record = pack(args.profile, artifacts, args.out, args.book_results, args.max_mib)
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out}: {len(record['files'])} files, {size / 2**20:.1f} MiB, profile {args.profile}, "
          f"device {record['device']}, commit {record['commit'][:10]}")


if __name__ == "__main__":
    main()
