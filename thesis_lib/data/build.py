"""The data step: the profile's dataset, cut into the patch store and split by patient.

For the resolved ``data_prep`` parameters: the synthetic cohort is written first (kept when it
is already there with the same settings), the dataset's images are scanned and a random subset
of patients selected (``n_patients``), and :func:`~thesis_lib.data.prep.build_patch_store` cuts
them into ``artifacts/<profile>/patches/`` with its provenance. The data chapter narrates the
result; it calls :func:`current_store`, which rebuilds only when the parameters changed.

Command line (the workflow's ``data_prep`` step)::

    python -m thesis_lib.data.build --profile smoke
    python -m thesis_lib.data.build --profile thesis --dataset cbis-ddsm --data-root /data/CBIS-DDSM --n-patients 0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from thesis_lib import config, paths
from thesis_lib.data import datasets, splits
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data.records import ImageRecord, Skip
from thesis_lib.data.store import PatchStore
from thesis_lib.data.synthetic import CohortSpec, write_cohort
from thesis_lib.provenance import Run, cpu_cores

STORE_FILES = ["patches.h5", "patches.csv", "folds.csv", "skips.csv"]


def store_dir(cfg: dict) -> Path:
    return paths.store(cfg["artifacts"])


def dataset_root(cfg: dict, workers: int = 1) -> Path:
    """The dataset's folder: the synthetic cohort under ``artifacts/<profile>/synthetic`` (written
    when missing or different), or ``data_root`` for a real dataset."""
    if cfg["dataset"] == "synthetic":
        cohort = CohortSpec.from_params({**cfg["synthetic"], "n_patients": cfg["n_patients"]})
        return write_cohort(Path(cfg["artifacts"]) / "synthetic", cohort, seed=cfg["seed"], workers=workers)
    return Path(cfg["data_root"] or "")


def scan_records(cfg: dict, root: Path) -> tuple[list[ImageRecord], list[Skip]]:
    """The images of the selected patients and the files the loader skipped."""
    records, loader_skips = datasets.scan(cfg["dataset"], root, tuple(cfg["lesion_types"]))
    return datasets.select_patients(records, cfg["n_patients"], cfg["seed"]), loader_skips


def build_store(cfg: dict, workers: int | None = None) -> PatchStore:
    """Write the patch store of ``cfg`` and its ``provenance.json``; the leakage check runs on it."""
    workers = workers or cpu_cores()
    run = Run("data_prep", cfg)
    records, loader_skips = scan_records(cfg, dataset_root(cfg, workers))
    store = build_patch_store(records, store_dir(cfg), PatchParams.from_section(cfg), seed=cfg["seed"],
                              source=cfg["dataset"], loader_skips=loader_skips, n_folds=cfg["n_folds"],
                              val_fraction=cfg["val_fraction"], workers=workers)
    splits.check_no_leakage(store.folds)
    run.write(store_dir(cfg), n_patches=store.summary["n_patches"], outputs=STORE_FILES)
    return store


def current_store(cfg: dict, workers: int | None = None) -> PatchStore:
    """The store on disk when its provenance says it was built with ``cfg``, else :func:`build_store`."""
    record = store_dir(cfg) / "provenance.json"
    if (store_dir(cfg) / "patches.h5").is_file() and record.is_file():
        if json.loads(record.read_text()).get("parameters") == json.loads(json.dumps(cfg, default=str)):
            return PatchStore(store_dir(cfg))
    return build_store(cfg, workers)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Build the profile's patch store (the data step).")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--dataset", default=None)
    p.add_argument("--data-root", default=None)
    p.add_argument("--n-patients", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU core)")
    args = p.parse_args(argv)
    cfg = config.resolve("data_prep", args.profile, dataset=args.dataset, data_root=args.data_root,
                         n_patients=args.n_patients)
    store = build_store(cfg, args.workers)
    print(f"wrote {store.path}: {len(store)} patches of {store.summary['n_patients']} patients")


if __name__ == "__main__":
    main()
