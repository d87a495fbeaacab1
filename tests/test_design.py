"""The study design: the primary endpoint's reading (TOST), its stability under the generator
seeds, the variance components and power, the profile's design section, the gate's margin and
the classifiers' equal steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from thesis_lib import config
from thesis_lib.evaluation import power
from thesis_lib.evaluation.bootstrap import FoldScores, hierarchical_bootstrap
from thesis_lib.io import write_json
from thesis_lib.studies import arms, aug_results, primary, realism
from thesis_lib.training.classifier import ClassifierConfig, train_classifier

DESIGN = {"comparison": ["Aug GAN", "Aug ORG x2.5"], "metric": "auc", "beside": ["ap"], "k": 100,
          "margins": {"auc": 0.01, "ap": 0.02}, "margin_why": "test", "alpha": 0.05, "power": 0.8,
          "stable_share": 0.8}


# --- the reading of a difference ----------------------------------------------------------------

@pytest.mark.parametrize("low, high, low90, high90, word", [
    (0.001, 0.02, 0.003, 0.018, power.BETTER), (-0.02, -0.001, -0.018, -0.003, power.WORSE),
    (-0.009, 0.008, -0.007, 0.006, power.EQUIVALENT), (-0.03, 0.02, -0.025, 0.015, power.INCONCLUSIVE),
    (-0.012, 0.004, -0.011, 0.003, power.INCONCLUSIVE)])  # 90 % interval crosses -margin
def test_two_one_sided_tests_read_a_difference_against_its_margin(low, high, low90, high90, word):
    assert power.reading(low, high, low90, high90, 0.01) == word


def test_one_verdict_joins_every_score_of_a_comparison():
    assert power.joined([power.INCONCLUSIVE, power.WORSE]) == power.WORSE  # AUC unsure, AP worse: worse
    assert power.joined([power.BETTER, power.EQUIVALENT]) == power.BETTER
    assert power.joined([power.BETTER, power.WORSE]) == power.INCONCLUSIVE
    assert power.joined([power.EQUIVALENT, power.EQUIVALENT]) == power.EQUIVALENT
    assert power.joined([power.EQUIVALENT, power.INCONCLUSIVE]) == power.INCONCLUSIVE
    with pytest.raises(ValueError):
        power.joined(["reproduced"])


# --- power --------------------------------------------------------------------------------------

def test_the_standard_error_formula_matches_a_simulated_study():
    """A difference built from patient, generator-seed and classifier-seed effects of known
    variance: the formula's standard error is the spread of the simulated estimates."""
    rng = np.random.default_rng(0)
    c = power.Components(patient=0.04, gan_seed=0.0009, classifier_seed=0.0004)
    r = power.Replication(folds=2, gan_seeds=2, classifier_seeds=3, patients=50)
    estimates = []
    for _ in range(4000):
        folds = [rng.normal(0, np.sqrt(c.gan_seed), r.gan_seeds).mean()
                 + rng.normal(0, np.sqrt(c.classifier_seed), r.classifier_seeds).mean()
                 + rng.normal(0, np.sqrt(c.patient), r.patients).mean() for _ in range(r.folds)]
        estimates.append(np.mean(folds))
    assert np.std(estimates) == pytest.approx(power.standard_error(c, r), rel=0.05)
    assert power.detectable(c, r) == pytest.approx(2.8016 * power.standard_error(c, r), rel=1e-3)
    more = power.Replication(2, 8, 8, 50)
    assert power.detectable(c, more) < power.detectable(c, r)
    n = power.seeds_needed(c, r, power.detectable(c, more, df=power.satterthwaite_df(c, more)))
    assert n is not None and n <= 8
    assert power.seeds_needed(c, r, 1e-4) is None  # the patients alone exceed it
    p = power.patients_needed(c, r, 0.05)
    assert power.detectable(c, power.Replication(2, 2, 3, p)) <= 0.05 + 1e-9


