import numpy as np
import pandas as pd
import pytest

from thesis_lib.data.splits import check_no_leakage, partition_counts, patient_folds


def test_folds_are_patient_level_with_thesis_proportions():
    patients = pd.Series([f"P{i:03d}" for i in range(300)])
    has_mass = np.arange(300) % 3 == 0
    folds = patient_folds(patients, has_mass, seed=0)
    check_no_leakage(folds)
    shares = folds.groupby(["fold", "partition"]).size().unstack() / 300
    assert np.allclose(shares["test"], 1 / 3, atol=0.01)
    assert np.allclose(shares["val"], 0.1 * 2 / 3, atol=0.01)
    assert np.allclose(shares["train"], 0.6, atol=0.01)
    # strata are spread evenly: each test set holds a third of the mass patients
    test_mass = folds[folds.partition == "test"].merge(
        pd.DataFrame({"patient_id": patients, "m": has_mass})).groupby("fold").m.sum()
    assert (test_mass == 100 / 3).all() or test_mass.max() - test_mass.min() <= 1


def test_leakage_is_detected():
    folds = patient_folds(pd.Series(["a", "b", "c", "d", "e", "f"]), seed=1)
    leaked = pd.concat([folds, pd.DataFrame([{"patient_id": "a", "fold": 0, "partition": "val"},
                                             {"patient_id": "a", "fold": 0, "partition": "train"}])])
    with pytest.raises(AssertionError, match="two partitions"):
        check_no_leakage(leaked)


def test_split_errors_and_determinism():
    with pytest.raises(ValueError, match="2 patient"):
        patient_folds(pd.Series(["a", "b"]))
    with pytest.raises(ValueError, match="unique"):
        patient_folds(pd.Series(["a", "a", "b"]))
    p = pd.Series([str(i) for i in range(30)])
    pd.testing.assert_frame_equal(patient_folds(p, seed=3), patient_folds(p, seed=3))
    assert not patient_folds(p, seed=3).equals(patient_folds(p, seed=4))


def test_partition_counts():
    meta = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "label": ["mass", "normal", "normal", "normal"]})
    folds = patient_folds(pd.Series(["a", "b", "c"]), val_fraction=0.0, seed=0)
    counts = partition_counts(meta, folds)
    assert counts.groupby(level="fold").sum()[["patients", "mass", "normal"]].eq([3, 1, 3]).all(axis=None)


def test_validation_patients_per_fold_follow_the_profile():
    from thesis_lib import config
    from thesis_lib.data.splits import validation_patients
    assert validation_patients({"val_fraction": 0.1, "n_patients": 100, "n_folds": 2}) == 5
    assert validation_patients({"val_fraction": 0.1, "n_patients": 0, "n_folds": 3}) == 0
    folds = patient_folds(pd.Series([f"p{i}" for i in range(300)]), n_folds=3, val_fraction=0.1, seed=1)
    per_fold = folds[folds.partition == "val"].groupby("fold").size()
    assert (per_fold == validation_patients({"val_fraction": 0.1, "n_patients": 300, "n_folds": 3})).all()
    assert validation_patients(config.load_profile("thesis")["data_prep"]) == 80
