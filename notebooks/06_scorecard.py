# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproduction scorecard
#
# One page for the reader who wants the verdict first. The first row is the study's **primary
# endpoint**, fixed in the profile before the run (section `design`): do generated masses help
# beyond showing the real masses as often (Aug GAN against Aug ORG x2.5)? It is read by two
# one-sided tests against an {term}`equivalence margin`, is not part of any multiple-testing family,
# and is called {term}`seed-dependent` ({term}`inconclusive`) when leaving one generator seed out changes it.
# Then each claim of the thesis
# {cite}`alyafi2020dcgans` beside the number this run computed for it, with a plain verdict
# and the rule that gave it. Every number of this run on this page is read from the results
# files the chapters wrote, and each links to the chapter that computed it; the thesis'
# numbers are those it reported. **Reproduced** means this run's numbers show what the
# thesis claims by the stated rule; **not reproduced** means they exclude it (the thesis' own
# effect is rejected after Holm's correction, or for the {term}`primary endpoint`, the difference is
# worse, or equivalent within margins that exclude the thesis' own effect); **inconclusive** means this design cannot tell (the interval holds
# both 0 and the thesis' effect, shown side by side with the smallest difference the design
# could detect; or the cell is degenerate: every classifier scored the same constant; or a claim
# about a trend over k rests on one k; or a {term}`G_k` it rests on is {term}`borderline`; or a measure
# fails its control, as when averages of two real masses fill gaps too; or a score lies inside
# its {term}`permutation null`'s range; or 10 % or more of the classifiers stopped at the epoch cap;
# each row's rule says which); **not
# comparable** means the two numbers measure different things (other data, another number of
# samples, a generator that failed the {term}`quality gate`) or the chapter has not run. Holm's
# correction runs over every difference this page judges at once: the intervals shown are the
# unadjusted 95 % intervals, the verdict beside each ("better", "not distinguishable from 0")
# is the Holm-adjusted test's, so an interval that just excludes 0 can still read "not
# distinguishable". Where this run's k is not one of the thesis', the thesis' effect is read at
# its nearest k, named beside it.

# %% tags=["parameters"]
profile: str = "smoke"

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%
from thesis_lib.book.pages import show
from thesis_lib.book.pages.scorecard import ScorecardPage

page = ScorecardPage(profile)
show(page.data_words())

# %% [markdown]
# ## The claims

# %%
show(page.verdicts())

# %% [markdown]
# ## F1 and AUC per k and approach
#
# This run's mean over folds and classifier seeds with its 95 % interval ({term}`hierarchical
# bootstrap`: seeds, then test patients), then the thesis' means over its three folds: one row per
# arm, one column per k (this run's table holds the k it ran; "–" where an arm did not run, and the
# controls ORG x2.5 and Aug ORG x2.5 are not in the thesis). The thesis used OPTIMAM patches; the two
# tables meet only at the k this run shares with the thesis, and the data differ.

# %%
show(page.side_by_side())

# %% [markdown]
# ## FID per fold and the t-SNE numbers
#
# The thesis reported FID for its lesion-simulation GAN only, and no numbers for its
# t-SNE maps; these are this run's, for reference: FID against {term}`held-out` masses beside its
# matched {term}`floor`, and the t-SNE scores beside their permutation nulls.

# %%
show(page.evidence())

# %%
page.record()