def _grid_fold(rng, gan_effects, n_patients=60, n_classifiers=2):
    """One fold: arm 0 a GAN arm whose masses' logit moves by ``gan_effects[g]`` for G_k seed g,
    arm 1 a control repeated for every G_k seed; a full grid of G_k x classifier seeds."""
    has_mass = np.arange(n_patients) < n_patients // 4
    patient = np.repeat(np.arange(n_patients), 6)
    y = np.concatenate([[1, 1, 0, 0, 0, 0] if m else [0] * 6 for m in has_mass]).astype(bool)
    base = 1.2 * y + rng.normal(0, 1, n_patients)[patient] + rng.normal(0, 1, len(y))
    control = [base + rng.normal(0, 0.3, len(y)) for _ in range(n_classifiers)]
    gan = [[control[c] + effect * y + rng.normal(0, 0.1, len(y)) for c in range(n_classifiers)] for effect in gan_effects]
    grid = [(g, c) for g in range(len(gan_effects)) for c in range(n_classifiers)]
    proba = 1 / (1 + np.exp(-np.stack([np.stack([gan[g][c] for g, c in grid]), np.stack([control[c] for _, c in grid])])))
    return FoldScores(y.astype(int), patient, proba, np.full(proba.shape[:2], 0.5),
                      gan_seed=np.array([g for g, _ in grid]), classifier_seed=np.array([c for _, c in grid]))


def test_generator_seeds_are_a_level_of_the_bootstrap():
    """Two G_k seeds that disagree widen the interval and carry a generator component; seeds
    that agree carry none worth the name."""
    rng = np.random.default_rng(1)
    split = [_grid_fold(rng, [1.0, -1.0]) for _ in range(2)]
    same = [FoldScores(f.y, f.patient, f.proba, f.threshold, gan_seed=np.zeros(4, int) + [0, 0, 1, 1],
                       classifier_seed=np.array([0, 1, 0, 1])) for f in [_grid_fold(rng, [0.0, 0.0]) for _ in range(2)]]
    a, b = hierarchical_bootstrap(split, "auc", 1000), hierarchical_bootstrap(same, "auc", 1000)
    assert a["n_gan_seeds"] == 2 and a["n_classifier_seeds"] == 2 and a["n_folds"] == 2
    assert a["var_gan_seed"] > 20 * max(b["var_gan_seed"], 1e-9)
    assert a["high"] - a["low"] > 2 * (b["high"] - b["low"])
    assert a["low90"] >= a["low"] and a["high90"] <= a["high"]


def test_an_incomplete_seed_grid_is_refused():
    fold = _grid_fold(np.random.default_rng(2), [0.5, 0.5])
    with pytest.raises(ValueError, match="every generator seed with every classifier seed"):
        FoldScores(fold.y, fold.patient, fold.proba, fold.threshold, gan_seed=np.array([0, 0, 0, 1]),
                   classifier_seed=np.array([0, 1, 2, 0]))


# --- the primary endpoint on constructed results ----------------------------------------------

def _write_study(art, gan_effects, k=100, folds=2, seed=0):
    """Results and predictions of Aug GAN (every G_k seed x classifier seed) and Aug ORG x2.5
    (every classifier seed) at ``k``; Aug GAN's masses move by ``gan_effects[g]`` for G_k seed g."""
    rng = np.random.default_rng(seed)
    rows, preds = [], []
    for fold in range(folds):
        f = _grid_fold(rng, gan_effects, n_patients=80)
        n_c = 2
        for arm, approach in enumerate(("Aug GAN", "Aug ORG x2.5")):
            for col, (g, c) in enumerate(zip(f.gan_seed, f.classifier_seed)):
                if approach == "Aug ORG x2.5" and g > 0:
                    continue
                gan_seed = float(g) if approach == "Aug GAN" else np.nan
                preds.append(pd.DataFrame({"fold": fold, "approach": approach, "replicate": int(c), "gan_seed": gan_seed,
                                           "patch": np.arange(len(f.y)) + 10_000 * fold,
                                           "patient_id": [f"f{fold}p{p}" for p in f.patient], "label": f.y,
                                           "proba": f.proba[arm, col]}))
                rows.append({"k": k, "approach": approach, "fold": fold, "replicate": int(c), "gan_seed": gan_seed,
                             "threshold": 0.5, "best_epoch": 5, "epochs_run": 8, "config_hash": "scenario"})
        assert n_c == 2
    (art / "aug" / f"k{k}").mkdir(parents=True)
    pd.DataFrame(rows).reindex(columns=aug_results.RESULT_COLUMNS).to_csv(art / "aug" / "results.csv", index=False)
    pd.concat(preds).assign(config_hash="scenario").to_csv(aug_results.predictions_path(art, k), index=False)
    write_json(art / "aug" / f"k{k}" / "provenance.json", {"config_hash": "scenario", "parameters": {"epochs": 20}})


