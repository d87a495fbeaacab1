# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training the DCGAN
#
# The thesis' generator is a deep convolutional GAN {cite}`radford2016dcgan` grown to
# 128 x 128 pixels {cite}`alyafi2020dcgans` (a profile with 64 x 64 patches has networks one
# block shorter at each end; the size of this run is stated below): a generator G turns nz
# random numbers into a mass patch, a discriminator D scores patches as real or generated, and the two
# are trained against each other
# {cite}`goodfellow2014gan`. This chapter trains it on the mass patches of one {term}`fold`'s
# **training** patients (never its validation or test patients), shows how training went, and
# keeps the generator that the model-selection score likes best (with no score, the last one;
# the run's setting is stated below).

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml (section gan)
profile: str = "smoke"
fold: int = 0
k: int = None  # None: the fold's whole training pool; a number: a nested k-subset
epochs: int = None
iterations: int = None  # 0: train for epochs
batch_size: int = None
nz: int = None
ngf: int = None
ndf: int = None
device: str = None  # auto | cpu | cuda | mps
seed: int = None
resume: str = "yes"  # yes: continue a run of this config (an error if another config is there) | auto | no

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%

from pathlib import Path

import pandas as pd
import torch
from IPython.display import Markdown, display

from thesis_lib import config, paths
from thesis_lib.book import plots
from thesis_lib.models.dcgan import Discriminator, Generator, layer_table, n_parameters
from thesis_lib.provenance import short_commit
from thesis_lib.studies import ablation, fid_results, realism
from thesis_lib.training import gan, runs
from thesis_lib.training.gan_config import GanConfig

params = config.resolve("gan", profile, epochs=epochs, iterations=iterations, batch_size=batch_size,
                        nz=nz, ngf=ngf, ndf=ndf, device=device, seed=seed)
cfg = GanConfig.from_dict(params)
out = runs.run_dir(params["artifacts"], fold, k)
figures = paths.figures(params["artifacts"])
# The train_gan step's run (python -m thesis_lib.training.gan); outside the book's render, trained
# here when missing (the trainer returns at once when the run is finished)
record = gan.current_run(params, fold, k, resume={"yes": True, "auto": "auto", "no": False}[resume])
size = config.resolve("data_prep", profile)["patch_size"]
thesis_gan = config.resolve("gan", "thesis")  # the thesis' recipe, as the thesis profile states it
thesis_recipe = GanConfig.from_dict(thesis_gan)
display(Markdown(
    f"Fold {fold}: **{record['provenance']['n_train']} mass patches** of {size} x {size} pixels from "
    f"{record['provenance'].get('n_patients', 'its')} training patients; profile **{profile}**: "
    f"nz = {cfg.nz}, ngf = {cfg.ngf}, ndf = {cfg.ndf}, "
    f"{cfg.budget} "
    f"(the thesis: {thesis_recipe.nz}, {thesis_recipe.ngf}, {thesis_recipe.ndf}, {thesis_recipe.budget})."
))

# %% [markdown]
# ## The networks
#
# G stacks six transposed convolutions with 4 x 4 kernels (five at 64 pixels), doubling the
# image size from 4 x 4 to 128 x 128 while the channels fall from 10 x ngf (8 x ngf at 64
# pixels) to one; each but the last is followed by batch normalisation and a leaky ReLU (slope
# 0.2), the last by tanh. D mirrors it with strided convolutions; its middle layers (four at 128
# pixels, three at 64) use 6 x 6 kernels, which the thesis found to remove the checkerboard
# artefacts of equal kernels. D ends in a single logit; the sigmoid is
# part of the loss. Weights start from N(0, 0.02) as in the DCGAN paper.

# %%
G, D = Generator(cfg.nz, cfg.ngf, size), Discriminator(cfg.ndf, size)
thesis_G, thesis_D = Generator(thesis_recipe.nz, thesis_recipe.ngf), Discriminator(thesis_recipe.ndf)
generator_layers = layer_table(G, torch.randn(1, cfg.nz))
generator_layers

# %%
counts = pd.DataFrame({
    "this run": [n_parameters(m) for m in (G, D)],
    "thesis widths": [n_parameters(m) for m in (thesis_G, thesis_D)],
}, index=["generator", "discriminator"])
counts.style.format("{:,}")

# %% [markdown]
# ## The training procedure
#
# Each iteration takes one batch of real patches and follows seven steps:
#
# 1. draw a batch of latent vectors z from N(0, 1);
# 2. pass them through G to obtain a batch of generated patches;
# 3. pass the real batch and the generated batch (detached from G) through D;
# 4. compute D's loss, the binary cross-entropy of its verdicts against the labels real and
#    generated;
# 5. update D by back-propagation;
# 6. pass the generated batch through the updated D and compute G's loss, the cross-entropy
#    of D's verdicts against the label *real*, 1 (the non-saturating loss; the smoothing below is
#    one-sided: it softens only D's targets for real patches);
# 7. update G by back-propagation.
#
# An epoch ends when every real patch has been used once.

