"""The augmentation study: do generated masses help an imbalanced mass-versus-normal classifier?

For every training size k and fold (patient-level; the fold's validation and test patients
are the same for every k) the study draws k real masses from the fold's training pool
(nested: the 100 lie inside the 250) and ``normal_per_real`` x k normal patches, trains a
generator G_k on those k masses only, and trains the thesis' classifier four ways:

========  =====================================================  ==============
approach  training set                                           flips
========  =====================================================  ==============
ORG       k real + 10 k normal                                   no
Aug ORG   k real + 10 k normal                                   h/v, on the fly
GAN       k real + 1.5 k from G_k + 10 k normal                  no
Aug GAN   k real + 1.5 k from G_k + 10 k normal                  h/v, on the fly
========  =====================================================  ==============

G_k sees only its fold's k training masses, so no validation or test patient reaches it.
Each (k, approach, fold) gives one row of ``artifacts/<profile>/aug/results.csv`` (scores on
the fold's test set, counts, seed, config hash, commit, duration) and the test-set
probabilities in ``aug/k<k>/predictions.csv.gz``; running a k again replaces its rows.

Command line (what each Snakemake job runs)::

    python -m thesis_lib.augstudy --profile smoke --k 100                  # one k, all folds
    python -m thesis_lib.augstudy --profile smoke --k 100 --fold 0 --generator-only
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from thesis_lib import config
from thesis_lib.classifier import ClassifierConfig, predict_proba, train_classifier
from thesis_lib.data.splits import partition_of
from thesis_lib.data.store import PatchStore
from thesis_lib.gan.train import (GanConfig, is_finished, pick_device, run_dir, train_run, training_patches,
                                  training_rows)
from thesis_lib.generate import generate
from thesis_lib.io import atomic_path
from thesis_lib.provenance import Run, cpu_cores, git_commit
from thesis_lib.scoring import classification_scores, paired_bootstrap_f1

# name: (adds G_k's masses, random h/v flips on the fly)
APPROACHES = {"ORG": (False, False), "Aug ORG": (False, True), "GAN": (True, False), "Aug GAN": (True, True)}
RESULT_COLUMNS = ["k", "approach", "fold", "f1", "precision", "recall", "auc", "n_real", "n_synthetic",
                  "n_normal", "n_val", "n_test_mass", "n_test_normal", "best_epoch", "best_val_f1", "seed",
                  "config_hash", "commit", "duration_s"]


@dataclass(frozen=True)
class TrainingSet:
    """One approach's training patches: ``x`` (N, 128, 128) uint8, ``y`` (N,) 0/1 (1 = mass),
    ``synthetic`` (N,) bool, and the store rows of its real patches."""

    x: np.ndarray
    y: np.ndarray
    synthetic: np.ndarray
    real_rows: pd.DataFrame
    flips: bool

    def counts(self) -> dict[str, int]:
        return {"n_real": int(((self.y == 1) & ~self.synthetic).sum()), "n_synthetic": int(self.synthetic.sum()),
                "n_normal": int((self.y == 0).sum())}


def parse_ks(k) -> list[int]:
    """Training sizes from an int, a list, or a string such as ``"25, 50"`` or ``"[25, 50]"``."""
    if isinstance(k, str):
        k = [int(v) for v in k.strip("[] ").replace(",", " ").split()]
    ks = [int(v) for v in (k if isinstance(k, (list, tuple)) else [k])]
    if not ks or any(v <= 0 for v in ks):
        raise ValueError(f"k={k!r}: need one or more training sizes > 0")
    return sorted(set(ks))


def check_approaches(approaches) -> list[str]:
    """The approach names in the table's order; an unknown name is an error."""
    names = [approaches] if isinstance(approaches, str) else list(approaches)
    unknown = [a for a in names if a not in APPROACHES]
    if unknown or not names:
        raise ValueError(f"approaches={names!r}: unknown {unknown}; expected some of {list(APPROACHES)}")
    return [a for a in APPROACHES if a in names]


def open_store(artifacts: str | Path) -> PatchStore:
    """The profile's patch store, or an error that names the step to run first."""
    path = Path(artifacts) / "patches"
    if not (path / "patches.h5").is_file():
        raise FileNotFoundError(f"no patch store at {path}: run the data step first "
                                "(make book, or papermill notebooks/00_data_prep.ipynb out.ipynb)")
    return PatchStore(path)


def gan_params(profile: str, study: dict) -> dict:
    """The G_k training parameters: the profile's ``gan`` section updated by ``study["gan"]``."""
    return {**config.resolve("gan", profile), **(study.get("gan") or {})}


