"""Scores of a mass-versus-normal classifier on a test set.

AUC and average precision (AP) do not depend on a threshold; F1 at 0.5 is the thesis' metric
(masses are the positive class), and F1 at the threshold that maximises it on the validation
set removes the part of F1 that moves with the class ratio alone. How sure a difference is
comes from :mod:`thesis_lib.evaluation.bootstrap`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (average_precision_score, precision_recall_curve, precision_recall_fscore_support,
                             roc_auc_score)


def classification_scores(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """F1, precision and recall at ``threshold``, AUC and average precision (AP), for 0/1 labels
    ``y`` (1 = mass) and P(mass) ``proba`` in [0, 1]; AUC and AP are NaN when ``y`` holds one
    class only."""
    y, proba = np.asarray(y, int), np.asarray(proba, float)
    if y.shape != proba.shape or y.ndim != 1:
        raise ValueError(f"need one probability per label, got {proba.shape} and {y.shape}")
    p, r, f1, _ = precision_recall_fscore_support(y, proba >= threshold, average="binary", zero_division=0.0)
    both = len(np.unique(y)) == 2
    auc = roc_auc_score(y, proba) if both else float("nan")
    ap = average_precision_score(y, proba) if both else float("nan")
    return {"f1": float(f1), "precision": float(p), "recall": float(r), "auc": float(auc), "ap": float(ap)}


def best_f1_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    """The threshold on P(mass) that maximises F1 on (validation) labels ``y``: the midpoint
    between the score that gives the best F1 and the next lower one; 0.5 when ``y`` has no mass."""
    y, proba = np.asarray(y, int), np.asarray(proba, float)
    if y.sum() == 0:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, proba)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=precision + recall > 0)[:-1]
    best = int(np.argmax(f1))
    lower = proba[proba < thresholds[best]]
    return float((thresholds[best] + lower.max()) / 2) if lower.size else float(thresholds[best])


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """The standard error of an ROC AUC estimated from ``n_pos`` positives and ``n_neg``
    negatives, by Hanley and McNeil's formula (1982; exact for exponential score
    distributions): how far an AUC measured on so few cases may lie from the true one."""
    if n_pos < 1 or n_neg < 1 or not 0.0 <= auc <= 1.0:
        raise ValueError(f"auc={auc}, n_pos={n_pos}, n_neg={n_neg}: need 0 <= auc <= 1 and one case of each class")
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc ** 2) + (n_neg - 1) * (q2 - auc ** 2)) / (n_pos * n_neg)
    return float(np.sqrt(max(variance, 0.0)))


def over_folds(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``metric``'s mean and standard deviation over folds (0 for a single fold), one row per
    (k, approach) of a results table with columns k, approach, fold and ``metric``."""
    g = results.groupby(["k", "approach"])[metric]
    return pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0)})


def best_arm(results: pd.DataFrame, metric: str, arms: list[str]) -> pd.DataFrame:
    """Per k (rows), the arm among ``arms`` (those present) with the highest mean ``metric`` over
    folds and seeds; the one place that says which approach "was best". Columns: ``arm`` (NaN
    where every arm has the same mean, a degenerate cell such as F1 0 throughout), ``carried``
    and ``n`` (how many of its ``n`` classifiers score above the runner-up's mean: a lead carried
    by fewer than half is one or two lucky runs, not the arm), ``supported`` (carried by at least
    half), ``lead`` (its mean minus the runner-up's) and ``label`` (the prose: "Aug GAN", "Aug GAN (1 of 4 classifiers above the next arm's
    mean)" or "none (every arm 0.000)")."""
    means = over_folds(results, metric)["mean"].unstack("approach")
    means = means[[a for a in arms if a in means.columns]]
    rows = {}
    for k, row in means.iterrows():
        if row.nunique() == 1:
            rows[k] = {"arm": None, "carried": 0, "n": 0, "supported": False, "lead": 0.0,
                       "label": f"none (every arm {row.iloc[0]:.3f})"}
            continue
        arm = row.idxmax()
        runner_up = row.drop(arm).max()
        scores = results.loc[(results.k == k) & (results.approach == arm), metric]
        carried, n = int((scores > runner_up).sum()), len(scores)
        supported = 2 * carried >= n
        rows[k] = {"arm": arm, "carried": carried, "n": n, "supported": supported, "lead": float(row[arm] - runner_up),
                   "label": arm if supported else f"{arm} ({carried} of {n} classifiers above the next arm's mean)"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("k")


def mean_and_sd(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``metric`` per k (rows) and approach (columns) as "mean ± sd" over folds."""
    stats = over_folds(results, metric)
    cell = stats["mean"].map("{:.3f}".format) + " ± " + stats["sd"].map("{:.3f}".format)
    return cell.unstack("approach")
