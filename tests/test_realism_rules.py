"""The realism rules, defined by the generators they must reject and the one they must accept.

Features stand in for Inception's: a real population of masses (a correlated Gaussian), a
training set and a held-out set drawn from it, and generators built from them the way bad
generators fail in practice."""

import numpy as np
import pandas as pd
import pytest

from thesis_lib.studies import realism

D, N_TRAIN, N_HELD, N_GEN = 32, 160, 90, 100


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(D, D)) / np.sqrt(D)
    centre = rng.normal(size=D)

    def population(n, at=centre):
        return at + 2 * rng.normal(size=(n, D)) @ mix.T

    # normal tissue: the same texture statistics around another centre, as far from the masses as
    # real normal patches are in Inception space (about 1.9 x the floor: they pass the FID rule)
    towards_normal = rng.normal(size=D)
    towards_normal /= np.linalg.norm(towards_normal)
    elsewhere = rng.normal(size=D)
    elsewhere -= elsewhere @ towards_normal * towards_normal
    elsewhere /= np.linalg.norm(elsewhere)
    normal_centre = centre + 3.0 * towards_normal
    train, held = population(N_TRAIN), population(N_HELD)
    mean = train.mean(axis=0)
    some_train = train[rng.choice(N_TRAIN, N_GEN, replace=False)]
    tiny = 1e-6 * rng.normal(size=(N_GEN, D))
    generators = {
        "copies of the training masses": some_train,
        "blurred copies": mean + 0.4 * (some_train - mean),
        "one image": np.repeat(train[:1], N_GEN, axis=0) + tiny,
        "the mean image": np.repeat(mean[None], N_GEN, axis=0) + tiny,
        "pure noise": rng.normal(0, 5, (N_GEN, D)),
        "normal tissue passed off as masses": population(N_GEN) + np.r_[np.full(4, 3.0), np.zeros(D - 4)],
        "real normal tissue": population(N_GEN, normal_centre),
        "real masses cut by another patch rule": population(N_GEN, centre + 4.0 * elsewhere),
    }
    return train, held, population(N_GEN), generators, population(300, normal_centre)


def _score(train, held, fake, normals=None):
    row = realism.score_generator(train, held, fake, kid_subsets=10, k=3, seed=0, normals=normals)
    return row, realism.realism_verdict(row)


def test_a_good_stand_in_is_realistic(world):
    train, held, unseen_real, _, normals = world
    row, (passed, failed) = _score(train, held, unseen_real, normals)  # more real masses, never trained on
    assert passed, failed
    assert row["FID"] < row["normal-tissue FID"] and row["called masses"] >= row["called masses limit"]
    assert row["N generated"] == N_GEN and row["N held-out"] == N_HELD and 0.35 < row["closer to training"] < 0.65
    assert row["too close to training"] <= row["too close limit"] < 0.25


@pytest.mark.parametrize("name", ["copies of the training masses", "blurred copies", "one image", "the mean image",
                                  "pure noise", "normal tissue passed off as masses", "real normal tissue",
                                  "real masses cut by another patch rule"])
def test_bad_generators_are_not_realistic(world, name):
    train, held, _, generators, normals = world
    row, (passed, failed) = _score(train, held, generators[name], normals)
    assert not passed and failed, row


def test_real_normal_tissue_passes_every_rule_but_the_class_boundary(world):
    """Normal patches are mammographic texture at the right scale: FID, precision, recall,
    memorisation and spectrum cannot tell them from masses (the finding that motivated the class
    rules); only the mass-vs-normal rules reject them."""
    train, held, _, generators, normals = world
    row, (_, failed) = _score(train, held, generators["real normal tissue"], normals)
    assert realism.realism_verdict({k: v for k, v in row.items() if k not in ("normal-tissue FID", "called masses")})[0]
    assert row["FID / floor"] <= realism.MAX_FID_RATIO
    assert any("called masses" in f for f in failed), failed


