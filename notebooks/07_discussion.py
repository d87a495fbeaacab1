# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Discussion and conclusion
#
# This chapter reads the results the book computed; the sentences that depend on them are
# written by code from the same results files as the scorecard, so they change when the
# results do.

# %% tags=["parameters"]
profile: str = "smoke"

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%
from thesis_lib.book.pages import show
from thesis_lib.book.pages.discussion import DiscussionPage

page = DiscussionPage(profile)
show(page.opening())

# %% [markdown]
# ## Realism
#
# FID is a distance between two Gaussians fitted to Inception features; it depends on the
# data, on the number of samples and on how images are resized before the network sees them,
# so a score is only meaningful beside a {term}`floor` computed the same way. The FID chapter scores
# every generator against real masses it never saw, gives every score with its N, and sets it
# beside a floor of two disjoint real sets of exactly the same sizes.

# %%
show(page.realism())

# %% [markdown]
# ## Augmentation
#
# The thesis' central claim is that synthetic masses, combined with flips, help most when
# real masses are few. The intervals of the augmentation chapter resample training seeds and
# test patients, and a statement that holds at several k is corrected for testing it at each
# (Holm); with few folds and small test sets, differences of a few points are within noise.

# %% tags=["remove-input"]
show(page.augmentation())

# %% [markdown]
# ## t-SNE
#
# A t-SNE map keeps neighbourhoods, not distances or densities, and its look depends on the
# perplexity; reading "gaps" from a map is therefore weak evidence. The t-SNE chapter scores
# the same reading in the original feature spaces.

# %% tags=["remove-input"]
show(page.tsne())

# %% [markdown]
# ## Limits of this reproduction
#
# - **Data.** The default cohort is synthetic: physically motivated (attenuation, noise,
#   power-law breast texture, spiculated masses) but simpler than real mammograms; how its
#   masses and their contrast with normal tissue differ from real ones is not measured here. Conclusions about real
#   screening data need a real dataset; the loaders for CBIS-DDSM, INbreast, VinDr-Mammo and
#   OMI-DB make that a change of one parameter.
# - **Size.** The default profile is sized for two CPU cores: small GANs, few epochs, small
#   k and short classifier training. The thesis profile holds the thesis' settings.
# - **Protocol.** Unlike the thesis, folds are split by patient, and each {term}`G_k` sees only its
#   {term}`fold`'s k training masses, so no test patient reaches a generator.

# %% tags=["remove-input"]
show(page.settings())

# %% [markdown]
# ## Conclusion

# %%
show(page.conclusion())
