# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Do generated masses help a classifier?

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml (section aug)
profile: str = "smoke"
k: list = None  # one training size (100) or several ("50, 100" or [50, 100]); None: the profile's list
approaches: list = None
epochs: int = None  # classifier epochs
classifier_seeds: list = None  # e.g. [0, 1, 2]: one classifier per seed and cell
gan_seeds: list = None  # e.g. [0, 1]: one G_k per seed, fold and k
workers: int = None  # trainings at once, one process each (0: one per CPU core)
reuse: bool = True  # keep rows computed with the same config instead of recomputing them
n_boot: int = None
gan: dict = None  # G_k settings that differ from the profile's gan section, e.g. {"epochs": 5}
generators: list = None  # recipes or ready generators, e.g. ["small-data", "thesis"] (section aug.generators)
seed: int = None

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%

from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown, display

from thesis_lib import config, paths, reference
from thesis_lib.book import plots
from thesis_lib.data import report, shortcuts, splits
from thesis_lib.evaluation.scoring import auc_standard_error, mean_and_sd
from thesis_lib.provenance import short_commit
from thesis_lib.studies import augstudy, generator_gate, primary, realism, scorecard
from thesis_lib.training.gan_config import GanConfig

overrides = dict(approaches=approaches, epochs=epochs, classifier_seeds=classifier_seeds, gan_seeds=gan_seeds,
                 workers=workers, n_boot=n_boot, gan=gan, generators=generators, seed=seed)
params = config.resolve("aug", profile, **overrides)
thesis_aug = config.resolve("aug", "thesis")  # the thesis' design, as the thesis profile states it
art = Path(params["artifacts"])
figures = paths.figures(art)
ks = augstudy.parse_ks(k if k is not None else params["k"])
# The aug_k, aug_intervals and aug_gate steps' results (python -m thesis_lib.studies.augstudy,
# ... --intervals, python -m thesis_lib.studies.generator_gate); outside the book's render, the
# missing ones are computed here
table = augstudy.current_study(profile, ks, reuse=reuse, **overrides)
intervals = augstudy.current_intervals(art, params["n_boot"], params["seed"])
gk_samples, budget_rows, described = generator_gate.current_shown(profile, ks)
gan_params = augstudy.gan_params(profile, params, next(s for s in augstudy.declared_sources(profile, params)
                                                       if s.trained_here))
order = sorted(set(table.approach), key=augstudy.arm_order)
endpoint = primary.current_endpoint(profile)  # the aug_intervals step's aug/primary.json
gate = generator_gate.current_gate(profile, ks)  # the aug_gate step's table of every G_k

# %% tags=["remove-input"]
res = scorecard.Results.load(art)  # the verdicts' view of these results (gate, primary endpoint, standings)
Markdown(scorecard.chapter_findings(res, "aug"))  # what the scorecard concludes from this chapter