def test_a_clear_benefit_of_both_generator_seeds_is_better_and_stable(tmp_path):
    _write_study(tmp_path, [0.8, 0.8])
    result = primary.endpoint(tmp_path, DESIGN, n_boot=500)
    assert result["verdict_all_seeds"] == power.BETTER and result["verdict"] == power.BETTER
    assert result["left_out"] == {"0": power.BETTER, "1": power.BETTER} and result["agreement"] == 1.0
    assert result["replication"]["gan_seeds"] == 2 and result["detectable"] > 0


def test_a_verdict_that_one_generator_seed_carries_is_seed_dependent(tmp_path):
    """Seed 0 helps a lot, seed 1 not at all: each seed alone reads differently, so whatever the
    pooled reading, the endpoint does not call it better."""
    _write_study(tmp_path, [1.6, 0.0])
    result = primary.endpoint(tmp_path, DESIGN, n_boot=500)
    assert set(result["left_out"].values()) != {result["verdict_all_seeds"]}
    assert result["verdict"] in (primary.SEED_DEPENDENT, power.INCONCLUSIVE)


def test_identical_arms_are_equivalent_within_a_wide_margin(tmp_path):
    _write_study(tmp_path, [0.0, 0.0])
    wide = {**DESIGN, "margins": {"auc": 0.2, "ap": 0.3}}
    assert primary.endpoint(tmp_path, wide, n_boot=500)["verdict"] == power.EQUIVALENT
    narrow = {**DESIGN, "margins": {"auc": 1e-4, "ap": 1e-4}}
    assert primary.endpoint(tmp_path, narrow, n_boot=500)["verdict"] == power.INCONCLUSIVE


def test_an_equivalence_inside_a_margin_below_the_provable_one_is_called_narrow(tmp_path):
    """Equivalent within a margin the design could prove only with less than its power: the
    book says so beside the verdict; with a margin above the provable one it says nothing."""
    _write_study(tmp_path, [0.0, 0.0])
    result = primary.endpoint(tmp_path, {**DESIGN, "margins": {"auc": 0.2, "ap": 0.3}}, n_boot=500)
    assert result["scores"][0]["reading"] == power.EQUIVALENT and result["provable_margin"] < 0.2
    assert primary.narrow_equivalence(result) == ""
    narrow = {**result, "provable_margin": 0.25}
    assert "less often than 80% of the time" in primary.narrow_equivalence(narrow)
    assert primary.readings_in_words(result).startswith("On AUC the two arms are equivalent within 0.2: a benefit "
                                                        "that large is excluded")


def test_the_power_table_projects_every_profile(tmp_path):
    _write_study(tmp_path, [0.4, 0.6])
    result = primary.endpoint(tmp_path, DESIGN, n_boot=300)
    table = primary.power_table(result)
    assert list(table.index) == ["smoke", "gpu", "thesis"]
    assert table.loc["thesis", "detectable"] < table.loc["smoke", "detectable"]  # more patients and folds
    assert "thesis" in primary.power_words({**result, "power_table": table.reset_index().to_dict("records")})


# --- the profile's design section ----------------------------------------------------------------

def _profile(tmp_path, monkeypatch, **changes):
    cfg = yaml.safe_load((config.CONFIG_DIR / "smoke.yaml").read_text())
    for dotted, value in changes.items():
        section, key = dotted.split(".") if "." in dotted else (dotted, None)
        if key is None:
            cfg.pop(section)
        elif value is None:
            cfg[section].pop(key)
        else:
            cfg[section][key] = value
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv(config.RESOLVED_ENV, str(path))
    return path


