"""The augmentation study: do generated masses help an imbalanced mass-versus-normal classifier?

For every training size k and fold (patient-level; the fold's validation and test patients
are the same for every k) one function, :func:`~thesis_lib.data.subsets.draw_subset`, draws k
real masses from the fold's training pool (nested: the 100 lie inside the 250) and
``normal_per_real`` x k normal patches; that one subset is handed to the generator G_k (trained
on its k masses only) and to every classifier arm, and its hash is stored with both. The thesis'
classifier is then trained five ways:

============  =====================================================  ==============
approach      training set                                           flips
============  =====================================================  ==============
ORG           k real + 10 k normal                                   no
Aug ORG       k real + 10 k normal                                   h/v, on the fly
ORG x2.5      the k real masses each shown 2.5 times + 10 k normal   no
Aug ORG x2.5  the k real masses each shown 2.5 times + 10 k normal   h/v, on the fly
GAN           k real + 1.5 k from G_k + 10 k normal                  no
Aug GAN       k real + 1.5 k from G_k + 10 k normal                  h/v, on the fly
============  =====================================================  ==============

``Aug ORG x2.5`` is the fair control of ``Aug GAN`` and ``ORG x2.5`` of ``GAN`` (neither in the
thesis): the same number of positives and the same flips, so each pair differs only by where
the extra positives come from; the other pairs also differ in their class ratio, which moves
AUC, AP and F1 at a fixed threshold by itself.

Every classifier takes the same number of optimiser steps per epoch, that of one pass over the
ORG arm's k + 10 k patches, whatever its arm's size: an arm with more positives sees each patch
less often per epoch instead of taking more steps.

Every cell (k, approach, fold) is trained with each of ``classifier_seeds``; a GAN arm with
every pair of classifier seed and G_k seed (``gan_seeds``, a G_k per seed, fold and k), so that
the intervals resample generator seeds as a level of their own. The G_k come from ``generators``
(:mod:`thesis_lib.models.generators`: recipes trained here, e.g. ``small-data`` and ``thesis``, or a
ready checkpoint such as the thesis' own generator): the first gives the arms ``GAN`` and
``Aug GAN``, each further one the arms ``GAN [name]`` and ``Aug GAN [name]``, compared with the
same controls and with the first generator's arm. Each training gives one row of
``artifacts/<profile>/aug/results.csv`` (AUC, average precision, F1/precision/recall at 0.5 and
F1 at the threshold chosen on validation, counts, seeds, subset hash, config hash, commit,
duration) and its test-set probabilities in ``aug/k<k>/predictions.csv.gz``. Intervals
(:mod:`thesis_lib.evaluation.bootstrap`: seeds, then test patients, paired across arms; Holm across k) are
written to ``aug/intervals.csv`` by :func:`write_intervals`.

Command line (what each Snakemake job runs)::

    python -m thesis_lib.studies.augstudy --profile smoke --k 100                  # one k, all folds
    python -m thesis_lib.studies.augstudy --profile smoke --k 100 --fold 0 --generator-only
    python -m thesis_lib.studies.augstudy --profile smoke --intervals              # aug/intervals.csv
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

from thesis_lib import config, paths
from thesis_lib.data.capacity import check_folds
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import TrainingSubset, draw_subset
from thesis_lib.devices import announce, pick_device
from thesis_lib.evaluation import power
from thesis_lib.evaluation.bootstrap import FoldScores, hierarchical_bootstrap, holm
from thesis_lib.evaluation.scoring import best_f1_threshold, classification_scores
from thesis_lib.io import atomic_path
from thesis_lib.models.generate import generate, ready
from thesis_lib.models.generators import GeneratorSource, identity, parse_sources
from thesis_lib.provenance import Run, cpu_cores, git_commit, short_commit
from thesis_lib.results import ResultsMissing, as_recorded, recorded, render_only
from thesis_lib.sections import EXECUTION, AugSection
from thesis_lib.training.classifier import ClassifierConfig, predict_proba, train_classifier
from thesis_lib.training.gan import train_run
from thesis_lib.training.gan_config import GanConfig
from thesis_lib.training.resume import is_finished
from thesis_lib.training.runs import read_run, run_dir


@dataclass(frozen=True)
class Arm:
    """How an approach builds its training set from a subset."""

    gan: bool  # adds synthetic_per_real x k masses of G_k
    flips: bool  # random h/v flips on the fly
    oversample: bool = False  # real masses shown (1 + synthetic_per_real) times: Aug GAN's positive count


APPROACHES = {"ORG": Arm(False, False), "Aug ORG": Arm(False, True), "ORG x2.5": Arm(False, False, True),
              "Aug ORG x2.5": Arm(False, True, True), "GAN": Arm(True, False), "Aug GAN": Arm(True, True)}
OVERSAMPLED_RATIO = 1.5  # the x2.5 arms match the GAN arms only at synthetic_per_real = 1.5
RUN_OPTIONS = ("approaches", "folds", "workers", "reuse", "progress")  # how run_study runs, not what it computes
# (A, B): "A beats B" is the statement each interval tests; the fair controls first
COMPARISONS = (("Aug GAN", "Aug ORG x2.5"), ("GAN", "ORG x2.5"), ("Aug GAN", "Aug ORG"), ("GAN", "ORG"),
               ("Aug ORG", "ORG"))
SAME_RATIO = {("Aug GAN", "Aug ORG x2.5"), ("GAN", "ORG x2.5"), ("Aug ORG", "ORG")}  # arms of one class ratio
INTERVAL_METRICS = ("auc", "ap", "f1", "f1_val")  # threshold-free first, then F1 at 0.5, then at the validation threshold
ARM_METRICS = ("auc", "f1")  # per-arm intervals for the figures
ALPHA = 0.05  # family-wise, two-sided: each direction is tested at ALPHA / 2 after Holm's correction across k
RESULT_COLUMNS = ["k", "approach", "fold", "replicate", "gan_seed", "generator", "auc", "ap", "f1", "precision", "recall",
                  "threshold", "f1_val", "n_real", "n_positive", "n_synthetic", "n_normal", "n_val", "n_val_mass",
                  "n_test_mass",
                  "n_test_normal", "n_test_patients", "best_epoch", "epochs_run", "steps_per_epoch", "best_val_f1",
                  "best_val_auc", "seed", "subset_hash",
                  "config_hash", "commit", "duration_s"]
# The aug section's settings besides the classifier's (ClassifierConfig), and what config.resolve adds
STUDY_KEYS = {f.name for f in fields(AugSection)} | {"seed", "profile", "artifacts"}
VARIANCE_COLUMNS = ["var_patient", "var_gan_seed", "var_classifier_seed", "n_folds", "n_patients", "n_gan_seeds",
                    "n_classifier_seeds"]  # hierarchical_bootstrap's variance components and replication
INTERVAL_COLUMNS = ["k", "comparison", "metric", "estimate", "low", "high", "low90", "high90", "p_above", "p_below",
                    "p_holm_better", "p_holm_worse", "verdict", "n_seeds", "n_boot", *VARIANCE_COLUMNS, "df",
                    "bootstrap_low", "bootstrap_high"]


@dataclass(frozen=True)
class TrainingSet:
    """One approach's training patches: ``x`` (N, 128, 128) uint8, ``y`` (N,) 0/1 (1 = mass),
    ``synthetic`` (N,) bool; ``n_real`` distinct real masses among them."""

    x: np.ndarray
    y: np.ndarray
    synthetic: np.ndarray
    n_real: int
    flips: bool

    def counts(self) -> dict[str, int]:
        return {"n_real": self.n_real, "n_positive": int(self.y.sum()), "n_synthetic": int(self.synthetic.sum()),
                "n_normal": int((self.y == 0).sum())}


def parse_ks(k) -> list[int]:
    """Training sizes from an int, a list, or a string such as ``"25, 50"`` or ``"[25, 50]"``."""
    if isinstance(k, str):
        k = [int(v) for v in k.strip("[] ").replace(",", " ").split()]
    ks = [int(v) for v in (k if isinstance(k, (list, tuple)) else [k])]
    if not ks or any(v <= 0 for v in ks):
        raise ValueError(f"k={k!r}: need one or more training sizes > 0")
    return sorted(set(ks))


def arm_label(approach: str, source_index: int, source: str) -> str:
    """An arm's name in the tables: the approach, with ``[generator]`` added for GAN arms of
    any generator but the first."""
    return approach if source_index == 0 or not APPROACHES[approach].gan else f"{approach} [{source}]"


def base_approach(label: str) -> str:
    """The approach of an arm's name: ``"Aug GAN [thesis]"`` -> ``"Aug GAN"``."""
    return label.split(" [", 1)[0]