# %% tags=["remove-input"]
display(Markdown(
    f"Following the thesis, the real label is not 1 but a value drawn from U[{cfg.real_label_range[0]:g}, "
    f"{cfg.real_label_range[1]:g}] at each epoch (one-sided label smoothing {{cite}}`salimans2016improved`)"
    + ("; real patches are flipped at random horizontally and vertically" if cfg.flips else "")
    + f"; Adam runs with beta1 = {cfg.betas[0]:g} and learning rates {cfg.lr_g:g} (G) and {cfg.lr_d:g} (D) "
    f"{{cite}}`heusel2017fid`, multiplied by {cfg.lr_decay:g} every {cfg.decay_every_g} and {cfg.decay_every_d} "
    f"epochs (this run's settings"
    + ("" if (cfg.real_label_range, cfg.betas, cfg.lr_g, cfg.lr_d, cfg.lr_decay, cfg.decay_every_g, cfg.decay_every_d)
       == (thesis_recipe.real_label_range, thesis_recipe.betas, thesis_recipe.lr_g, thesis_recipe.lr_d,
           thesis_recipe.lr_decay, thesis_recipe.decay_every_g, thesis_recipe.decay_every_d)
       else "; **they differ from the thesis profile's**") + "). "
    "The run stops with a message if a loss becomes non-finite or D wins outright for "
    f"{cfg.saturation_patience} iterations in a row. Every few epochs a model-selection score compares generated "
    f"and real patches; the generator with the best score is kept. The thesis used FID on "
    f"{thesis_gan['eval_samples']:,} samples every {thesis_recipe.eval_every} epochs (`evaluator: fid`, the thesis "
    "profile)."))

# %% [markdown]
# On a CPU the Inception network manages about three images a second per core, so a
# cheap stand-in is offered: a **texture Fréchet distance** (`evaluator: texture`), the Fréchet
# distance between Gaussians fitted to block means (shape and brightness) and ring-averaged
# power spectra (texture, noise, checkerboards) of real and generated patches, each
# standardised by the real patches' standard deviation (not FID). With an average of G's weights (below)
# there is a third choice, `evaluator: last`: no selection, the last average is kept. The
# default `smoke` profile keeps the last, because it costs no scoring during training; what that
# rule cost on this run (the last snapshot against the best one by FID on {term}`held-out` masses) is
# measured in the FID chapter's "How long must it train?".
#
# **Beyond the thesis.** GANs trained on a few hundred images, as here, were studied after the
# thesis; three findings are options of the trainer, each off in the thesis profile: a budget
# in *iterations* rather than epochs, so that a generator that saw a few dozen masses and one
# that saw over a thousand train for comparable numbers of updates; an **exponential moving average** of G's
# weights, sampled and kept instead of G itself (its batch-normalisation statistics recomputed
# from its own samples); and **DiffAugment** {cite}`zhao2020diffaugment`, random but
# differentiable brightness, contrast, translation and cutout applied to every image D sees,
# real and generated alike. The default `smoke` profile uses the first two; the ablation at the end of
# this chapter trains one row per option to ask what each buys, and says when its rows are too
# close to tell.
#
# The training itself is the workflow's step (`python -m thesis_lib.training.gan`); this chapter
# reads the run it wrote.

# %%
summary = record["summary"]
selected = record["scores"].score.notna().any()
display(Markdown(f"Model selection: **{record['provenance']['evaluator']}** on {params['eval_samples']} "
                 f"generated patches every {cfg.eval_every} epochs." if selected else
                 f"Model selection: **{record['provenance']['evaluator']}**: `best.pt` holds the generator "
                 f"of the last epoch ({summary['best_epoch']})."))

# %% [markdown]
# ## How training went
#
# Losses and the discriminator's mean outputs per iteration. In a balanced game D(x) stays
# above D(G(z)) without either reaching 0 or 1 (with real labels drawn below 1, D(x) need
# not climb far above one half). In the first iterations D wins easily and D(G(z)) falls
# towards 0; what matters is where the game settles. Below the figure, the second half of this run is read
# that way.

# %% mystnb={"figure": {"caption": "Losses and discriminator outputs over training for the chosen fold. A healthy run keeps D(x) and D(G(z)) apart without either saturating at 0 or 1.", "name": "fig-gan-curves"}, "image": {"alt": "Losses and discriminator outputs over training for the chosen fold"}}
fig = plots.training_curves(record["log"])
plots.save_figure(fig, f"gan_training_curves_fold{fold}", figures);

