"""The augmentation study: one training subset per (fold, k, seed), the arms built from it, the
runner, its results table and its intervals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from thesis_lib import config
from thesis_lib.data.datasets import scan
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data.splits import partition_of
from thesis_lib.evaluation.scoring import best_arm, best_f1_threshold, classification_scores, mean_and_sd
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Generator
from thesis_lib.studies import arms, aug_results, augstudy

# Tiny but complete: 2 masses and 20 normals per fold, G_k trained for 2 epochs, 2 classifier seeds
TINY = {"epochs": 1, "gan": {"epochs": 2, "iterations": 0, "eval_every": 1, "sample_every": 1, "eval_samples": 8}}
N_GAN_ARMS = sum(arm.gan for arm in arms.APPROACHES.values())
N_ROWS = (len(arms.APPROACHES) + N_GAN_ARMS) * 3 * 2  # (arms + a second G_k seed of each GAN arm) x folds x seeds


@pytest.fixture(scope="module")
def store_dir(cohort, tmp_path_factory):
    """A patch store of the 6-patient cohort, to be copied into each test's artifacts."""
    records, skips = scan("synthetic", cohort)
    out = tmp_path_factory.mktemp("store") / "patches"
    build_patch_store(records, out, PatchParams(), seed=1, source="synthetic", loader_skips=skips, progress=False)
    return out


def _artifacts(root, store_dir, monkeypatch):
    shutil.copytree(store_dir, root / "smoke" / "patches")
    monkeypatch.setenv("THESIS_ARTIFACTS", str(root))
    return root / "smoke"


@pytest.fixture
def artifacts(store_dir, tmp_path, monkeypatch):
    """A private artifacts folder holding only the patch store."""
    return _artifacts(tmp_path, store_dir, monkeypatch)


@pytest.fixture(scope="module")
def ran(store_dir, tmp_path_factory):
    """The study at k = 2 over every arm, fold and seed, run once: (artifacts, table)."""
    with pytest.MonkeyPatch.context() as mp:
        art = _artifacts(tmp_path_factory.mktemp("ran"), store_dir, mp)
        table = augstudy.run_study("smoke", 2, **TINY, workers=2, progress=False)
        yield art, table


def _study(**overrides):
    return config.resolve("aug", "smoke", **{**TINY, **overrides})


def _patients(store, fold, partitions):
    part = partition_of(store.meta, store.folds, fold)
    return set(store.meta.patient_id[part.isin(partitions)])


def _generator(path):
    checkpoint.save(path, {"config": {"nz": 8, "ngf": 2}, "generator": Generator(8, 2).state_dict()})
    return path


def test_subsets_are_nested_and_from_training_patients(artifacts):
    store, study = augstudy.open_store(artifacts), _study()
    for fold in range(3):
        small, large = (arms.subset_of(store, fold, k, study) for k in (2, 3))
        assert set(small.masses.index) < set(large.masses.index) and len(small.normals) == 20
        assert set(small.normals.index) < set(large.normals.index)
        assert not set(large.masses.patient_id) & _patients(store, fold, ["val", "test"])
        assert small.hash != large.hash and small.hash == arms.subset_of(store, fold, 2, study).hash


@pytest.mark.parametrize("approach, n_positive, n_synthetic, flips", [
    ("ORG", 2, 0, False), ("Aug ORG", 2, 0, True), ("ORG x2.5", 5, 0, False), ("Aug ORG x2.5", 5, 0, True),
    ("GAN", 5, 3, False),
    ("Aug GAN", 5, 3, True)])