# %% [markdown]
# This is the thesis' central experiment {cite}`alyafi2020dcgans`. Masses are rare: a
# screening programme sees far more normal tissue than lesions, and a classifier trained on
# few masses among many normal patches learns to say "normal". The question is whether masses
# drawn from a GAN, trained on the few real ones, help that classifier more than the classic
# remedy, random flips.
#
# **Protocol.** For each training size k and each patient-level {term}`fold`, *one*
# training subset is drawn from the fold's training patients: k real masses (nested: a smaller
# k's masses lie inside a larger k's) and ten times as many normal patches. A generator {term}`G_k` is trained on
# those k masses only, with the DCGAN of chapter 01, and gives 1.5 k synthetic masses. The
# thesis' classifier (the discriminator's design, 9 channels in its first block widening with
# depth, and one logit) is then
# trained six ways on that same subset (the thesis' ratios and widths; this run's are stated
# below the settings, and any that differ are flagged):
#
# | approach | training set | flips |
# |---|---|---|
# | ORG | k real + 10 k normal | no |
# | Aug ORG | k real + 10 k normal | random horizontal and vertical, on the fly |
# | ORG x2.5 | the k real masses, each shown 2.5 times + 10 k normal | no |
# | Aug ORG x2.5 | the k real masses, each shown 2.5 times + 10 k normal | on the fly |
# | GAN | k real + 1.5 k generated + 10 k normal | no |
# | Aug GAN | k real + 1.5 k generated + 10 k normal | on real and generated |
#
# **Aug ORG x2.5 is not in the thesis.** Aug GAN differs from Aug ORG in two ways at once: it
# has generated masses, and it has 2.5 times as many positives, so its classifier sees a
# different class ratio (about 20 % masses against 9 %). A classifier's scores move with the
# class ratio alone, and {term}`F1` at a fixed threshold of 0.5 moves most. Aug ORG x2.5 shows the
# real masses as often as Aug GAN shows real plus generated ones, with the same flips: the
# two differ only by where the extra positives come from. It is the fair control; ORG x2.5,
# the same without flips, is GAN's. Every classifier takes the same number of optimiser steps
# per epoch (one pass over ORG's set), so an arm with more positives is not trained longer.
# Every G_k is trained with two seeds, and every GAN arm is trained on each.
#
# Each arm keeps the epoch with the best validation {term}`AUC` (the thesis kept the best validation F1
# at 0.5, which ties at 0 while a classifier calls nothing a mass), training until `patience`
# epochs bring no better one or the cap of `epochs` is reached, and is scored on its fold's test
# patients, the same for every k and arm. **G_k sees only the k real masses of its fold**,
# the same masses as every arm (a hash of the subset is stored with G_k and with every result
# row), so no validation or test patient reaches the generator.
#
# **Scores.** Threshold-free first: the ROC AUC and the average precision ({term}`AP`, the area under
# the precision-recall curve, which weighs the rare class). Then F1 at 0.5, the thesis'
# metric, and F1 at the threshold that maximises F1 on the fold's validation patients, which
# removes the part of F1 that a shifted class ratio moves.
#
# **Which generator.** The G_k are trained with a recipe of the profile (`aug.generators`): the
# thesis' own, or the small-data recipe of chapter 01 (an iteration budget and an average of
# G's weights), or both; a ready generator checkpoint, such as the thesis'
# own trained generator imported by `python -m thesis_lib.models.import_thesis`, can be added as
# well. The first generator gives the {term}`arms` GAN and Aug GAN; each further one adds the arms
# "GAN [its name]" and "Aug GAN [its name]", compared with the same controls and with the first
# generator's arm. So the study can ask whether the thesis' conclusion about GAN augmentation
# holds when the generator is built for small data.
#
# **Intervals.** Training is random, so every cell is trained with several classifier seeds;
# test patches are not independent (the CC and MLO views of a mass, the many normal patches
# of one breast share a patient). Every interval is a {term}`hierarchical bootstrap`: training seeds
# drawn with replacement, then test *patients* with replacement, both arms of a comparison on
# the same draws; and a statement tested at every k ("Aug GAN beats Aug ORG x2.5") is
# corrected for that by {term}`Holm's method`.
#
# Run one k from the command line with
# `papermill notebooks/04_aug_study.ipynb out.ipynb -p k 100`; each k adds its rows to the
# same results table, keyed by their config (rows of another config are kept beside them, never
# replaced), and this chapter shows every k the table holds, each with the rows of its last
# run's config; the table below says where they come from.

