"""The scorecard's verdicts on constructed results, and the reproducibility record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thesis_lib import provenance
from thesis_lib.io import write_json
from thesis_lib.book import verdict_words
from thesis_lib.studies import aug_results, primary, realism, scorecard
from thesis_lib.studies.arms import APPROACHES


DESIGN = {"comparison": ["Aug GAN", "Aug ORG x2.5"], "metric": "auc", "beside": ["ap", "f1"], "k": 100,
          "margins": {"auc": 0.01, "ap": 0.02, "f1": 0.02}, "margin_why": "the test's", "alpha": 0.05, "power": 0.8,
          "stable_share": 0.8}


def _write_aug(art, f1_by_approach: dict[str, list[float]], ks=(100, 250), n=200, seed=0):
    """Results, predictions, intervals and the primary endpoint (:data:`DESIGN`) whose test F1 per
    (k, approach) is close to the given values: predictions right with the given probability on
    both classes, 2 classifier seeds per cell (GAN arms: each with 2 G_k seeds), test patients of
    5 patches each (the first 10 with masses). ORG x2.5, when not given, scores as Aug ORG x2.5."""
    if "Aug ORG x2.5" in f1_by_approach:
        f1_by_approach = {"ORG x2.5": f1_by_approach["Aug ORG x2.5"], **f1_by_approach}
    rng = np.random.default_rng(seed)
    patient = np.arange(n) // 5
    y = (patient < 10).astype(int)
    rows, preds = [], {k: [] for k in ks}
    for i, k in enumerate(ks):
        for approach, f1s in f1_by_approach.items():
            for fold in range(3):
                for replicate in (0, 1):
                    for gan_seed in ((0, 1) if APPROACHES[approach].gan else (np.nan,)):
                        proba = np.where(rng.random(n) < f1s[i], y, 1 - y).astype(float)
                        preds[k].append(pd.DataFrame({"fold": fold, "approach": approach, "replicate": replicate,
                                                      "gan_seed": gan_seed, "patch": np.arange(n) + 1000 * fold,
                                                      "patient_id": [f"f{fold}p{p}" for p in patient],
                                                      "label": y, "proba": proba}))
                        tp = float(((proba >= 0.5) & (y == 1)).sum())
                        f1 = 2 * tp / max(float((proba >= 0.5).sum() + y.sum()), 1.0)  # each classifier's own F1
                        rows.append({"k": k, "approach": approach, "fold": fold, "replicate": replicate,
                                     "gan_seed": gan_seed, "f1": f1, "auc": 0.9, "threshold": 0.5,
                                     "config_hash": "scenario"})
    table = pd.DataFrame(rows).reindex(columns=aug_results.RESULT_COLUMNS)
    (art / "aug").mkdir(parents=True)
    table.to_csv(art / "aug" / "results.csv", index=False)
    for k, frames in preds.items():
        (art / "aug" / f"k{k}").mkdir()
        pd.concat(frames).assign(config_hash="scenario").to_csv(art / "aug" / f"k{k}" / "predictions.csv.gz",
                                                                index=False)
        write_json(art / "aug" / f"k{k}" / "provenance.json", {"config_hash": "scenario", "parameters": {}})
    aug_results.write_intervals(art, n_boot=1000)  # bootstrap p-values down to 1/1001: Holm over 10 tests can reach 0.025
    if {"Aug GAN", "Aug ORG x2.5"} <= set(f1_by_approach) and 100 in ks:
        write_json(primary.primary_path(art), primary.endpoint(art, DESIGN, n_boot=1000))


def _write_fid(art, curve=(250.0, 150.0), realistic=True, precision=0.8):
    """The FID chapter's record: three folds that pass (or fail) the realism rules, and a curve."""
    good = {"FID": 60.0, "real-real FID": 45.0, "FID / floor": 1.33, "precision": precision, "recall": 0.6,
            "closer to training": 0.52}
    bad = {"FID": 200.0, "real-real FID": 45.0, "FID / floor": 4.4, "precision": 0.1, "recall": 0.0,
           "closer to training": 0.9}
    rows = []
    for f in range(3):
        row = {"fold": f, "N generated": 100, "N held-out": 90, **(good if realistic else bad)}
        rows.append({**row, "realistic": realism.realism_verdict(row)[0]})
    epochs = np.linspace(10, 60, len(curve))
    write_json(art / "fid" / "provenance.json", {
        "table": rows, "curve": [{"epoch": e, "FID": v, "N generated": 50} for e, v in zip(epochs, curve)]})


