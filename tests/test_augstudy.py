"""The augmentation study: its training sets, its runner and its results table."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from thesis_lib import augstudy
from thesis_lib.data.datasets import scan
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data.splits import partition_of
from thesis_lib.scoring import classification_scores, mean_and_sd, paired_bootstrap_f1

# Tiny but complete: 2 masses and 20 normals per fold, G_k trained for 2 epochs
TINY = {"epochs": 1, "gan": {"epochs": 2, "eval_every": 1, "sample_every": 1, "eval_samples": 8}}


@pytest.fixture(scope="module")
def artifacts(cohort, tmp_path_factory):
    """A patch store of the 6-patient cohort in a private artifacts folder."""
    root = tmp_path_factory.mktemp("art")
    records, skips = scan("synthetic", cohort)
    build_patch_store(records, root / "smoke" / "patches", PatchParams(), seed=1, source="synthetic",
                      loader_skips=skips, progress=False)
    old = os.environ.get("THESIS_ARTIFACTS")
    os.environ["THESIS_ARTIFACTS"] = str(root)
    yield root / "smoke"
    if old is None:
        del os.environ["THESIS_ARTIFACTS"]
    else:
        os.environ["THESIS_ARTIFACTS"] = old


@pytest.fixture(scope="module")
def study(artifacts):
    from thesis_lib import config
    return config.resolve("aug", "smoke", **TINY)


def _patients(store, fold, partitions):
    part = partition_of(store.meta, store.folds, fold)
    return set(store.meta.patient_id[part.isin(partitions)])


def test_subsets_are_nested_and_from_training_patients(artifacts, study):
    store = augstudy.open_store(artifacts)
    for fold in range(3):
        for label in ("mass", "normal"):
            small = augstudy.training_rows(store, fold, 2, study["seed"], label)
            large = augstudy.training_rows(store, fold, 3, study["seed"], label)
            assert len(small) == 2 and set(small.index) < set(large.index)
        train = augstudy.training_set(store, fold, 3, "ORG", study)
        assert not set(train.real_rows.patient_id) & _patients(store, fold, ["val", "test"])


@pytest.mark.parametrize("approach, n_synthetic, flips", [("ORG", 0, False), ("Aug ORG", 0, True),
                                                         ("GAN", 3, False), ("Aug GAN", 3, True)])
def test_approach_composition(artifacts, study, approach, n_synthetic, flips, tmp_path):
    from thesis_lib.gan.models import Generator
    from thesis_lib.gan import checkpoint

    generator = tmp_path / "g.pt"
    checkpoint.save(generator, {"config": {"nz": 8, "ngf": 2}, "generator": Generator(8, 2).state_dict()})
    store = augstudy.open_store(artifacts)
    train = augstudy.training_set(store, 1, 2, approach, study, generator)
    assert train.counts() == {"n_real": 2, "n_synthetic": n_synthetic, "n_normal": 20}
    assert train.flips is flips and train.x.shape == (22 + n_synthetic, 128, 128)
    assert (train.y[train.synthetic] == 1).all()
    if n_synthetic:  # GAN and Aug GAN draw the same synthetic masses
        other = augstudy.training_set(store, 1, 2, "Aug GAN" if approach == "GAN" else "GAN", study, generator)
        assert np.array_equal(other.x, train.x)


def test_a_run_writes_its_rows_and_reruns_are_idempotent(artifacts, study):
    table = augstudy.run_study("smoke", 2, **TINY, workers=2, progress=False)
    assert len(table) == 12 and set(table.approach) == set(augstudy.APPROACHES)
    assert set(table.fold) == {0, 1, 2} and table.commit.notna().all() and (table.config_hash.str.len() == 12).all()
    gan = table[table.approach.str.contains("GAN")]
    assert (gan.n_synthetic == 3).all() and (table.n_real == 2).all() and (table.n_normal == 20).all()
    assert table[["f1", "precision", "recall"]].apply(lambda c: c.between(0, 1)).all().all()
    for fold in range(3):  # G_k saw k training masses of its fold, nothing else
        prov = pd.read_json(artifacts / "gan" / f"fold{fold}_k2" / "provenance.json", typ="series")
        assert prov["n_train"] == 2 and prov["parameters"]["k"] == 2
    pred = augstudy.read_predictions(artifacts, 2)
    store = augstudy.open_store(artifacts)
    for fold in range(3):
        test = set(pred.patch[pred.fold == fold])
        assert set(store.meta.patient_id[list(test)]) <= _patients(store, fold, ["test"])

    before = augstudy.results_path(artifacts).stat().st_mtime_ns
    again = augstudy.run_study("smoke", 2, **TINY, workers=1, progress=False)  # reused, not recomputed
    assert augstudy.results_path(artifacts).stat().st_mtime_ns == before
    pd.testing.assert_frame_equal(again, table)

    gk_summary = artifacts / "gan" / "fold0_k2" / "summary.json"
    gk_written = gk_summary.stat().st_mtime_ns
    redone = augstudy.run_study("smoke", 2, **TINY, workers=2, reuse=False, progress=False)
    assert len(redone) == 12  # replaced, not appended
    assert gk_summary.stat().st_mtime_ns == gk_written  # the finished G_k was reused, not rewritten
    cols = ["k", "approach", "fold", "n_real", "n_synthetic", "n_normal", "seed", "config_hash"]
    pd.testing.assert_frame_equal(redone[cols], table[cols])
    assert np.allclose(redone.auc, table.auc, atol=1e-9)  # same seeds and threads: the same classifiers


def test_the_table_merges_k_values(artifacts, study):
    augstudy.run_study("smoke", 3, **TINY, approaches=["ORG"], folds=[0], workers=1, progress=False)
    table = augstudy.read_results(artifacts)
    assert (table.k == 2).sum() == 12 and len(table[table.k == 3]) == 1
    rows = table[table.k == 3].assign(f1=0.5)
    merged = augstudy.merge_results(artifacts, rows)
    assert len(merged) == 13 and merged[merged.k == 3].f1.item() == 0.5


def test_bad_parameters_are_named_and_nothing_is_written(artifacts, tmp_path, monkeypatch):
    before = sorted(p.name for p in (artifacts / "aug").iterdir()) if (artifacts / "aug").exists() else []
    with pytest.raises(ValueError, match="k="):
        augstudy.run_study("smoke", 0, **TINY)
    with pytest.raises(ValueError, match=r"k=500: fold 0's training pool holds \d+ mass"):
        augstudy.run_study("smoke", [2, 500], **TINY)
    with pytest.raises(ValueError, match="normal_per_real"):
        augstudy.run_study("smoke", 2, **{**TINY, "normal_per_real": 10_000})
    with pytest.raises(ValueError, match="unknown \\['GANs'\\]"):
        augstudy.run_study("smoke", 2, **TINY, approaches=["GANs"])
    with pytest.raises(KeyError, match="unknown parameter"):
        augstudy.run_study("smoke", 2, epoch=3)
    after = sorted(p.name for p in (artifacts / "aug").iterdir()) if (artifacts / "aug").exists() else []
    assert after == before
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run the data step first"):
        augstudy.run_study("smoke", 2, **TINY)
    assert not (tmp_path / "smoke" / "aug").exists()


def test_parse_ks():
    assert augstudy.parse_ks(100) == [100]
    assert augstudy.parse_ks("[250, 100, 100]") == augstudy.parse_ks("100,250") == [100, 250]
    with pytest.raises(ValueError):
        augstudy.parse_ks([100, -1])


def test_classification_scores_on_known_predictions():
    y = np.array([1, 1, 0, 0, 0])
    s = classification_scores(y, np.array([0.9, 0.4, 0.6, 0.1, 0.2]))
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5
    assert s["auc"] == pytest.approx(5 / 6)
    assert np.isnan(classification_scores(np.zeros(3), np.zeros(3))["auc"])


def test_paired_bootstrap_of_the_f1_difference():
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.2
    same = paired_bootstrap_f1([(y, y * 0.9, y * 0.9)] * 3, n_boot=500)
    assert same["difference"] == same["low"] == same["high"] == 0.0
    noisy = np.where(rng.random(300) < 0.3, 1 - y, y).astype(float)
    better = paired_bootstrap_f1([(y, y.astype(float), noisy)] * 3, n_boot=500)
    assert better["low"] > 0 and better["p_not_better"] == 0.0
    assert better["low"] <= better["difference"] <= better["high"]
    with pytest.raises(ValueError, match="n_boot"):
        paired_bootstrap_f1([(y, y, y)], n_boot=10)


def test_mean_and_sd_per_k_and_approach():
    table = pd.DataFrame({"k": [10, 10, 10, 10], "approach": ["ORG", "ORG", "GAN", "GAN"],
                          "f1": [0.5, 0.7, 0.8, 0.8]})
    cells = mean_and_sd(table, "f1")
    assert cells.loc[10, "ORG"] == "0.600 ± 0.141" and cells.loc[10, "GAN"] == "0.800 ± 0.000"