def test_approach_composition(artifacts, approach, n_positive, n_synthetic, flips, tmp_path):
    store, study = augstudy.open_store(artifacts), _study()
    subset = arms.subset_of(store, 1, 2, study)
    generator = _generator(tmp_path / "g.pt")
    train = arms.training_set(store, subset, approach, study, generator)
    assert train.counts() == {"n_real": 2, "n_positive": n_positive, "n_synthetic": n_synthetic, "n_normal": 20}
    assert train.flips is flips and train.x.shape == (20 + n_positive, 128, 128)
    assert (train.y[train.synthetic] == 1).all()
    real = store.read(subset.masses.index.to_numpy())
    positives = train.x[(train.y == 1) & ~train.synthetic]
    assert all(any(np.array_equal(p, r) for r in real) for p in positives)  # x2.5 repeats the real masses
    if n_synthetic:  # GAN and Aug GAN draw the same synthetic masses
        other = arms.training_set(store, subset, "Aug GAN" if approach == "GAN" else "GAN", study, generator)
        assert np.array_equal(other.x, train.x)


@pytest.mark.slow
def test_a_run_writes_its_rows_from_one_subset(ran):
    art, table = ran
    store, study = augstudy.open_store(art), _study()
    assert len(table) == N_ROWS and set(table.approach) == set(arms.APPROACHES)
    assert set(table.replicate) == {0, 1} and table.commit.notna().all() and (table.config_hash.str.len() == 12).all()
    gan = table[table.approach.str.contains("GAN")]
    assert (gan.n_synthetic == 3).all() and (table.n_real == 2).all() and (table.n_normal == 20).all()
    assert table[["f1", "precision", "recall", "auc", "ap", "f1_val"]].apply(lambda c: c.between(0, 1)).all().all()
    for fold in range(3):
        subset = arms.subset_of(store, fold, 2, study)
        assert set(table[table.fold == fold].subset_hash) == {subset.hash}  # every arm and seed: one subset
        summary = json.loads((art / "gan" / f"fold{fold}_k2" / "summary.json").read_text())
        assert summary["masses_hash"] == subset.mass_hash  # and G_k saw exactly its masses
        prov = pd.read_json(art / "gan" / f"fold{fold}_k2" / "provenance.json", typ="series")
        assert prov["n_train"] == 2 and prov["parameters"]["k"] == 2
    seeds = table.groupby(["fold", "replicate"]).seed.nunique()
    assert (seeds == 1).all()  # arms of one replicate share the classifier seed: paired
    assert table.steps_per_epoch.nunique() == 1 and (table.epochs_run >= table.best_epoch).all()  # equal steps
    gan_rows = table[table.approach.map(lambda a: arms.APPROACHES[a].gan)]
    assert set(gan_rows.gan_seed) == {0, 1} and table[~table.index.isin(gan_rows.index)].gan_seed.isna().all()
    pred = aug_results.read_predictions(art, 2)
    assert len(pred) == len(table) * table.groupby("fold").n_test_mass.first().add(
        table.groupby("fold").n_test_normal.first()).mean()
    for fold in range(3):
        test = set(pred.patch[pred.fold == fold])
        assert set(store.meta.patient_id[list(test)]) <= _patients(store, fold, ["test"])


@pytest.mark.slow
def test_reruns_reuse_rows_and_generators(ran):
    art, table = ran
    before = aug_results.results_path(art).stat().st_mtime_ns
    again = augstudy.run_study("smoke", 2, **TINY, workers=1, progress=False)  # reused, not recomputed
    assert aug_results.results_path(art).stat().st_mtime_ns == before
    pd.testing.assert_frame_equal(again, table)
    gk_summary = art / "gan" / "fold0_k2" / "summary.json"
    gk_written = gk_summary.stat().st_mtime_ns
    redone = augstudy.run_study("smoke", 2, **TINY, workers=2, reuse=False, progress=False)
    assert len(redone) == N_ROWS  # replaced, not appended
    assert gk_summary.stat().st_mtime_ns == gk_written  # the finished G_k was reused, not rewritten
    cols = ["k", "approach", "fold", "replicate", "n_real", "n_synthetic", "n_normal", "seed", "subset_hash",
            "config_hash"]
    pd.testing.assert_frame_equal(redone[cols], table[cols])
    assert np.allclose(redone.auc, table.auc, atol=1e-9)  # same seeds and threads: the same classifiers


