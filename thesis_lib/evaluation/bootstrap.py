"""Intervals for classifier scores that respect how the data were drawn.

Test patches are not independent: the CC and MLO patches of one mass, and the many normal
patches of one breast, share a patient. Training is random too: another seed gives another
classifier. So an interval is built by a **hierarchical bootstrap**: each replicate draws the
training seeds of a fold with replacement, then the fold's test *patients* with replacement
(a cluster bootstrap: a patient drawn twice counts all its patches twice), and scores every
drawn seed on the drawn patients. Two arms are compared **paired**: the same seeds and the same
patients for both. The statistic is averaged over seeds, then over folds (each fold's test
patients are its own).

Seeds come at two levels: the classifier's training seed and, for an arm that adds generated
masses, the generator's (another G_k trained on the same k masses). Each model of a fold is
labelled with both (``FoldScores.gan_seed`` and ``classifier_seed``; an arm without a generator
repeats its scores for every generator seed), the two form a full grid, and a replicate draws
the generator seeds and the classifier seeds with replacement, each level's deviation added to
the patients' replicate (an additive model without the seeds' interaction).

With the 2 or 3 seeds a study affords, a plain resample of seeds understates their spread by a
factor (S - 1) / S, so the drawn seeds' deviations are widened to the unbiased size. Seeds and
patients are crossed factors; resampling both counts their interaction twice, so intervals lean
to the wide side when classifiers differ mostly patient by patient. Simulations in
``tests/test_bootstrap.py`` check the coverage of a null difference.

The same replicates give the estimate's **variance components**: how much of its variance comes
from the test patients, the generator seeds and the classifier seeds, each scaled to one unit
(one patient, one seed) so that :mod:`thesis_lib.evaluation.power` can project the standard
error to another replication.

Scores are computed with patient weights for all bootstrap replicates at once (AUC by ranks,
average precision by thresholds at unique scores, F1 at a fixed threshold), with no Python loop
over replicates. Across several training sizes k, the p-values of one
statement ("arm A beats arm B") are corrected by Holm's step-down method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("auc", "ap", "f1", "f1_val")  # f1: at 0.5; f1_val: at the threshold chosen on validation


@dataclass(frozen=True)
class FoldScores:
    """One fold's test set under one or two arms: ``y`` (N,) 0/1 labels, ``patient`` (N,) patient
    codes, ``proba`` (arms, seeds, N) P(mass), ``threshold`` (arms, seeds) for F1, and each seed
    column's ``gan_seed`` and ``classifier_seed`` (seeds,) labels (default: one generator seed,
    every column its own classifier seed); the labels must form a full grid."""

    y: np.ndarray
    patient: np.ndarray
    proba: np.ndarray
    threshold: np.ndarray
    gan_seed: np.ndarray | None = None
    classifier_seed: np.ndarray | None = None

    def __post_init__(self):
        if self.proba.ndim != 3 or self.proba.shape[2] != len(self.y) or len(self.patient) != len(self.y):
            raise ValueError(f"need proba (arms, seeds, {len(self.y)}) and one patient per label, "
                             f"got {self.proba.shape} and {len(self.patient)} patients")
        if self.threshold.shape != self.proba.shape[:2]:
            raise ValueError(f"threshold {self.threshold.shape}: need one per arm and seed {self.proba.shape[:2]}")
        n_seeds = self.proba.shape[1]
        gan = np.zeros(n_seeds, int) if self.gan_seed is None else np.asarray(self.gan_seed)
        clf = np.arange(n_seeds) if self.classifier_seed is None else np.asarray(self.classifier_seed)
        if gan.shape != (n_seeds,) or clf.shape != (n_seeds,) or \
                len(set(zip(gan.tolist(), clf.tolist()))) != n_seeds or \
                len(np.unique(gan)) * len(np.unique(clf)) != n_seeds:
            raise ValueError(f"gan_seed {gan.tolist()} and classifier_seed {clf.tolist()}: need one label pair per seed "
                             "column, every generator seed with every classifier seed")
        if len(np.unique(self.patient[self.y == 1])) < 2:
            raise ValueError("fewer than 2 patients with a mass in the test set: the cluster bootstrap "
                             "needs at least 2 (more folds' patients, or a larger dataset)")


def weighted_scores(y: np.ndarray, proba: np.ndarray, weights: np.ndarray, metric: str,
                    threshold: float = 0.5) -> np.ndarray:
    """``metric`` (see :data:`METRICS`; "f1_val" is "f1" at ``threshold``) of one set of
    predictions under each row of ``weights`` (B, N) (patch multiplicities); returns (B,).
    A row without both classes scores NaN for AUC and AP."""
    y = np.asarray(y, bool)
    w = np.asarray(weights, float)
    if metric in ("f1", "f1_val"):
        pred = np.asarray(proba) >= threshold
        tp = w[:, pred & y].sum(1)
        denom = w[:, pred].sum(1) + w[:, y].sum(1)
        return np.divide(2 * tp, denom, out=np.zeros(len(w)), where=denom > 0)
    order = np.argsort(-np.asarray(proba), kind="stable")  # descending scores
    s, ys, ws = np.asarray(proba)[order], y[order], w[:, order]
    last = np.r_[s[1:] != s[:-1], True]  # the last patch of each group of equal scores
    pos = np.cumsum(ws * ys, axis=1)[:, last]  # weighted positives with score >= each unique score
    neg = np.cumsum(ws * ~ys, axis=1)[:, last]
    n_pos, n_neg = pos[:, -1], neg[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "auc":  # trapezoid under the ROC curve through every unique threshold
            tpr = np.c_[np.zeros(len(w)), pos] / n_pos[:, None]
            fpr = np.c_[np.zeros(len(w)), neg] / n_neg[:, None]
            out = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
        elif metric == "ap":  # sum over thresholds of precision x recall increment (as scikit-learn)
            precision = pos / (pos + neg)
            recall = np.c_[np.zeros(len(w)), pos] / n_pos[:, None]
            out = np.sum(np.diff(recall, axis=1) * np.nan_to_num(precision), axis=1)
        else:
            raise ValueError(f"metric={metric!r}: expected one of {METRICS}")
    return np.where((n_pos > 0) & (n_neg > 0), out, np.nan)


def _patient_weights(codes: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(B, N) multiplicities of each patch when the patients are drawn with replacement."""
    patients, inverse = np.unique(codes, return_inverse=True)
    n = len(patients)
    draws = rng.integers(0, n, (n_boot, n)) + n * np.arange(n_boot)[:, None]  # row b counts into [b n, (b + 1) n)
    counts = np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n)
    return counts[:, inverse].astype(float)


