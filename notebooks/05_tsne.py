# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Do synthetic masses fill the gaps between real ones?

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml (section tsne)
profile: str = "smoke"
fold: int = None
k: str = None  # a G_k of the augmentation study, or "all": the fold's whole pool and its GAN
spaces: list = None  # pixels and/or inception
perplexity: float = None
n_iter: int = None
n_normal: int = None
neighbours: int = None
n_perm: int = None  # permutations of each null
generator: str = None  # a ready generator mapped instead of this run's, as label and path to its G.pt joined by an equals sign (e.g. the thesis' own)
seed: int = None

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%
from thesis_lib.book.pages import show
from thesis_lib.book.pages.tsne import TsnePage

# the tsne_results step's results (python -m thesis_lib.studies.tsne_results)
page = TsnePage(profile, fold=fold, k=k, spaces=spaces, perplexity=perplexity, n_iter=n_iter, n_normal=n_normal,
                neighbours=neighbours, n_perm=n_perm, generator=generator, seed=seed)

# %% tags=["remove-input"]
show(page.findings())

# %% [markdown]
# The thesis looked at its generated masses through t-SNE {cite}`vandermaaten2008tsne`
# maps of raw pixels (its settings are listed below the parameters, beside this run's)
# {cite}`alyafi2020dcgans`: real against
# generated masses, the same among normal tissue, and, in an annex, real masses with
# flipped copies (the Aug ORG set) among normal tissue. From the maps it read that the
# generated masses **fill gaps** between real ones and **support outliers less** than flips.
#
# A t-SNE map keeps neighbourhoods but not distances or densities, so this chapter draws the
# maps and then puts numbers behind the reading, computed in the original feature space, each
# beside what it would be if the added masses were exchangeable with the real ones (a
# **{term}`permutation null`**: the pooled masses relabelled at random, and the whole computation,
# outlier selection included, rerun):
#
# - **nearest neighbour is real**: the share of added masses whose nearest other mass is real;
# - **coverage**: the share of real masses with an added mass among their nearest neighbours,
#   for all real masses and for the outliers (those with the largest neighbourhoods; the share
#   is stated under the maps);
# - **distance ratio**: the median distance from an added mass to the nearest real one,
#   divided by the median distance between a real mass and its nearest other real mass;
# - **outlier distance ratio**: for each outlying real mass, the distance to the nearest added
#   mass over that to its nearest other real mass (median): how close the added set comes to
#   the outliers.
#
# "Filling gaps" is then asked as a {term}`held-out` question: the masses of the {term}`fold`'s validation and
# test patients, which neither the generator nor the flips saw, are compared with the training
# masses; **gap filling** is how much closer (relative distance) each held-out mass comes to its
# nearest neighbour when the generated masses join the training masses, against the same with
# the flipped copies. A set can sit close to everything by being blurred or collapsed (the
# mean image is near every mass in pixel space), so the generated set's **{term}`spread`** (its median
# pairwise distance over the real masses'), **precision** and **recall** are given too, and a
# set that fails them is not judged on distances at all. Finally, a **mass-vs-normal {term}`AUC`**: a
# logistic regression trained on the training patients, with and without the added masses,
# tested on the held-out patients.
#
# Flipped copies are flipped horizontally, vertically or both, never left as they are; the
# maps are computed in each space the profile lists (`spaces`: raw pixels, as the thesis, and/or
# FID Inception features; the line under the maps names those of this run), each
# after a reduction to principal components (as many as the line under the maps says), by openTSNE {cite}`policar2024opentsne` when it
# is installed and by scikit-learn otherwise.

# %%
show(page.setup())

# %% [markdown]
# ## The maps
#
# In {numref}`fig-tsne-maps`, real masses are crosses, generated masses circles, flipped
# masses squares, normal tissue triangles. Each map is a t-SNE run of its own: positions
# compare within a map, not across.

# %% tags=["remove-input"]
show(page.rows_of_the_figure())

# %% mystnb={"figure": {"caption": "t-SNE maps of one fold's masses: real against generated (left), with normal tissue (middle), and real with flipped copies among normal tissue (right); one row per feature space this run mapped (named above each map and in the text above). Look at whether generated circles sit among the real crosses or apart from them.", "name": "fig-tsne-maps"}, "image": {"alt": "t-SNE maps of one fold's masses: real against generated (left), with normal tissue (middle), and real with flipped copies among normal tissue (right); one row per feature space this run mapped (named above each map and in the text above)"}}
page.maps();

# %% [markdown]
# ## The numbers behind the maps
#
# `value` is the score of the added masses (generated or flipped); `expected` is its mean under
# the permutation null and `low`-`high` the null's 95 % range (for the difference in gap
# filling, the bootstrap interval over held-out masses).

# %%
show(page.readings())

# %% [markdown]
# ## What the numbers say about the thesis' reading

# %% tags=["remove-input"]
show(page.rules(), page.generator_realism())

# %% tags=["remove-input"]
show(page.made_by())

# %%
show(page.downloads())