@pytest.mark.slow
def test_another_seed_draws_another_subset_and_retrains_g_k(artifacts):
    """With -p seed 5 the classifier's k masses change, and G_k must be trained on those same
    masses, never reused from the subset of another seed."""
    store = augstudy.open_store(artifacts)
    first = augstudy.run_study("smoke", 2, **TINY, approaches=["GAN"], folds=[0], workers=1, progress=False)
    other = arms.subset_of(store, 0, 2, _study(seed=5))
    assert other.mass_hash != arms.subset_of(store, 0, 2, _study()).mass_hash
    second = augstudy.run_study("smoke", 2, **TINY, seed=5, approaches=["GAN"], folds=[0], workers=1,
                                progress=False)
    assert set(second.subset_hash) == {other.hash} != set(first.subset_hash)
    summary = json.loads((artifacts / "gan" / "fold0_k2" / "summary.json").read_text())
    assert summary["masses_hash"] == other.mass_hash


@pytest.mark.slow
def test_intervals_are_written_per_k_comparison_and_metric(ran):
    art, _ = ran
    out = aug_results.write_intervals(art, n_boot=200)
    pd.testing.assert_frame_equal(out, aug_results.read_intervals(art), check_dtype=False)
    pairs = out[out.comparison.str.contains(" - ")]
    assert set(pairs.comparison) == {" - ".join(c) for c in arms.COMPARISONS}
    assert set(pairs.metric) == set(aug_results.INTERVAL_METRICS)
    gan = out.comparison.str.contains("GAN")  # a GAN arm: 2 G_k seeds x 2 classifier seeds, a level each
    assert (out.n_seeds[gan] == 4).all() and (out.n_seeds[~gan] == 2).all()
    assert (out.n_gan_seeds[gan] == 2).all() and (out.n_gan_seeds[~gan] == 1).all() and (out.n_classifier_seeds == 2).all()
    assert (out.var_gan_seed[~gan] == 0).all() and (out.low90 >= out.low).all() and (out.high90 <= out.high).all()
    assert (pairs.low <= pairs.estimate).all() and (pairs.estimate <= pairs.high).all()
    assert (pairs.p_holm_better >= pairs.p_above).all()
    assert set(pairs.verdict) <= {"better", "worse", "not distinguishable from 0"}
    assert set(out[~out.comparison.str.contains(" - ")].metric) == set(aug_results.ARM_METRICS)


@pytest.mark.slow
def test_several_generators_give_their_own_arms_and_comparisons(artifacts, tmp_path):
    """aug.generators: the first recipe gives the arms GAN and Aug GAN, the thesis' recipe and a
    ready checkpoint each add their own arms, trained (or not) and compared accordingly."""
    ready = _generator(tmp_path / "ready.pt")
    table = augstudy.run_study("smoke", 2, **TINY, generators=["small-data", "thesis", f"imported G={ready}"],
                               approaches=["ORG", "GAN"], folds=[0], workers=1, progress=False)
    assert list(dict.fromkeys(table.approach)) == ["ORG", "GAN", "GAN [imported G]", "GAN [thesis]"]
    assert dict(zip(table.approach, table.generator)) == {"ORG": "", "GAN": "small-data", "GAN [thesis]": "thesis",
                                                          "GAN [imported G]": "imported G"}
    first, thesis = (json.loads((artifacts / "gan" / name / "provenance.json").read_text())["parameters"]
                     for name in ("fold0_k2", "fold0_k2_thesis"))
    assert (first["ema_decay"], first["evaluator"]) == (0.995, "last")  # the profile's gan section
    assert (thesis["ema_decay"], thesis["evaluator"]) == (0.0, "pixel")  # recipes.thesis over it
    assert not list((artifacts / "gan").glob("*imported*"))  # a ready generator is not trained
    assert arms.comparisons(table.approach) == [("GAN", "ORG"), ("GAN [imported G]", "ORG"),
                                                    ("GAN [imported G]", "GAN"), ("GAN [thesis]", "ORG"),
                                                    ("GAN [thesis]", "GAN")]


