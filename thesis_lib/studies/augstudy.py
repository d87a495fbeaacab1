"""The augmentation study: do generated masses help an imbalanced mass-versus-normal classifier?

For every training size k and fold (patient-level; the fold's validation and test patients
are the same for every k) one subset of k real masses (nested: the 100 lie inside the 250) and
``normal_per_real`` x k normal patches is handed to the generator G_k (trained on its k masses
only) and to every classifier arm (:mod:`thesis_lib.studies.arms`), and its hash is stored with
both. This module runs them: the G_k, then every classifier, in parallel processes, and writes
their rows and predictions (:mod:`thesis_lib.studies.aug_results`).

Every cell (k, approach, fold) is trained with each of ``classifier_seeds``; a GAN arm with
every pair of classifier seed and G_k seed (``gan_seeds``, a G_k per seed, fold and k), so that
the intervals resample generator seeds as a level of their own. The G_k come from ``generators``
(:mod:`thesis_lib.models.generators`: recipes trained here, e.g. ``small-data`` and ``thesis``, or a
ready checkpoint such as the thesis' own generator): the first gives the arms ``GAN`` and
``Aug GAN``, each further one the arms ``GAN [name]`` and ``Aug GAN [name]``, compared with the
same controls and with the first generator's arm.

Command line (what each Snakemake job runs)::

    python -m thesis_lib.studies.augstudy --profile smoke --k 100                  # one k, all folds
    python -m thesis_lib.studies.augstudy --profile smoke --k 100 --fold 0 --generator-only
    python -m thesis_lib.studies.augstudy --profile smoke --intervals              # aug/intervals.csv
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from thesis_lib import config, paths
from thesis_lib.data.capacity import check_folds
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import TrainingSubset
from thesis_lib.devices import announce, pick_device
from thesis_lib.evaluation.scoring import best_f1_threshold, classification_scores
from thesis_lib.io import atomic_path
from thesis_lib.models.generate import ready
from thesis_lib.models.generators import GeneratorSource, identity, parse_sources
from thesis_lib.provenance import Run, cpu_cores, git_commit, short_commit
from thesis_lib.results import ResultsMissing, as_recorded, render_only
from thesis_lib.sections import EXECUTION, AugSection
from thesis_lib.studies.arms import (APPROACHES, OVERSAMPLED_RATIO, arm_label, base_approach, check_approaches,
                                     derived_seed, evaluation_set, steps_per_epoch, subset_of, training_set)
from thesis_lib.studies.aug_results import (RESULT_COLUMNS, current_rows, k_record, merge_results, read_results,
                                            write_intervals)
from thesis_lib.training.classifier import ClassifierConfig, predict_proba, train_classifier
from thesis_lib.training.gan import train_run
from thesis_lib.training.gan_config import GanConfig
from thesis_lib.training.resume import is_finished
from thesis_lib.training.runs import read_run, run_dir


RUN_OPTIONS = ("approaches", "folds", "workers", "reuse", "progress")  # how run_study runs, not what it computes


# The aug section's settings besides the classifier's (ClassifierConfig), and what config.resolve adds
STUDY_KEYS = {f.name for f in fields(AugSection)} | {"seed", "profile", "artifacts"}


def parse_ks(k) -> list[int]:
    """Training sizes from an int, a list, or a string such as ``"25, 50"`` or ``"[25, 50]"``."""
    if isinstance(k, str):
        k = [int(v) for v in k.strip("[] ").replace(",", " ").split()]
    ks = [int(v) for v in (k if isinstance(k, (list, tuple)) else [k])]
    if not ks or any(v <= 0 for v in ks):
        raise ValueError(f"k={k!r}: need one or more training sizes > 0")
    return sorted(set(ks))


def seed_list(study: dict, name: str) -> list[int]:
    """``study[name]`` ("classifier_seeds" or "gan_seeds") as a non-empty list of distinct ints >= 0."""
    seeds = study.get(name)
    seeds = [seeds] if isinstance(seeds, int) else list(seeds or [])
    if not seeds or any(not isinstance(v, int) or v < 0 for v in seeds) or len(set(seeds)) < len(seeds):
        raise ValueError(f"{name}={study.get(name)!r}: need a list of one or more distinct seeds >= 0, e.g. [0, 1]")
    return seeds


def open_store(artifacts: str | Path) -> PatchStore:
    """The profile's patch store, or an error that names the step to run first."""
    path = paths.store(artifacts)
    if not (path / "patches.h5").is_file():
        raise FileNotFoundError(f"no patch store at {path}: run the data step first "
                                "(make book, or papermill notebooks/00_data_prep.ipynb out.ipynb)")
    return PatchStore(path)