# %%
display(Markdown(
    f"This run: k = {', '.join(map(str, ks))}; the table holds k = "
    f"{', '.join(map(str, sorted(table.k.unique())))} ({len(table)} rows, one per k, arm, fold "
    f"and classifier seed). Classifier: {params['epochs']} epochs, batch {params['batch_size']}, "
    f"Adam lr {params['lr']:g}, weight decay {params['weight_decay']:g}, StepLR gamma "
    f"{params['step_gamma']}, seeds {params['classifier_seeds']}. G_k: {GanConfig.from_dict(gan_params).budget} "
    f"at ngf = ndf = {gan_params['ngf']}, "
    + ("the last generator kept" if gan_params["evaluator"] == "last" else f"kept by the **{gan_params['evaluator']}** score")
    + f", seeds "
    f"{params['gan_seeds']} (profile **{profile}**). Per real mass: {params['normal_per_real']:g} normal patches "
    f"and {params['synthetic_per_real']:g} generated masses; classifier width ndf = {params['ndf']}"
    + ("" if (params["normal_per_real"], params["synthetic_per_real"], params["ndf"]) == (thesis_aug["normal_per_real"],
             thesis_aug["synthetic_per_real"], thesis_aug["ndf"]) else " (**not the thesis'**: the table above is its design)")
    + f". Intervals: {params['n_boot']:,} bootstrap "
    f"replicates.\n\nGenerators of the GAN arms, the first behind GAN and Aug GAN:\n\n"
    + "\n".join(f"- {line}" for line in described)
))
display(Markdown("Where each k's rows come from: `config` is a hash of the study's settings, its training subsets "
                 "and the identities of its G_k (not of k); `last run` is when that k's step last started, and "
                 "`rows reused` says whether it found the rows of this config already computed (at the commit "
                 "shown) instead of training them again."))
augstudy.reuse_table(art, table)

# %% [markdown]
# ## First, can the classifier cheat?
#
# The data chapter's shortcut audit, repeated here because every number below depends on it:
# if a statistic that says nothing about a mass (sharpness, noise, the resampling factor)
# told the classes apart, a classifier could score well without learning what a mass looks
# like, and the arms' differences could not be read.

# %%
audit = pd.read_csv(report.current(config.resolve("data_prep", profile)) / "shortcut_audit.csv", index_col=0)
display(audit[["kind", "median mass", "median normal", "auc", "separability"]].round(3))
display(Markdown(f"**Verdict.** {shortcuts.verdict(audit)}"))

# %% [markdown]
# ## What each classifier was trained on
#
# Patch counts of fold 0 (the other folds are the same by construction): distinct real
# masses, positives presented per epoch, generated masses and normal patches; and the size of
# the fixed validation and test sets of each fold.

# %%
counts = table[(table.fold == 0) & (table.replicate == table.replicate.min())].set_index(["k", "approach"])[
    ["n_real", "n_positive", "n_synthetic", "n_normal"]]
display(counts)
display(table.groupby("fold")[["n_val", "n_val_mass", "n_test_mass", "n_test_normal", "n_test_patients"]].first())

# %% [markdown]
# **How much can the validation set decide?** Each fold's validation patients (the share
# `val_fraction` of its non-test patients, by patient; stated below) pick each
# classifier's epoch, by AUC, and
# the threshold behind `f1_val`. An AUC measured on few masses is uncertain (its standard error
# by Hanley and McNeil's formula {cite}`hanley1982auc` is below); a threshold chosen on n masses
# moves recall in steps of 1/n.

# %% tags=["remove-input"]
val = table.groupby("fold")[["n_val", "n_val_mass"]].first()
data_prep = config.load_profile(profile)["data_prep"]
thesis_val_fraction = config.load_profile("thesis")["data_prep"]["val_fraction"]
validation_patients = {name: splits.validation_patients(config.load_profile(name)["data_prep"])
                       for name in (profile, "gpu", "thesis")}