def test_generators_of_another_size_or_unknown_recipes_are_refused(artifacts, tmp_path):
    small = tmp_path / "g64.pt"
    checkpoint.save(small, {"config": {"nz": 8, "ngf": 2, "image_size": 64}, "generator": Generator(8, 2, 64).state_dict()})
    for generators, error, message in ((f"thesis G={small}", ValueError, "draws 64 x 64 patches but the patch store "
                                                                         "holds 128 x 128"),
                                       ("small-dta", ValueError, "'small-dta' is neither a recipe"),
                                       (f"G={tmp_path / 'none.pt'}", FileNotFoundError, "no generator checkpoint")):
        with pytest.raises(error, match=message):
            augstudy.run_study("smoke", 2, **TINY, generators=generators, progress=False)
    assert not (artifacts / "aug").exists() and not (artifacts / "gan").exists()


def test_merge_replaces_every_replicate_of_a_cell_of_its_config_and_keeps_other_configs(artifacts):
    rows = pd.DataFrame([{c: 0 for c in aug_results.RESULT_COLUMNS} | {"k": 2, "approach": "ORG", "fold": 0, "replicate": r,
                                                                   "config_hash": "default"} for r in (0, 1, 2)])
    pred = pd.DataFrame({"fold": 0, "approach": "ORG", "replicate": [0, 1, 2], "patch": 1, "patient_id": "p",
                         "label": 1, "proba": 0.5, "config_hash": "default"})
    aug_results.merge_results(artifacts, 2, rows, pred)
    merged = aug_results.merge_results(artifacts, 2, rows.iloc[:2].assign(f1=0.5), pred.iloc[:2])
    assert len(merged) == 2 and (merged.f1 == 0.5).all()  # the third replicate of the old run is gone
    assert len(aug_results.read_predictions(artifacts, 2)) == 2
    one_off = aug_results.merge_results(artifacts, 2, rows.iloc[2:].assign(f1=0.9, config_hash="seeds [2]"),
                                     pred.iloc[2:].assign(config_hash="seeds [2]"))
    assert len(one_off) == 3 and set(one_off.config_hash) == {"default", "seeds [2]"}  # another config: kept beside
    assert len(aug_results.read_predictions(artifacts, 2, "default")) == 2
    assert len(aug_results.read_predictions(artifacts, 2, "seeds [2]")) == 1


def test_current_rows_are_each_ks_last_run_config_and_say_where_they_come_from(artifacts):
    """Hashes and commits stay text: 12 hex digits that read as a number (one hash in ~280 is all
    decimal digits, more read as 1e5-style floats) still name their rows."""
    from thesis_lib import paths
    from thesis_lib.io import write_json
    a, b = "123456789012", "0123e4567890"
    rows = pd.DataFrame([{c: 0 for c in aug_results.RESULT_COLUMNS} | {"k": 2, "approach": "ORG", "fold": 0, "replicate": r,
                                                                   "config_hash": h, "commit": "1234567"}
                         for r, h in ((0, a), (1, a), (0, b))])
    pred = pd.DataFrame({"fold": 0, "approach": "ORG", "replicate": [0, 1, 0], "patch": 1, "patient_id": "p",
                         "label": 1, "proba": 0.5, "config_hash": [a, a, b]})
    aug_results.merge_results(artifacts, 2, rows, pred)
    for h, reused in ((a, False), (b, True)):
        write_json(paths.aug(artifacts) / "k2" / "provenance.json",
                   {"config_hash": h, "started_utc": "2026-12-04T22:00:00+00:00", "reused": reused, "parameters": {}})
        current = aug_results.current_rows(artifacts)
        assert set(current.config_hash) == {h} and len(current) == (2 if h == a else 1)
    where = aug_results.reuse_table(artifacts, current)
    assert where.loc[2, "config"] == b and where.loc[2, "computed at commit"] == "1234567" and where.loc[2, "rows reused"]