def _fold_scores(fold: FoldScores, metric: str, weights: np.ndarray) -> np.ndarray:
    """(arms, seeds, B) scores of every arm and seed under the patient weights."""
    return np.stack([np.stack([weighted_scores(fold.y, fold.proba[a, s], weights, metric, fold.threshold[a, s])
                               for s in range(fold.proba.shape[1])]) for a in range(fold.proba.shape[0])])


def seed_grid(fold: FoldScores, values: np.ndarray) -> np.ndarray:
    """``values`` (seeds, ...) of one arm rearranged as (generator seeds, classifier seeds, ...)."""
    n_seeds = fold.proba.shape[1]
    gan = np.zeros(n_seeds, int) if fold.gan_seed is None else np.asarray(fold.gan_seed)
    clf = np.arange(n_seeds) if fold.classifier_seed is None else np.asarray(fold.classifier_seed)
    g_codes, g = np.unique(gan, return_inverse=True)
    c_codes, c = np.unique(clf, return_inverse=True)
    out = np.empty((len(g_codes), len(c_codes)) + values.shape[1:], values.dtype)
    out[g, c] = values
    return out


def level_deviation(means: np.ndarray, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B,) the deviation from ``centre`` (B,) of the mean of ``means`` (S, B) over S levels drawn
    with replacement, widened by sqrt(S / (S - 1)): a plain bootstrap of a mean of S values has
    variance (S - 1) / S of the unbiased one, half of it with the 2 or 3 seeds a study affords.
    Zero for one level."""
    n_levels, n_boot = means.shape
    if n_levels == 1:
        return np.zeros(n_boot)
    drawn = rng.integers(0, n_levels, (n_boot, n_levels))
    deviations = np.take_along_axis(means.T, drawn, axis=1).mean(axis=1) - centre
    return np.sqrt(n_levels / (n_levels - 1)) * deviations


def _resample_seeds(boot: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From ``boot`` (generator seeds, classifier seeds, B) of patient replicates: the patients'
    replicate (B,) (every seed's mean), and the deviations (B,) that drawing classifier seeds and
    generator seeds with replacement add to it (:func:`level_deviation`)."""
    centre = boot.mean(axis=(0, 1))
    by_classifier = level_deviation(boot.mean(axis=0), centre, rng)
    by_generator = level_deviation(boot.mean(axis=1), centre, rng)
    return centre, by_generator, by_classifier