def _write_tsne(art, judged=True, gap=(0.05, 0.02, 0.08), outlier=(1.5, 1.0, 1.2, 0.8)):
    """A support table: the generated set's gate values, the gap-filling difference (value, low,
    high) and the outlier distance ratios (generated, its null mean and high, flipped)."""
    gen, null, high, flip = outlier
    spread = 0.9 if judged else 0.1
    rows = [("pixels", "real only", "mass-vs-normal AUC (held-out)", 0.9, np.nan, np.nan, np.nan),
            ("pixels", "generated - flipped", "gap filling of held-out masses", gap[0], 0.0, gap[1], gap[2]),
            ("pixels", "smooth control - flipped", "gap filling of held-out masses", -0.02, 0.0, -0.04, 0.0),
            ("pixels", "generated - smooth control", "gap filling of held-out masses", gap[0] + 0.02, 0.0, gap[1] + 0.02,
             gap[2] + 0.02)]
    for masses, values in (("generated", {"spread": spread, "outlier distance ratio": (gen, null, 0.9, high)}),
                           ("flipped", {"spread": 1.0, "outlier distance ratio": (flip, 0.9, 0.8, 1.0)})):
        ratio = values["outlier distance ratio"]
        rows += [("pixels", masses, "nearest neighbour is real", 0.5, 0.5, 0.4, 0.6),
                 ("pixels", masses, "distance ratio", 1.0, 1.0, 0.9, 1.1),
                 ("pixels", masses, "outlier distance ratio", ratio[0], ratio[1], ratio[2], ratio[3]),
                 ("pixels", masses, "gap filling of held-out masses", 0.1, np.nan, np.nan, np.nan),
                 ("pixels", masses, "spread", values["spread"], 1.0, np.nan, np.nan),
                 ("pixels", masses, "precision", 0.8, np.nan, np.nan, np.nan),
                 ("pixels", masses, "recall", 0.6, np.nan, np.nan, np.nan),
                 ("pixels", masses, "mass-vs-normal AUC (held-out)", 0.9, np.nan, np.nan, np.nan)]
    (art / "tsne").mkdir(parents=True)
    pd.DataFrame(rows, columns=["space", "masses", "metric", "value", "expected", "low", "high"]).to_csv(
        art / "tsne" / "support.csv", index=False)


# The claims whose verdict follows from this run's numbers alone (FID's value is never comparable)
SCORED_CLAIMS = (scorecard.F1_RISES, "Aug GAN gives the best F1 at the smallest k",
                 scorecard.GAN_ORG, scorecard.UP_TO_500, scorecard.PRIMARY,
                 "generated masses fill gaps between real ones", "generated masses support outliers less than flips")


def _verdicts(art):
    table = scorecard.claims_table(scorecard.Results.load(art))
    return dict(zip(table.claim, table.verdict)), table


def _scenario(art, f1_by_approach, curve, tsne, realistic=True):
    """Write augmentation, FID and t-SNE results, then score them: (verdict per claim, table)."""
    _write_aug(art, f1_by_approach)
    _write_fid(art, curve=curve, realistic=realistic)
    _write_tsne(art, **tsne)
    return _verdicts(art)


def test_nothing_run_is_not_comparable(tmp_path):
    verdicts, table = _verdicts(tmp_path)
    assert set(verdicts.values()) == {scorecard.NOT_COMPARABLE} and len(table) == 10
    assert (table["this run"] == "not run").all()


@pytest.mark.slow
def test_results_that_agree_with_the_thesis_are_reproduced(tmp_path):
    verdicts, table = _scenario(tmp_path, {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "Aug ORG x2.5": [0.72, 0.82],
                                           "GAN": [0.88, 0.97], "Aug GAN": [0.95, 0.97]},
                                curve=(250.0, 210.0, 190.0, 150.0, 140.0), tsne={})
    assert verdicts["FID falls as the DCGAN trains"] == scorecard.REPRODUCED
    assert verdicts["the kept generator is realistic by FID"] == scorecard.REPRODUCED
    for claim in SCORED_CLAIMS:
        assert verdicts[claim] == scorecard.REPRODUCED, claim
    assert table[table.chapter == "aug"]["this run"].str.contains(r"\(04_aug_study.ipynb\)").all()
    text = verdict_words.narrative(table)["augmentation"]
    assert text.startswith("Reproduced: *") and "Not reproduced" not in text


