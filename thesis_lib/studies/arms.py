"""The arms of the augmentation study, and the training set each builds from one subset.

For every training size k and fold, one subset of k real masses and ``normal_per_real`` x k
normal patches (:func:`~thesis_lib.data.subsets.draw_subset`) is handed to the generator G_k
and to every arm. The thesis' classifier is trained five ways, and a sixth is the fair control:

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
AUC, AP and F1 at a fixed threshold by itself. Every classifier takes the same number of
optimiser steps per epoch (:func:`steps_per_epoch`), whatever its arm's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import TrainingSubset, draw_subset
from thesis_lib.models.generate import generate


@dataclass(frozen=True)
class Arm:
    """How an approach builds its training set from a subset."""

    gan: bool  # adds synthetic_per_real x k masses of G_k
    flips: bool  # random h/v flips on the fly
    oversample: bool = False  # real masses shown (1 + synthetic_per_real) times: Aug GAN's positive count


APPROACHES = {"ORG": Arm(False, False), "Aug ORG": Arm(False, True), "ORG x2.5": Arm(False, False, True),
              "Aug ORG x2.5": Arm(False, True, True), "GAN": Arm(True, False), "Aug GAN": Arm(True, True)}


OVERSAMPLED_RATIO = 1.5  # the x2.5 arms match the GAN arms only at synthetic_per_real = 1.5


# (A, B): "A beats B" is the statement each interval tests; the fair controls first
COMPARISONS = (("Aug GAN", "Aug ORG x2.5"), ("GAN", "ORG x2.5"), ("Aug GAN", "Aug ORG"), ("GAN", "ORG"),
               ("Aug ORG", "ORG"))


SAME_RATIO = {("Aug GAN", "Aug ORG x2.5"), ("GAN", "ORG x2.5"), ("Aug ORG", "ORG")}  # arms of one class ratio


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


def n_normal(study: dict, k: int) -> int:
    return round(study["normal_per_real"] * k)


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
        parts.append((generate(generator, n_extra, derived_seed(seed, subset.fold, k, gan_seed)), 1, True))
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


def derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def steps_per_epoch(study: dict, k: int) -> int:
    """Optimiser steps in one classifier epoch, the same for every arm at ``k``: one pass over
    the ORG arm's k real masses and ``normal_per_real`` x k normal patches."""
    return -(-(k + n_normal(study, k)) // study["batch_size"])


def arm_order(label: str) -> tuple[int, str]:
    """Sort key of an arm: its approach's place in :data:`APPROACHES`, the first generator first."""
    return list(APPROACHES).index(base_approach(label)), "" if label == base_approach(label) else label