# %%
game = runs.balance(record["log"])
display(Markdown(
    f"Over iterations {game.first:,}-{game.last:,} (the second half), D(x) averaged {game.d_real:.2f} and "
    f"D(G(z)) {game.d_fake:.2f}; D(x) was above D(G(z)) in {game.d_ahead * 100:.0f} % of the iterations, and one of "
    f"them was within {runs.SATURATED} of 0 or 1 in {game.saturated * 100:.0f} %. Reading: **{game.reading}**. "
    f"In the first tenth D(G(z)) fell as low as {game.early_min_fake:.3f}: "
    + ("D won the opening, as it usually does, and G caught up." if game.reading == "balanced" else
       "the game never settled; the samples below show what that costs.")))

# %% [markdown]
# The same latent vectors (the first patches of each saved grid) at several epochs: what G draws
# as training proceeds.

# %% mystnb={"figure": {"caption": "The same latent vectors decoded at several epochs. Watch the blobs take the shape and brightness of masses as training proceeds.", "name": "fig-gan-samples"}, "image": {"alt": "The same latent vectors decoded at several epochs"}}
fig = plots.sample_progress(record["samples"], n=5)
plots.save_figure(fig, f"gan_samples_over_epochs_fold{fold}", figures);

# %% [markdown]
# When the run selects its generator, the score over epochs:

# %%
if selected:
    fig = plots.score_curve(record["scores"], record["provenance"]["evaluator"], summary["best_epoch"])
    plots.save_figure(fig, f"gan_model_selection_fold{fold}", figures, close=True)
    display(fig, Markdown("*The model-selection score over epochs (lower is better); the dashed line marks "
                          "the generator kept as `best.pt`.*"))
else:
    display(Markdown("No selection score: this run keeps its last generator."))

# %% [markdown]
# ## Timing
#
# Measured on this run's machine; when the workflow trains the folds side by side, each
# shares the processor with the others.

# %%
runs.timing_table(summary, f"fold {fold}")

# %% [markdown]
# The lesion-simulation GANs of the other folds, when the workflow has trained them:

# %%
runs.summarise_runs(paths.gan(params["artifacts"]), pattern="fold[0-9]+")

# %%
kept = paths.gan(Path("artifacts", profile)) / out.name / "best.pt"  # as a user in the repository types it
realism_by_fold = fid_results.fold_verdicts(params["artifacts"]) if k is None else {}  # the FID chapter's rules
display(Markdown(
    f"Generator kept: `{kept}`; sample it with "
    f"`python -m thesis_lib.models.generate {kept} --n 1000 --out DIR`. "
    f"Trained at commit `{short_commit(record['provenance']['git_commit'])}`, seed {cfg.seed}."
    + (f" Scored against the fold's held-out masses in the [FID chapter](03_fid.ipynb), it "
       f"{realism_by_fold[fold]}." if fold in realism_by_fold else "")
))

# %% [markdown]
# ## What each option buys, at the ablation's budget
#
# The thesis' recipe, then one option added per row, each row keeping the options above it:
# every row is trained on the same fold's training masses for the same budget, and its kept
# generator is scored as the FID chapter scores the fold GANs: FID against the fold's held-out
# masses beside the matched real-real {term}`floor`, {term}`precision and recall` (nearest neighbours in
# Inception space), each against the realism rule stated below the table, and the training
# seconds. The rows are the workflow's step `python -m thesis_lib.studies.ablation` (profile
# section `ablation`).

# %%
ablation_rows = ablation.read_ablation(params["artifacts"])
display(ablation_rows[["row", "changes", "FID", "real-real FID", "FID / floor", "precision", "recall",
                       "spectrum excess (dex)", "train_s", "best_epoch"]].round(3))
first = ablation_rows.iloc[0]
_, reading = ablation.ranking(ablation_rows)
passing = int(ablation_rows.realistic.astype(str).isin(["True", "true", "1"]).sum())
display(Markdown(
    f"Every row: {first['budget']} on fold {config.resolve('ablation', profile)['fold']}, "
    f"N = {int(first['N generated'])} generated against {int(first['N held-out'])} held-out masses. "
    f"The first row (the thesis' options at this profile's widths and budget) reaches {first['FID / floor']:.1f} x the floor. {passing} of {len(ablation_rows)} rows "
    f"pass the realism rules at this budget"
    + (f" (the fold GANs of this chapter train for {cfg.budget}). " if first["budget"] != cfg.budget else ". ")
    + reading + f"\n\nThe realism rule: {realism.REALISM_RULE}."
))
