"""Training subsets: which real patches a generator or a classifier of one fold may learn from.

Every consumer of a fold's training data, the fold GAN, a G_k of the augmentation study, each
classifier arm and the t-SNE maps, gets its rows from here, so that "the k real masses of
(fold, k, seed)" means the same patches wherever it is used. Subsets are nested: with one seed,
the first k of a fixed random order, so the 50 lie inside the 100.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd



def training_rows(store, fold: int, k: int | None, seed: int, label: str = "mass") -> pd.DataFrame:
    """Rows of ``store.meta``: the ``label`` patches (default masses) of ``fold``'s training
    partition, or the first ``k`` of them in an order drawn with ``default_rng([seed, fold])``."""
    folds = sorted(store.folds.fold.unique())
    if fold not in folds:
        raise ValueError(f"fold={fold}: the store has folds {folds}")
    pool = store.rows(fold, "train", label)
    if k is not None:
        if not 0 < k <= len(pool):
            raise ValueError(f"k={k}: fold {fold}'s training pool holds {len(pool)} {label} patches; "
                             f"need 0 < k <= {len(pool)}")
        order = np.random.default_rng([seed, fold]).permutation(len(pool))
        pool = pool.iloc[np.sort(order[:k])]
    return pool


def training_patches(store, fold: int, k: int | None, seed: int, label: str = "mass") -> tuple[np.ndarray, pd.DataFrame]:
    """The patches ((n, 128, 128) uint8) of :func:`training_rows`, and those rows."""
    rows = training_rows(store, fold, k, seed, label)
    return store.read(rows.index.to_numpy()), rows


def rows_hash(*tables: pd.DataFrame) -> str:
    """12 hex digits naming a set of patches by where they come from (image and window), not by
    their row numbers, so that a rebuilt store with other rows gives another hash."""
    keys = [f"{label}:{image}:{window}" for table in tables
            for label, image, window in zip(table.label, table.image_id, table.window)]
    return hashlib.sha1("\n".join(keys).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TrainingSubset:
    """The real training patches of one (fold, k, seed): ``masses`` (k rows) and ``normals``
    (``n_normal`` rows) of the fold's training partition, as rows of the store's table."""

    fold: int
    k: int
    seed: int
    masses: pd.DataFrame
    normals: pd.DataFrame

    @property
    def hash(self) -> str:
        """Names exactly these masses and normals (see :func:`rows_hash`)."""
        return rows_hash(self.masses, self.normals)

    @property
    def mass_hash(self) -> str:
        """Names the masses alone: what a generator trained on this subset saw."""
        return rows_hash(self.masses)


def draw_subset(store, fold: int, k: int, seed: int, n_normal: int) -> TrainingSubset:
    """The k real masses and ``n_normal`` normal patches of ``fold``'s training partition drawn
    with ``seed``: the one definition handed to G_k and to every classifier arm."""
    if n_normal < 0:
        raise ValueError(f"n_normal={n_normal}: must be >= 0")
    masses = training_rows(store, fold, k, seed, "mass")
    normals = training_rows(store, fold, n_normal, seed, "normal") if n_normal else masses.iloc[:0]
    return TrainingSubset(fold, k, seed, masses, normals)