@pytest.mark.slow
def test_a_failed_generator_gate_leaves_the_gan_arm_claims_unjudged(tmp_path):
    """Results that agree with the thesis say nothing about GAN augmentation when a G_k behind the
    GAN arms does not draw masses: those claims become "not comparable", with the reason."""
    from thesis_lib.studies.generator_gate import gate_path

    good = {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "Aug ORG x2.5": [0.72, 0.82], "GAN": [0.88, 0.97],
            "Aug GAN": [0.95, 0.97]}
    _scenario(tmp_path, good, curve=(250.0, 210.0, 190.0, 150.0, 140.0), tsne={})
    gate = pd.DataFrame({"k": [100, 250], "fold": [0, 0], "gan_seed": [0, 0], "passed": [True, True], "fails": ["", ""]})
    gate.to_csv(gate_path(tmp_path), index=False)
    verdicts, _ = _verdicts(tmp_path)
    assert all(verdicts[c] == scorecard.REPRODUCED for c in SCORED_CLAIMS)  # every G_k passed: judged
    gate.loc[0, ["passed", "fails"]] = [False, "FID 2.6 x the floor (> 2); recall 0.12 (< 0.3)"]  # G_100 fails
    gate.to_csv(gate_path(tmp_path), index=False)
    verdicts, table = _verdicts(tmp_path)
    aug = table[table.chapter == "aug"].set_index("claim")
    assert verdicts[scorecard.F1_RISES] == scorecard.REPRODUCED  # no GAN arm in it
    assert verdicts[scorecard.PRIMARY] == scorecard.NOT_COMPARABLE  # fixed at k = 100, whose G_k failed
    # the smallest-k claim moves to the smallest k the thesis ran whose G_k passed, and says so
    assert verdicts[scorecard.SMALLEST_K] == scorecard.REPRODUCED
    assert "(here k = 250)" in aug.loc[scorecard.SMALLEST_K, "rule"]
    judged_at_250 = aug.index.drop(list(scorecard.NO_GAN_ARM) + [scorecard.PRIMARY])
    assert (aug.loc[judged_at_250, "verdict"] != scorecard.NOT_COMPARABLE).all()  # judged at the k whose G_k passed
    assert aug.loc[judged_at_250, "rule"].str.contains("judged at k = 250 only: 1 of 2 G_k failed the quality gate, "
                                                       "at k = 100").all()
    assert aug.loc[scorecard.SMALLEST_K, "rule"].endswith("they failed on FID x the floor, recall)")
    assert all(r.k != 100 or "GAN" not in r.comparison for r in scorecard.judged_intervals(
        scorecard.Results.load(tmp_path)).reset_index().itertuples())  # nor in Holm's family
    gate.loc[1, ["passed", "fails"]] = [False, "recall 0.12 (< 0.3)"]  # every G_k fails: nothing about GAN arms
    gate.to_csv(gate_path(tmp_path), index=False)
    verdicts, _ = _verdicts(tmp_path)
    assert all(verdicts[c] == scorecard.NOT_COMPARABLE for c in aug.index.drop(list(scorecard.NO_GAN_ARM)))
    assert verdicts[scorecard.SMALLEST_K] == scorecard.NOT_COMPARABLE
    # a further generator (aug.generators) adds arms of its own: its gate does not judge GAN and Aug GAN
    passed = gate.assign(passed=True, fails="")
    pd.concat([passed.assign(generator="small-data"), gate.assign(generator="thesis")]).to_csv(gate_path(tmp_path),
                                                                                                index=False)
    verdicts, _ = _verdicts(tmp_path)
    assert all(verdicts[c] == scorecard.REPRODUCED for c in SCORED_CLAIMS)


@pytest.mark.slow
def test_results_against_the_thesis_are_not_reproduced(tmp_path):
    verdicts, _ = _scenario(tmp_path, {"ORG": [0.90, 0.80], "Aug ORG": [0.95, 0.97], "Aug ORG x2.5": [0.95, 0.97],
                                       "GAN": [0.70, 0.75], "Aug GAN": [0.72, 0.74]},
                            curve=(150.0, 250.0, 170.0, 240.0, 140.0), realistic=False,
                            tsne=dict(gap=(-0.03, -0.05, -0.01), outlier=(0.7, 1.0, 1.2, 0.8)))
    assert verdicts["FID falls as the DCGAN trains"] == scorecard.INCONCLUSIVE  # last < first, but no trend
    assert verdicts["the kept generator is realistic by FID"] == scorecard.NOT_REPRODUCED
    for claim in SCORED_CLAIMS:
        assert verdicts[claim] == scorecard.NOT_REPRODUCED, claim
    # flips help here (Aug ORG above ORG), clearly at k = 100 only: not the majority of k the rule asks, and
    # nothing excludes the thesis' effect either
    assert verdicts[scorecard.FLIPS] == scorecard.INCONCLUSIVE


@pytest.mark.slow
def test_arms_without_a_true_difference_reproduce_no_difference_claim(tmp_path):
    """Every arm as good as every other (a generator that adds nothing): no claim that needs a
    difference between arms may pass, however the means happen to fall."""
    same = [0.85, 0.85]
    verdicts, table = _scenario(tmp_path, {a: same for a in APPROACHES}, curve=(250.0, 150.0), tsne={})
    for claim in (*SCORED_CLAIMS[1:5], scorecard.FLIPS):  # the intervals hold 0 and the thesis' small effects:
        assert verdicts[claim] == scorecard.INCONCLUSIVE, claim  # the study cannot tell, it does not refute
    assert verdicts["FID falls as the DCGAN trains"] == scorecard.INCONCLUSIVE  # 2 snapshots show no trend
    judged = scorecard.judged_intervals(scorecard.Results.load(tmp_path))
    assert len(judged) == 2 * len(scorecard.JUDGED) and (judged.detectable > 0).all()
    assert (judged.p_holm_better >= judged.p_above).all()  # Holm over all 10 judged tests at once
    assert judged.loc[("Aug GAN - Aug ORG", "f1", 100), "thesis"] == pytest.approx(0.892 - 0.889)
    assert table.set_index("claim").loc[scorecard.FLIPS, "this run"].count("detectable") == 2
    assert table.set_index("claim").loc[scorecard.FLIPS, "this run"].count("(Holm p ") == 2  # the p the verdict used