@pytest.mark.parametrize("changes, error, words", [
    ({"design": None}, KeyError, ["section 'design' missing"]),
    ({"design.margins": {"auc": 0.0, "ap": 0.02, "f1": 0.02}}, ValueError, ["design.margins.auc = 0.0"]),
    ({"design.margins": {"auc": 0.01}}, ValueError, ["design.margins.ap = None"]),
    ({"design.margin_why": " "}, ValueError, ["design.margin_why is empty"]),
    ({"design.comparison": ["Aug GAN", "Aug ORG x3"]}, ValueError, ["design.comparison"]),
    ({"design.metric": "accuracy"}, ValueError, ["design.metric"]),
    ({"design.k": 250}, ValueError, ["design.k = 250"]),
    ({"design.stable_share": 0.4}, ValueError, ["design.stable_share"]),
    ({"aug.gan_seeds": [0]}, ValueError, ["aug.gan_seeds = [0]", "at least 2"]),
    ({"design.power": None}, KeyError, ["'design' lacks", "power"]),
])
def test_a_bad_design_stops_naming_the_file_and_key(tmp_path, monkeypatch, changes, error, words):
    changes = {("design" if k == "design" else k): v for k, v in changes.items()}
    path = _profile(tmp_path, monkeypatch, **changes)
    with pytest.raises(error) as caught:
        config.resolve("aug", "smoke")  # any step: the profile is checked when it is loaded
    assert str(path) in str(caught.value) and all(w in str(caught.value) for w in words)


# --- the quality gate's margin --------------------------------------------------------------

def test_a_redraw_of_samples_does_not_turn_a_passed_gate_into_a_failed_one():
    """Precision measured on N generated samples, redrawn: with the gate's borderline margin, one
    draw passing and another failing clear of the margin is rare at every true precision; a bare
    threshold flips about half the time near it (the test can fail)."""
    rng = np.random.default_rng(0)
    n, threshold = 100, realism.MIN_PRECISION
    margin = realism.binomial_margin(threshold, n)
    worst_gate, worst_bare = 0.0, 0.0
    for true in np.linspace(0.3, 0.7, 21):
        draws = rng.binomial(n, true, (4000, 2)) / n
        passed = draws >= threshold + margin
        failed = draws < threshold - margin
        worst_gate = max(worst_gate, float(np.mean(passed[:, 0] & failed[:, 1])))
        bare = draws >= threshold
        worst_bare = max(worst_bare, float(np.mean(bare[:, 0] & ~bare[:, 1])))
    assert worst_gate < 0.01 and worst_bare > 0.2


def test_a_borderline_generator_neither_passes_nor_fails_the_gate():
    from thesis_lib.studies import generator_gate

    row = {"FID / floor": 1.2, "precision": 0.53, "recall": 0.6, "N generated": 100, "N held-out": 80}
    assert realism.realism_verdict(row)[0]  # meets the rules ...
    assert realism.borderline(row) and not realism.clear_failures(row)  # ... by less than a redraw moves it
    below = {**row, "precision": 0.45}  # fails, but within the margin: borderline too
    assert realism.realism_verdict(below)[1] and not realism.clear_failures(below)
    far = {**row, "recall": 0.1}
    assert realism.clear_failures(far)
    gate = pd.DataFrame({"generator": "g", "k": [100, 100, 250, 250], "fold": [0, 1, 0, 1],
                         "passed": [True, False, True, False], "borderline": [False, True, False, False],
                         "fails": ["", "borderline precision", "", "recall 0.10 (< 0.3)"]})
    assert list(generator_gate.status(gate)) == ["pass", "borderline", "pass", "fail"]
    assert generator_gate.failed_ks(gate) == [250] and generator_gate.borderline_ks(gate) == [100]


# --- classifiers take the same steps in every arm -------------------------------------------

def test_every_arm_takes_the_same_optimiser_steps(monkeypatch):
    steps = []
    original = torch.optim.Adam.step

    def counted(self, *args, **kwargs):
        steps.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counted)
    rng = np.random.default_rng(0)
    counts = {}
    for n_pos in (10, 25):  # ORG's positives, and an x2.5 arm's
        x = rng.integers(0, 255, (100 + n_pos, 32, 32), dtype=np.uint8)
        y = np.r_[np.ones(n_pos), np.zeros(100)].astype(int)
        steps.clear()
        train_classifier(x, y, x[:0], y[:0], ClassifierConfig(ndf=2, epochs=3, batch_size=16, steps_per_epoch=7,
                                                              device="cpu"))
        counts[n_pos] = len(steps)
    assert counts == {10: 21, 25: 21}
    study = {"normal_per_real": 10, "batch_size": 64}
    assert arms.steps_per_epoch(study, 100) == 18  # ceil(1,100 / 64), for every arm at k = 100


