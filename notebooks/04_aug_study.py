# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Do generated masses help a classifier?
#
# This is the thesis' central experiment {cite}`alyafi2020dcgans`. Masses are rare: a
# screening programme sees far more normal tissue than lesions, and a classifier trained on
# few masses among many normal patches learns to say "normal". The question is whether masses
# drawn from a GAN, trained on the few real ones, help that classifier more than the classic
# remedy, random flips.
#
# **Protocol.** For each training size k and each of the three patient-level folds, k real
# masses are drawn from the fold's training patients (nested: the 50 lie inside the 100) with
# ten times as many normal patches. A generator G_k is trained on those k masses only, with
# the DCGAN of chapter 01, and gives 1.5 k synthetic masses. The thesis' classifier (the
# discriminator's design with 9 to 90 channels and one logit) is then trained four ways:
#
# | approach | training set | flips |
# |---|---|---|
# | ORG | k real + 10 k normal | no |
# | Aug ORG | k real + 10 k normal | random horizontal and vertical, on the fly |
# | GAN | k real + 1.5 k generated + 10 k normal | no |
# | Aug GAN | k real + 1.5 k generated + 10 k normal | on real and generated |
#
# Each keeps the epoch with the best validation F1, and is scored on its fold's test patients,
# which are the same for every k and every approach. **G_k sees only the k real masses of its
# fold**: no validation or test patient reaches the generator, so no test information can leak
# into the synthetic masses (the strict variant of the protocol).
#
# Run one k from the command line with
# `papermill notebooks/04_aug_study.ipynb out.ipynb -p k 100`; each k adds its rows to the
# same results table, and this chapter shows every k the table holds.

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml (section aug)
profile = "smoke"
k = None  # one training size (100) or several ("50, 100"); None: the profile's list
approaches = None
epochs = None  # classifier epochs
workers = None  # trainings at once, one process each (0: one per CPU core)
reuse = True  # keep rows computed with the same config instead of recomputing them
n_boot = None
gan = None  # G_k settings that differ from the profile's gan section, e.g. {"epochs": 5}
seed = None

# %%
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from thesis_lib import augstudy, config, plots, reference
from thesis_lib.generate import generate
from thesis_lib.scoring import mean_and_sd

params = config.resolve("aug", profile, approaches=approaches, epochs=epochs,
                        workers=workers, n_boot=n_boot, gan=gan, seed=seed)
art = Path(params["artifacts"])
figures = art / "figures"
ks = augstudy.parse_ks(k if k is not None else params["k"])
table = augstudy.run_study(profile, ks, approaches=params["approaches"], epochs=epochs,
                           workers=workers, reuse=reuse, n_boot=n_boot, gan=gan, seed=seed)
gan_params = augstudy.gan_params(profile, params)
display(Markdown(
    f"This run: k = {', '.join(map(str, ks))}; the table holds k = "
    f"{', '.join(map(str, sorted(table.k.unique())))} ({len(table)} rows, one per k, "
    f"approach and fold). Classifier: {params['epochs']} epochs, batch "
    f"{params['batch_size']}, Adam lr {params['lr']:g}, weight decay "
    f"{params['weight_decay']:g}, StepLR gamma {params['step_gamma']}. G_k: "
    f"{gan_params['epochs']} epochs at ngf = ndf = {gan_params['ngf']}, kept by the "
    f"**{gan_params['evaluator']}** score (profile **{profile}**)."
))

# %% [markdown]
# ## What each classifier was trained on
#
# Patch counts of fold 0 (the other folds are the same by construction), and the size of the
# fixed validation and test sets of each fold.

# %%
counts = table[table.fold == 0].set_index(["k", "approach"])[
    ["n_real", "n_synthetic", "n_normal"]]
display(counts)
display(table.groupby("fold")[["n_val", "n_test_mass", "n_test_normal"]].first())

# %% [markdown]
# ## F1 against k
#
# The thesis' figure ({numref}`fig-aug-f1`): F1 on the test masses (threshold 0.5) against
# the number of real training masses, mean and standard deviation over the three folds. The
# thesis' reported curves are on the right, on their own axes: other data, other k.

