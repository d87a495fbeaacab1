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

    def population(n):
        return centre + 2 * rng.normal(size=(n, D)) @ mix.T

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
    }
    return train, held, population(N_GEN), generators


def _score(train, held, fake):
    row = realism.score_generator(train, held, fake, kid_subsets=10, k=3, seed=0)
    return row, realism.realism_verdict(row)


def test_a_good_stand_in_is_realistic(world):
    train, held, unseen_real, _ = world
    row, (passed, failed) = _score(train, held, unseen_real)  # more real masses, never trained on
    assert passed, failed
    assert row["N generated"] == N_GEN and row["N held-out"] == N_HELD and 0.35 < row["closer to training"] < 0.65


@pytest.mark.parametrize("name", ["copies of the training masses", "blurred copies", "one image", "the mean image",
                                  "pure noise", "normal tissue passed off as masses"])
def test_bad_generators_are_not_realistic(world, name):
    train, held, _, generators = world
    row, (passed, failed) = _score(train, held, generators[name])
    assert not passed and failed, row


def test_copies_pass_fid_but_fail_the_memorisation_rule(world):
    """FID alone cannot see copying: the copies score as well as new real masses against the
    held-out ones, and only the nearest-neighbour rule rejects them."""
    train, held, _, generators = world
    row, (_, failed) = _score(train, held, generators["copies of the training masses"])
    assert row["FID / floor"] <= realism.MAX_FID_RATIO and row["FID vs training"] < 0.5 * row["FID"]
    assert failed == [f"{row['closer to training']:.0%} nearer a training mass (> {realism.MAX_CLOSER_TO_TRAIN:.0%})"]


def test_a_checkerboard_fails_the_spectrum_rule_alone(world):
    """A generator whose features pass every rule still fails when its samples carry energy at
    high frequencies that real masses do not have (realism_table adds that column)."""
    train, held, unseen_real, _ = world
    row, _ = _score(train, held, unseen_real)
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