def check_sizes(store: PatchStore, folds: list[int], ks: list[int], study: dict) -> None:
    """Fail before anything is written when a fold cannot supply k masses and the normals."""
    for fold in folds:
        for k in ks:
            training_rows(store, fold, k, study["seed"])
            n_normal = round(study["normal_per_real"] * k)
            pool = len(training_rows(store, fold, None, study["seed"], label="normal"))
            if n_normal > pool:
                raise ValueError(f"k={k}: needs normal_per_real x k = {n_normal} normal patches, but fold "
                                 f"{fold}'s training pool holds {pool}; lower k or normal_per_real")


def training_set(store: PatchStore, fold: int, k: int, approach: str, study: dict,
                 generator: str | Path | None = None) -> TrainingSet:
    """The training patches of ``approach`` for (``fold``, ``k``); GAN approaches draw
    ``synthetic_per_real`` x k masses from ``generator`` (G_k's ``best.pt``) with a seed fixed
    per (fold, k), so GAN and Aug GAN see the same synthetic masses."""
    add_gan, flips = APPROACHES[check_approaches([approach])[0]]
    seed = study["seed"]
    real, real_rows = training_patches(store, fold, k, seed)
    normal, normal_rows = training_patches(store, fold, round(study["normal_per_real"] * k), seed, label="normal")
    parts = [(real, 1, False), (normal, 0, False)]
    if add_gan:
        if generator is None:
            raise ValueError(f"approach {approach!r} needs G_k's checkpoint (generator=...)")
        n_syn = round(study["synthetic_per_real"] * k)
        parts.insert(1, (generate(generator, n_syn, _seed(seed, fold, k)), 1, True))
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([np.full(len(p[0]), p[1], np.int64) for p in parts])
    synthetic = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    return TrainingSet(x, y, synthetic, pd.concat([real_rows, normal_rows]), flips)


def partition_rows(store: PatchStore, fold: int, partition: str) -> pd.DataFrame:
    """Rows of ``store.meta`` in ``fold``'s ``partition`` ("train", "val" or "test"), masses and normals."""
    part = partition_of(store.meta, store.folds, fold)
    return store.meta[(part == partition) & store.meta.label.isin(["mass", "normal"])]


def evaluation_set(store: PatchStore, fold: int, partition: str) -> tuple[np.ndarray, np.ndarray]:
    """All patches of ``fold``'s ``partition`` ("val" or "test"): x (N, 128, 128) uint8 and
    y (N,) with 1 for masses; the same for every k."""
    rows = partition_rows(store, fold, partition)
    return store.read(rows.index.to_numpy()), (rows.label == "mass").to_numpy(np.int64)


def config_hash(store: PatchStore, study: dict, gan: dict) -> str:
    """12 hex digits naming everything that defines a result but k: data, classifier, G_k."""
    free = {"k", "workers", "device", "artifacts", "profile", "n_boot", "approaches", "folds"}
    key = {"store": store.summary, "study": {a: v for a, v in study.items() if a not in free},
           "gan": {a: v for a, v in gan.items() if a not in {"device", "artifacts", "compile"}}}
    return hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def _classifier_config(study: dict, seed: int, flips: bool, device: str) -> ClassifierConfig:
    names = {f.name for f in fields(ClassifierConfig)} - {"seed", "flips", "device"}
    return ClassifierConfig(**{n: study[n] for n in names if n in study}, seed=seed, flips=flips, device=device)


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _train_generator(profile: str, study: dict, fold: int, k: int) -> str:
    """G_k's ``best.pt``, trained (or continued) unless a finished run of the same config and
    data is there; a finished run is left untouched, so later steps do not see it as new."""
    params = gan_params(profile, study)
    out = run_dir(params["artifacts"], fold, k)
    real, _ = training_patches(PatchStore(Path(params["artifacts"]) / "patches"), fold, k, params["seed"])
    if not is_finished(GanConfig.from_dict(params), real, out):
        train_run(params, fold, k, resume="auto", progress=False)
    return str(out / "best.pt")


