"""The study's primary endpoint: one comparison, fixed in the profile before a run, read with a
known power.

The profile's ``design`` section names the comparison "A better than B" (by default Aug GAN
against Aug ORG x2.5: do generated masses help *beyond showing the real masses more often*?),
the score it is judged on and the scores beside it, the k, an equivalence margin per score and
why. :func:`endpoint` reads it from the augmentation study's predictions:

1. every score's paired difference at k, with its 95 % and 90 % hierarchical-bootstrap
   intervals (G_k seeds, classifier seeds, test patients), stretched to Student's t quantiles of
   their Welch-Satterthwaite degrees of freedom (2 seeds per fold leave few), read by two one-sided tests against
   its margin (:func:`thesis_lib.evaluation.power.reading`), and the readings joined into one
   verdict (:func:`thesis_lib.evaluation.power.joined`);
2. the same with each G_k seed left out in turn: when fewer than ``stable_share`` of those
   verdicts agree with the whole run's, the verdict is **seed-dependent** and counts as
   inconclusive;
3. the primary score's variance components, the smallest difference this replication could
   detect and the smallest margin it could show, and what the profiles ``gpu`` and ``thesis``
   could detect with the same components (measured on this run's data, and labelled so).

It is written to ``aug/primary.json`` (the workflow's ``aug_intervals`` step)::

    python -m thesis_lib.studies.primary --profile smoke
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib import config, paths, reference
from thesis_lib.evaluation import power
from thesis_lib.evaluation.bootstrap import hierarchical_bootstrap
from thesis_lib.io import write_json
from thesis_lib.results import ResultsMissing, render_only
from thesis_lib.studies import aug_results

SEED_DEPENDENT = "seed-dependent"
PROFILES = ("smoke", "gpu", "thesis")  # the replications the power table projects to


def primary_path(artifacts: str | Path) -> Path:
    return paths.aug(artifacts) / "primary.json"


def score_rows(pred: pd.DataFrame, table: pd.DataFrame, design: dict, n_boot: int, seed: int,
               gan_seeds: list[int] | None = None) -> list[dict]:
    """Each score's difference A - B at the design's k (``gan_seeds``: those G_k seeds only):
    estimate, 95 % and 90 % intervals, its margin and reading, and the variance components."""
    arms = tuple(design["comparison"])
    rows = []
    for metric in [design["metric"], *design["beside"]]:
        folds = aug_results.fold_scores(pred, table, arms, metric, gan_seeds)
        if not folds:
            raise ResultsMissing(f"k={design['k']}: no fold holds both {arms[0]!r} and {arms[1]!r}; run the "
                                 f"augmentation study with both arms (aug.approaches)")
        boot = power.for_few_seeds(hierarchical_bootstrap(folds, metric, n_boot, seed))  # t quantiles
        margin = float(design["margins"][metric])
        rows.append({"metric": metric, **boot, "margin": margin,
                     "reading": power.reading(boot["low"], boot["high"], boot["low90"], boot["high90"], margin),
                     "detectable": power.detectable(power.Components.of(boot), power.Replication.of(boot),
                                                    design["alpha"], design["power"], boot["df"])})
    return rows


def endpoint(artifacts: str | Path, design: dict, n_boot: int = 2000, seed: int = 0) -> dict:
    """The primary endpoint of the study's current rows (see the module's text)."""
    k = int(design["k"])
    table = aug_results.current_rows(artifacts, [k])
    if not len(table):
        raise ResultsMissing(f"{aug_results.results_path(artifacts)}: no rows at k = {k} (design.k); run "
                             f"`python -m thesis_lib.studies.augstudy --k {k}` first")
    pred = aug_results.read_predictions(artifacts, k, table.config_hash.iloc[0])
    scores = score_rows(pred, table, design, n_boot, seed)
    verdict = power.joined([r["reading"] for r in scores])
    gan_seeds = sorted(int(s) for s in pred.gan_seed.dropna().unique())
    left_out = {}
    if len(gan_seeds) > 1:
        for s in gan_seeds:
            kept = [g for g in gan_seeds if g != s]
            left_out[str(s)] = power.joined([r["reading"] for r in score_rows(pred, table, design, n_boot, seed, kept)])
    agree = float(np.mean([v == verdict for v in left_out.values()])) if left_out else float("nan")
    stable = bool(left_out) and agree >= design["stable_share"]
    first = scores[0]
    components = power.Components.of(first)
    here = power.Replication.of(first)
    return {"comparison": " - ".join(design["comparison"]), "k": k, "metric": design["metric"],
            "margin_why": design["margin_why"], "alpha": design["alpha"], "power": design["power"],
            "scores": scores, "verdict_all_seeds": verdict, "left_out": left_out, "agreement": agree,
            "stable_share": design["stable_share"],
            "verdict": verdict if stable or verdict == power.INCONCLUSIVE else SEED_DEPENDENT,
            "components": vars(components), "replication": vars(here),
            "df": first["df"],
            "detectable": power.detectable(components, here, design["alpha"], design["power"], first["df"]),
            "provable_margin": power.provable_margin(components, here, design["alpha"], design["power"], first["df"]),
            "thesis_effect": thesis_effect(design)}


def thesis_effects(result: dict) -> dict[str, float]:
    """The thesis' Aug GAN - Aug ORG effect at the endpoint's k (or its nearest) in each score of
    ``result`` it reported (AUC and F1; NaN for AP, which it did not report)."""
    return {r["metric"]: thesis_effect({"k": result["k"], "metric": r["metric"]})["effect"] for r in result["scores"]}


def thesis_effect(design: dict) -> dict:
    """The effect the thesis reported for GAN augmentation at the design's k (or its nearest),
    in the primary score: Aug GAN - Aug ORG (the thesis had no x2.5 control); NaN where it did
    not report the score."""
    rep = reference.reported()["augmentation"]
    k = min(rep["k"], key=lambda kk: abs(kk - int(design["k"])))
    values = rep.get(design["metric"]) if design["metric"] in ("auc", "f1") else None
    at = rep["k"].index(k)
    effect = float(values["Aug GAN"][at] - values["Aug ORG"][at]) if values else float("nan")
    return {"comparison": "Aug GAN - Aug ORG", "k": k, "metric": design["metric"], "effect": effect}


def replication_of(profile: str) -> power.Replication:
    """A profile's replication: folds, G_k seeds and classifier seeds from its file; test patients
    per fold its cohort's patients over its folds (a real dataset of unknown size: NaN -> 1)."""
    cfg = config.load_profile(profile)
    folds, n = cfg["data_prep"]["n_folds"], cfg["data_prep"]["n_patients"]
    return power.Replication(folds, len(cfg["aug"]["gan_seeds"]), len(cfg["aug"]["classifier_seeds"]),
                             n / folds if n else 1.0)