def comparisons(labels) -> list[tuple[str, str]]:
    """The paired comparisons among the arms ``labels``: :data:`COMPARISONS`, the same for the
    GAN arms of every further generator, and each of those against the first generator's arm."""
    labels = set(labels)
    out = [(a, b) for a, b in COMPARISONS if {a, b} <= labels]
    for label in sorted(x for x in labels if x != base_approach(x)):
        base = base_approach(label)
        out += [(label, b) for a, b in COMPARISONS if a == base and b in labels]
        if base in labels:
            out.append((label, base))
    return out


def check_approaches(approaches) -> list[str]:
    """The approach names in the table's order; an unknown name is an error."""
    names = [approaches] if isinstance(approaches, str) else list(approaches)
    unknown = [a for a in names if a not in APPROACHES]
    if unknown or not names:
        raise ValueError(f"approaches={names!r}: unknown {unknown}; expected some of {list(APPROACHES)}")
    return [a for a in APPROACHES if a in names]


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


def n_normal(study: dict, k: int) -> int:
    return round(study["normal_per_real"] * k)


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


def subset_of(store: PatchStore, fold: int, k: int, study: dict) -> TrainingSubset:
    """The one training subset of (``fold``, ``k``) for this study's seed."""
    return draw_subset(store, fold, k, study["seed"], n_normal(study, k))


