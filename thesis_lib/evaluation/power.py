"""What a study of a given replication can tell: the reading of a difference against an
equivalence margin, and the smallest difference it could detect.

**Reading** (two one-sided tests, Schuirmann 1987). A paired difference ``A - B`` with its 95 %
interval and its 90 % interval reads

- "better" when the 95 % interval lies above 0, "worse" when it lies below 0;
- "equivalent" when the 90 % interval lies inside (-margin, +margin): both one-sided 5 % tests
  reject a difference as large as the margin;
- "inconclusive" otherwise: the data hold both 0 and a difference of the margin's size.

**Power.** A difference averaged over F folds, each with G generator seeds, C classifier seeds
and P test patients, has variance ``(s2_gan / G + s2_classifier / C + s2_patient / P) / F`` in
an additive model whose per-unit components come from the run's own bootstrap
(:func:`thesis_lib.evaluation.bootstrap.hierarchical_bootstrap`). From that standard error SE:

- the smallest detectable difference, two-sided level alpha with power ``power``:
  ``(z(1 - alpha / 2) + z(power)) SE``;
- the smallest margin within which a true difference of 0 is shown equivalent with power
  ``power``: ``(z(1 - alpha) + z((1 + power) / 2)) SE``.

Folds are not a level of their own: they partition the patients, so their spread is the
patients' and the seeds' (Bouthillier et al. 2021 discuss the sources of variance of a
machine-learning benchmark).

**Few seeds.** A variance estimated from 2 seeds per fold has few degrees of freedom, and a
percentile interval from resampling them is too narrow in its tails. The Welch-Satterthwaite
degrees of freedom of the summed components (:func:`satterthwaite_df`) turn the normal quantiles
into Student's t quantiles: :func:`widened` stretches an interval by their ratio,
:func:`for_few_seeds` reads a whole bootstrap result so (intervals and p-values), and
:func:`detectable` and :func:`provable_margin` take ``df``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, t

BETTER, WORSE, EQUIVALENT, INCONCLUSIVE = "better", "worse", "equivalent", "inconclusive"
READINGS = (BETTER, WORSE, EQUIVALENT, INCONCLUSIVE)


def reading(low95: float, high95: float, low90: float, high90: float, margin: float) -> str:
    """The reading of a difference (see the module's text); ``margin`` > 0 in the score's units."""
    if not margin > 0:
        raise ValueError(f"margin={margin}: must be > 0")
    if low95 > 0:
        return BETTER
    if high95 < 0:
        return WORSE
    if -margin < low90 and high90 < margin:
        return EQUIVALENT
    return INCONCLUSIVE


def joined(readings: list[str]) -> str:
    """One verdict from the readings of several scores of one comparison: "worse" when one score
    is worse and none better, "better" when one is better and none worse, "equivalent" when every
    score is, "inconclusive" otherwise (scores that disagree, or none that decides)."""
    unknown = set(readings) - set(READINGS)
    if unknown or not readings:
        raise ValueError(f"readings {readings}: need one or more of {READINGS}")
    if WORSE in readings and BETTER not in readings:
        return WORSE
    if BETTER in readings and WORSE not in readings:
        return BETTER
    if set(readings) == {EQUIVALENT}:
        return EQUIVALENT
    return INCONCLUSIVE


@dataclass(frozen=True)
class Components:
    """Per-unit variance components of a difference: one patient, one generator seed, one
    classifier seed (squared score units)."""

    patient: float
    gan_seed: float
    classifier_seed: float

    @classmethod
    def of(cls, row) -> "Components":
        """From a row holding ``var_patient``, ``var_gan_seed`` and ``var_classifier_seed``."""
        return cls(float(row["var_patient"]), float(row["var_gan_seed"]), float(row["var_classifier_seed"]))


@dataclass(frozen=True)
class Replication:
    """How many folds, generator seeds, classifier seeds and test patients per fold a study has."""

    folds: int
    gan_seeds: int
    classifier_seeds: int
    patients: float

    @classmethod
    def of(cls, row) -> "Replication":
        """From a row holding ``n_folds``, ``n_gan_seeds``, ``n_classifier_seeds`` and ``n_patients``."""
        return cls(int(row["n_folds"]), int(row["n_gan_seeds"]), int(row["n_classifier_seeds"]),
                   float(row["n_patients"]))

    def __post_init__(self):
        if min(self.folds, self.gan_seeds, self.classifier_seeds) < 1 or not self.patients > 0:
            raise ValueError(f"{self}: every level needs at least one member")


def standard_error(c: Components, r: Replication) -> float:
    """The standard error of the fold-averaged difference under replication ``r``."""
    return float(np.sqrt((c.gan_seed / r.gan_seeds + c.classifier_seed / r.classifier_seeds
                          + c.patient / r.patients) / r.folds))


def satterthwaite_df(c: Components, r: Replication) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference's variance, each level's share
    with its own (folds x (units - 1)); infinite when no level has a share."""
    parts = [(c.patient / r.patients / r.folds, r.folds * (r.patients - 1)),
             (c.gan_seed / r.gan_seeds / r.folds, r.folds * (r.gan_seeds - 1)),
             (c.classifier_seed / r.classifier_seeds / r.folds, r.folds * (r.classifier_seeds - 1))]
    total = sum(v for v, _ in parts)
    spread = sum(v * v / df for v, df in parts if v > 0 and df > 0)
    return float(total * total / spread) if spread > 0 else float("inf")


def _quantile(p: float, df: float) -> float:
    return float(norm.ppf(p) if not np.isfinite(df) else t.ppf(p, df))


def widened(estimate: float, low: float, high: float, level: float, df: float) -> tuple[float, float]:
    """A percentile interval at ``level`` stretched about ``estimate`` by Student's t quantile
    with ``df`` degrees of freedom over the normal's."""
    factor = _quantile((1 + level) / 2, df) / norm.ppf((1 + level) / 2)
    return estimate - factor * (estimate - low), estimate + factor * (high - estimate)


def for_few_seeds(boot: dict, bounds: tuple[float, float] = (-1.0, 1.0)) -> dict:
    """A :func:`~thesis_lib.evaluation.bootstrap.hierarchical_bootstrap` result read with the
    Welch-Satterthwaite degrees of freedom ``df`` of its own components: ``low``/``high`` (95 %)
    and ``low90``/``high90`` stretched by :func:`widened` (kept inside ``bounds``, the score's
    range); ``p_above``/``p_below`` from Student's t of the estimate over the standard error that
    the percentile interval's lower (upper) half implies, so that the stretched 95 % interval
    excludes 0 exactly when a one-sided p lies below 0.025 (a bootstrap share cannot go below
    1 / (n_boot + 1), which t would turn into a bound, not a p-value); and the percentile interval
    kept as ``bootstrap_low``/``bootstrap_high``. Every interval of the augmentation study is read
    so, so that a difference has one interval wherever it is shown."""
    df = satterthwaite_df(Components.of(boot), Replication.of(boot))
    low, high = np.clip(widened(boot["estimate"], boot["low"], boot["high"], 0.95, df), *bounds)
    low90, high90 = np.clip(widened(boot["estimate"], boot["low90"], boot["high90"], 0.90, df), *bounds)
    q, estimate = norm.ppf(0.975), boot["estimate"]
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero-width half: the sign alone decides
        z_low = np.divide(estimate, (estimate - boot["low"]) / q)
        z_high = np.divide(estimate, (boot["high"] - estimate) / q)
    p_above = float(t.sf(z_low, df)) if np.isfinite(z_low) else float(estimate <= 0)
    p_below = float(t.cdf(z_high, df)) if np.isfinite(z_high) else float(estimate >= 0)
    return {**boot, "df": df, "low": float(low), "high": float(high), "low90": float(low90), "high90": float(high90),
            "p_above": p_above, "p_below": p_below, "bootstrap_low": boot["low"], "bootstrap_high": boot["high"]}


def detectable(c: Components, r: Replication, alpha: float = 0.05, power: float = 0.8,
               df: float = float("inf")) -> float:
    """The smallest true difference found at two-sided level ``alpha`` with probability ``power``
    (t quantiles with ``df`` degrees of freedom; normal by default)."""
    return (_quantile(1 - alpha / 2, df) + _quantile(power, df)) * standard_error(c, r)


def provable_margin(c: Components, r: Replication, alpha: float = 0.05, power: float = 0.8,
                    df: float = float("inf")) -> float:
    """The smallest equivalence margin that two one-sided ``alpha`` tests establish with
    probability ``power`` when the true difference is 0 (t quantiles with ``df``)."""
    return (_quantile(1 - alpha, df) + _quantile((1 + power) / 2, df)) * standard_error(c, r)


def seeds_needed(c: Components, r: Replication, target: float, alpha: float = 0.05, power: float = 0.8,
                 most: int = 64) -> int | None:
    """The fewest seeds n (generator and classifier seeds alike, n of each) at ``r``'s folds and
    patients whose :func:`detectable` difference (with its own Welch-Satterthwaite degrees of
    freedom) is at most ``target``; None when even ``most``
    seeds do not reach it (the patients' share alone is too large: more test patients needed)."""
    if not target > 0:
        raise ValueError(f"target={target}: must be > 0")
    for n in range(2, most + 1):  # one seed per level cannot estimate its variance: the design asks 2 or more
        candidate = Replication(r.folds, n, n, r.patients)
        if detectable(c, candidate, alpha, power, satterthwaite_df(c, candidate)) <= target:
            return n
    return None


def patients_needed(c: Components, r: Replication, target: float, alpha: float = 0.05,
                    power: float = 0.8) -> float | None:
    """The test patients per fold that bring the :func:`detectable` difference to ``target`` at
    ``r``'s folds and seeds (normal quantiles: an approximation when the seeds are few); None
    when the seeds' share alone exceeds it (more seeds needed)."""
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    budget = r.folds * (target / z) ** 2 - c.gan_seed / r.gan_seeds - c.classifier_seed / r.classifier_seeds
    if budget <= 0:
        return None
    return float(np.ceil(c.patient / budget)) if c.patient > 0 else 1.0