def generator_sources(profile: str, study: dict, store: PatchStore) -> list[GeneratorSource]:
    """The study's G_k sources (``study["generators"]``) against the profile's ``recipes``; a
    ready checkpoint must draw the store's patch size (:func:`thesis_lib.models.generate.ready`)."""
    return [ready(s, store.patch_size, f"aug.generators ({s.name})") for s in declared_sources(profile, study)]


def declared_sources(profile: str, study: dict) -> list[GeneratorSource]:
    """The study's G_k sources as the config declares them (no checkpoint read)."""
    return parse_sources(study["generators"], config.load_profile(profile).get("recipes") or {}, "aug.generators")


def gan_params(profile: str, study: dict, source: GeneratorSource) -> dict:
    """The training parameters of ``source``'s G_k: the profile's ``gan`` section updated by the
    recipe, then by ``study["gan"]``."""
    return {**config.resolve("gan", profile), **(source.recipe or {}), **(study.get("gan") or {})}


def gk_dir(artifacts: str | Path, fold: int, k: int, gan_seed: int, sources: list[GeneratorSource],
           source: GeneratorSource) -> Path:
    """Run folder of a G_k trained here: :func:`~thesis_lib.training.runs.run_dir`, with the recipe's
    name added for every generator but the first."""
    return run_dir(artifacts, fold, k, gan_seed, recipe=None if source == sources[0] else source.name)


def check_study(store: PatchStore, folds: list[int], ks: list[int], study: dict, approaches: list[str]) -> None:
    """Fail before anything is written when a setting cannot work: an unknown setting, the seed
    lists, the control's ratio, a fold that cannot supply k masses and the normals, or a test
    set too small for the patient bootstrap."""
    known = STUDY_KEYS | {f.name for f in fields(ClassifierConfig)}
    unknown = sorted(set(study) - known)
    if unknown:
        where = f" in {config.profile_path(study['profile'])}" if study.get("profile") else ""
        raise KeyError(f"unknown aug setting(s) {unknown}{where}; known: {sorted(known)}")
    seed_list(study, "classifier_seeds")
    seed_list(study, "gan_seeds")
    oversampled = [a for a in approaches if APPROACHES[a].oversample]
    if oversampled and study["synthetic_per_real"] != OVERSAMPLED_RATIO:
        raise ValueError(f"synthetic_per_real={study['synthetic_per_real']}: the control '{oversampled[0]}' matches "
                         f"the GAN arms' positives only at {OVERSAMPLED_RATIO}; drop it from approaches or use "
                         f"{OVERSAMPLED_RATIO}")
    check_folds(store, folds, ks, study["normal_per_real"], study["seed"])


def config_hash(store: PatchStore, study: dict, gans: dict[str, dict]) -> str:
    """12 hex digits naming everything that defines a result but k: data, classifier, and the
    G_k (``gans``: per generator, its training parameters or its checkpoint's identity)."""
    free = EXECUTION | {"k", "n_boot", "approaches", "folds", "generators"}  # each k, interval or arm apart
    key = {"store": store.summary, "study": {a: v for a, v in study.items() if a not in free},
           "gan": {name: {a: v for a, v in gan.items() if a not in EXECUTION} for name, gan in gans.items()}}
    return hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _classifier_config(study: dict, seed: int, flips: bool, device: str, steps: int = 0) -> ClassifierConfig:
    names = {f.name for f in fields(ClassifierConfig)} - {"seed", "flips", "device", "steps_per_epoch"}
    return ClassifierConfig(**{n: study[n] for n in names if n in study}, seed=seed, flips=flips, device=device,
                            steps_per_epoch=steps)


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _gan_identities(profile: str, study: dict, sources: list[GeneratorSource]) -> dict[str, dict]:
    return {s.name: gan_params(profile, study, s) if s.trained_here else identity(s) for s in sources}


