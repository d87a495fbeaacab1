"""t-SNE maps and the neighbourhood scores behind them, on point sets with known answers."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from thesis_lib.book import plots
from thesis_lib.evaluation import neighbourhoods as nb
from thesis_lib.evaluation.embedding import embed, pick_backend
from thesis_lib.studies import tsne

matplotlib.use("Agg")
RNG = np.random.default_rng(0)  # module constants only, drawn at import: no test draws from it
REAL = RNG.normal(size=(60, 8))
NORMAL = RNG.normal(size=(80, 8)) + 4.0  # a separate cluster
FAR = RNG.normal(size=(90, 8)) + 40.0  # generated masses nowhere near the real ones


def test_knn_excludes_self_by_index_even_with_duplicates():
    x = np.array([[0.0], [0.0], [1.0], [3.0]])
    d, idx = nb.knn(x, 2)
    assert idx[0].tolist() == [1, 2] and idx[1].tolist() == [0, 2]
    assert d[3].tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="k=4"):
        nb.knn(x, 4)


def _scores(real, added, k):
    pooled = np.concatenate([real, added])
    return nb.neighbourhood_scores(nb.pairwise(pooled), np.r_[np.ones(len(real), bool), np.zeros(len(added), bool)], k)


def test_copies_of_the_real_set_sit_on_it():
    s = _scores(REAL, REAL.copy(), 3)
    assert s["nearest neighbour is real"] == 1.0 and s["coverage"] == 1.0 and s["outlier coverage"] == 1.0
    assert s["distance ratio"] == 0.0 and s["outlier distance ratio"] == 0.0


def test_a_far_set_neither_mixes_nor_covers():
    s = _scores(REAL, FAR, 3)
    assert s["nearest neighbour is real"] == 0.0 and s["coverage"] == 0.0 and s["outlier coverage"] == 0.0
    assert s["distance ratio"] > 10 and s["outlier distance ratio"] > 5


def test_a_second_draw_of_the_same_distribution_lies_within_its_permutation_null():
    rng = np.random.default_rng(20)
    other = rng.normal(size=(90, 8))
    pooled = np.concatenate([REAL, other])
    observed = nb.neighbourhood_scores(nb.pairwise(pooled), np.r_[np.ones(60, bool), np.zeros(90, bool)], 1)
    null = nb.permutation_null(nb.pairwise(pooled), 60, 1, n_perm=200, seed=0)
    for name in nb.SCORES:
        mean, low, high = null[name]
        assert low <= observed[name] <= high and low <= mean <= high, name


def test_the_null_reruns_the_outlier_selection():
    """Outliers are the real points with the largest neighbourhoods; under the null, which points
    are real changes, so the outliers are chosen again in every permutation."""
    real = np.r_[np.zeros((9, 1)) + np.arange(9)[:, None] * 0.1, [[10.0]]]  # one outlier
    added = np.array([[10.05], [0.05]])
    s = _scores(real, added, 1)
    assert s["outlier coverage"] == 1.0 and s["coverage"] == 0.3  # 0.0 and 0.1 have 0.05 nearest too
    null = nb.permutation_null(nb.pairwise(np.concatenate([real, added])), 10, 1, n_perm=100)
    assert null["outlier coverage"][0] < 1.0


def test_gap_filling_rewards_new_masses_not_copies():
    rng = np.random.default_rng(21)
    train, held, new = rng.normal(size=(60, 8)), rng.normal(size=(40, 8)), rng.normal(size=(90, 8))
    copies = train[rng.integers(0, 60, 90)] + 1e-4
    gain_new, gain_copies = nb.gap_filling(train, held, new), nb.gap_filling(train, held, copies)
    assert gain_new.mean() > 0.1 and gain_copies.max() < 1e-3 and (gain_new >= 0).all()
    diff, low, high = nb.clustered_difference(gain_new - gain_copies, np.arange(40), n_boot=500)
    assert 0 < low < diff < high
    # two masses per patient (CC and MLO views): resampling patients, not patches, widens the interval
    twins = np.r_[gain_new - gain_copies, gain_new - gain_copies]
    _, low_p, high_p = nb.clustered_difference(twins, np.r_[np.arange(40), np.arange(40)], n_boot=2000)
    _, low_m, high_m = nb.clustered_difference(twins, np.arange(80), n_boot=2000)
    assert high_p - low_p > 1.25 * (high_m - low_m)
    # two generator seeds that disagree: the seeds' level widens it further
    seeds = np.stack([gain_new - gain_copies, 0.2 * (gain_new - gain_copies)])
    _, low_s, high_s = nb.clustered_difference(seeds, np.arange(40), n_boot=2000)
    assert high_s - low_s > 2 * (high - low)


def test_spread_sees_blur_and_collapse():
    rng = np.random.default_rng(22)
    assert 0.8 < nb.spread(REAL, rng.normal(size=(90, 8))) < 1.25
    assert nb.spread(REAL, 0.3 * REAL) < 0.4 and nb.spread(REAL, np.repeat(REAL[:1], 30, axis=0)) == 0.0


def test_separability_is_tested_on_held_out_patients():
    rng = np.random.default_rng(23)
    masses, normals = rng.normal(size=(60, 8)) + 1.2, NORMAL - 2.0  # overlapping: AUC below 1
    test_m, test_n = rng.normal(size=(40, 8)) + 1.2, rng.normal(size=(50, 8)) + 2.0
    clean = nb.separability(masses, normals, test_m, test_n, seed=0)
    helped = nb.separability(masses, normals, test_m, test_n, rng.normal(size=(90, 8)) + 1.2, seed=0)
    poisoned = nb.separability(masses, normals, test_m, test_n, rng.normal(size=(90, 8)) + 5.0, seed=0)
    assert 0.8 < clean < 1.0 and abs(helped - clean) < 0.05 and poisoned < clean - 0.1
    assert nb.separability(masses, normals, test_m, test_n, seed=0) == clean  # seeded


def test_flipped_copies_are_real_flips_of_their_sources():
    patches = np.random.default_rng(24).integers(0, 256, (6, 4, 4), dtype=np.uint8)
    copies, source = tsne.flipped_copies(patches, 1.5, seed=3)
    assert len(copies) == 9 and sorted(set(source[:6])) == list(range(6))  # all once before twice
    for copy, s in zip(copies, source):
        p = patches[s]
        assert not np.array_equal(copy, p)
        assert any(np.array_equal(copy, f) for f in (p[:, ::-1], p[::-1], p[::-1, ::-1]))
    again, _ = tsne.flipped_copies(patches, 1.5, seed=3)
    assert np.array_equal(copies, again)
    with pytest.raises(ValueError, match="ratio"):
        tsne.flipped_copies(patches, 0, seed=3)


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
@pytest.mark.slow
def test_embedding_is_seeded_and_separates_clusters(backend):
    if backend == "opentsne":
        pytest.importorskip("openTSNE")
    x = np.r_[REAL, FAR]
    a = embed(x, perplexity=10, n_iter=300, seed=5, backend=backend)
    assert a.shape == (150, 2) and np.array_equal(a, embed(x, 10, 300, seed=5, backend=backend))
    _, idx = nb.knn(a, 5)  # the 2-D map keeps the two clusters apart
    assert ((idx < 60) == (np.arange(150) < 60)[:, None]).mean() > 0.95


def test_embedding_rejects_bad_parameters():
    with pytest.raises(ValueError, match="perplexity=50"):
        embed(REAL, perplexity=50, n_iter=300, seed=0)
    with pytest.raises(ValueError, match="n_iter=200"):
        embed(REAL, perplexity=5, n_iter=200, seed=0)
    with pytest.raises(ValueError, match="backend='umap'"):
        pick_backend("umap")


D = 16
MIX = RNG.normal(size=(D, D)) / np.sqrt(D)


def _population(n, rng):
    return 2 * rng.normal(size=(n, D)) @ MIX.T


@pytest.fixture(scope="module")
def world():
    """Features of a fold: training and held-out masses and normals from two populations, and
    flipped copies (as flip-invariant features see them: on their sources)."""
    rng = np.random.default_rng(0)
    train = _population(80, rng)
    feats = {"real": train, "normal": _population(80, rng) + 3, "held_out": _population(60, rng),
             "held_out_normal": _population(60, rng) + 3,
             "flipped": train[rng.integers(0, 80, 120)] + 0.01 * rng.normal(size=(120, D)),
             "mixed": tsne.mixed_copies(train, 1.5, 0)}
    mean = train.mean(axis=0)
    some = train[rng.integers(0, 80, 120)]
    tiny = 1e-6 * rng.normal(size=(120, D))
    generators = {"new real masses": _population(120, rng),
                  "copies of the training masses": some + 1e-3 * rng.normal(size=(120, D)),
                  "blurred copies": mean + 0.4 * (some - mean), "the mean image": np.repeat(mean[None], 120, 0) + tiny,
                  "one image": np.repeat(train[:1], 120, 0) + tiny, "pure noise": rng.normal(0, 6, (120, D)),
                  "normal tissue passed off as masses": _population(120, rng) + 3}
    return feats, generators


def _readings(feats, generated):
    table = tsne.support_table({**feats, "generated": generated}, "toy", neighbours=5, n_perm=100, n_boot=500)
    return table, tsne.readings(table)


@pytest.mark.parametrize("name", ["copies of the training masses", "blurred copies", "the mean image", "one image",
                                  "pure noise", "normal tissue passed off as masses"])
@pytest.mark.slow
def test_bad_generators_neither_fill_gaps_nor_avoid_outliers(world, name):
    feats, generators = world
    _, r = _readings(feats, generators[name])
    assert not r["gaps"] and not r["outliers_less"], r
    if name != "copies of the training masses":  # the others are not even judged on distances
        assert not r["judged"] and r["not_judged"]


def test_in_a_gaussian_blob_averages_fill_gaps_too_so_the_measure_cannot_tell(world):
    """New real masses bring held-out masses closer than flips do, but so do averages of two real
    masses (they crowd the blob's dense middle): the gap measure rewards smoothness there, and
    'fills gaps' is not read from it."""
    feats, generators = world
    table, r = _readings(feats, generators["new real masses"])
    assert r["judged"] and r["gap_low"] > 0 and r["control_fills"] and not r["gaps"] and not r["outliers_less"]
    assert r["beyond_low"] <= 0
    assert set(table.masses) == {"real only", "generated", "flipped", "generated - flipped", "smooth control - flipped",
                                 "generated - smooth control"}
    text = " ".join(tsne.verdicts(table))
    assert "the measure rewards smoothness too" in text and "no more than averages of two real masses" in text
    assert "**cannot tell**" in text or "**contradicts** the thesis' reading" in text  # new real masses do not avoid outliers


def _ring(n, rng, radius=5.0):
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)] + 0.05 * rng.normal(size=(n, 2))


def test_generated_masses_that_fill_less_than_the_smooth_control_are_named_so(world):
    """Both intervals exclude 0, in opposite directions (more than flips, less than averages of
    two real masses): the verdict says why that is no evidence of gap filling."""
    feats, generators = world
    table, _ = _readings(feats, generators["new real masses"])
    beyond = table.masses == "generated - smooth control"
    table.loc[beyond, ["value", "low", "high"]] = [-0.02, -0.035, -0.005]
    r = tsne.readings(table)
    assert r["gap_low"] > 0 and not r["gaps"] and not r["gaps_against"]
    assert "fill more still" in " ".join(tsne.verdicts(table)) and "fill more still" in r["gaps_why"]


def test_a_contracted_set_has_its_distance_ratio_read_against_the_null(world):
    feats, generators = world
    table, r = _readings(feats, generators["blurred copies"])
    assert r["ratio"] < r["ratio_low"] and "below that range" in tsne.verdicts(table)[0]
    table, r = _readings(feats, generators["new real masses"])
    assert r["ratio_low"] <= r["ratio"] <= r["ratio_high"] and "that range" not in tsne.verdicts(table)[0].split("real-to-real")[1]


def test_new_masses_on_a_curved_population_fill_gaps_where_averages_do_not():
    """Real masses on a ring: an average of two mostly lies inside it, far from the held-out
    masses, so new masses on the ring fill more gaps than the smooth control. The rule can say
    'fills gaps'."""
    rng = np.random.default_rng(7)
    train = _ring(60, rng)
    feats = {"real": train, "normal": rng.normal(size=(60, 2)) + 20, "held_out": _ring(50, rng),
             "held_out_normal": rng.normal(size=(50, 2)) + 20,
             "flipped": train[rng.integers(0, 60, 90)] + 0.001 * rng.normal(size=(90, 2)),
             "mixed": tsne.mixed_copies(train, 1.5, 0)}
    table, r = _readings(feats, _ring(90, rng))
    assert r["judged"] and r["beyond_low"] > 0 and r["gaps"], r
    assert "This **supports** the reading that they fill gaps" in " ".join(tsne.verdicts(table))


@pytest.mark.slow
def test_a_generator_that_avoids_the_outliers_is_caught():
    """In two dimensions: real masses on a disc with a far rim, a generator that only draws the
    inner disc. It stays far from the outlying masses, flips do not."""
    rng = np.random.default_rng(3)
    angle = rng.uniform(0, 2 * np.pi, 120)
    radius = np.r_[rng.uniform(0, 1, 100), rng.uniform(2.5, 3, 20)]
    real = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    inner = rng.uniform(0, 1, 180) * np.exp(2j * np.pi * rng.uniform(size=180))
    feats = {"real": real, "normal": rng.normal(size=(80, 2)) + 8, "held_out": real[rng.integers(0, 120, 40)] * 0.99,
             "held_out_normal": rng.normal(size=(40, 2)) + 8, "flipped": -real[rng.integers(0, 120, 180)] * 1.001,
             "mixed": tsne.mixed_copies(real, 1.5, 0)}
    _, r = _readings(feats, np.c_[inner.real, inner.imag])
    assert r["out_gen"] > r["out_gen_high"] and r["out_gen"] > r["out_flip"]


def test_maps_embed_each_set_combination():
    feats = {"real": REAL[:40], "generated": FAR[:40], "flipped": REAL[:40] + 0.01, "normal": NORMAL[:40]}
    out = tsne.maps(feats, perplexity=5, n_iter=300, seed=0)
    assert list(out) == list(tsne.MAPS)
    coords, groups = out["real_flipped_normal"]
    assert coords.shape == (120, 2) and set(groups) == {"real", "flipped", "normal"}
    fig = plots.tsne_map(coords, groups, "toy")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0] == "normal tissue (40)"
    with pytest.raises(ValueError, match="unknown names"):
        plots.tsne_map(coords, np.array(["x"] * 120))


def test_check_spaces():
    assert tsne.check_spaces("pixels") == ("pixels",)
    with pytest.raises(ValueError, match="spaces="):
        tsne.check_spaces(["pixels", "umap"])


def test_departures_from_the_thesis_maps_are_listed():
    from thesis_lib import config
    params = config.resolve("tsne", "smoke")
    listed = tsne.departures(params)
    assert "perplexity: 30 (the thesis: 250)" in listed and "k: 100 (the thesis: 500)" in listed
    assert any(d.startswith("PCA to 50 components") for d in listed)
    assert not [d for d in tsne.departures({**params, "perplexity": 250}) if d.startswith("perplexity")]


def test_data_departures_name_the_patch_size_and_folds():
    from thesis_lib import config, reference
    listed = reference.departures("data_prep", config.resolve("data_prep", "smoke"))
    assert "patch_size: 64 (the thesis: 128)" in listed and "n_folds: 2 (the thesis: 3)" in listed
    assert not [d for d in reference.departures("data_prep", config.resolve("data_prep", "gpu"))
                if d.startswith(("patch_size", "n_folds"))]


def test_saturated_scores_are_not_results():
    table = pd.DataFrame({"space": "pixels", "masses": ["generated", "generated", "generated - flipped"],
                          "metric": ["coverage (5-NN)", "distance ratio", "gap filling of held-out masses"],
                          "value": [1.0, 1.1, 0.02], "expected": [1.0, 1.0, 0.0], "low": [1.0, 0.9, 0.0],
                          "high": [1.0, 1.1, 0.0]})
    assert list(tsne.saturated(table)) == [True, False, False]  # the gap interval is a bootstrap, not a null


def test_gap_filling_that_the_smooth_control_also_shows_is_not_reproduced(world):
    """When averages of two real masses fill gaps as well as the generated masses do, the measure
    rewards smoothness, and 'fills gaps' cannot be read from it."""
    feats, generators = world
    rng = np.random.default_rng(5)
    generous = {**feats, "mixed": _population(120, rng)}  # a 'control' that fills gaps as new masses do
    table = tsne.support_table({**generous, "generated": generators["new real masses"]}, "toy", neighbours=5,
                               n_perm=100, n_boot=500)
    r = tsne.readings(table)
    assert r["judged"] and r["gap_low"] > 0 and r["control_fills"] and not r["gaps"]
    assert "no more than averages of two real masses" in " ".join(tsne.verdicts(table))


def test_mixed_copies_average_two_different_patches():
    patches = np.stack([np.full((4, 4), v, np.uint8) for v in (0, 100, 200)])
    mixed = tsne.mixed_copies(patches, 2.0, seed=0)
    assert len(mixed) == 6 and mixed.dtype == np.uint8
    assert set(np.unique(mixed)) <= {50, 100, 150}  # never a patch with itself (0, 100 or 200)