@pytest.mark.slow
def test_a_degenerate_cell_is_no_evidence(tmp_path):
    """At k = 100 every classifier of every arm scores F1 0 (nothing called a mass): claims resting
    on F1 there are inconclusive, whatever the other k shows."""
    arms = {"ORG": [0.0, 0.80], "Aug ORG": [0.0, 0.82], "Aug ORG x2.5": [0.0, 0.82], "GAN": [0.0, 0.90],
            "Aug GAN": [0.0, 0.97]}
    verdicts, table = _scenario(tmp_path, arms, curve=(250.0, 210.0, 190.0, 150.0, 140.0), tsne={})
    assert scorecard.degenerate_ks(scorecard.Results.load(tmp_path), "f1") == [100]
    rules = table.set_index("claim").rule
    for claim in (scorecard.F1_RISES, "Aug GAN gives the best F1 at the smallest k"):
        assert verdicts[claim] == scorecard.INCONCLUSIVE, claim
    assert "same constant for every classifier at k = 100 (0.000)" in rules["Aug GAN gives the best F1 at the smallest k"]
    assert "every ORG classifier scores the same F1 at k = 100 (0.000)" in rules[scorecard.F1_RISES]


def test_the_fid_trend_needs_enough_snapshots_and_fails_flat_or_noisy_curves():
    def trend(values):
        return realism.fid_trend(pd.DataFrame({"epoch": np.arange(len(values)) * 10.0, "FID": values}))

    assert trend([250.0, 200.0, 150.0, 120.0])["falls"] is None  # 4 snapshots: too few
    assert trend([250.0, 210.0, 190.0, 150.0, 140.0, 120.0])["falls"] is True
    flat = trend(list(200.0 + np.random.default_rng(0).normal(0, 1, 8)))
    noisy = trend([150.0, 250.0, 170.0, 240.0, 140.0, 230.0])
    assert flat["falls"] is False and noisy["falls"] is False
    assert noisy["low"] < 0 < noisy["high"]  # inconclusive, not a rise


def test_a_blurred_or_collapsed_generator_cannot_pass_the_t_sne_claims(tmp_path):
    """Distances that favour the generated set, from a set too narrow to be judged on them."""
    _write_tsne(tmp_path, judged=False)
    table = scorecard.claims_table(scorecard.Results.load(tmp_path))
    tsne_rows = table[table.chapter == "tsne"]
    assert (tsne_rows.verdict == scorecard.INCONCLUSIVE).all() and tsne_rows.rule.str.contains("here not").all()


def test_t_sne_readings_inside_their_null_range_are_inconclusive(tmp_path):
    """A gap difference whose interval holds 0 and an outlier ratio inside its null's range tell
    nothing either way: inconclusive, not "not reproduced"."""
    _write_tsne(tmp_path, gap=(0.01, -0.01, 0.03), outlier=(0.95, 1.0, 1.2, 0.97))
    verdicts, _ = _verdicts(tmp_path)
    assert verdicts["generated masses fill gaps between real ones"] == scorecard.INCONCLUSIVE
    assert verdicts["generated masses support outliers less than flips"] == scorecard.INCONCLUSIVE


@pytest.mark.slow
def test_side_by_side_puts_both_sources_on_the_union_of_k(tmp_path):
    _write_aug(tmp_path, {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "GAN": [0.75, 0.85], "Aug GAN": [0.9, 0.9]},
               ks=(50, 100))
    res = scorecard.Results.load(tmp_path)
    table = verdict_words.side_by_side(res, "f1")
    assert list(table.index) == [50, 100, 250, 500, 750, 1000, 1300]
    assert table.loc[50, ("ORG", "thesis")] == "–" and table.loc[100, ("ORG", "thesis")] == "0.864"
    org = res.intervals.set_index(["k", "comparison", "metric"]).loc[(100, "ORG", "f1")]
    assert table.loc[100, ("ORG", "this run")] == \
        f"[{org.estimate:.3f} [{org.low:.3f}, {org.high:.3f}]](04_aug_study.ipynb)"
    assert org.low < org.estimate < org.high
    assert table.loc[250, ("GAN", "this run")] == "–" and table.loc[100, ("Aug ORG x2.5", "thesis")] == "–"