def _train_classifier(artifacts: str, study: dict, fold: int, k: int, approach: str, generator: str | None,
                      device: str) -> tuple[dict, np.ndarray]:
    """Train one classifier; return its results row (without hash and commit) and test P(mass)."""
    t0 = time.perf_counter()
    store = PatchStore(Path(artifacts) / "patches")
    train = training_set(store, fold, k, approach, study, generator)
    x_val, y_val = evaluation_set(store, fold, "val")
    x_test, y_test = evaluation_set(store, fold, "test")
    seed = _seed(study["seed"], fold, k, list(APPROACHES).index(approach))
    fitted = train_classifier(train.x, train.y, x_val, y_val, _classifier_config(study, seed, train.flips, device))
    proba = predict_proba(fitted.model, x_test)
    row = {"k": k, "approach": approach, "fold": fold, **classification_scores(y_test, proba), **train.counts(),
           "n_val": len(y_val), "n_test_mass": int(y_test.sum()), "n_test_normal": int((y_test == 0).sum()),
           "best_epoch": fitted.best_epoch, "best_val_f1": fitted.best_val_f1, "seed": seed,
           "duration_s": round(time.perf_counter() - t0, 1)}
    return row, proba


def _pool(workers: int, n_tasks: int):
    """(executor or None, workers): processes splitting the CPU threads between them."""
    workers = min(workers or cpu_cores(), n_tasks)
    if workers <= 1:
        return None, 1
    threads = max(1, cpu_cores() // workers)
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(threads,)), workers


def _run_all(calls: list[tuple], workers: int, desc: str, progress: bool) -> list:
    """Run ``(function, *args)`` calls, in parallel processes when ``workers`` > 1; results in order."""
    pool, _ = _pool(workers, len(calls))
    bar = tqdm(total=len(calls), desc=desc, disable=not progress)
    if pool is None:
        out = []
        for fn, *args in calls:
            out.append(fn(*args))
            bar.update()
        bar.close()
        return out
    with pool:
        futures = {pool.submit(fn, *args): i for i, (fn, *args) in enumerate(calls)}
        out = [None] * len(calls)
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            bar.update()
    bar.close()
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (jobs of other k may write the same table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def results_path(artifacts: str | Path) -> Path:
    return Path(artifacts) / "aug" / "results.csv"


def read_results(artifacts: str | Path) -> pd.DataFrame:
    """The study's table (empty when nothing ran yet), sorted by k, approach, fold."""
    path = results_path(artifacts)
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=RESULT_COLUMNS)
    order = {a: i for i, a in enumerate(APPROACHES)}
    return table.sort_values(["k", "approach", "fold"], key=lambda s: s.map(order) if s.name == "approach" else s,
                             ignore_index=True)