here = validation_patients[profile]
smallest = val.n_val_mass.idxmin()  # the fold with the fewest validation masses, and its normals
n_pos, n_neg = int(val.n_val_mass[smallest]), int(val.n_val[smallest] - val.n_val_mass[smallest])
val_auc = float(table.best_val_auc.median())
measurable = n_pos >= 1 and n_neg >= 1 and 0 <= val_auc <= 1
display(Markdown(
    f"The smallest validation set here, fold {smallest}'s, holds **{n_pos} masses** and {n_neg} normal patches. "
    + (f"At the median validation AUC of the kept epochs ({val_auc:.2f}), an AUC on that set has a standard error "
       f"of about **{auc_standard_error(val_auc, n_pos, n_neg):.2f}**, so epochs whose validation AUCs differ by "
       "less than about twice that are chosen between largely by chance; and a threshold chosen on "
       f"{n_pos} masses moves recall in steps of {1 / n_pos:.2f}. " if measurable else
       "That is too few to measure a validation AUC on: there the epoch and the threshold are not informed by "
       "validation at all. ")
    + "`f1_val` is shown for the thesis' protocol; no verdict of the scorecard rests on it (the scorecard judges "
    f"AUC, AP and F1 at 0.5). This run validates on `val_fraction` {data_prep['val_fraction']:g} of each fold's "
    f"non-test patients, {here} patients per fold (the thesis profile: {thesis_val_fraction:g}, "
    f"{validation_patients['thesis']} patients"
    + (f"; the gpu profile: {validation_patients['gpu']}" if profile != "gpu" else "") + "). "
    + ("The fraction is above the thesis' so that the small cohort's validation set reaches the standard error "
       f"and recall step above (at the thesis' fraction it would hold about {thesis_val_fraction / data_prep['val_fraction'] * 100:.0f} % "
       "as many masses), while every "
       "fold's training pool still holds the largest k's masses. "
       if data_prep["val_fraction"] > thesis_val_fraction else "")
))

# %% [markdown]
# ## Do the generators draw masses?
#
# A GAN arm tests GAN augmentation only if its G_k draws mass-like patches. Before reading the
# GAN arms, each G_k is scored as the FID chapter scores the fold GANs: against its fold's
# {term}`held-out` masses, beside a matched real-real {term}`floor`, with precision, recall, a memorisation
# check and its samples' high-frequency spectrum. A G_k that fails a rule by more than a redraw
# of its samples could move the score fails this gate, and the scorecard then leaves the claims
# about GAN arms unjudged at that k; one that misses or meets a rule only within that margin is
# {term}`borderline`, and the claims about its arms are {term}`inconclusive`. The held-out masses
# are cut to as many as the generator trained on (k here, the fold's training masses in the FID
# chapter), so a fold's floor and normal-tissue FID here differ from the FID chapter's: FID moves
# with N.

# %%
passed_ks = sorted(set(gate.k) - set(generator_gate.failed_ks(gate)))
standing = generator_gate.status(gate)
every_rule = gate.assign(standing=standing).reindex(columns=[
    "generator", "k", "fold", "gan_seed", "N generated", "FID", "real-real FID", "FID / floor", "precision", "recall",
    "normal-tissue FID", "called masses", "called masses limit", "too close to training", "too close limit",
    "spectrum excess (dex)", "standing", "fails"]).round(3)
display(HTML(plots.table_with_details(
    every_rule, ["k", "fold", "gan_seed", "FID / floor", "precision", "recall", "standing", "fails"],
    f"Every rule's numbers ({every_rule.shape[1]} columns: each G_k's FID and floor, normal-tissue FID, the "
    "called-masses and too-close shares with their limits, the spectrum excess in dex; `fails` names each rule a G_k "
    "failed, or met only within the margin a redraw could erase)")))
counts = standing.value_counts()
display(Markdown(
    f"**Gate.** A G_k passes when {realism.REALISM_RULE}, each by more than the binomial margin a redraw of its "
    f"samples could erase; within that margin it is **borderline**. Here **{counts.get('pass', 0)}** of {len(gate)} "
    f"G_k pass, **{counts.get('borderline', 0)}** are borderline and **{counts.get('fail', 0)}** fail"
    + ("." if counts.get("pass", 0) == len(gate) else
       f" (rules not met by a clear margin: {', '.join(generator_gate.failed_rules(gate))}).")
    + (f" At k = {', '.join(map(str, generator_gate.failed_ks(gate)))} a G_k failed: the GAN arms there measure the "
       "effect of adding such patches, not of adding realistic masses, and the scorecard judges no claim on them."
       if generator_gate.failed_ks(gate) else "")
    + (f" At k = {', '.join(map(str, generator_gate.borderline_ks(gate)))} a G_k is borderline: the claims judged "
       "there can be inconclusive at best." if generator_gate.borderline_ks(gate) else "")
))

