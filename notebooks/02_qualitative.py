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

from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from thesis_lib import config, paths
from thesis_lib.book import plots
from thesis_lib.evaluation import memorisation
from thesis_lib.provenance import short_commit
from thesis_lib.studies import fid_results, qualitative

params = config.resolve("qualitative", profile, fold=fold, n_generated=n_generated, generator=generator, seed=seed)
art = Path(params["artifacts"])
figures = paths.figures(art)
# The qualitative_results step's results (python -m thesis_lib.studies.qualitative); outside the
# book's render, computed here when missing or older than a kept generator
record = qualitative.current(params)
if record["ready"]:
    display(Markdown(f"**Shown here: a ready generator, not this run's GANs.** {record['ready']}; its "
                     "\"training masses\" below are the fold's, which it never saw."))

# %% [markdown]
# ## Real and generated, side by side
#
# Training masses of each fold (left) and patches from its kept generator (right), as many as
# each panel's title says.

# %% mystnb={"figure": {"caption": "Training masses of each fold (left) beside patches of its kept generator (right). Look for the shapes, margins and textures the generator reproduces, and for those it misses.", "name": "fig-real-generated"}, "image": {"alt": "Training masses of each fold (left) beside patches of its kept generator (right)"}}
fig = plots.montage_panels(qualitative.read_panels(art), ncols=8, panels_per_row=2)
plots.save_figure(fig, "real_and_generated", figures);

# %% [markdown]
# ## Memorisation
#
# For generated patches of one fold, the nearest training patch in pixel space and in the
# feature space of the FID Inception network. A generated patch is flagged when it is closer
# to a training patch than nearly all training patches are to their own nearest neighbour (the
# share is stated below the figures).

# %%
k = record["fold"]
realism_by_fold = {} if record["ready"] else fid_results.fold_verdicts(art)
if k in realism_by_fold:
    display(Markdown(f"Fold {k}'s generator, scored against its held-out masses in the [FID chapter](03_fid.ipynb), "
                     f"{realism_by_fold[k]}."))
checks, shown, neighbours = qualitative.read_checks(art)
pd.DataFrame(record["memorisation"]).set_index("space").round(3)

# %% mystnb={"figure": {"caption": "Distances from each generated patch to its nearest training patch, beside training patches' distances to their own nearest neighbour, in pixels and in Inception features. Memorisation would show as generated patches far closer to a training patch than real patches are to each other.", "name": "fig-memorisation-distances"}, "image": {"alt": "Distances from each generated patch to its nearest training patch, beside training patches' distances to their own nearest neighbour, in pixels and in Inception features"}}
fig = plots.nearest_distance_histograms(checks)
plots.save_figure(fig, f"memorisation_distances_fold{k}", figures);

# %% mystnb={"figure": {"caption": "The generated patches nearest a training patch in pixel space, nearest first (top row), and their nearest training patches in each feature space. Copies would look identical to their neighbour.", "name": "fig-memorisation-neighbours"}, "image": {"alt": "The generated patches nearest a training patch in pixel space, nearest first (top row), and their nearest training patches in each feature space"}}
fig = plots.nearest_neighbours(shown, neighbours)
plots.save_figure(fig, f"memorisation_neighbours_fold{k}", figures);

# %% tags=["remove-input"]
flagged = {m["space"]: m["flagged"] for m in record["memorisation"]}
display(Markdown(
    f"Flagged as possible copies: {flagged['pixels']} of {params['n_generated']} in pixel space, "
    f"{flagged['Inception features']} in feature space (fold {k}, {record['n_train']} training masses). "
    f"The threshold is the nearest-neighbour distance that {memorisation.FLAG_PERCENTILE:g} % of training patches "
    f"fall below, so a generator that does not copy has about {params['n_generated'] * memorisation.FLAG_PERCENTILE / 100:.1f} of {params['n_generated']} "
    "flagged by chance; many more than that, or generated patches nearer the training set than training "
    "patches are to each other (the medians above), is the pattern of copying, unless sets that cannot copy show "
    "it too: both are tested below against real unseen masses and averages of two of them. The FID chapter's "
    "memorisation rule, calibrated on real unseen masses, is the one the verdicts use."
))
display(Markdown("**The flags, tested** (against chance, and against sets that cannot copy: real unseen masses and "
                 "averages of two of them, whose smoothness alone brings them near the training set):\n\n"
                 + "\n".join(f"- {t['space']}: {t['text']}" for t in record["flag_tests"])))

# %% [markdown]
# ## Walking through the latent space
#
# Patches along the great circle between two latent vectors (`interpolation_steps` of them). A smooth change from one
# mass to another, rather than jumps between memorised images, is what a generator that has
# learnt the distribution shows.

# %% mystnb={"figure": {"caption": "Patches decoded along the great circle between two latent vectors. Smooth change, without jumps, suggests the generator has learnt a continuous space rather than a list of memorised patches.", "name": "fig-interpolation"}, "image": {"alt": "Patches decoded along the great circle between two latent vectors"}}
strip = qualitative.read_interpolation(art)
fig = plots.patch_montage(strip, f"latent interpolation, fold {k}: {len(strip)} steps", ncols=len(strip))
plots.save_figure(fig, f"latent_interpolation_fold{k}", figures);

# %%
display(Markdown(f"Computed by the step `python -m thesis_lib.studies.qualitative` at commit "
                 f"`{short_commit(record['git_commit'])}`, seed {params['seed']}."))