def training_set(store: PatchStore, subset: TrainingSubset, approach: str, study: dict,
                 generator: str | Path | None = None, gan_seed: int = 0) -> TrainingSet:
    """The training patches of ``approach`` built from ``subset``; GAN approaches draw
    ``synthetic_per_real`` x k masses from ``generator`` (G_k's ``best.pt``) with a seed fixed per
    (fold, k, gan seed), so GAN and Aug GAN see the same synthetic masses."""
    arm = APPROACHES[check_approaches([approach])[0]]
    k, seed = subset.k, study["seed"]
    real = store.read(subset.masses.index.to_numpy())
    normal = store.read(subset.normals.index.to_numpy())
    n_extra = round(study["synthetic_per_real"] * k)
    parts = [(real, 1, False)]
    if arm.oversample:  # each real mass once more per round, then a random share of them
        rng = np.random.default_rng([seed, subset.fold, k, 25])
        extra = np.r_[np.tile(np.arange(k), n_extra // k), rng.choice(k, n_extra % k, replace=False)]
        parts.append((real[extra], 1, False))
    if arm.gan:
        if generator is None:
            raise ValueError(f"approach {approach!r} needs G_k's checkpoint (generator=...)")
        parts.append((generate(generator, n_extra, _seed(seed, subset.fold, k, gan_seed)), 1, True))
    parts.append((normal, 0, False))
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([np.full(len(p[0]), p[1], np.int64) for p in parts])
    synthetic = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    return TrainingSet(x, y, synthetic, len(real), arm.flips)


def evaluation_set(store: PatchStore, fold: int, partition: str) -> tuple[np.ndarray, np.ndarray]:
    """All patches of ``fold``'s ``partition`` ("val" or "test"): x (N, 128, 128) uint8 and
    y (N,) with 1 for masses; the same for every k."""
    rows = store.rows(fold, partition)
    return store.read(rows.index.to_numpy()), (rows.label == "mass").to_numpy(np.int64)


def config_hash(store: PatchStore, study: dict, gans: dict[str, dict]) -> str:
    """12 hex digits naming everything that defines a result but k: data, classifier, and the
    G_k (``gans``: per generator, its training parameters or its checkpoint's identity)."""
    free = EXECUTION | {"k", "n_boot", "approaches", "folds", "generators"}  # each k, interval or arm apart
    key = {"store": store.summary, "study": {a: v for a, v in study.items() if a not in free},
           "gan": {name: {a: v for a, v in gan.items() if a not in EXECUTION} for name, gan in gans.items()}}
    return hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def steps_per_epoch(study: dict, k: int) -> int:
    """Optimiser steps in one classifier epoch, the same for every arm at ``k``: one pass over
    the ORG arm's k real masses and ``normal_per_real`` x k normal patches."""
    return -(-(k + n_normal(study, k)) // study["batch_size"])


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
        params["seed"] = _seed(params["seed"], gan_seed)
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
    seed = _seed(study["seed"], fold, k, replicate)  # the same for every arm: paired comparisons
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
    return paths.aug(artifacts) / "results.csv"


def predictions_path(artifacts: str | Path, k: int) -> Path:
    return paths.aug(artifacts) / f"k{k}" / "predictions.csv.gz"


def intervals_path(artifacts: str | Path) -> Path:
    return paths.aug(artifacts) / "intervals.csv"


def arm_order(label: str) -> tuple[int, str]:
    """Sort key of an arm: its approach's place in :data:`APPROACHES`, the first generator first."""
    return list(APPROACHES).index(base_approach(label)), "" if label == base_approach(label) else label


def _sorted(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return table.sort_values(keys, key=lambda s: s.map(arm_order) if s.name == "approach" else s,
                             ignore_index=True)


def read_results(artifacts: str | Path) -> pd.DataFrame:
    """The study's table (empty when nothing ran yet), sorted by k, approach, fold, replicate;
    hashes and commits read as text (a hash of decimal digits would otherwise read as a number)."""
    path = results_path(artifacts)
    text = {"generator": str, "config_hash": str, "subset_hash": str, "commit": str}
    table = pd.read_csv(path, dtype=text).fillna({"generator": ""}) if path.is_file() else \
        pd.DataFrame(columns=RESULT_COLUMNS)
    return _sorted(table, ["k", "approach", "fold", "replicate"])


def _replace(old: pd.DataFrame, new: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``old`` without the rows whose ``key`` occurs in ``new``, then ``new``."""
    kept = old[~old.set_index(key).index.isin(new.set_index(key).index)] if len(old) else old
    return pd.concat([kept, new], ignore_index=True) if len(kept) else new.reset_index(drop=True)


def merge_results(artifacts: str | Path, k: int, rows: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Write ``rows`` into the table and ``predictions`` (with their ``config_hash``) into k's
    predictions, each replacing every replicate of the (k, approach, fold) cells they hold *of
    the same config*: rows of another config are kept beside them, never replaced."""
    path, pred_path = results_path(artifacts), predictions_path(artifacts, k)
    with _locked(path.with_name(".results.lock")):
        table = _replace(read_results(artifacts), rows[RESULT_COLUMNS], ["k", "approach", "fold", "config_hash"])
        old_pred = read_predictions(artifacts, k) if pred_path.is_file() else predictions.iloc[:0]
        pred = _replace(old_pred, predictions, ["approach", "fold", "config_hash"])
        with atomic_path(pred_path) as tmp:
            pred.to_csv(tmp, index=False, compression="gzip")
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    return read_results(artifacts)


def read_predictions(artifacts: str | Path, k: int, config_hash: str | None = None) -> pd.DataFrame:
    """Test-set P(mass) of every approach, fold and replicate at ``k``: fold, approach,
    replicate, patch, patient_id, label, proba, config_hash; only ``config_hash``'s when given."""
    pred = pd.read_csv(predictions_path(artifacts, k), dtype={"patient_id": str, "config_hash": str})
    if "config_hash" not in pred:  # written before predictions were keyed by config: of an unknown one
        pred["config_hash"] = ""
    if "gan_seed" not in pred:  # written before GAN arms were crossed with G_k seeds: replicate i used seed i
        pred["gan_seed"] = np.nan
    return pred if config_hash is None else pred[pred.config_hash == config_hash]


def k_record(artifacts: str | Path, k: int) -> dict:
    """The record of the last run of ``k`` (``aug/k<k>/provenance.json``: its parameters,
    ``config_hash``, commit, start and whether its rows were ``reused``), or
    :class:`~thesis_lib.results.ResultsMissing` naming the step."""
    return recorded(paths.aug(artifacts) / f"k{k}" / "provenance.json", None,
                    f"python -m thesis_lib.studies.augstudy --k {k}")


def current_rows(artifacts: str | Path, ks=None) -> pd.DataFrame:
    """The rows of each k (``ks``, default every k of the table) computed with the config of
    that k's last run (:func:`k_record`): the table can hold rows of other configs beside them."""
    table = read_results(artifacts)
    kept = [table[(table.k == k) & (table.config_hash == k_record(artifacts, k)["config_hash"])]
            for k in sorted(set(table.k.astype(int)) if ks is None else ks)]
    return pd.concat(kept, ignore_index=True) if kept else table.iloc[:0]


def reuse_table(artifacts: str | Path, table: pd.DataFrame) -> pd.DataFrame:
    """Where each k's rows come from: config hash, rows, the commit(s) they were computed at, the
    last run's start and whether it reused them (one row per k of ``table``)."""
    out = []
    for k, rows in table.groupby("k"):
        record = k_record(artifacts, int(k))
        out.append({"k": int(k), "config": str(record["config_hash"])[:12], "rows": len(rows),
                    "computed at commit": ", ".join(sorted({short_commit(c) for c in rows.commit})),
                    "last run": record["started_utc"], "rows reused": bool(record.get("reused", False))})
    return pd.DataFrame(out).set_index("k")


def fold_scores(pred: pd.DataFrame, table: pd.DataFrame, arms: tuple[str, ...], metric: str,
                gan_seeds: list[int] | None = None) -> list[FoldScores]:
    """Per fold, the test predictions of ``arms`` (one or two) on a grid of G_k seed x classifier
    seed (replicate): classifier seeds aligned by replicate, an arm without a generator repeated
    for every G_k seed of the other; each model with its F1 threshold (0.5, or its validation
    threshold for ``f1_val``). ``gan_seeds``: only these G_k seeds (default all)."""
    pred = pred.assign(gan_seed=pred.gan_seed.fillna(-1).astype(int))
    table = table.assign(gan_seed=table.gan_seed.fillna(-1).astype(int))
    out = []
    for fold, g in pred.groupby("fold"):
        if not all((g.approach == a).any() for a in arms):
            continue
        reps = sorted(set.intersection(*(set(g[g.approach == a].replicate) for a in arms)))
        seeds = sorted(set(g[g.approach.isin(arms) & (g.gan_seed >= 0)].gan_seed)) or [-1]
        seeds = [s for s in seeds if gan_seeds is None or s < 0 or s in gan_seeds]
        grid = [(s, r) for s in seeds for r in reps]

        def own(arm: str, seed: int) -> int:  # the G_k seed of ``arm``'s model in a grid column
            return seed if (g[g.approach == arm].gan_seed >= 0).any() else -1

        by_model = g.set_index(["approach", "gan_seed", "replicate", "patch"]).proba.sort_index()
        first = g[(g.approach == arms[0]) & (g.replicate == reps[0]) & (g.gan_seed == own(arms[0], seeds[0]))]
        first = first.set_index("patch")
        proba = np.stack([np.stack([by_model.loc[(a, own(a, s), r)].loc[first.index].to_numpy() for s, r in grid])
                          for a in arms])
        rows = table[table.fold == fold].set_index(["approach", "gan_seed", "replicate"])
        thresholds = np.array([[rows.threshold.loc[(a, own(a, s), r)] if metric == "f1_val" else 0.5 for s, r in grid]
                               for a in arms], dtype=float)
        out.append(FoldScores(first.label.to_numpy(), first.patient_id.to_numpy(), proba, thresholds,
                              gan_seed=np.array([s for s, _ in grid]), classifier_seed=np.array([r for _, r in grid])))
    return out


def intervals(artifacts: str | Path, table: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Hierarchical-bootstrap intervals at every k of ``table``: each arm's AUC and F1 (for the
    figures) and, for each of :data:`COMPARISONS` and :data:`INTERVAL_METRICS`, the paired
    difference with its one-sided p-values, Holm-corrected across k, and a verdict. Intervals and
    p-values are read with Student's t of their own degrees of freedom
    (:func:`thesis_lib.evaluation.power.for_few_seeds`), as the primary endpoint's are."""
    rows = []
    for k in sorted(table.k.unique()):
        at_k = table[table.k == k]
        pred = read_predictions(artifacts, k, at_k.config_hash.iloc[0])
        present = sorted(set(at_k.approach), key=arm_order)
        jobs = [((a,), m) for a in present for m in ARM_METRICS]
        jobs += [(pair, m) for pair in comparisons(present) for m in INTERVAL_METRICS]
        for arms, metric in jobs:
            folds = fold_scores(pred, at_k, arms, metric)
            boot = hierarchical_bootstrap(folds, metric, n_boot, seed)
            rows.append({"k": k, "comparison": " - ".join(arms), "metric": metric,
                         **power.for_few_seeds(boot, (-1.0, 1.0) if len(arms) == 2 else (0.0, 1.0)),
                         "n_seeds": min(f.proba.shape[1] for f in folds)})
    out = pd.DataFrame(rows, columns=[c for c in INTERVAL_COLUMNS if c not in ("p_holm_better", "p_holm_worse",
                                                                                "verdict")])
    out["p_holm_better"], out["p_holm_worse"] = np.nan, np.nan
    paired = out.comparison.str.contains(" - ")
    for _, g in out[paired].groupby(["comparison", "metric"]):
        out.loc[g.index, "p_holm_better"] = holm(g.p_above)
        out.loc[g.index, "p_holm_worse"] = holm(g.p_below)
    out["verdict"] = [difference_verdict(r.p_holm_better, r.p_holm_worse) if is_pair else None
                      for is_pair, r in zip(paired, out.itertuples())]
    return out[INTERVAL_COLUMNS]


def difference_verdict(p_better: float, p_worse: float, alpha: float = ALPHA) -> str:
    """How a Holm-corrected difference reads: "better", "worse" or "not distinguishable from 0"
    (each direction tested at ``alpha`` / 2)."""
    return "better" if p_better < alpha / 2 else "worse" if p_worse < alpha / 2 else "not distinguishable from 0"


def write_intervals(artifacts: str | Path, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`intervals` of every k's current rows (:func:`current_rows`), written to ``aug/intervals.csv``."""
    table = current_rows(artifacts)
    if not len(table):
        raise FileNotFoundError(f"{results_path(artifacts)}: no results yet; run the study first "
                                "(python -m thesis_lib.studies.augstudy --k ...)")
    out = intervals(artifacts, table, n_boot, seed)
    with atomic_path(intervals_path(artifacts)) as tmp:
        out.to_csv(tmp, index=False)
    return out


def current_intervals(artifacts: str | Path, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """``aug/intervals.csv`` when it is newer than the results table (at render time, when it is
    there at all), else :func:`write_intervals`."""
    path = intervals_path(artifacts)
    if render_only() or (path.is_file() and path.stat().st_mtime_ns >= results_path(artifacts).stat().st_mtime_ns):
        return read_intervals(artifacts)
    return write_intervals(artifacts, n_boot, seed)


def read_intervals(artifacts: str | Path) -> pd.DataFrame:
    """``aug/intervals.csv``, or an error naming the step that writes it."""
    path = intervals_path(artifacts)
    if not path.is_file():
        raise ResultsMissing(f"{path}: no intervals yet; run `python -m thesis_lib.studies.augstudy --intervals`")
    return pd.read_csv(path)


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