def merge_results(artifacts: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Write ``rows`` into the table, replacing rows with the same (k, approach, fold)."""
    path = results_path(artifacts)
    with _locked(path.with_name(".results.lock")):
        old = read_results(artifacts)
        key = ["k", "approach", "fold"]
        kept = old[~old.set_index(key).index.isin(rows.set_index(key).index)]
        table = pd.concat([kept, rows[RESULT_COLUMNS]], ignore_index=True) if len(kept) else rows[RESULT_COLUMNS]
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    return read_results(artifacts)


def read_predictions(artifacts: str | Path, k: int) -> pd.DataFrame:
    """Test-set P(mass) of every approach and fold at ``k``: fold, approach, patch, label, proba."""
    return pd.read_csv(Path(artifacts) / "aug" / f"k{k}" / "predictions.csv.gz")


def f1_differences(artifacts: str | Path, table: pd.DataFrame, approach: str = "Aug GAN",
                   others: tuple[str, ...] = ("Aug ORG", "ORG"), n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """F1(``approach``) - F1(other) per k, mean over folds, with paired-bootstrap 95 % intervals
    on the same test patches (:func:`thesis_lib.scoring.paired_bootstrap_f1`); one row per k and
    comparison present in ``table``."""
    rows = []
    for k in sorted(table.k.unique()):
        pred = read_predictions(artifacts, k)
        for other in others:
            folds = []
            for _, g in pred.groupby("fold"):
                a = g[g.approach == approach].set_index("patch")
                b = g[g.approach == other].set_index("patch")
                if len(a) and len(b):
                    folds.append((a.label.to_numpy(), a.proba.to_numpy(), b.proba.loc[a.index].to_numpy()))
            if folds:
                rows.append({"k": k, "comparison": f"{approach} - {other}",
                             **paired_bootstrap_f1(folds, n_boot, seed)})
    return pd.DataFrame(rows, columns=["k", "comparison", "difference", "low", "high", "p_not_better",
                                       "n_boot"]).set_index(["k", "comparison"])


def difference_verdict(low: float, high: float) -> str:
    """How a bootstrap interval of a difference reads: "better", "worse" or "not distinguishable from 0"."""
    return "better" if low > 0 else "worse" if high < 0 else "not distinguishable from 0"


def is_done(table: pd.DataFrame, k: int, approaches: list[str], folds: list[int], hash_: str) -> bool:
    """True when the table holds every (approach, fold) of ``k`` computed with ``hash_``."""
    rows = table[(table.k == k) & (table.config_hash == hash_)]
    return {(a, f) for a in approaches for f in folds} <= set(zip(rows.approach, rows.fold.astype(int)))


def run_k(profile: str, k: int, study: dict, *, approaches: list[str] | None = None, folds: list[int] | None = None,
          workers: int = 0, reuse: bool = True, progress: bool = True) -> pd.DataFrame:
    """The study at one ``k``: G_k per fold (trained when missing, reused when trained with the
    same config and data), then every (approach, fold) classifier, in ``workers`` parallel
    processes (0: one per CPU core). Returns the whole results table.

    With ``reuse``, a k whose rows were computed with the same config hash is not recomputed.
    """
    art = Path(study["artifacts"])
    store = open_store(art)
    approaches = check_approaches(approaches or study["approaches"])
    folds = [int(f) for f in (sorted(store.folds.fold.unique()) if folds is None else folds)]
    check_sizes(store, folds, [k], study)
    gan = gan_params(profile, study)
    hash_ = config_hash(store, study, gan)
    if reuse and is_done(read_results(art), k, approaches, folds, hash_):
        return read_results(art)
    run = Run("aug_study", {**study, "k": k, "approaches": approaches, "folds": folds})
    device = str(pick_device(study["device"]))
    generators = {}
    if any(APPROACHES[a][0] for a in approaches):
        paths = _run_all([(_train_generator, profile, study, f, k) for f in folds], workers,
                         f"k={k}: G_k", progress)
        generators = dict(zip(folds, paths))
    tasks = [(f, a) for a in approaches for f in folds]
    out = _run_all([(_train_classifier, str(art), study, f, k, a, generators.get(f), device) for f, a in tasks],
                   workers, f"k={k}: classifiers", progress)
    rows = pd.DataFrame([r for r, _ in out]).assign(config_hash=hash_, commit=git_commit())
    test = {f: partition_rows(store, f, "test") for f in folds}
    pred = pd.concat([pd.DataFrame({"fold": f, "approach": a, "patch": test[f].index,
                                    "label": (test[f].label == "mass").to_numpy(np.int64), "proba": proba})
                      for (f, a), (_, proba) in zip(tasks, out)], ignore_index=True)
    folder = art / "aug" / f"k{k}"
    with atomic_path(folder / "predictions.csv.gz") as tmp:
        pred.to_csv(tmp, index=False, compression="gzip")
    with atomic_path(folder / "results.csv") as tmp:
        rows[RESULT_COLUMNS].to_csv(tmp, index=False)
    run.write(folder, config_hash=hash_, generators=generators, rows=len(rows))
    return merge_results(art, rows)


def run_study(profile: str, ks, **overrides) -> pd.DataFrame:
    """:func:`run_k` for each k in ``ks`` (an int or a list) with the profile's ``aug`` section
    updated by ``overrides``; every k is checked before the first one runs."""
    run_opts = {n: overrides.pop(n) for n in ("approaches", "folds", "workers", "reuse", "progress") if n in overrides}
    run_opts = {n: v for n, v in run_opts.items() if v is not None}
    study = config.resolve("aug", profile, **overrides)
    ks = parse_ks(ks if ks is not None else study["k"])
    store = open_store(study["artifacts"])
    check_approaches(run_opts.get("approaches") or study["approaches"])
    folds = run_opts.get("folds")
    check_sizes(store, sorted(store.folds.fold.unique()) if folds is None else folds, ks, study)
    table = read_results(study["artifacts"])
    for k in ks:
        table = run_k(profile, k, study, **{"workers": study["workers"], **run_opts})
    return table


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="The augmentation study at one or more training sizes k.")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--k", required=True, help="training size(s), e.g. 100 or 25,50,100")
    p.add_argument("--fold", type=int, default=None, help="only this fold")
    p.add_argument("--generator-only", action="store_true", help="train G_k of --fold and stop")
    p.add_argument("--workers", type=int, default=None, help="parallel trainings (0: one per CPU core)")
    p.add_argument("--no-reuse", action="store_true", help="recompute rows that exist already")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    folds = None if args.fold is None else [args.fold]
    if args.generator_only:
        if args.fold is None:
            p.error("--generator-only needs --fold")
        study = config.resolve("aug", args.profile)
        for k in parse_ks(args.k):
            check_sizes(open_store(study["artifacts"]), folds, [k], study)
            _train_generator(args.profile, study, args.fold, k)
        return
    run_study(args.profile, args.k, folds=folds, workers=args.workers, reuse=not args.no_reuse,
              progress=not args.no_progress)


if __name__ == "__main__":
    main()
