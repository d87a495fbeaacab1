"""The augmentation study's results: the table of every classifier, its test predictions, and
the intervals read from them.

Each training gives one row of ``artifacts/<profile>/aug/results.csv`` (AUC, average precision,
F1/precision/recall at 0.5 and F1 at the threshold chosen on validation, counts, seeds, subset
hash, config hash, commit, duration) and its test-set probabilities in
``aug/k<k>/predictions.csv.gz``; jobs of several k write the table under a lock, each replacing
only its own config's rows. Intervals (:mod:`thesis_lib.evaluation.bootstrap`: seeds, then test
patients, paired across arms; Holm across k) are written to ``aug/intervals.csv`` by
:func:`write_intervals`.
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from thesis_lib import paths
from thesis_lib.evaluation import power
from thesis_lib.evaluation.bootstrap import FoldScores, hierarchical_bootstrap, holm
from thesis_lib.io import atomic_path
from thesis_lib.provenance import short_commit
from thesis_lib.results import ResultsMissing, recorded, render_only
from thesis_lib.studies.arms import arm_order, comparisons


INTERVAL_METRICS = ("auc", "ap", "f1", "f1_val")  # threshold-free first, then F1 at 0.5, then at the validation threshold


ARM_METRICS = ("auc", "f1")  # per-arm intervals for the figures


ALPHA = 0.05  # family-wise, two-sided: each direction is tested at ALPHA / 2 after Holm's correction across k


RESULT_COLUMNS = ["k", "approach", "fold", "replicate", "gan_seed", "generator", "auc", "ap", "f1", "precision", "recall",
                  "threshold", "f1_val", "n_real", "n_positive", "n_synthetic", "n_normal", "n_val", "n_val_mass",
                  "n_test_mass",
                  "n_test_normal", "n_test_patients", "best_epoch", "epochs_run", "steps_per_epoch", "best_val_f1",
                  "best_val_auc", "seed", "subset_hash",
                  "config_hash", "commit", "duration_s"]


VARIANCE_COLUMNS = ["var_patient", "var_gan_seed", "var_classifier_seed", "n_folds", "n_patients", "n_gan_seeds",
                    "n_classifier_seeds"]  # hierarchical_bootstrap's variance components and replication


INTERVAL_COLUMNS = ["k", "comparison", "metric", "estimate", "low", "high", "low90", "high90", "p_above", "p_below",
                    "p_holm_better", "p_holm_worse", "verdict", "n_seeds", "n_boot", *VARIANCE_COLUMNS, "df",
                    "bootstrap_low", "bootstrap_high"]


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
    figures) and, for each of :data:`~thesis_lib.studies.arms.COMPARISONS` and :data:`INTERVAL_METRICS`, the paired
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