def _train_generator(profile: str, study: dict, subset: TrainingSubset, gan_seed: int,
                     sources: list[GeneratorSource], source: GeneratorSource) -> str:
    """G_k's ``best.pt``, trained on ``subset``'s masses unless a finished run of the same config
    on the same masses (their hash in its summary) is there; a finished run is left
    untouched, so later steps do not see it as new. A run on other masses is trained afresh.
    A ready generator (a checkpoint source) is returned as it is."""
    if not source.trained_here:
        return str(source.checkpoint)
    params = gan_params(profile, study, source)
    if gan_seed:
        params["seed"] = derived_seed(params["seed"], gan_seed)
    out = gk_dir(params["artifacts"], subset.fold, subset.k, gan_seed, sources, source)
    store = PatchStore(paths.store(params["artifacts"]))
    real = store.read(subset.masses.index.to_numpy())
    same = is_finished(GanConfig.from_dict(params), real, out) and \
        read_run(out)["summary"].get("masses_hash") == subset.mass_hash
    if not same:
        train_run(params, subset.fold, subset.k, subset=subset, out=out, resume="auto", progress=False)
    return str(out / "best.pt")


def _train_classifier(artifacts: str, study: dict, subset: TrainingSubset, label: str, replicate: int,
                      gan_seed: int | None, source: str, generator: str | None, device: str) -> tuple[dict, np.ndarray]:
    """Train one classifier of the arm ``label`` (GAN arms: with ``generator``, the checkpoint of
    the source named ``source``); return its results row (without hash and commit) and test P(mass)."""
    t0 = time.perf_counter()
    store = PatchStore(paths.store(artifacts))
    fold, k = subset.fold, subset.k
    approach = base_approach(label)
    train = training_set(store, subset, approach, study, generator, gan_seed or 0)
    x_val, y_val = evaluation_set(store, fold, "val")
    x_test, y_test = evaluation_set(store, fold, "test")
    seed = derived_seed(study["seed"], fold, k, replicate)  # the same for every arm: paired comparisons
    steps = steps_per_epoch(study, k)
    fitted = train_classifier(train.x, train.y, x_val, y_val,
                              _classifier_config(study, seed, train.flips, device, steps))
    proba = predict_proba(fitted.model, x_test)
    threshold = best_f1_threshold(y_val, predict_proba(fitted.model, x_val)) if len(x_val) else 0.5
    at_val = classification_scores(y_test, proba, threshold)
    gan = APPROACHES[approach].gan
    row = {"k": k, "approach": label, "fold": fold, "replicate": replicate,
           "gan_seed": gan_seed if gan else np.nan, "generator": source if gan else "",
           **classification_scores(y_test, proba), "threshold": threshold, "f1_val": at_val["f1"],
           **train.counts(), "n_val": len(y_val), "n_val_mass": int(np.sum(y_val)), "n_test_mass": int(y_test.sum()),
           "n_test_normal": int((y_test == 0).sum()),
           "n_test_patients": store.rows(fold, "test").patient_id.nunique(),
           "best_epoch": fitted.best_epoch, "epochs_run": len(fitted.history), "steps_per_epoch": steps,
           "best_val_f1": fitted.best_val_f1, "best_val_auc": fitted.best_val_auc, "seed": seed,
           "subset_hash": subset.hash, "duration_s": round(time.perf_counter() - t0, 1)}
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


def classifier_tasks(approaches: list[str], sources: list[GeneratorSource], folds: list[int], replicates: list[int],
                     gan_seeds: list[int]) -> list[tuple[int, str, str, int, int | None]]:
    """Every classifier of one k: (fold, arm label, generator name, classifier seed, G_k seed or
    None): each arm with each classifier seed, a GAN arm with each G_k seed as well (crossed)."""
    arms = [(arm_label(a, i, s.name), s.name, APPROACHES[a].gan) for a in approaches
            for i, s in (enumerate(sources) if APPROACHES[a].gan else [(0, sources[0])])]
    return [(f, label, source, r, g) for r in replicates for label, source, gan in arms
            for g in (gan_seeds if gan else [None]) for f in folds]