# %% [markdown]
# ### How long would a G_k have to train?
#
# The default profile's G_k train for a budget sized for a laptop build, which may be
# shorter than they need; so the budget they need was measured apart, with the same recipe and
# data: `benchmarks/gan_recipes.py` trains a G_k of fold 0 on the study's own k-mass subset
# (`--k`, `--snapshots`) and scores every snapshot as the gate does (N generated as the gate's,
# against the fold's held-out masses). Its lines of JSON are kept in
# `benchmarks/results/gk_budget.jsonl`; the table shows the ones measured on this build's data
# (the same patch store), with the commit they were measured at.

# %% tags=["remove-input"]
curve = budget_rows
if curve.empty:
    display(Markdown(f"No G_k budget has been measured on this build's data (profile **{profile}**; "
                     "`benchmarks/results/gk_budget.jsonl` holds none for it)."))
else:
    reached = generator_gate.budget_reached(curve)
    display(curve.drop(columns=["fold", "commit", "fails"]).set_index(["k", "iterations"]).round(2))
    display(Markdown(
        f"Measured at commit(s) {', '.join(f'`{short_commit(c)}`' for c in sorted(set(curve.commit)))}, fold "
        f"{', '.join(map(str, sorted(set(curve.fold))))}. " + " ".join(
            f"G_{k} meets every rule from {it:,} iterations on (at every later snapshot, up to "
            f"{curve[curve.k == k].iterations.max():,})." if it is not None else
            f"G_{k} does not meet every rule at its last snapshot ({curve[curve.k == k].iterations.max():,} "
            f"iterations: {curve[curve.k == k].fails.iloc[-1]})." for k, it in reached.items())
        + f" This run's G_k trained for {GanConfig.from_dict(gan_params).budget}."
        + "".join(f" The study's own G_{k} failed the gate at that budget although the measured curve passed: at "
                  f"k = {k} a verdict moves between snapshots and runs, and the measured budget is no guarantee."
                  for k, it in reached.items() if it is not None and k not in passed_ks and k in set(gate.k))))

# %% [markdown]
# ## The primary endpoint, and what this design can detect
#
# The study's one pre-specified question (the profile's `design` section, fixed before the
# run): do generated masses help **beyond showing the real masses as often**? Aug GAN is
# compared with Aug ORG x2.5, which shows the same number of positives with the same flips,
# so the two differ only in where the extra positives come from, and share their class ratio:
# AUC, AP and F1 at 0.5 are all fair here. Each score's difference is read by two one-sided
# tests against its margin {cite}`schuirmann1987tost`: **better** when the 95 % interval lies above 0,
# **worse** below 0, **equivalent** when the 90 % interval lies inside the margin, else
# **{term}`inconclusive`**; the scores' readings are joined into one verdict, which must survive
# leaving out each G_k seed in turn (else it is **{term}`seed-dependent`**). The variance components
# say where the uncertainty comes from {cite}`bouthillier2021variance`; the power lines say what
# this replication, and the gpu and thesis profiles', could detect.

# %% tags=["remove-input"]
display(Markdown(scorecard.primary_sentence(res, folder="")))
if endpoint is not None:
    display(primary.scores_table(endpoint).round(4))
    display(Markdown(f"Why these margins: {endpoint['margin_why']}"))
    display(primary.components_table(endpoint).round(6))
    display(Markdown(primary.power_words(endpoint)))
    display(primary.power_display(endpoint))
cap_share = scorecard.at_cap_share(res)
display(Markdown(
    f"**Did the classifiers converge?** Each trains {int(table.steps_per_epoch.iloc[0])} optimiser steps per epoch "
    f"whatever its arm, until {params['patience']} epochs bring no better validation AUC or the cap of "
    f"{params['epochs']} epochs; they ran {table.epochs_run.mean():.1f} epochs on average, and "
    f"**{cap_share:.0%}** kept their last allowed epoch (a verdict needs at most "
    f"{scorecard.MAX_AT_CAP:.0%}" + ("; here the augmentation verdicts are inconclusive)." if
                                     cap_share >= scorecard.MAX_AT_CAP else ").")))

# %% [markdown]
# ## Threshold-free scores: AUC and average precision
#
# Means over folds and classifier seeds (± their standard deviation); the figure
# ({numref}`fig-aug-auc`) shows each arm's AUC with its 95 % hierarchical-bootstrap interval.

