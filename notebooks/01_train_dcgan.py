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
from thesis_lib.book.pages import show
from thesis_lib.book.pages.gan import GanPage

# the train_gan step's run of this fold (python -m thesis_lib.training.gan)
page = GanPage(profile, fold, k, resume, epochs=epochs, iterations=iterations, batch_size=batch_size, nz=nz, ngf=ngf,
               ndf=ndf, device=device, seed=seed)
show(page.opening())

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
page.generator_layers()

# %%
page.parameter_counts()

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
show(page.procedure())

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
show(page.selection())

# %% [markdown]
# ## How training went
#
# Losses and the discriminator's mean outputs per iteration. In a balanced game D(x) stays
# above D(G(z)) without either reaching 0 or 1 (with real labels drawn below 1, D(x) need
# not climb far above one half). In the first iterations D wins easily and D(G(z)) falls
# towards 0; what matters is where the game settles. Below the figure, the second half of this run is read
# that way.

# %% mystnb={"figure": {"caption": "Losses and discriminator outputs over training for the chosen fold. A healthy run keeps D(x) and D(G(z)) apart without either saturating at 0 or 1.", "name": "fig-gan-curves"}, "image": {"alt": "Losses and discriminator outputs over training for the chosen fold"}}
page.curves();

# %%
show(page.balance())

# %% [markdown]
# The same latent vectors (the first patches of each saved grid) at several epochs: what G draws
# as training proceeds.

# %% mystnb={"figure": {"caption": "The same latent vectors decoded at several epochs. Watch the blobs take the shape and brightness of masses as training proceeds.", "name": "fig-gan-samples"}, "image": {"alt": "The same latent vectors decoded at several epochs"}}
page.samples();

# %% [markdown]
# When the run selects its generator, the score over epochs:

# %%
show(page.score_curve())

# %% [markdown]
# ## Timing
#
# Measured on this run's machine; when the workflow trains the folds side by side, each
# shares the processor with the others.

# %%
page.timing()

# %% [markdown]
# The lesion-simulation GANs of the other folds, when the workflow has trained them:

# %%
page.all_folds()

# %%
show(page.kept())

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
show(page.ablation())

# %%
show(page.downloads())