def test_provenance_is_collected_into_tables(tmp_path):
    run = provenance.Run("train_gan", {"seed": 3, "epochs": 5, "betas": [0.0, 0.9], "artifacts": "x"})
    run.write(tmp_path / "gan" / "fold0")
    provenance.Run("fid", {"seed": 3}).write(tmp_path / "fid")
    (tmp_path / ".patches.partial").mkdir()
    (tmp_path / ".patches.partial" / "provenance.json").write_text("{}")  # unfinished: ignored
    records = provenance.collect(tmp_path)
    assert sorted(r["folder"] for r in records) == ["fid", "gan/fold0"]
    steps = provenance.steps_table(records)
    assert sorted(steps.step) == ["fid", "train_gan"] and (steps["CPU cores"] >= 1).all()
    provenance.Run("notes", {}).write(tmp_path / "notes")  # a step without a seed
    mixed = provenance.steps_table(provenance.collect(tmp_path)).set_index("folder")
    assert str(mixed.seed.dtype) == "Int64" and mixed.loc["fid", "seed"] == 3 and pd.isna(mixed.loc["notes", "seed"])
    assert "3.0" not in mixed.seed.to_string()  # shown as the whole number it is
    params = provenance.parameters_table(records, "train_gan")
    assert params.loc["epochs", "gan/fold0"] == 5 and params.loc["betas", "gan/fold0"] == json.dumps([0.0, 0.9])
    assert "artifacts" not in params.index
    packages = provenance.packages_table(records)
    assert packages.loc["torch", "version"] and "python" in packages.index


@pytest.mark.parametrize("p_better, p_worse, word", [(0.001, 0.999, "better"), (0.999, 0.001, "worse"),
                                                     (0.03, 0.97, "not distinguishable from 0")])
def test_difference_verdicts(p_better, p_worse, word):
    assert aug_results.difference_verdict(p_better, p_worse) == word


def test_t_sne_claims_follow_the_one_definition_of_realism(tmp_path):
    """The maps of a G_k that failed the quality gate, or of a fold GAN that failed the realism
    rules, judge nothing: their claims are "not comparable", as the GAN arms' are."""
    from thesis_lib.studies.generator_gate import gate_path

    _write_tsne(tmp_path)  # distances that would reproduce both claims
    write_json(tmp_path / "tsne" / "provenance.json", {"parameters": {"fold": 0, "k": 100, "generator": None}})
    gate = pd.DataFrame({"k": [100], "fold": [0], "gan_seed": [0], "passed": [True], "fails": [""]})
    gate_path(tmp_path).parent.mkdir(parents=True)
    gate.to_csv(gate_path(tmp_path), index=False)
    verdicts, _ = _verdicts(tmp_path)
    assert verdicts["generated masses fill gaps between real ones"] == scorecard.REPRODUCED
    gate.loc[0, ["passed", "fails"]] = [False, "recall 0.00 (< 0.3)"]
    gate.to_csv(gate_path(tmp_path), index=False)
    verdicts, table = _verdicts(tmp_path)
    rows = table[table.chapter == "tsne"]
    assert (rows.verdict == scorecard.NOT_COMPARABLE).all() and rows.rule.str.contains("G_100 of fold 0").all()
    write_json(tmp_path / "tsne" / "provenance.json", {"parameters": {"fold": 0, "k": "all", "generator": None}})
    _write_fid(tmp_path, curve=(250.0, 150.0), realistic=False)
    verdicts, _ = _verdicts(tmp_path)
    assert verdicts["generated masses fill gaps between real ones"] == scorecard.NOT_COMPARABLE


@pytest.mark.slow
def test_an_arm_that_scores_one_constant_is_no_evidence_for_its_trend(tmp_path):
    arms = {"ORG": [0.0, 0.80], "Aug ORG": [0.5, 0.82], "Aug ORG x2.5": [0.5, 0.82], "GAN": [0.6, 0.90],
            "Aug GAN": [0.7, 0.97]}
    verdicts, table = _scenario(tmp_path, arms, curve=(250.0, 210.0, 190.0, 150.0, 140.0), tsne={})
    assert verdicts[scorecard.F1_RISES] == scorecard.INCONCLUSIVE
    assert "every ORG classifier scores the same F1 at k = 100 (0.000)" in \
        table.set_index("claim").loc[scorecard.F1_RISES, "rule"]


def test_the_landing_page_opens_with_the_verdict_counts(tmp_path):
    verdicts, table = _verdicts(tmp_path)
    text = verdict_words.verdict_markdown(table, "smoke", "synthetic")
    assert text.startswith("**The verdict of this build** (profile **smoke**, data: synthetic): of 10 claims (9 of the "
                           "thesis', 1 a control it did not run)")
    assert "**10** not comparable" in text and "(results/06_scorecard.ipynb)" in text
    for topic, page in (("Realism", "03_fid"), ("Augmentation", "04_aug_study"), ("t-SNE", "05_tsne")):
        assert f"- **{topic}** ([chapter {page[:2]}](results/{page}.ipynb)): Not comparable: *" in text, topic
    intro = (Path(scorecard.__file__).parents[2] / "book" / "intro.md").read_text()
    assert intro.index("{include} generated/verdict.md") < intro.index("**Abstract.**")