@pytest.mark.slow
def test_bad_parameters_are_named_and_nothing_is_written(artifacts, store_dir, cohort, tmp_path, monkeypatch):
    bad = [(ValueError, "k=", dict(ks=0)),
           (ValueError, r"k=500: fold 0's training pool holds \d+ mass", dict(ks=[2, 500])),
           (ValueError, "normal_per_real", dict(normal_per_real=10_000)),
           (ValueError, r"unknown \['GANs'\]", dict(approaches=["GANs"])),
           (ValueError, "classifier_seeds=\\[\\]", dict(classifier_seeds=[])),
           (ValueError, "gan_seeds", dict(gan_seeds=[1, 1])),
           (ValueError, "synthetic_per_real=2.0: the control 'ORG x2.5'", dict(synthetic_per_real=2.0)),
           (KeyError, "unknown parameter", dict(epoch=3))]
    for error, message, args in bad:
        ks = args.pop("ks", 2)
        with pytest.raises(error, match=message):
            augstudy.run_study("smoke", ks, **{**TINY, **args})
    assert not (artifacts / "aug").exists() and not (artifacts / "gan").exists()
    records, skips = scan("synthetic", cohort)  # six folds: one patient each in the test sets
    build_patch_store(records, tmp_path / "six" / "smoke" / "patches", PatchParams(), seed=1, source="synthetic",
                      loader_skips=skips, n_folds=6, progress=False)
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path / "six"))
    with pytest.raises(ValueError, match=r"fold 0: its test set holds masses of 1 patient\(s\)"):
        augstudy.run_study("smoke", 1, **TINY, normal_per_real=1)
    assert not (tmp_path / "six" / "smoke" / "aug").exists()
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="run the data step first"):
        augstudy.run_study("smoke", 2, **TINY)
    assert not (tmp_path / "empty" / "smoke" / "aug").exists()


def test_a_misspelt_setting_in_the_profile_is_named_not_defaulted(artifacts, tmp_path, monkeypatch):
    """A typo in the profile's aug section (weight_decy) would leave the classifier at its
    default weight decay; it is an error naming the key and the file instead."""
    import yaml

    profile = yaml.safe_load((config.CONFIG_DIR / "smoke.yaml").read_text())
    profile["aug"]["weight_decy"] = profile["aug"].pop("weight_decay")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "smoke.yaml").write_text(yaml.safe_dump(profile))
    monkeypatch.setattr(config, "CONFIG_DIR", tmp_path / "configs")
    with pytest.raises(KeyError, match=r"configs/smoke.yaml: unknown setting\(s\) \['aug.weight_decy'\]"):
        augstudy.run_study("smoke", 2, **TINY)
    assert not (artifacts / "aug").exists()


def test_parse_ks():
    assert augstudy.parse_ks(100) == [100]
    assert augstudy.parse_ks("[250, 100, 100]") == augstudy.parse_ks("100,250") == [100, 250]
    with pytest.raises(ValueError):
        augstudy.parse_ks([100, -1])


def test_classification_scores_on_known_predictions():
    y = np.array([1, 1, 0, 0, 0])
    s = classification_scores(y, np.array([0.9, 0.4, 0.6, 0.1, 0.2]))
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5
    assert s["auc"] == pytest.approx(5 / 6) and s["ap"] == pytest.approx((1 + 2 / 3) / 2)
    assert np.isnan(classification_scores(np.zeros(3), np.zeros(3))["auc"])


def test_the_validation_threshold_maximises_f1():
    y = np.array([1, 1, 0, 0, 0, 1])
    p = np.array([0.30, 0.25, 0.20, 0.10, 0.05, 0.9])  # at 0.5 only one mass is found
    t = best_f1_threshold(y, p)
    assert 0.20 < t <= 0.25 and classification_scores(y, p, t)["f1"] == 1.0
    assert best_f1_threshold(np.zeros(3), np.array([0.1, 0.2, 0.3])) == 0.5


