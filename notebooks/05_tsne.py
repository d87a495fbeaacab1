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

from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from thesis_lib import config, paths, reference
from thesis_lib.book import plots
from thesis_lib.evaluation import embedding, neighbourhoods
from thesis_lib.provenance import short_commit
from thesis_lib.studies import scorecard, tsne, tsne_results

params = config.resolve("tsne", profile, fold=fold, k=k, spaces=spaces, perplexity=perplexity,
                        n_iter=n_iter, n_normal=n_normal, neighbours=neighbours,
                        n_perm=n_perm, generator=generator, seed=seed)
art = Path(params["artifacts"])
figures = paths.figures(art)
chosen = tsne.check_spaces(params["spaces"])
results = tsne_results.current(params)  # the workflow's tsne_results step; computed here when missing or stale

# %% tags=["remove-input"]
Markdown(scorecard.chapter_findings(scorecard.Results.load(art), "tsne"))  # what the scorecard concludes from this chapter

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
display(Markdown(
    f"Fold {params['fold']}, {results['drawn_by']}: " + ", ".join(
        f"{n} {name}" for name, n in results["counts"].items())
    + f" patches. t-SNE by **{results['backend']}**, perplexity "
    f"{params['perplexity']}, {params['n_iter']} iterations, seed {params['seed']}.\n\n"
    "**Departures from the thesis' maps:** "
    + "; ".join(tsne.departures(params) + reference.departures("data_prep", config.resolve("data_prep", profile)))
    + "."
))

# %% [markdown]
# ## The maps
#
# In {numref}`fig-tsne-maps`, real masses are crosses, generated masses circles, flipped
# masses squares, normal tissue triangles. Each map is a t-SNE run of its own: positions
# compare within a map, not across.

# %% tags=["remove-input"]
display(Markdown("Rows of the figure below, top to bottom: "
                 + ", ".join({"pixels": "raw pixels", "inception": "FID Inception features"}[s] for s in chosen)
                 + f" (the spaces this run mapped: `spaces: {list(chosen)}`), each reduced to "
                 f"{embedding.PCA_COMPONENTS} principal components first. Outliers below: the real masses whose "
                 f"neighbourhood radius is at or above its {neighbourhoods.OUTLIER_PERCENTILE:g}th percentile."))

# %% mystnb={"figure": {"caption": "t-SNE maps of one fold's masses: real against generated (left), with normal tissue (middle), and real with flipped copies among normal tissue (right); one row per feature space this run mapped (named above each map and in the text above). Look at whether generated circles sit among the real crosses or apart from them.", "name": "fig-tsne-maps"}, "image": {"alt": "t-SNE maps of one fold's masses: real against generated (left), with normal tissue (middle), and real with flipped copies among normal tissue (right); one row per feature space this run mapped (named above each map and in the text above)"}}
coords = tsne_results.read_maps(art)
for space in chosen:
    for name, (xy, groups) in coords[space].items():  # one file per map, for a thesis
        fig = plots.tsne_map(xy, groups, f"{space}: {name.replace('_', ', ')}")
        plots.save_figure(fig, f"tsne_{space}_{name}", figures, close=True)
fig = plots.tsne_maps(coords)
plots.save_figure(fig, "tsne_maps", figures);

# %% [markdown]
# ## The numbers behind the maps
#
# `value` is the score of the added masses (generated or flipped); `expected` is its mean under
# the permutation null and `low`-`high` the null's 95 % range (for the difference in gap
# filling, the bootstrap interval over held-out masses).

# %%
table = pd.DataFrame(results["table"])
flat = tsne.saturated(table)
display(table[~flat].set_index(["space", "masses", "metric"]).round(3))
if flat.any():
    display(Markdown("Not shown, saturated (their permutation null has a range of zero width, so any set would "
                     "score the same): " + "; ".join(f"{r.space}, {r.masses}: {r.metric} {r.value:.3f} (null "
                                                    f"[{r.low:.3f}, {r.high:.3f}])" for r in table[flat].itertuples())
                     + "."))

# %% [markdown]
# ## What the numbers say about the thesis' reading

# %% tags=["remove-input"]
display(Markdown(
    f"Rules: the generated set is judged on distances only with spread at least "
    f"{tsne.MIN_SPREAD:g} x the real set's, precision at least {tsne.MIN_PRECISION:g} and recall at least "
    f"{tsne.MIN_RECALL:g}. It *fills gaps* when it brings held-out masses closer than the flips do and than "
    f"the smooth control does (averages of two real masses, which the measure can reward for smoothness alone): "
    f"both 95 % intervals, over held-out patients and G_k seeds, above 0; it *supports outliers less than flips* "
    f"when it stays farther "
    f"from outlying real masses than an exchangeable set would (its outlier distance ratio above its "
    f"permutation null's 95 % range) and than the flips do.\n\n"
    + "\n\n".join(sentence for space in chosen
                   for sentence in tsne.verdicts(table[table.space == space]))))
failed = scorecard.tsne_generator_failed(scorecard.Results.load(art))
display(Markdown(
    f"**Realism of the generator these maps show** (the book's one definition, the quality gate or the FID "
    f"chapter's rules): {failed}. These readings are therefore descriptions only; the scorecard does not judge "
    "the thesis' t-SNE claims on them." if failed else
    f"**Realism of the generator these maps show** ({results['drawn_by']}): "
    + ("a ready generator, which this run's realism rules do not judge" if params["generator"] else
       "no realism rule failed it")
    + (f", but a G_{params['k']} of this fold and k is borderline on the quality gate (a redraw of its samples "
       "could turn its verdict either way), so the scorecard's t-SNE verdicts are inconclusive"
       if str(params["k"]).isdigit() and int(params["k"]) in scorecard.borderline_ks(scorecard.Results.load(art))
       else ", so the scorecard judges the thesis' t-SNE claims on these readings")
    + f". The maps and the nearest-neighbour and outlier readings show one G_k (seed 0); only the gap filling "
    "averages the G_k seeds."))

# %% tags=["remove-input"]
display(Markdown(f"Computed by the step `python -m thesis_lib.studies.tsne_results` at commit "
                 f"`{short_commit(results['git_commit'])}`, seed {params['seed']}, in {results['duration_s']:.0f} s."))