# --- the domain-feature check compares with held-out masses at matched N ------------------------

def test_the_domain_distance_is_to_held_out_masses_at_matched_n(cohort, tmp_path, monkeypatch):
    """A 'generator' that draws the fold's held-out masses themselves scores (about) 0, and every
    set holds the same N; with training masses as the reference it would not."""
    from thesis_lib.data.datasets import scan
    from thesis_lib.data.prep import PatchParams, build_patch_store
    from thesis_lib.data.store import PatchStore

    records, skips = scan("synthetic", cohort)
    build_patch_store(records, tmp_path / "patches", PatchParams(), seed=1, source="synthetic", loader_skips=skips,
                      progress=False)
    store = PatchStore(tmp_path / "patches")
    held_out = realism.held_out_masses(store, 0)
    monkeypatch.setattr(realism, "generate", lambda ckpt, n, seed: held_out[:n])
    monkeypatch.setattr(realism, "domain_features", lambda model, x: np.c_[x.mean(axis=(1, 2)), x.std(axis=(1, 2))])
    table = realism.domain_table(store, {0: "unused.pt"}, ClassifierConfig(ndf=2, epochs=1, device="cpu"),
                                 n_generated=len(held_out), seed=0)
    row = table.loc[0]
    n = min(len(held_out), len(realism.partition_patches(store, 0, "train", "mass", None, 0)))
    assert row["N held-out"] == row["N training"] == row["N generated"] == n
    assert row["domain FD"] < 0.05 * max(row["real-real domain FD"], 1e-9) or row["domain FD"] < 1e-6


# --- the kept generator's rule is weighed by the run's own snapshots -------------------------

def test_the_rule_that_keeps_the_last_generator_states_its_cost():
    worse_last = pd.DataFrame({"epoch": [60, 120, 180], "FID": [90.0, 84.0, 106.0], "precision": [0.40, 0.44, 0.22],
                               "N generated": 50})
    text = realism.selection_cost(worse_last)
    assert "epoch 120 (84.0, precision 0.44)" in text and "cost +22.0 FID and -0.22 precision" in text
    assert "do not support the rule" in text
    best_last = worse_last.assign(FID=[106.0, 90.0, 84.0], precision=[0.22, 0.40, 0.44])
    assert "is supported" in realism.selection_cost(best_last)


# --- memorisation flags are tested against chance and controls that cannot copy -----------------

def test_memorisation_flags_are_tested_not_argued():
    from thesis_lib.evaluation import memorisation

    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 6))
    copies = np.r_[train[:6] + 1e-4, rng.normal(size=(58, 6))]  # 6 of 64 copied
    chk = memorisation.check(train, copies, "toy")
    clean = {"held-out": memorisation.check(train, rng.normal(size=(64, 6)), "toy")}
    found = memorisation.reading(chk, clean)
    assert found["chance_p"] < 0.01 and found["finding"] and "A finding" in found["text"]
    assert "Median distance to the nearest training patch: generated" in found["text"]
    near = np.r_[train[6:13] + 1e-4, rng.normal(size=(57, 6))]  # a control flagged as often: explained
    explained = memorisation.reading(chk, {"averages": memorisation.check(train, near, "toy")})
    assert not explained["finding"] and "shows as well (averages)" in explained["text"]
    fresh = memorisation.reading(memorisation.check(train, rng.normal(size=(64, 6)), "toy"), clean)
    assert not fresh["finding"] and "No excess over chance" in fresh["text"]


# --- the methods are written from the run's configuration -----------------------------------------

