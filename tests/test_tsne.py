"""t-SNE maps and the neighbourhood scores behind them, on point sets with known answers."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from thesis_lib import neighbourhoods as nb
from thesis_lib import plots, tsne
from thesis_lib.embedding import embed, pick_backend

matplotlib.use("Agg")
RNG = np.random.default_rng(0)
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


def test_copies_of_the_real_set_sit_on_it():
    share, expected = nb.nearest_is_reference(REAL, REAL.copy())
    assert share == 1.0 and expected == pytest.approx(60 / 119)
    cov = nb.coverage(REAL, REAL.copy(), 3)
    assert cov["coverage"] == 1.0 and cov["outlier coverage"] == 1.0 and cov["outliers"] == 6
    assert nb.distance_ratio(REAL, REAL.copy()) == 0.0


def test_a_far_set_neither_mixes_nor_covers():
    share, _ = nb.nearest_is_reference(REAL, FAR)
    cov = nb.coverage(REAL, FAR, 3)
    assert share == 0.0 and cov["coverage"] == 0.0 and cov["outlier coverage"] == 0.0
    assert nb.distance_ratio(REAL, FAR) > 10


def test_a_second_draw_of_the_same_distribution_scores_near_exchangeable():
    other = RNG.normal(size=(90, 8))
    share, expected = nb.nearest_is_reference(REAL, other)
    cov = nb.coverage(REAL, other, 5)
    assert abs(share - expected) < 0.15 and abs(cov["coverage"] - cov["expected"]) < 0.15
    assert 0.6 < nb.distance_ratio(REAL, other) < 1.2


def test_coverage_of_outliers_only_counts_the_outlying_real_points():
    real = np.r_[np.zeros((9, 1)) + np.arange(9)[:, None] * 0.1, [[10.0]]]  # one outlier
    near_outlier = np.array([[10.05]])
    cov = nb.coverage(real, near_outlier, 1, outlier_percentile=95)
    assert cov["outliers"] == 1 and cov["outlier coverage"] == 1.0 and cov["coverage"] == 0.1


def test_separability_falls_when_added_masses_lie_beyond_normal_tissue():
    masses, normals = RNG.normal(size=(60, 8)) + 1.2, NORMAL - 2.0  # overlapping: AUC below 1
    clean = nb.separability(masses, normals, seed=0)
    helped = nb.separability(masses, normals, added=RNG.normal(size=(90, 8)) + 1.2, seed=0)
    poisoned = nb.separability(masses, normals, added=RNG.normal(size=(90, 8)) + 5.0, seed=0)
    assert 0.8 < clean < 1.0 and abs(helped - clean) < 0.05 and poisoned < clean - 0.2
    assert nb.separability(masses, normals, seed=0) == clean  # seeded


def test_separability_keeps_copies_of_test_masses_out_of_training():
    masses, normals = RNG.normal(size=(40, 200)) + 0.1, RNG.normal(size=(40, 200))  # d > n: memorisable
    copies = np.repeat(masses, 5, axis=0)
    leaky = nb.separability(masses, normals, copies, seed=1)
    fair = nb.separability(masses, normals, copies, np.repeat(np.arange(40), 5), seed=1)
    assert leaky > fair + 0.1  # memorised copies of the test masses inflate the AUC
    with pytest.raises(ValueError, match="added_source"):
        nb.separability(masses, normals, None, np.arange(3))


def test_flipped_copies_are_real_flips_of_their_sources():
    patches = RNG.integers(0, 256, (6, 4, 4), dtype=np.uint8)
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


def _feats():
    return {"real": REAL, "generated": FAR, "flipped": REAL + 0.01, "normal": NORMAL}


def test_support_table_and_verdicts_follow_the_numbers():
    source = np.arange(60)
    table = tsne.support_table(_feats(), "toy", neighbours=3, cv_splits=3, flipped_source=source, seed=0)
    assert set(table.masses) == {"real only", "generated", "flipped"} and len(table) == 11
    value = table.set_index(["masses", "metric"]).value
    assert value["flipped", "nearest neighbour is real"] == 1 and value["generated", "coverage (3-NN)"] == 0
    text = " ".join(tsne.verdicts(table))
    assert "does **not support** the reading that they fill gaps" in text
    assert "less than flips do, **as the thesis says**" in text
    close = tsne.support_table({**_feats(), "generated": REAL + 0.01}, "toy", neighbours=3, cv_splits=3,
                               flipped_source=source, seed=0)
    text = " ".join(tsne.verdicts(close))
    assert "this **supports** the reading" in text and "support outliers **as much as** flips" in text


def test_maps_embed_each_set_combination():
    feats = {k: v[:40] for k, v in _feats().items()}
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