def power_display(result: dict) -> pd.DataFrame:
    """:func:`power_table` of ``result`` as a reader sees it: rounded, and "beyond reach" where no
    number of that lever alone reaches the target."""
    table = pd.DataFrame(result["power_table"]).set_index("profile")
    out = table.copy().astype(object)
    for column in ("standard error", "detectable", "provable margin"):
        out[column] = table[column].map("{:.4f}".format)
    for column in ("seeds for the thesis' effect", "seeds for the margin", "patients for the thesis' effect"):
        out[column] = table[column].map(lambda v: "beyond reach" if pd.isna(v) else f"{int(v):,}")
    out["test patients per fold"] = table["test patients per fold"].map("{:.0f}".format)
    return out


def power_table(result: dict, profiles=PROFILES) -> pd.DataFrame:
    """What each profile's replication could detect in the primary score, with the variance
    components this run measured: standard error, smallest detectable difference, smallest
    provable margin, and the seeds (n of each) or test patients per fold it would need to detect
    the thesis' effect and the margin (None: unreachable by that lever alone)."""
    c = power.Components(**result["components"])
    alpha, pw = result["alpha"], result["power"]
    effect = abs(result["thesis_effect"]["effect"])
    margin = result["scores"][0]["margin"]
    rows = {}
    for name in profiles:
        r = replication_of(name)
        df = power.satterthwaite_df(c, r)
        rows[name] = {"folds": r.folds, "G_k seeds": r.gan_seeds, "classifier seeds": r.classifier_seeds,
                      "test patients per fold": r.patients, "standard error": power.standard_error(c, r),
                      "detectable": power.detectable(c, r, alpha, pw, df),
                      "provable margin": power.provable_margin(c, r, alpha, pw, df),
                      "seeds for the thesis' effect": power.seeds_needed(c, r, effect, alpha, pw) if effect > 0 else None,
                      "seeds for the margin": power.seeds_needed(c, r, margin, alpha, pw),
                      "patients for the thesis' effect": power.patients_needed(c, r, effect, alpha, pw)
                      if effect > 0 else None}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("profile")


