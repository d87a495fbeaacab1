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
from thesis_lib.book.pages import show
from thesis_lib.book.pages.aug import AugPage

# the aug_k, aug_intervals and aug_gate steps' results (python -m thesis_lib.studies.augstudy, ... --intervals,
# python -m thesis_lib.studies.generator_gate)
page = AugPage(profile, k, reuse, approaches=approaches, epochs=epochs, classifier_seeds=classifier_seeds,
               gan_seeds=gan_seeds, workers=workers, n_boot=n_boot, gan=gan, generators=generators, seed=seed)

# %% tags=["remove-input"]
show(page.findings())

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
show(page.settings())

# %% [markdown]
# ## First, can the classifier cheat?
#
# The data chapter's shortcut audit, repeated here because every number below depends on it:
# if a statistic that says nothing about a mass (sharpness, noise, the resampling factor)
# told the classes apart, a classifier could score well without learning what a mass looks
# like, and the arms' differences could not be read.

# %%
show(page.shortcut_audit())

# %% [markdown]
# ## What each classifier was trained on
#
# Patch counts of fold 0 (the other folds are the same by construction): distinct real
# masses, positives presented per epoch, generated masses and normal patches; and the size of
# the fixed validation and test sets of each fold.

# %%
show(page.counts())

# %% [markdown]
# **How much can the validation set decide?** Each fold's validation patients (the share
# `val_fraction` of its non-test patients, by patient; stated below) pick each
# classifier's epoch, by AUC, and
# the threshold behind `f1_val`. An AUC measured on few masses is uncertain (its standard error
# by Hanley and McNeil's formula {cite}`hanley1982auc` is below); a threshold chosen on n masses
# moves recall in steps of 1/n.

# %% tags=["remove-input"]
show(page.validation())

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
show(page.gate_table(), page.gate_words())

# %% [markdown]
# ### How long would a G_k have to train?
#
# The default profile's G_k train for a budget sized for a laptop build, which may be
# shorter than they need; so the budget they need was measured apart, with the same recipe and
# data: `benchmarks/gan_recipes.py` trains a G_k of fold 0 on the study's own k-mass subset
# (`--k`, `--snapshots`) and scores every snapshot by the gate's rules against the fold's
# held-out masses, with the N generated that the table shows (it can be smaller than the
# gate's, which widens each rule's margin). Its lines of JSON are kept in
# `benchmarks/results/gk_budget.jsonl`; the table shows the ones measured on this build's data
# (the same patch store), with the commit they were measured at.

# %% tags=["remove-input"]
show(page.budget())

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
show(page.primary())

# %% [markdown]
# ## Threshold-free scores: AUC and average precision
#
# Means over folds and classifier seeds (± their standard deviation); the figure
# ({numref}`fig-aug-auc`) shows each arm's AUC with its 95 % hierarchical-bootstrap interval.

# %%
show(page.means({"auc": "AUC", "ap": "Average precision"}))

# %% mystnb={"figure": {"caption": "Test AUC against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients), beside the thesis' AUC. AUC does not depend on a threshold, but the class ratio an arm trains on can still move it: compare each GAN arm with its x2.5 control, which trains on the same ratio. The arms are drawn side by side around each k that ran.", "name": "fig-aug-auc"}, "image": {"alt": "Test AUC against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients), beside the thesis' AUC"}}
page.against_k("auc");

# %% [markdown]
# ## F1: at 0.5, as the thesis, and at the validation threshold
#
# The thesis' figure ({numref}`fig-aug-f1`): F1 on the test masses at threshold 0.5 against
# the number of real training masses, with this run's 95 % intervals; the thesis' reported
# curves are on the right, on their own axes: other data, other k.

# %% mystnb={"figure": {"caption": "Test F1 at threshold 0.5 against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients; left), and the thesis' curves (right). The thesis' claim is that Aug GAN (yellow-orange triangles, dashed) lies highest when k is small; the green control Aug ORG x2.5 (dotted) presents as many positives as Aug GAN, and the pink ORG x2.5 as many as GAN.", "name": "fig-aug-f1"}, "image": {"alt": "Test F1 at threshold 0.5 against the number of real training masses k for each arm, with 95 % intervals (hierarchical bootstrap over G_k seeds, classifier seeds and test patients; left), and the thesis' curves (right)"}}
page.against_k("f1");

# %% tags=["remove-input"]
show(page.means({"f1": "F1 at 0.5", "f1_val": "F1 at the threshold chosen on validation"}), page.precision_recall())

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
show(page.family())

# %%
page.differences_table()

# %% tags=["remove-input"]
show(page.surviving())

# %% [markdown]
# ## Beside the thesis
#
# The thesis' F1 and AUC at each of its k, from its figure and table {cite}`alyafi2020dcgans`.

# %%
show(page.reported())

# %% tags=["remove-input"]
show(page.beside_thesis())

# %% [markdown]
# ## Samples of each G_k
#
# Masses from the generator of each k (fold 0; each panel says how many), as the thesis showed
# them: the smaller
# the k, the less the generator has to learn from.

# %% mystnb={"figure": {"caption": "Masses from the generator G_k of fold 0 at each k this run trained. The fewer real masses a generator saw, the less variety and detail its masses can show.", "name": "fig-aug-gk-samples"}, "image": {"alt": "Masses from the generator G_k of fold 0 at each k this run trained"}}
page.gk_samples_figure();

# %%
show(page.downloads())
