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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

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

    def __post_init__(self):
        if min(self.folds, self.gan_seeds, self.classifier_seeds) < 1 or not self.patients > 0:
            raise ValueError(f"{self}: every level needs at least one member")


def standard_error(c: Components, r: Replication) -> float:
    """The standard error of the fold-averaged difference under replication ``r``."""
    return float(np.sqrt((c.gan_seed / r.gan_seeds + c.classifier_seed / r.classifier_seeds
                          + c.patient / r.patients) / r.folds))


def detectable(c: Components, r: Replication, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true difference found at two-sided level ``alpha`` with probability ``power``."""
    return (norm.ppf(1 - alpha / 2) + norm.ppf(power)) * standard_error(c, r)


def provable_margin(c: Components, r: Replication, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest equivalence margin that two one-sided ``alpha`` tests establish with
    probability ``power`` when the true difference is 0."""
    return (norm.ppf(1 - alpha) + norm.ppf((1 + power) / 2)) * standard_error(c, r)


def seeds_needed(c: Components, r: Replication, target: float, alpha: float = 0.05, power: float = 0.8,
                 most: int = 64) -> int | None:
    """The fewest seeds n (generator and classifier seeds alike, n of each) at ``r``'s folds and
    patients whose :func:`detectable` difference is at most ``target``; None when even ``most``
    seeds do not reach it (the patients' share alone is too large: more test patients needed)."""
    if not target > 0:
        raise ValueError(f"target={target}: must be > 0")
    for n in range(1, most + 1):
        if detectable(c, Replication(r.folds, n, n, r.patients), alpha, power) <= target:
            return n
    return None


def patients_needed(c: Components, r: Replication, target: float, alpha: float = 0.05,
                    power: float = 0.8) -> float | None:
    """The test patients per fold that bring the :func:`detectable` difference to ``target`` at
    ``r``'s folds and seeds; None when the seeds' share alone exceeds it (more seeds needed)."""
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    budget = r.folds * (target / z) ** 2 - c.gan_seed / r.gan_seeds - c.classifier_seed / r.classifier_seeds
    if budget <= 0:
        return None
    return float(np.ceil(c.patient / budget)) if c.patient > 0 else 1.0