def hierarchical_bootstrap(folds: list[FoldScores], metric: str, n_boot: int = 2000, seed: int = 0,
                           level: float = 0.95) -> dict[str, float]:
    """Mean over folds of the mean over seeds of ``metric`` for one arm, or of arm 0 minus arm 1
    for two (paired), with a percentile interval from the hierarchical bootstrap.

    Every metric lies in [0, 1], so a replicate is kept in [0, 1] (one arm) or [-1, 1] (a
    difference) after the seeds' widening, which can otherwise carry a score of 2 or 3 seeds
    past its bound (an F1 of 0 and 0.39 would give an interval below 0).

    Returns ``estimate``, ``low``, ``high`` (at ``level``), ``low90`` and ``high90`` (the 90 %
    interval of two one-sided 5 % tests), ``p_above`` and ``p_below``: one-sided bootstrap
    p-values for "the value is not above 0" and "not below 0", ``(1 + #replicates on the wrong
    side) / (1 + n_boot)``, meaningful for differences; and the variance components of the
    estimate, each scaled to one unit: ``var_patient`` (x mean test patients per fold x folds),
    ``var_gan_seed`` (x generator seeds x folds), ``var_classifier_seed`` (x classifier seeds x
    folds), with ``n_folds``, ``n_patients`` (mean per fold), ``n_gan_seeds`` and
    ``n_classifier_seeds`` (a component is 0 where its level has one member).
    """
    if n_boot < 100:
        raise ValueError(f"n_boot={n_boot}: use at least 100 replicates")
    if not 0 < level < 1:
        raise ValueError(f"level={level}: must lie in (0, 1)")
    if not folds:
        raise ValueError("no fold to bootstrap")
    arms = {f.proba.shape[0] for f in folds}
    if arms not in ({1}, {2}):
        raise ValueError(f"each fold needs the same 1 or 2 arms, got {sorted(arms)}")
    rng = np.random.default_rng(seed)
    observed, replicates, terms, grids = [], [], [], []
    for fold in folds:
        ones = np.ones((1, len(fold.y)))
        point = _fold_scores(fold, metric, ones)[..., 0]  # (arms, seeds)
        boot = _fold_scores(fold, metric, _patient_weights(fold.patient, n_boot, rng))  # (arms, seeds, B)
        if len(point) == 2:
            point, boot, bounds = point[0] - point[1], boot[0] - boot[1], (-1.0, 1.0)
        else:
            point, boot, bounds = point[0], boot[0], (0.0, 1.0)
        grid = seed_grid(fold, boot)  # (generator seeds, classifier seeds, B)
        patients, by_generator, by_classifier = _resample_seeds(grid, rng)
        # the widening must not leave the score's range
        replicates.append(np.clip(patients + by_generator + by_classifier, *bounds))
        terms.append((patients, by_generator, by_classifier))
        grids.append(grid.shape[:2])
        observed.append(np.mean(point))
    stats = np.mean(replicates, axis=0)
    lo, hi = np.nanquantile(stats, [(1 - level) / 2, (1 + level) / 2])
    lo90, hi90 = np.nanquantile(stats, [0.05, 0.95])
    valid = stats[~np.isnan(stats)]
    n_folds = len(folds)
    n_gan, n_clf = min(g for g, _ in grids), min(c for _, c in grids)
    n_patients = float(np.mean([len(np.unique(f.patient)) for f in folds]))
    term_var = [float(np.nanvar(np.mean([t[i] for t in terms], axis=0), ddof=1)) for i in range(3)]
    return {"estimate": float(np.mean(observed)), "low": float(lo), "high": float(hi),
            "low90": float(lo90), "high90": float(hi90),
            "p_above": float((1 + np.sum(valid <= 0)) / (1 + len(valid))),
            "p_below": float((1 + np.sum(valid >= 0)) / (1 + len(valid))), "n_boot": n_boot,
            "var_patient": term_var[0] * n_patients * n_folds, "var_gan_seed": term_var[1] * n_gan * n_folds,
            "var_classifier_seed": term_var[2] * n_clf * n_folds, "n_folds": n_folds, "n_patients": n_patients,
            "n_gan_seeds": n_gan, "n_classifier_seeds": n_clf}


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error) of ``pvalues``, in their order."""
    p = np.asarray(pvalues, float)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out