def test_realism_verdict_needs_a_majority_to_pass_and_no_fold_to_fail(tmp_path):
    rows = []
    for fold, good in ((0, True), (1, False)):
        row = {"fold": fold, "N generated": 100, "N held-out": 112 + 4 * fold, "FID": 60.0 if good else 200.0,
               "real-real FID": 45.0, "FID / floor": 1.3 if good else 4.4, "precision": 0.8 if good else 0.1,
               "recall": 0.6 if good else 0.0, "closer to training": 0.5}
        rows.append({**row, "realistic": good})
    write_json(tmp_path / "fid" / "provenance.json", {"table": rows, "curve": []})
    table = scorecard.claims_table(scorecard.Results.load(tmp_path)).set_index("claim")
    kept = table.loc["the kept generator is realistic by FID"]
    assert kept.verdict == scorecard.INCONCLUSIVE and "112-116 held-out" in kept["this run"]


@pytest.mark.slow
def test_a_best_arm_carried_by_one_classifier_is_no_evidence(tmp_path):
    """Aug GAN leads at the smallest k only because one of its twelve classifiers scored high: the
    claim "Aug GAN gives the best F1 at the smallest k" is inconclusive, and the rule says why."""
    arms = {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "Aug ORG x2.5": [0.72, 0.82], "GAN": [0.88, 0.97],
            "Aug GAN": [0.95, 0.97]}
    _write_aug(tmp_path, arms)
    results = pd.read_csv(tmp_path / "aug" / "results.csv")
    results.loc[results.k == 100, "f1"] = 0.3
    cell = (results.k == 100) & (results.approach == "Aug GAN")
    results.loc[cell, "f1"] = [1.0] + [0.25] * (cell.sum() - 1)  # one lucky run of 12 lifts the mean to 0.31
    results.to_csv(tmp_path / "aug" / "results.csv", index=False)
    _write_fid(tmp_path, curve=(250.0, 210.0, 190.0, 150.0, 140.0))
    _write_tsne(tmp_path)
    verdicts, table = _verdicts(tmp_path)
    name = "Aug GAN gives the best F1 at the smallest k"
    assert verdicts[name] == scorecard.INCONCLUSIVE
    assert "rests on 1 of 12 classifiers" in table.set_index("claim").rule[name]


def test_folds_that_pass_by_a_margin_a_redraw_could_erase_are_inconclusive(tmp_path):
    """Every fold passes, but with precision 0.52 at N = 100 generated, within the binomial margin
    of the 0.5 rule: "realistic by FID" is inconclusive, and says which fold is borderline."""
    _write_fid(tmp_path, curve=(250.0, 210.0, 190.0, 150.0, 140.0), precision=0.52)
    verdicts, table = _verdicts(tmp_path)
    claim = "the kept generator is realistic by FID"
    assert verdicts[claim] == scorecard.INCONCLUSIVE
    shown = table.set_index("claim").loc[claim, "this run"]
    assert "fold 0 passes only within a redraw's margin (precision 0.52 within" in shown


def test_a_difference_stands_as_a_finding_only_without_constant_cells_or_failed_generators(tmp_path):
    aug = pd.DataFrame({"k": 50, "approach": ["ORG"] * 2 + ["Aug ORG"] * 2 + ["GAN"] * 2,
                        "f1": [0.0, 0.0, 0.2, 0.3, 0.1, 0.2], "auc": [0.8, 0.82, 0.85, 0.86, 0.84, 0.83]})
    passed = pd.DataFrame({"k": [50], "fold": [0], "generator": ["g"], "passed": [True], "fails": [""]})
    res = scorecard.Results(data=None, fid=None, aug=aug, intervals=None, tsne=None, artifacts=tmp_path, gate=passed)
    assert scorecard.standing(res, "Aug ORG - ORG", "f1", 50).startswith("no evidence: every ORG classifier scores f1 0.000")
    assert scorecard.standing(res, "Aug ORG - ORG", "auc", 50) == "finding"
    assert scorecard.standing(res, "GAN - ORG", "auc", 50) == "finding"
    failed = res.__class__(**{**res.__dict__, "gate": passed.assign(passed=False, fails="recall 0.1 (< 0.3)")})
    assert scorecard.standing(failed, "GAN - ORG", "auc", 50) == "a description: a G_k at k = 50 failed the quality gate"
    assert scorecard.standing(failed, "Aug ORG - ORG", "auc", 50) == "finding"  # no GAN arm in it