# %%
for metric, name in (("auc", "AUC"), ("ap", "Average precision")):
    display(Markdown(f"**{name}** (mean ± sd over folds and seeds)"))
    display(mean_and_sd(table, metric)[order])

# %% mystnb={"figure": {"caption": "Test AUC against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients), beside the thesis' AUC. AUC does not depend on a threshold, but the class ratio an arm trains on can still move it: compare each GAN arm with its x2.5 control, which trains on the same ratio. The arms are drawn side by side around each k that ran.", "name": "fig-aug-auc"}, "image": {"alt": "Test AUC against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients), beside the thesis' AUC"}}
thesis = reference.reported()["augmentation"]
dataset = config.resolve("data_prep", profile)["dataset"]
fig = plots.metric_against_k(intervals, thesis, "auc", ours_label=f"this run ({dataset} data, {profile} profile)",
                             thesis_label="thesis (OPTIMAM data)")
plots.save_figure(fig, "aug_auc_against_k", figures);

# %% [markdown]
# ## F1: at 0.5, as the thesis, and at the validation threshold
#
# The thesis' figure ({numref}`fig-aug-f1`): F1 on the test masses at threshold 0.5 against
# the number of real training masses, with this run's 95 % intervals; the thesis' reported
# curves are on the right, on their own axes: other data, other k.

# %% mystnb={"figure": {"caption": "Test F1 at threshold 0.5 against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients; left), and the thesis' curves (right). The thesis' claim is that Aug GAN (yellow-orange triangles, dashed) lies highest when k is small; the green control Aug ORG x2.5 (dotted) presents as many positives as Aug GAN, and the pink ORG x2.5 as many as GAN.", "name": "fig-aug-f1"}, "image": {"alt": "Test F1 at threshold 0.5 against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients; left), and the thesis' curves (right)"}}
fig = plots.metric_against_k(intervals, thesis, "f1", ours_label=f"this run ({dataset} data, {profile} profile)",
                             thesis_label="thesis (OPTIMAM data)")
plots.save_figure(fig, "aug_f1_against_k", figures);

# %% tags=["remove-input"]
display(Markdown("**F1 at 0.5** (mean ± sd over folds and seeds)"))
display(mean_and_sd(table, "f1")[order])
display(Markdown("**F1 at the threshold chosen on validation** (mean ± sd over folds and seeds)"))
display(mean_and_sd(table, "f1_val")[order])
display(Markdown("**Precision and recall at 0.5** (means over folds and seeds)"))
pr = table.groupby(["k", "approach"])[["precision", "recall"]].mean().unstack("approach")
display(pr.reindex(columns=[(m, a) for m in ("precision", "recall") for a in order]).round(3))

# %% [markdown]
# ## Which differences survive?
#
# Each row is one statement, "arm A beats arm B", at one k and in one score: the difference of
# the means, its 95 % interval, and the one-sided bootstrap p-values corrected by Holm's
# method. A *family* here is one statement in one score tested at every k of the table: Holm
# multiplies the smallest of its p-values by the number of tests, the next by one fewer, and so
# on. The intervals are not corrected, so an interval that excludes 0 can still read "not
# distinguishable from 0" once the same statement at the other k is taken into account; the
# scorecard corrects over every difference it judges, a larger family. The fair comparison
# comes first.

# %% tags=["remove-input"]
ks_tested = sorted(intervals.k.unique())
display(Markdown(
    f"In this table each family holds {len(ks_tested)} test{'s' if len(ks_tested) != 1 else ''} "
    f"(k = {', '.join(map(str, ks_tested))}), and a difference counts only when its corrected p-value is below "
    f"{augstudy.ALPHA / 2:g} in one direction (a two-sided {augstudy.ALPHA * 100:g} % level)."))

# %%
pairs = intervals[intervals.comparison.str.contains(" - ")].copy()
pairs["metric"] = pd.Categorical(pairs.metric, augstudy.INTERVAL_METRICS, ordered=True)
pairs["comparison"] = pd.Categorical(pairs.comparison, [" - ".join(c) for c in augstudy.comparisons(order)],
                                     ordered=True)