def scores_table(result: dict) -> pd.DataFrame:
    """The endpoint's scores, one row each: difference, 95 % and 90 % intervals, margin, reading,
    the smallest difference this run could detect in it and the thesis' own effect."""
    rows = pd.DataFrame(result["scores"])
    rows["thesis' effect"] = rows.metric.map(thesis_effects(result))
    rows["score"] = rows.metric.str.upper()
    return rows.set_index("score")[["estimate", "low", "high", "low90", "high90", "df", "margin", "reading",
                                    "detectable", "thesis' effect"]].rename(
        columns={"estimate": "difference", "low": "95 % low", "high": "95 % high", "low90": "90 % low",
                 "high90": "90 % high", "df": "t's df"})


def components_table(result: dict) -> pd.DataFrame:
    """The primary score's variance components: per unit, the run's count of units and their
    share of the estimate's variance at this run's replication."""
    c, r = result["components"], result["replication"]
    per_estimate = {"test patients": c["patient"] / r["patients"] / r["folds"],
                    "G_k seeds": c["gan_seed"] / r["gan_seeds"] / r["folds"],
                    "classifier seeds": c["classifier_seed"] / r["classifier_seeds"] / r["folds"]}
    units = {"test patients": r["patients"], "G_k seeds": r["gan_seeds"], "classifier seeds": r["classifier_seeds"]}
    per_unit = {"test patients": c["patient"], "G_k seeds": c["gan_seed"], "classifier seeds": c["classifier_seed"]}
    total = sum(per_estimate.values()) or float("nan")
    return pd.DataFrame({"variance of one unit": per_unit, "units per fold": units,
                         "share of the estimate's variance": {n: v / total for n, v in per_estimate.items()}}
                        ).rename_axis("level")


def power_words(result: dict) -> str:
    """What the design could tell, in words, from the endpoint's own numbers."""
    effect, margin = result["thesis_effect"], result["scores"][0]["margin"]
    metric = result["metric"].upper()
    table = pd.DataFrame(result["power_table"]).set_index("profile")
    here = result["replication"]
    words = (f"**How to read the components.** Each level's *variance of one unit* is what one test patient, one "
             f"G_k seed or one classifier seed adds to a fold's difference, in squared {metric} units; the "
             "difference's variance is the sum over levels of that, divided by the units per fold, divided by the "
             "folds; the last column gives each level's share of it. From that standard error: "
             f"with {here['folds']} folds, {here['gan_seeds']} G_k seeds, {here['classifier_seeds']} classifier seeds "
             f"and about {here['patients']:.0f} test patients per fold, this run could detect a difference of "
             f"**{result['detectable']:.3f} {metric}** (two-sided {result['alpha']:g}, power {result['power']:g}; "
             f"Student's t with {result['df']:.1f} degrees of freedom, the Welch-Satterthwaite count of so few seeds, "
             "which also stretches the intervals above); and "
             f"if the two arms were truly equal it could show them equivalent within **{result['provable_margin']:.3f}** "
             f"at best (the *provable margin*, with the same power); its margin is {margin:g}. The "
             f"thesis reported {effect['effect']:+.4f} {metric} for {effect['comparison']} at k = {effect['k']}")
    if np.isfinite(effect["effect"]) and abs(effect["effect"]) > 0:
        words += (", " + ("within" if abs(effect["effect"]) >= result["detectable"] else "below")
                  + " what this run could detect")
    words += ". "
    for name, row in table.iterrows():
        needed, patients = row["seeds for the thesis' effect"], row["patients for the thesis' effect"]
        words += f"The **{name}** profile's replication could detect {row['detectable']:.3f}"
        if pd.notna(needed):
            words += (f" and would need {int(needed)} G_k seeds and as many classifier seeds per cell to detect the "
                      "thesis' effect" + (f", or {int(patients):,} test patients per fold at its seeds. "
                                          if pd.notna(patients) else " (more test patients alone would not do). "))
        else:
            words += ("; neither more seeds alone nor more test patients alone would detect the thesis' effect: it "
                      "needs both. " if pd.isna(patients) else
                      f"; it would need {int(patients):,} test patients per fold to detect the thesis' effect. ")
    return words + ("These projections use the variance components measured on this run's data and cohort; a "
                    "profile on other data will have its own.")