def test_the_t_sne_sentences_place_the_nearest_neighbour_share_against_its_null_range(tmp_path):
    from thesis_lib.studies import tsne
    _write_tsne(tmp_path)
    table = pd.read_csv(tmp_path / "tsne" / "support.csv")
    inside = tsne.verdicts(table)[0]
    assert "95 % range 40-60 %)" in inside and "fewer than that range" not in inside
    rows = (table.masses == "generated") & (table.metric == "nearest neighbour is real")
    clustered = tsne.verdicts(table.assign(value=np.where(rows, 0.3, table.value)))[0]
    assert "fewer than that range: the generated masses lie nearer each other than the real ones" in clustered
    separability = tsne.verdicts(table)[3]
    assert "without an interval: a description, not a finding" not in separability  # 0.9 -> 0.9: unchanged


def _judged(high, thesis, p_holm):
    index = pd.MultiIndex.from_tuples([("Aug ORG - ORG", "auc", 100)], names=["comparison", "metric", "k"])
    return pd.DataFrame({"high": [high], "thesis": [thesis], "p_holm_below_thesis": [p_holm]}, index=index)


def test_not_reproduced_needs_the_thesis_effect_excluded_after_holm():
    """An interval that ends below the thesis' effect before the correction is not enough (the
    examiner's 'flips help: not reproduced' on one unadjusted interval); after it, it is."""
    assert scorecard.claim_verdict(_judged(0.003, 0.004, 0.10), False) == scorecard.INCONCLUSIVE
    assert scorecard.claim_verdict(_judged(0.003, 0.004, 0.001), False) == scorecard.NOT_REPRODUCED
    assert scorecard.claim_verdict(_judged(0.003, 0.004, 0.001), True) == scorecard.REPRODUCED


@pytest.mark.slow
def test_classifiers_stopped_at_their_cap_make_the_augmentation_verdicts_inconclusive(tmp_path):
    good = {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "Aug ORG x2.5": [0.72, 0.82], "GAN": [0.88, 0.97],
            "Aug GAN": [0.95, 0.97]}
    _scenario(tmp_path, good, curve=(250.0, 210.0, 190.0, 150.0, 140.0), tsne={})
    results = pd.read_csv(tmp_path / "aug" / "results.csv")
    for k in (100, 250):
        write_json(tmp_path / "aug" / f"k{k}" / "provenance.json", {"config_hash": "scenario", "parameters": {"epochs": 6}})
    results.to_csv(tmp_path / "aug" / "results.csv", index=False)
    converged = results.assign(best_epoch=4, epochs_run=6)
    converged.to_csv(tmp_path / "aug" / "results.csv", index=False)
    verdicts, _ = _verdicts(tmp_path)
    assert verdicts[scorecard.PRIMARY] == scorecard.REPRODUCED and verdicts[scorecard.GAN_ORG] == scorecard.REPRODUCED
    capped = results.assign(best_epoch=np.where(np.arange(len(results)) % 4 == 0, 6, 4), epochs_run=6)  # 25 % at 6
    capped.to_csv(tmp_path / "aug" / "results.csv", index=False)
    res = scorecard.Results.load(tmp_path)
    assert scorecard.at_cap_share(res) == pytest.approx(0.25)
    verdicts, table = _verdicts(tmp_path)
    rules = table.set_index("claim").rule
    for claim in (scorecard.PRIMARY, scorecard.GAN_ORG, scorecard.UP_TO_500):
        assert verdicts[claim] == scorecard.INCONCLUSIVE, claim
        assert "25% of the classifiers kept their last allowed epoch" in rules[claim]


@pytest.mark.slow
def test_the_landing_page_opens_with_the_answer_to_the_primary_question(tmp_path):
    good = {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "Aug ORG x2.5": [0.72, 0.82], "GAN": [0.88, 0.97],
            "Aug GAN": [0.95, 0.97]}
    _, table = _scenario(tmp_path, good, curve=(250.0, 150.0), tsne={})
    res = scorecard.Results.load(tmp_path)
    text = verdict_words.verdict_markdown(table, "smoke", "synthetic", res)
    assert text.startswith("**The primary question: do generated masses help the classifier beyond showing the real")
    assert "**Answer: yes" in text and text.index("**Answer") < text.index("**The verdict of this build**")
    assert table.claim.iloc[0] == scorecard.PRIMARY  # the scorecard's first row
    assert "- **Augmentation** ([chapter 04](results/04_aug_study.ipynb)): Reproduced: *" in text
    aug = verdict_words.chapter_findings(res, "aug")  # chapter 04's opening: the answer, then its claims
    assert aug.startswith("**The primary question") and "(04_aug_study.ipynb)" in aug and "(results/" not in aug
    assert "**What this chapter finds** about the thesis' augmentation claims: Reproduced: " in aug
    assert scorecard.PRIMARY not in aug.split("**What this chapter finds**")[1]  # said once, as the answer
    fid = verdict_words.chapter_findings(res, "fid")
    assert fid.startswith("**What this chapter finds** about the thesis' realism claims:")
    assert "*FID falls as the DCGAN trains*" in fid
    with pytest.raises(ValueError, match="chapter='data'"):
        verdict_words.chapter_findings(res, "data")