shown = pairs.sort_values(["comparison", "metric", "k"]).set_index(["comparison", "metric", "k"])
display(shown[["estimate", "low", "high", "p_holm_better", "p_holm_worse", "verdict"]].round(3))

# %% tags=["remove-input"]
lines = []
for (comparison, metric), g in shown.groupby(level=["comparison", "metric"], observed=True):
    survived = g[g.verdict != "not distinguishable from 0"]
    where = ("; ".join(f"at k = {k_}: {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], {r.verdict}"
                       + ("" if (why := scorecard.standing(res, comparison, metric, k_)) == "finding" else f" ({why})")
                       for (_, _, k_), r in survived.iterrows()) if len(survived) else "at no k")
    lines.append(f"- **{comparison}**, {metric}: a difference survives the correction {where}.")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Beside the thesis
#
# The thesis' F1 and AUC at each of its k, from its figure and table {cite}`alyafi2020dcgans`.

# %%
thesis_order = [a for a in order if a in thesis["f1"]]
for metric in ("f1", "auc"):
    reported = pd.DataFrame(thesis[metric], index=pd.Index(thesis["k"], name="k"))[thesis_order]
    display(Markdown(f"**Thesis {metric.upper()}** (mean over folds)"))
    display(reported)

# %% tags=["remove-input"]
ours = table.groupby(["k", "approach"]).f1.mean().unstack("approach")[thesis_order]
thesis_f1 = pd.DataFrame(thesis["f1"], index=thesis["k"])[thesis_order]
text = ["Best of the thesis' four approaches per k by mean F1 here: "
        + ", ".join(f"k = {k_}: {text}" for k_, text in scorecard.best_arm_texts(res, table, thesis_order).items())
        + "; in the thesis: "
        + ", ".join(f"k = {k_}: {a}" for k_, a in thesis_f1.idxmax(axis=1).items()) + "."]
for k_ in sorted(set(ours.index) & set(thesis_f1.index)):
    diff = ours.loc[k_] - thesis_f1.loc[k_]
    text.append(f"At k = {k_}, our F1 minus the thesis' F1: "
                + ", ".join(f"{a} {diff[a]:+.3f}" for a in thesis_order) + ".")
text.append(
    f"What differs: the data ({dataset} mammograms here; OPTIMAM screening images in the "
    f"thesis, split there apparently not by patient); the size ("
    + (f"classifier cap of {params['epochs']} epochs with patience {params['patience']} here against 20 epochs; "
       if params["epochs"] != 20 else f"classifier stopped by patience {params['patience']} within the thesis' 20 epochs; ")
    + f"G_k {GanConfig.from_dict(gan_params).budget} at "
    f"ngf {gan_params['ngf']} against 1,000 epochs of batch 64 at 45; about "
    f"{round(table.n_test_mass.mean())} test masses per fold against about 738); the "
    f"normal patches (resized like the masses here, native 128 x 128 windows in the thesis); "
    f"the data settings ({'; '.join(reference.departures('data_prep', config.resolve('data_prep', profile)))}); "
    f"and the hardware (this run's provenance records it; the thesis used one Titan X). Numbers "
    f"from different data are not comparable one for one; the order of the approaches and "
    f"the shape of the curves are what can be compared."
)
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## Samples of each G_k
#
# Masses from the generator of each k (fold 0; each panel says how many), as the thesis showed
# them: the smaller
# the k, the less the generator has to learn from.

# %% mystnb={"figure": {"caption": "Masses from the generator G_k of fold 0 for each k. The fewer real masses a generator saw, the less variety and detail its masses can show.", "name": "fig-aug-gk-samples"}, "image": {"alt": "Masses from the generator G_k of fold 0 for each k"}}
panels = {f"G_k, k = {k_}: {len(patches)} masses": patches for k_, patches in gk_samples.items()}
fig = plots.montage_panels(panels, ncols=5, panels_per_row=len(panels))
plots.save_figure(fig, "aug_gk_samples", figures);