def readings_in_words(result: dict) -> str:
    """What each score's reading means for the question, in plain words: an equivalence excludes
    a benefit of the margin's size but not the thesis' own smaller effect; an inconclusive score's
    intervals hold both 0 and the margin."""
    effects = thesis_effects(result)
    words = []
    for r in result["scores"]:
        name, effect = r["metric"].upper(), effects.get(r["metric"], float("nan"))
        if r["reading"] == power.EQUIVALENT:
            words.append(f"on {name} the two arms are equivalent within {r['margin']:g}: a benefit that large is "
                         "excluded" + (f", one as small as the thesis' own ({effect:+.4f} at k = {result['k']}, its Aug GAN - "
                                       "Aug ORG: it had no Aug ORG x2.5) is not"
                                       if np.isfinite(effect) and abs(effect) < r["margin"] else ""))
        elif r["reading"] == power.INCONCLUSIVE:
            words.append(f"on {name} the intervals hold both no difference and one of {r['margin']:g}")
        else:
            words.append(f"on {name} Aug GAN scores {r['reading']} ({r['estimate']:+.3f})")
    text = "; ".join(words)
    return text[0].upper() + text[1:] + "."


def narrow_equivalence(result: dict) -> str:
    """A sentence when the primary score reads "equivalent" although the margin is smaller than
    the *provable margin* (the smallest margin this replication shows equivalent with the
    design's power when the arms are truly equal): the equivalence holds for this run, but a
    repeat of the design would show it less often than that power; "" otherwise."""
    first = result["scores"][0]
    if first["reading"] != power.EQUIVALENT or not result["provable_margin"] > first["margin"]:
        return ""
    return (f"The {first['metric'].upper()} interval lies inside its margin of {first['margin']:g}, although this "
            f"replication could show two truly equal arms equivalent only within {result['provable_margin']:.3f} "
            f"with power {result['power']:g}: the equivalence holds for this run, but a repeat of the same design "
            f"would show it less often than {result['power']:.0%} of the time.")


def write_endpoint(profile: str) -> dict:
    """:func:`endpoint` of the profile's design, with its power table, written to ``aug/primary.json``."""
    design = config.resolve("design", profile)
    study = config.resolve("aug", profile)
    result = endpoint(study["artifacts"], design, study["n_boot"], study["seed"])
    result["power_table"] = power_table(result).reset_index().to_dict(orient="records")
    write_json(primary_path(study["artifacts"]), result)
    return result


def current_endpoint(profile: str) -> dict | None:
    """``aug/primary.json`` when it is newer than the results table (at render time, as on disk),
    else :func:`write_endpoint`; None when the study has no rows at the design's k."""
    study = config.resolve("aug", profile)
    path, results = primary_path(study["artifacts"]), aug_results.results_path(study["artifacts"])
    if render_only() or (path.is_file() and results.is_file() and path.stat().st_mtime_ns >= results.stat().st_mtime_ns):
        return read_endpoint(study["artifacts"])
    try:
        return write_endpoint(profile)
    except ResultsMissing:
        return None


def read_endpoint(artifacts: str | Path) -> dict | None:
    """``aug/primary.json``, or None when the endpoint has not been computed."""
    path = primary_path(artifacts)
    return json.loads(path.read_text()) if path.is_file() else None


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="The primary endpoint of the augmentation study (aug/primary.json).")
    p.add_argument("--profile", default="smoke")
    args = p.parse_args(argv)
    result = write_endpoint(args.profile)
    print(f"{result['comparison']} at k = {result['k']}: {result['verdict']} "
          f"(detectable {result['detectable']:.4f} in {result['metric']})", flush=True)
    print(f"What each profile's replication could detect, with this run's variance components:\n"
          f"{pd.DataFrame(result['power_table']).set_index('profile').round(4).to_string()}", flush=True)


if __name__ == "__main__":
    main()