@pytest.mark.slow
def test_a_borderline_generator_leaves_the_gan_claims_undecided(tmp_path):
    """Results that agree with the thesis, but a G_100 within the binomial margin of a realism
    threshold: a redraw could fail it, so no claim on it is decided (inconclusive, not 'not
    comparable' and not 'reproduced'); a clear failure at k = 250 leaves k = 250 unjudged."""
    from thesis_lib.studies.generator_gate import gate_path

    good = {"ORG": [0.70, 0.80], "Aug ORG": [0.72, 0.82], "Aug ORG x2.5": [0.72, 0.82], "GAN": [0.88, 0.97],
            "Aug GAN": [0.95, 0.97]}
    _scenario(tmp_path, good, curve=(250.0, 210.0, 190.0, 150.0, 140.0), tsne={})
    gate = pd.DataFrame({"k": [100, 250], "fold": [0, 0], "gan_seed": [0, 0], "passed": [False, True],
                         "borderline": [True, False], "fails": ["borderline recall 0.33 within 0.09 of 0.3", ""]})
    gate.to_csv(gate_path(tmp_path), index=False)
    verdicts, table = _verdicts(tmp_path)
    rules = table.set_index("claim").rule
    for claim in (scorecard.PRIMARY, scorecard.GAN_ORG, scorecard.SMALLEST_K, scorecard.UP_TO_500):
        assert verdicts[claim] == scorecard.INCONCLUSIVE, claim
        assert "borderline on the quality gate" in rules[claim]
    assert verdicts[scorecard.F1_RISES] == scorecard.REPRODUCED  # no GAN arm in it


def test_a_claim_about_each_k_names_the_k_it_was_judged_at():
    assert scorecard.coverage_note([100], [100, 250, 500]) == (
        "; judged at k = 100 only, of the thesis' k = 100, 250, 500: it holds or fails there, and says nothing of "
        "the other k")
    assert scorecard.coverage_note([100, 250, 500, 750], [100, 250, 500]) == ""


def test_a_trend_claim_with_one_k_is_inconclusive_not_incomparable(tmp_path):
    """Examiner: one k cannot show a trend; that is the design's limit (inconclusive), not numbers
    that measure something else (not comparable)."""
    _write_aug(tmp_path, {"ORG": [0.7], "Aug ORG": [0.72]}, ks=(100,))
    verdicts, table = _verdicts(tmp_path)
    row = table.set_index("claim").loc[scorecard.F1_RISES]
    assert verdicts[scorecard.F1_RISES] == scorecard.INCONCLUSIVE
    assert "the only k that ran" in row["this run"] and "a trend needs two k or more" in row["rule"]


def test_a_fold_that_passes_only_within_a_redraw_s_margin_is_named_borderline():
    """Examiner: '1 of 2 folds meet every rule' while that fold's precision sat within its margin."""
    table = pd.DataFrame({"fold": [0, 1], "realistic": [False, True], "precision": [0.3, 0.55], "recall": [0.1, 0.6],
                          "N generated": [100, 100], "N held-out": [140, 140]})
    words = scorecard.pass_words(table)
    assert words.startswith("0 of 2 folds meet every realism rule clear of the margins; fold 1 passes only within "
                            "a redraw's margin (precision 0.55 within")  # the gate's sense of borderline: not a pass
    assert "fold 0" not in words
    assert scorecard.pass_words(table.assign(precision=[0.3, 0.8])) == ("1 of 2 folds meet every realism rule clear "
                                                                        "of the margins")


def test_the_claims_table_on_the_page_labels_its_rules_and_folds_their_text():
    claims = scorecard.claims_table(scorecard.Results.load(Path("/nonexistent")))
    shown, rules = verdict_words.claims_on_the_page(claims)
    assert list(shown.columns) == ["claim", "thesis", "this run", "verdict", "rule"]
    assert list(shown.rule[:2]) == ["rule 1", "rule 2"] and shown.map(lambda v: len(str(v))).max().max() < 300
    assert rules.startswith("<details>") and rules.count("<li>") == len(claims)


@pytest.mark.parametrize("fids, shape", [((160, 120, 90), "it falls to its last snapshot"),
                                         ((160, 120, 85, 106), "it falls, then rises"),
                                         ((90, 120, 160), "it never falls below its first snapshot")])
def test_the_fid_curve_is_told_by_its_shape_not_only_its_slope(fids, shape):
    curve = pd.DataFrame({"epoch": [60 * (i + 1) for i in range(len(fids))], "FID": fids})
    words = scorecard.curve_shape(curve)
    assert words.endswith(shape) and words.startswith(f"{fids[0]} at epoch 60, lowest {min(fids)} at epoch")