def is_done(table: pd.DataFrame, k: int, approaches: list[str], folds: list[int], replicates: list[int],
            hash_: str, gan_seeds: list[int] = (0,)) -> bool:
    """True when the table holds every classifier of ``k`` (approach, fold, classifier seed and,
    for a GAN arm, each G_k seed) computed with ``hash_``."""
    rows = table[(table.k == k) & (table.config_hash == hash_)]
    have = set(zip(rows.approach.map(base_approach), rows.fold.astype(int), rows.replicate.astype(int),
                   rows.gan_seed.fillna(-1).astype(int)))
    want = {(a, f, r, g) for a in approaches for f in folds for r in replicates
            for g in (gan_seeds if APPROACHES[a].gan else [-1])}
    return want <= have


def run_k(profile: str, k: int, study: dict, *, approaches: list[str] | None = None, folds: list[int] | None = None,
          workers: int = 0, reuse: bool = True, progress: bool = True) -> pd.DataFrame:
    """The study at one ``k``: the subset of each fold, its G_k per gan seed (trained when missing,
    reused when trained on the same masses with the same config), then every (approach, fold,
    classifier seed), in ``workers`` parallel processes (0: one per CPU core). Returns the whole
    results table. With ``reuse``, a k whose rows were computed with the same config hash is not
    recomputed."""
    art = Path(study["artifacts"])
    store = open_store(art)
    approaches = check_approaches(approaches or study["approaches"])
    folds = [int(f) for f in (sorted(store.folds.fold.unique()) if folds is None else folds)]
    check_study(store, folds, [k], study, approaches)
    sources = generator_sources(profile, study, store)
    replicates, gan_seeds = seed_list(study, "classifier_seeds"), seed_list(study, "gan_seeds")
    hash_ = config_hash(store, study, _gan_identities(profile, study, sources))
    run = Run("aug_study", {**study, "k": k, "approaches": approaches, "folds": folds})
    folder = paths.aug(art) / f"k{k}"
    table = read_results(art)
    if reuse and is_done(table, k, approaches, folds, replicates, hash_, gan_seeds):
        rows = table[(table.k == k) & (table.config_hash == hash_)]
        with atomic_path(folder / "results.csv") as tmp:
            rows[RESULT_COLUMNS].to_csv(tmp, index=False)
        run.write(folder, config_hash=hash_, rows=len(rows), reused=True)  # k's rows are now these again
        print(f"k={k}: reused {len(rows)} rows of config {hash_[:12]} (computed at commit(s) "
              f"{', '.join(sorted({short_commit(c) for c in rows.commit}))}); --no-reuse recomputes them", flush=True)
        return table
    device = str(pick_device(study["device"]))
    announce(torch.device(device), study["device"], profile)
    subsets = {f: subset_of(store, f, k, study) for f in folds}
    generators = {}
    if any(APPROACHES[a].gan for a in approaches):
        keys = [(f, s, g) for s in sources for f in folds for g in gan_seeds]
        trained = _run_all([(_train_generator, profile, study, subsets[f], g, sources, s) for f, s, g in keys],
                           workers, f"k={k}: G_k", progress)
        generators = {(f, s.name, g): p for (f, s, g), p in zip(keys, trained)}
    tasks = classifier_tasks(approaches, sources, folds, replicates, gan_seeds)
    calls = [(_train_classifier, str(art), study, subsets[f], label, i, g, source, generators.get((f, source, g)),
              device) for f, label, source, i, g in tasks]
    out = _run_all(calls, workers, f"k={k}: classifiers", progress)
    rows = pd.DataFrame([r for r, _ in out]).assign(config_hash=hash_, commit=git_commit())
    test = {f: store.rows(f, "test") for f in folds}
    pred = pd.concat([pd.DataFrame({"fold": f, "approach": a, "replicate": i, "gan_seed": np.nan if g is None else g,
                                    "patch": test[f].index, "patient_id": test[f].patient_id.to_numpy(),
                                    "label": (test[f].label == "mass").to_numpy(np.int64), "proba": proba})
                      for (f, a, _, i, g), (_, proba) in zip(tasks, out)], ignore_index=True).assign(config_hash=hash_)
    with atomic_path(folder / "results.csv") as tmp:
        rows[RESULT_COLUMNS].to_csv(tmp, index=False)
    run.write(folder, config_hash=hash_, rows=len(rows),
              generators={f"{s} fold{f}_g{g}": p for (f, s, g), p in generators.items()},
              subsets={f"fold{f}": s.hash for f, s in subsets.items()})
    return merge_results(art, k, rows, pred)