def test_the_methods_say_what_the_run_did():
    from thesis_lib.book.methods_build import methods_markdown

    cfg = config.load_profile("smoke")
    record = {"profile": "smoke", "config": cfg,
              "gan_runs": {"fold0": {"epochs": 267, "iterations": 2403}, "fold1": {"epochs": 267, "iterations": 2403},
                           "fold0_k100": {"epochs": 601, "iterations": 3605}}}
    text = methods_markdown(record)
    assert f"trained in {len(cfg['aug']['approaches'])} arms" in text and "the best validation AUC" in text
    assert "2 fold GANs: 267 epochs (2,403 iterations); 1 G_k: 601 epochs (3,605 iterations)" in text
    assert "| ORG x2.5 | k real masses, each shown 2.5 times | 10 k normal patches | none |" in text
    assert "maps in pixels" in text and "none: the last average of G's weights is kept" in text
    thesis_like = {**cfg, "aug": {**cfg["aug"], "select_on": "f1", "approaches": ["ORG", "GAN"]}}
    other = methods_markdown({**record, "config": thesis_like})
    assert "trained in 2 arms" in other and "best validation F1 at 0.5" in other
    static = (config.REPO_ROOT / "book" / "methods.md").read_text()
    for drifted in ("It is trained four ways", "keeping the epoch with the best validation F1",
                    "two disjoint halves of the real patches", "the test patches of every fold are\nresampled"):
        assert drifted not in static  # what the examiner found contradicting the chapters
    assert "{include} generated/methods.md" in static



def test_few_seeds_stretch_the_intervals_to_student_t():
    """Two seeds per fold carrying most of the variance leave a handful of degrees of freedom: an
    interval that sat just inside the margin by normal quantiles no longer does."""
    c = power.Components(patient=0.000175, gan_seed=0.0000048, classifier_seed=0.000026)
    few, many = power.Replication(2, 2, 2, 70), power.Replication(2, 40, 40, 70)
    df = power.satterthwaite_df(c, few)
    assert 2 < df < 6 and power.satterthwaite_df(c, many) > 100
    low90, high90 = power.widened(0.0034, -0.0015, 0.0090, 0.90, df)
    assert power.reading(-0.0023, 0.0099, -0.0015, 0.0090, 0.01) == power.EQUIVALENT
    assert high90 > 0.01 and power.reading(*power.widened(0.0034, -0.0023, 0.0099, 0.95, df), low90, high90,
                                           0.01) == power.INCONCLUSIVE
    assert power.detectable(c, few, df=df) > power.detectable(c, few)
    assert power.widened(0.0, -1.0, 1.0, 0.9, float("inf")) == pytest.approx((-1.0, 1.0))


@pytest.mark.parametrize("estimate,low,high", [(0.01, -0.002, 0.02), (0.01, 0.001, 0.02), (-0.01, -0.03, -0.001),
                                               (0.3, 0.25, 0.35)])
def test_a_stretched_interval_and_its_p_values_agree(estimate, low, high):
    """The 95 % interval read with few seeds excludes 0 exactly when a one-sided p lies below
    0.025, and a large effect keeps a p far below a bootstrap's floor of 1 / (n_boot + 1)."""
    boot = {"estimate": estimate, "low": low, "high": high, "low90": low, "high90": high, "p_above": 0.5,
            "p_below": 0.5, "var_patient": 0.01, "var_gan_seed": 0.002, "var_classifier_seed": 0.002,
            "n_folds": 2, "n_patients": 70, "n_gan_seeds": 2, "n_classifier_seeds": 2}
    r = power.for_few_seeds(boot)
    assert 2 < r["df"] < 10 and r["low"] < low and r["high"] > high
    assert (r["low"] > 0) == (r["p_above"] < 0.025) and (r["high"] < 0) == (r["p_below"] < 0.025)
    if estimate == 0.3:
        assert r["p_above"] < 1e-3


def test_the_endpoint_and_the_differences_table_show_one_interval(tmp_path):
    """Examiner: chapter 04 showed two 95 % intervals for the same difference (the endpoint's
    stretched to t, the table's percentiles). Both now come from one reading."""
    _write_study(tmp_path, [0.4, 0.6])
    result = primary.endpoint(tmp_path, DESIGN, n_boot=500)
    table = pd.read_csv(tmp_path / "aug" / "results.csv")
    rows = aug_results.intervals(tmp_path, table, n_boot=500)
    for score in result["scores"]:
        row = rows[(rows.comparison == "Aug GAN - Aug ORG x2.5") & (rows.metric == score["metric"])].iloc[0]
        assert (row.low, row.high, row.df) == pytest.approx((score["low"], score["high"], score["df"]))
        assert row.low < row.bootstrap_low