def test_mean_and_sd_per_k_and_approach():
    table = pd.DataFrame({"k": [10, 10, 10, 10], "approach": ["ORG", "ORG", "GAN", "GAN"],
                          "f1": [0.5, 0.7, 0.8, 0.8]})
    cells = mean_and_sd(table, "f1")
    assert cells.loc[10, "ORG"] == "0.600 ± 0.141" and cells.loc[10, "GAN"] == "0.800 ± 0.000"
    more = pd.concat([table, pd.DataFrame({"k": [10], "approach": ["GAN [thesis]"], "f1": [0.9]})])
    assert best_arm(more, "f1", list(arms.APPROACHES)).label.to_dict() == {10: "GAN"}  # a further generator's arm
    assert best_arm(more, "f1", ["ORG", "GAN [thesis]"]).label.to_dict() == {10: "GAN [thesis]"}  # is judged apart


def test_a_best_arm_carried_by_one_lucky_classifier_is_said_to_be():
    """Aug GAN's mean F1 at k = 50 rests on one classifier of four (the others score 0), the next
    arm's on all four: the best arm is named with its support, and not as supported."""
    lucky = pd.DataFrame({"k": 50, "approach": ["Aug GAN"] * 4 + ["Aug ORG"] * 4,
                          "f1": [0.39, 0.0, 0.0, 0.0, 0.05, 0.05, 0.06, 0.05]})
    best = best_arm(lucky, "f1", ["Aug GAN", "Aug ORG"]).loc[50]
    assert best.arm == "Aug GAN" and not best.supported and (best.carried, best.n) == (1, 4)
    assert best.label == "Aug GAN (1 of 4 classifiers above the next arm's mean)"
    steady = lucky.assign(f1=[0.12, 0.10, 0.11, 0.09, 0.05, 0.05, 0.06, 0.05])
    assert best_arm(steady, "f1", ["Aug GAN", "Aug ORG"]).loc[50, "label"] == "Aug GAN"
    flat = lucky.assign(f1=0.0)
    assert best_arm(flat, "f1", ["Aug GAN", "Aug ORG"]).loc[50, "label"] == "none (every arm 0.000)"


def test_at_render_time_the_chapter_reads_rows_of_its_own_settings_only(artifacts, monkeypatch):
    from thesis_lib import config, paths
    from thesis_lib.io import write_json
    from thesis_lib.results import RENDER_ONLY_ENV, ResultsMissing
    rows = pd.DataFrame([{c: 0 for c in aug_results.RESULT_COLUMNS} | {"k": 2, "approach": "ORG", "fold": 0, "replicate": 0,
                                                                   "config_hash": "a", "commit": "c"}])
    pred = pd.DataFrame({"fold": 0, "approach": "ORG", "replicate": [0], "patch": 1, "patient_id": "p", "label": 1,
                         "proba": 0.5, "config_hash": "a"})
    aug_results.merge_results(artifacts, 2, rows, pred)
    study = config.resolve("aug", "smoke")
    record = paths.aug(artifacts) / "k2" / "provenance.json"
    write_json(record, {"config_hash": "a", "started_utc": "", "parameters": {**study, "k": 2, "workers": 8}})
    monkeypatch.setenv(RENDER_ONLY_ENV, "1")
    assert len(augstudy.current_study("smoke", [2])) == 1  # where and how fast it ran is not a setting
    write_json(record, {"config_hash": "a", "started_utc": "", "parameters": {**study, "k": 2, "classifier_seeds": [2]}})
    with pytest.raises(ResultsMissing, match=r"k2: its last run had other settings \(classifier_seeds\); run "
                                             r"`python -m thesis_lib.studies.augstudy --profile smoke --k 2`"):
        augstudy.current_study("smoke", [2])
    with pytest.raises(ResultsMissing, match=r"k3/provenance.json: missing"):
        augstudy.current_study("smoke", [3])