# %% mystnb={"figure": {"caption": "Test F1 against the number of real training masses k for the four approaches, mean and standard deviation over folds (left), and the thesis' curves (right). The thesis' claim is that Aug GAN (orange triangles) lies highest when k is small.", "name": "fig-aug-f1"}}
thesis = reference.reported()["augmentation"]
dataset = config.resolve("data_prep", profile)["dataset"]
fig = plots.metric_against_k(table, thesis, "f1",
                             ours_label=f"this run ({dataset} data, {profile} profile)",
                             thesis_label="thesis (OPTIMAM data)")
plots.save_figure(fig, "aug_f1_against_k", figures);

# %%
order = list(augstudy.APPROACHES)
display(Markdown("**F1** (mean ± sd over folds)"))
display(mean_and_sd(table, "f1")[order])
display(Markdown("**AUC** (mean ± sd over folds)"))
display(mean_and_sd(table, "auc")[order])
display(Markdown("**Precision and recall** (means over folds)"))
pr = table.groupby(["k", "approach"])[["precision", "recall"]].mean().unstack("approach")
display(pr.reindex(columns=[(m, a) for m in ("precision", "recall") for a in order]).round(3))

# %% [markdown]
# ## Is Aug GAN better?
#
# A paired bootstrap on the test patches: both approaches are scored on the same resampled
# patches of each fold, and the F1 difference is averaged over folds. An interval that holds
# 0 means the difference could be chance.

# %%
boot = augstudy.f1_differences(art, table, n_boot=params["n_boot"], seed=params["seed"])
display(boot.round(3))

# %%
lines = []
for (k_, comparison), r in boot.iterrows():
    lines.append(f"- k = {k_}, {comparison}: {r.difference:+.3f} "
                 f"(95 % interval {r.low:+.3f} to {r.high:+.3f}): "
                 f"{augstudy.difference_verdict(r.low, r.high)}.")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Beside the thesis
#
# The thesis' F1 and AUC at its six k, from its figure and table {cite}`alyafi2020dcgans`.

# %%
for metric in ("f1", "auc"):
    reported = pd.DataFrame(thesis[metric], index=pd.Index(thesis["k"], name="k"))[order]
    display(Markdown(f"**Thesis {metric.upper()}** (mean over folds)"))
    display(reported)

# %%
ours = table.groupby(["k", "approach"]).f1.mean().unstack("approach")[order]
thesis_f1 = pd.DataFrame(thesis["f1"], index=thesis["k"])[order]
text = ["Best approach per k here: "
        + ", ".join(f"k = {k_}: {a}" for k_, a in ours.idxmax(axis=1).items())
        + "; in the thesis: "
        + ", ".join(f"k = {k_}: {a}" for k_, a in thesis_f1.idxmax(axis=1).items()) + "."]
for k_ in sorted(set(ours.index) & set(thesis_f1.index)):
    diff = ours.loc[k_] - thesis_f1.loc[k_]
    text.append(f"At k = {k_}, our F1 minus the thesis' F1: "
                + ", ".join(f"{a} {diff[a]:+.3f}" for a in order) + ".")
text.append(
    f"What differs: the data ({dataset} mammograms here; OPTIMAM screening images in the "
    f"thesis, split there apparently not by patient); the size (classifier "
    f"{params['epochs']} epochs here against 20; G_k {gan_params['epochs']} epochs at "
    f"ngf {gan_params['ngf']} against 1,000 at 45; about "
    f"{round(table.n_test_mass.mean())} test masses per fold against about 738); and the "
    f"hardware (this run's provenance records it; the thesis used one Titan X). Numbers "
    f"from different data are not comparable one for one; the order of the approaches and "
    f"the shape of the curves are what can be compared."
)
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## Samples of each G_k
#
# 25 masses from the generator of each k (fold 0), as the thesis showed them: the smaller
# the k, the less the generator has to learn from.

# %% mystnb={"figure": {"caption": "Twenty-five masses from the generator G_k of fold 0 for each k. The fewer real masses a generator saw, the less variety and detail its masses can show.", "name": "fig-aug-gk-samples"}}
panels = {f"G_k, k = {k_}": generate(art / "gan" / f"fold0_k{k_}" / "best.pt", 25, params["seed"])
          for k_ in sorted(table.k.unique())
          if (art / "gan" / f"fold0_k{k_}" / "best.pt").is_file()}
fig = plots.montage_panels(panels, ncols=5, panels_per_row=len(panels))
plots.save_figure(fig, "aug_gk_samples", figures);