def run_study(profile: str, ks, **overrides) -> pd.DataFrame:
    """:func:`run_k` for each k in ``ks`` (an int or a list) with the profile's ``aug`` section
    updated by ``overrides``; every k is checked before the first one runs."""
    run_opts = {n: overrides.pop(n) for n in RUN_OPTIONS if n in overrides}
    run_opts = {n: v for n, v in run_opts.items() if v is not None}
    study = config.resolve("aug", profile, **overrides)
    ks = parse_ks(ks if ks is not None else study["k"])
    store = open_store(study["artifacts"])
    approaches = check_approaches(run_opts.get("approaches") or study["approaches"])
    folds = run_opts.get("folds")
    check_study(store, sorted(store.folds.fold.unique()) if folds is None else folds, ks, study, approaches)
    generator_sources(profile, study, store)
    for k in ks:
        run_k(profile, k, study, **{"workers": study["workers"], **run_opts})
    return current_rows(study["artifacts"])


def current_study(profile: str, ks, **overrides) -> pd.DataFrame:
    """:func:`run_study`'s table (every k's rows of its last run's config, :func:`current_rows`);
    at render time the same from disk, after checking that each k of ``ks`` ran with this
    study's settings (:class:`~thesis_lib.results.ResultsMissing` naming the step otherwise)."""
    if not render_only():
        return run_study(profile, ks, **overrides)
    study = config.resolve("aug", profile, **{n: v for n, v in overrides.items() if n not in RUN_OPTIONS})
    art = Path(study["artifacts"])
    per_run = EXECUTION | {"k", "approaches", "folds"}  # each k's run records its own k, arms and folds
    setting = {n: v for n, v in as_recorded(study).items() if n not in per_run}
    for k in parse_ks(ks if ks is not None else study["k"]):
        ran = {n: v for n, v in as_recorded(k_record(art, k)["parameters"]).items() if n not in per_run}
        if ran != setting:
            differ = sorted(n for n in set(ran) | set(setting) if ran.get(n) != setting.get(n))
            raise ResultsMissing(f"{paths.aug(art) / f'k{k}'}: its last run had other settings ({', '.join(differ)}); "
                                 f"run `python -m thesis_lib.studies.augstudy --profile {profile} --k {k}`")
    return current_rows(art)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="The augmentation study at one or more training sizes k.")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--k", help="training size(s), e.g. 100 or 25,50,100")
    p.add_argument("--fold", type=int, default=None, help="only this fold")
    p.add_argument("--generator-only", action="store_true", help="train the G_k of --fold and stop")
    p.add_argument("--intervals", action="store_true",
                   help="write aug/intervals.csv from the results of every k (after the k have run)")
    p.add_argument("--workers", type=int, default=None, help="parallel trainings (0: one per CPU core)")
    p.add_argument("--no-reuse", action="store_true", help="recompute rows that exist already")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    study = config.resolve("aug", args.profile)
    if args.intervals:
        write_intervals(study["artifacts"], study["n_boot"], study["seed"])
        return
    if args.k is None:
        p.error("--k is required (or --intervals)")
    folds = None if args.fold is None else [args.fold]
    if args.generator_only:
        if args.fold is None:
            p.error("--generator-only needs --fold")
        store = open_store(study["artifacts"])
        sources = generator_sources(args.profile, study, store)
        for k in parse_ks(args.k):
            check_study(store, folds, [k], study, check_approaches(study["approaches"]))
            for source in sources:
                for g in seed_list(study, "gan_seeds"):
                    _train_generator(args.profile, study, subset_of(store, args.fold, k, study), g, sources, source)
        return
    run_study(args.profile, args.k, folds=folds, workers=args.workers, reuse=not args.no_reuse,
              progress=not args.no_progress)


if __name__ == "__main__":
    main()
