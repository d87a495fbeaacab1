# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Realism by eye, and a memorisation check
#
# The thesis first judged its generators as a radiologist would: a batch of real patches
# beside a batch of generated ones. This chapter shows that comparison for each {term}`fold`'s kept
# generator, then asks a question the eye cannot answer: does the generator **copy** its
# training patches? A generator that reproduces a patient's lesion leaks that patient's data,
# and adds nothing to an augmentation study.

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml (section qualitative)
profile: str = "smoke"
fold: int = None
n_generated: int = None
generator: str = None  # a ready generator shown instead of this run's GANs, as label and path to its G.pt joined by an equals sign (e.g. the thesis' own)
seed: int = None

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%
from thesis_lib.book.pages import show
from thesis_lib.book.pages.qualitative import QualitativePage

# the qualitative_results step's results (python -m thesis_lib.studies.qualitative)
page = QualitativePage(profile, fold=fold, n_generated=n_generated, generator=generator, seed=seed)
show(page.ready_note())

# %% [markdown]
# ## Real and generated, side by side
#
# Training masses of each fold (left) and patches from its kept generator (right), as many as
# each panel's title says.

# %% mystnb={"figure": {"caption": "Training masses of each fold (left) beside patches of its kept generator (right). Look for the shapes, margins and textures the generator reproduces, and for those it misses.", "name": "fig-real-generated"}, "image": {"alt": "Training masses of each fold (left) beside patches of its kept generator (right)"}}
page.side_by_side();

# %% [markdown]
# ## Memorisation
#
# For generated patches of one fold, the nearest training patch in pixel space and in the
# feature space of the FID Inception network. A generated patch is flagged when it is closer
# to a training patch than nearly all training patches are to their own nearest neighbour (the
# share is stated below the figures).

# %%
show(page.realism(), page.memorisation_table())

# %% [markdown]
# How to read the table: for each space, how many generated and training patches were
# compared; the median distance from a generated patch to its nearest training patch, beside
# the median distance from a training patch to its nearest other training patch; the flagging
# threshold; and how many generated patches fall below it. A generator that copies would show
# a generated-to-train median well below the train-to-train one.

# %% mystnb={"figure": {"caption": "Distances from each generated patch to its nearest training patch, beside training patches' distances to their own nearest neighbour, in pixels and in Inception features. Memorisation would show as generated patches far closer to a training patch than real patches are to each other.", "name": "fig-memorisation-distances"}, "image": {"alt": "Distances from each generated patch to its nearest training patch, beside training patches' distances to their own nearest neighbour, in pixels and in Inception features"}}
page.distances();

# %% mystnb={"figure": {"caption": "The generated patches nearest a training patch in pixel space, nearest first (top row), and their nearest training patches in each feature space. Copies would look identical to their neighbour.", "name": "fig-memorisation-neighbours"}, "image": {"alt": "The generated patches nearest a training patch in pixel space, nearest first (top row), and their nearest training patches in each feature space"}}
page.neighbours_figure();

# %% tags=["remove-input"]
show(page.flags())

# %% [markdown]
# ## Walking through the latent space
#
# Patches along the great circle between two latent vectors (`interpolation_steps` of them). A smooth change from one
# mass to another, rather than jumps between memorised images, is what a generator that has
# learnt the distribution shows.

# %% mystnb={"figure": {"caption": "Patches decoded along the great circle between two latent vectors. Smooth change, without jumps, suggests the generator has learnt a continuous space rather than a list of memorised patches.", "name": "fig-interpolation"}, "image": {"alt": "Patches decoded along the great circle between two latent vectors"}}
page.interpolation();

# %%
show(page.made_by())

# %%
show(page.downloads())
