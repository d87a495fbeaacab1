"""The hierarchical bootstrap: weighted scores, coverage under a null, power for a planted
difference, and Holm's correction."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from thesis_lib.evaluation.bootstrap import FoldScores, hierarchical_bootstrap, holm, weighted_scores


def _predictions(rng, n=400):
    y = rng.random(n) < 0.2
    return y, np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), 2)  # rounded: ties included


@pytest.mark.parametrize("metric, reference", [("auc", roc_auc_score), ("ap", average_precision_score),
                                               ("f1", lambda y, p: f1_score(y, p >= 0.5))])
def test_weighted_scores_equal_scikit_learn_on_resampled_patches(metric, reference):
    rng = np.random.default_rng(0)
    y, p = _predictions(rng)
    draws = rng.integers(0, len(y), (5, len(y)))
    weights = np.stack([np.bincount(d, minlength=len(y)) for d in draws]).astype(float)
    got = weighted_scores(y, p, np.vstack([np.ones(len(y)), weights]), metric)
    want = [reference(y, p)] + [reference(y[d], p[d]) for d in draws]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_weighted_scores_threshold_and_errors():
    y = np.array([1, 1, 0, 0])
    p = np.array([0.9, 0.3, 0.4, 0.1])
    assert weighted_scores(y, p, np.ones((1, 4)), "f1_val", threshold=0.2)[0] == pytest.approx(0.8)
    assert np.isnan(weighted_scores(y, p, np.array([[1.0, 1, 0, 0]]), "auc")[0])  # one class drawn
    with pytest.raises(ValueError, match="metric"):
        weighted_scores(y, p, np.ones((1, 4)), "accuracy")


def _simulated_fold(rng, difference=0.0, n_patients=40, n_seeds=3, run_effect=0.3, interaction=0.3):
    """Test patients of one fold: a fifth have a mass (2 mass patches and 8 normal), the others 10
    normal patches; scores share a patient effect. Arm 0 adds ``difference`` to its masses' logit.
    Each (arm, seed), another training run, separates the classes a little better or worse
    (``run_effect``) and sees each patient a little differently (``interaction``), plus patch noise."""
    has_mass = np.arange(n_patients) < n_patients // 5
    patient = np.repeat(np.arange(n_patients), 10)
    y = np.concatenate([[1, 1] + [0] * 8 if m else [0] * 10 for m in has_mass]).astype(bool)
    base = 1.5 * y + rng.normal(0, 1, n_patients)[patient] + rng.normal(0, 1, len(y))
    logits = np.stack([np.stack([base + (difference * (arm == 0) + rng.normal(0, run_effect)) * y
                                 + rng.normal(0, interaction, n_patients)[patient] + rng.normal(0, 0.3, len(y))
                                 for _ in range(n_seeds)]) for arm in range(2)])
    return FoldScores(y.astype(int), patient, 1 / (1 + np.exp(-logits)), np.full((2, n_seeds), 0.5))


def _coverage(n_studies, patch_clusters=False, **fold_args):
    """Share of simulated null studies (3 folds) whose 95 % interval of the AUC difference holds 0;
    with ``patch_clusters``, each patch is resampled as its own cluster instead of by patient."""
    rng = np.random.default_rng(2024)
    covered = []
    for study in range(n_studies):
        folds = [_simulated_fold(rng, **fold_args) for _ in range(3)]
        if patch_clusters:
            folds = [FoldScores(f.y, np.arange(len(f.y)), f.proba, f.threshold) for f in folds]
        r = hierarchical_bootstrap(folds, "auc", n_boot=200, seed=study)
        covered.append(r["low"] <= 0 <= r["high"])
    return float(np.mean(covered))


@pytest.mark.slow
def test_a_null_difference_is_covered_at_about_the_nominal_rate():
    """No true difference between the arms: the 95 % interval holds 0 in about 95 % of simulated
    studies, with 3 classifier seeds per cell and with 2."""
    assert 0.88 <= _coverage(100) <= 0.995
    assert 0.88 <= _coverage(100, n_seeds=2) <= 0.995


@pytest.mark.slow
def test_the_patches_of_one_patient_are_not_independent():
    """With one seed and classifiers that see each patient differently, resampling patients
    covers at about the nominal rate; resampling patches as if independent covers far less often."""
    clustered = dict(n_seeds=1, run_effect=0.0, interaction=1.0)
    by_patient, by_patch = _coverage(100, **clustered), _coverage(100, patch_clusters=True, **clustered)
    assert by_patient >= 0.88 and by_patch <= by_patient - 0.08


def test_a_planted_difference_is_found():
    rng = np.random.default_rng(7)
    folds = [_simulated_fold(rng, difference=1.5) for _ in range(3)]
    r = hierarchical_bootstrap(folds, "auc", n_boot=1000, seed=0)
    assert r["low"] > 0 and r["p_above"] < 0.01 and r["low"] <= r["estimate"] <= r["high"]
    one_arm = [FoldScores(f.y, f.patient, f.proba[:1], f.threshold[:1]) for f in folds]
    alone = hierarchical_bootstrap(one_arm, "auc", n_boot=500)
    assert 0.5 < alone["low"] < alone["estimate"] < alone["high"] < 1


def test_identical_arms_differ_by_exactly_zero():
    fold = _simulated_fold(np.random.default_rng(1))
    same = FoldScores(fold.y, fold.patient, np.stack([fold.proba[0], fold.proba[0]]), fold.threshold)
    r = hierarchical_bootstrap([same] * 3, "ap", n_boot=200)
    assert r["estimate"] == r["low"] == r["high"] == 0.0


def test_bad_input_is_named():
    fold = _simulated_fold(np.random.default_rng(1))
    with pytest.raises(ValueError, match="n_boot"):
        hierarchical_bootstrap([fold], "auc", n_boot=10)
    with pytest.raises(ValueError, match="fewer than 2 patients with a mass"):
        one = fold.patient == fold.patient[fold.y == 1][0]
        keep = one | (fold.y == 0)
        FoldScores(fold.y[keep], fold.patient[keep], fold.proba[..., keep], fold.threshold)
    with pytest.raises(ValueError, match="threshold"):
        FoldScores(fold.y, fold.patient, fold.proba, fold.threshold[:1])


def test_holm_adjusts_in_step_down_order():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
    assert holm([]).size == 0


def test_a_score_of_two_seeds_keeps_its_interval_inside_its_range():
    """One seed calls nothing a mass (F1 0), the other finds most: the seeds' widening would carry
    the lower end below 0; the interval stays in [0, 1] and still reaches down to 0."""
    fold = _simulated_fold(np.random.default_rng(3), n_seeds=2)
    proba = fold.proba[:1].copy()
    proba[0, 0] = 0.1  # seed 0: every patch below the threshold
    proba[0, 1] = np.where(fold.y == 1, 0.9, 0.1)  # seed 1: every mass found
    one_arm = FoldScores(fold.y, fold.patient, proba, fold.threshold[:1])
    r = hierarchical_bootstrap([one_arm] * 2, "f1", n_boot=500)
    assert r["estimate"] == pytest.approx(0.5)
    assert r["low"] == 0.0 and 0.5 < r["high"] <= 1.0