def test_copies_pass_fid_but_fail_the_memorisation_rule(world):
    """FID alone cannot see copying: the copies score as well as new real masses against the
    held-out ones, and only the nearest-neighbour rule rejects them."""
    train, held, _, generators, normals = world
    row, (_, failed) = _score(train, held, generators["copies of the training masses"], normals)
    assert row["FID / floor"] <= realism.MAX_FID_RATIO and row["FID vs training"] < 0.5 * row["FID"]
    assert row["too close to training"] == 1.0  # every copy is nearer its source than 90 % of real masses are
    assert failed == [f"100% as close to a training mass as only 10% of real unseen masses are "
                      f"(> {row['too close limit']:.0%})"]


def test_a_checkerboard_fails_the_spectrum_rule_alone(world):
    """A generator whose features pass every rule still fails when its samples carry energy at
    high frequencies that real masses do not have (realism_table adds that column)."""
    train, held, unseen_real, _, normals = world
    row, _ = _score(train, held, unseen_real, normals)
    passed, failed = realism.realism_verdict({**row, "spectrum excess (dex)": 0.0})
    assert passed, failed
    passed, failed = realism.realism_verdict({**row, "spectrum excess (dex)": 0.8})
    assert not passed and failed == ["high-frequency spectrum outside the real range (0.80 dex)"]


def test_the_floor_is_taken_at_the_generated_sets_size():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 8))
    row = realism.score_generator(real[:150], real[150:230], real[230:290], kid_subsets=5, k=3, seed=0)
    assert (row["N generated"], row["N held-out"], row["N train"]) == (60, 80, 150)
    with pytest.raises(ValueError, match="at least n_generated = 60 training masses"):
        realism.score_generator(real[:50], real[150:230], real[230:290], kid_subsets=5, k=3, seed=0)


@pytest.mark.parametrize("fids, falls", [
    ([250, 200, 170, 140, 120, 110, 100], True),  # falls throughout
    ([180, 150, 210, 170, 160, 200, 175], False),  # noise around a level: last < first, but no trend
    ([250, 120, 300, 280, 260, 240, 230], False),  # an early dip, then above: last < first, no fall
    ([100, 125, 135, 165, 175, 205, 220], False),  # rises
])
def test_fid_falls_only_with_a_trend_over_all_snapshots(fids, falls):
    curve = pd.DataFrame({"epoch": np.arange(1, len(fids) + 1) * 10, "FID": fids})
    trend = realism.fid_trend(curve, n_boot=1000)
    assert trend["falls"] is falls and trend["low"] <= trend["slope"] <= trend["high"]
    assert realism.fid_trend(curve.iloc[:2])["falls"] is None  # two points show no trend


def test_the_copy_rule_does_not_move_with_the_sets_sizes():
    """With many more training masses than held-out ones, the nearest-set share (equal-sized
    reference sets: a copy's source is rarely among the training references) no longer sees
    copies under the old fixed limit of 65 %; the calibrated rule, against all training masses,
    passes real unseen masses and fails the copies."""
    rng = np.random.default_rng(3)
    mix = rng.normal(size=(D, D)) / np.sqrt(D)

    def population(n):
        return 2 * rng.normal(size=(n, D)) @ mix.T

    train, held, unseen = population(800), population(60), population(100)
    row = realism.score_generator(train, held, unseen, kid_subsets=5, k=3, seed=0)
    assert row["too close to training"] <= row["too close limit"]
    copies = realism.score_generator(train, held, train[:100], kid_subsets=5, k=3, seed=0)
    assert copies["closer to training"] < 0.65  # the old rule passed these copies
    assert copies["too close to training"] > copies["too close limit"]


def test_a_precision_or_recall_near_its_threshold_is_borderline():
    """At N = 100 a precision of 0.54 is within the binomial margin of 0.5 (about 0.10): a redraw of
    samples could turn the pass; 0.80 could not. Recall is judged at the held-out set's size."""
    row = {"N generated": 100, "N held-out": 140, "precision": 0.54, "recall": 0.60}
    assert realism.binomial_margin(realism.MIN_PRECISION, 100) == pytest.approx(0.098, abs=1e-3)
    assert realism.borderline(row) == ["precision 0.54 within 0.10 of 0.5 (N = 100)"]
    assert realism.borderline({**row, "precision": 0.80}) == []
    assert realism.borderline({**row, "precision": 0.80, "recall": 0.27})[0].startswith("recall 0.27 within 0.08")
    assert realism.borderline({**row, "precision": 0.45}) != []  # a borderline fail as well as a pass
