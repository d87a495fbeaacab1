"""Scores of a mass-versus-normal classifier on a test set, and how sure a difference is.

F1 at threshold 0.5 is the thesis' metric (masses are the positive class); precision, recall
and the ROC AUC come with it. Two approaches tested on the same patches are compared by a
paired bootstrap: resample the test patches of every fold with replacement, score both
approaches on the same resample, and average the F1 difference over folds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score


def classification_scores(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """F1, precision and recall at ``threshold``, and AUC, for 0/1 labels ``y`` (1 = mass) and
    P(mass) ``proba`` in [0, 1]; AUC is NaN when ``y`` holds one class only."""
    y, proba = np.asarray(y, int), np.asarray(proba, float)
    if y.shape != proba.shape or y.ndim != 1:
        raise ValueError(f"need one probability per label, got {proba.shape} and {y.shape}")
    p, r, f1, _ = precision_recall_fscore_support(y, proba >= threshold, average="binary", zero_division=0.0)
    auc = roc_auc_score(y, proba) if len(np.unique(y)) == 2 else float("nan")
    return {"f1": float(f1), "precision": float(p), "recall": float(r), "auc": float(auc)}


def _f1_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """F1 of each row of boolean predictions ``pred`` (B, N) against labels ``y`` (B, N)."""
    tp = (pred & y).sum(1)
    denom = pred.sum(1) + y.sum(1)
    return np.divide(2 * tp, denom, out=np.zeros(len(y)), where=denom > 0)


def paired_bootstrap_f1(folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_boot: int = 2000,
                        seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Mean over folds of F1(a) - F1(b), with a percentile bootstrap interval.

    ``folds`` holds one ``(y, proba_a, proba_b)`` per fold, on the same test patches. Each
    replicate resamples every fold's patches with replacement (the folds independently).
    """
    if n_boot < 100:
        raise ValueError(f"n_boot={n_boot}: use at least 100 replicates")
    if not 0 < level < 1:
        raise ValueError(f"level={level}: must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    observed, replicates = [], []
    for y, pa, pb in folds:
        y, a, b = np.asarray(y, bool), np.asarray(pa) >= 0.5, np.asarray(pb) >= 0.5
        observed.append(_f1_rows(y[None], a[None])[0] - _f1_rows(y[None], b[None])[0])
        idx = rng.integers(0, len(y), (n_boot, len(y)))
        replicates.append(_f1_rows(y[idx], a[idx]) - _f1_rows(y[idx], b[idx]))
    diffs = np.mean(replicates, axis=0)
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return {"difference": float(np.mean(observed)), "low": float(lo), "high": float(hi),
            "p_not_better": float(np.mean(diffs <= 0)), "n_boot": n_boot}


def over_folds(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``metric``'s mean and standard deviation over folds (0 for a single fold), one row per
    (k, approach) of a results table with columns k, approach, fold and ``metric``."""
    g = results.groupby(["k", "approach"])[metric]
    return pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0)})


def mean_and_sd(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``metric`` per k (rows) and approach (columns) as "mean ± sd" over folds."""
    stats = over_folds(results, metric)
    cell = stats["mean"].map("{:.3f}".format) + " ± " + stats["sd"].map("{:.3f}".format)
    return cell.unstack("approach")
