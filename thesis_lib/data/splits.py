"""Patient-level cross-validation folds.

Three folds as the thesis' proportions imply (60 / 6.6 / 33.3 %): each fold holds out a third
of the patients as its test set; of the remaining patients about 10 % form the fold's
validation set and the rest its training pool. Patients are the unit throughout, so no
patient's images are in two partitions of a fold; stratification keeps patients with lesions
spread evenly over the folds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PARTITIONS = ("train", "val", "test")


def patient_folds(patients: pd.Series, stratum: pd.Series | None = None, n_folds: int = 3,
                  val_fraction: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """One row per (patient, fold): columns ``patient_id, fold, partition``.

    ``patients``: the unique patient IDs. ``stratum``: a label per patient (aligned with
    ``patients``), e.g. whether the patient has a mass; folds are balanced within each label.
    """
    patients = pd.Series(patients, dtype=str).reset_index(drop=True)
    if patients.duplicated().any():
        raise ValueError("patient IDs must be unique")
    if n_folds < 2:
        raise ValueError(f"n_folds={n_folds}: must be >= 2")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction={val_fraction}: expected 0 <= val_fraction < 1")
    if len(patients) < n_folds:
        raise ValueError(f"{len(patients)} patient(s) cannot make {n_folds} patient-level folds")
    stratum = pd.Series(np.zeros(len(patients), int) if stratum is None else np.asarray(stratum))
    if len(stratum) != len(patients):
        raise ValueError(f"stratum has {len(stratum)} labels for {len(patients)} patients")
    rng = np.random.default_rng(seed)
    test_fold = np.empty(len(patients), int)
    for _, idx in stratum.groupby(stratum).groups.items():
        idx = rng.permutation(np.asarray(idx))
        test_fold[idx] = (np.arange(len(idx)) + rng.integers(n_folds)) % n_folds
    rows = []
    for fold in range(n_folds):
        rest = np.flatnonzero(test_fold != fold)
        val = set()
        for _, idx in stratum.iloc[rest].groupby(stratum.iloc[rest]).groups.items():
            idx = rng.permutation(np.asarray(idx))
            val.update(idx[: int(round(val_fraction * len(idx)))])
        for i, pid in enumerate(patients):
            part = "test" if test_fold[i] == fold else ("val" if i in val else "train")
            rows.append((pid, fold, part))
    return pd.DataFrame(rows, columns=["patient_id", "fold", "partition"])


def validation_patients(data_prep: dict) -> int:
    """About how many validation patients each fold of a profile's ``data_prep`` section gets:
    ``val_fraction`` of the patients outside the fold's test set (:func:`patient_folds` rounds per
    stratum); 0 when ``n_patients`` is 0 (all of a real dataset: not known before it is read)."""
    return int(round(data_prep["val_fraction"] * data_prep["n_patients"] * (1 - 1 / data_prep["n_folds"])))


def check_no_leakage(folds: pd.DataFrame) -> None:
    """Raise ``AssertionError`` when a patient sits in two partitions of one fold, or is
    not in exactly one test set across folds."""
    per_fold = folds.groupby(["fold", "patient_id"]).partition.nunique()
    leaked = per_fold[per_fold > 1]
    if len(leaked):
        raise AssertionError(f"patients in two partitions of a fold: {leaked.index.tolist()[:10]}")
    tests = folds[folds.partition == "test"].groupby("patient_id").size()
    if (tests != 1).any() or set(tests.index) != set(folds.patient_id):
        raise AssertionError("every patient must be in exactly one fold's test set")


def partition_of(meta: pd.DataFrame, folds: pd.DataFrame, fold: int) -> pd.Series:
    """The partition (train/val/test) of each row of ``meta`` (which has ``patient_id``) in
    ``fold``, aligned with ``meta``'s index."""
    lookup = folds[folds.fold == fold].set_index("patient_id").partition
    return meta.patient_id.map(lookup)


def partition_counts(meta: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """Patients and patches per fold and partition: columns ``patients`` and one per label."""
    labels = sorted(meta.label.unique())
    rows = []
    for (fold, part), group in folds.groupby(["fold", "partition"]):
        counts = meta[meta.patient_id.isin(group.patient_id)].label.value_counts()
        rows.append({"fold": fold, "partition": part, "patients": len(group),
                     **{label: int(counts.get(label, 0)) for label in labels}})
    return pd.DataFrame(rows).set_index(["fold", "partition"])
