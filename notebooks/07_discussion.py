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

import pandas as pd
from IPython.display import Markdown, display

from thesis_lib import config, reference
from thesis_lib.studies import augstudy, fid_results, realism, scorecard
from thesis_lib.training.gan_config import GanConfig

res = scorecard.Results.load(config.artifacts_dir(profile))
claims = scorecard.claims_table(res)
story = scorecard.narrative(claims)
counts = scorecard.verdict_counts(claims)
gan = config.resolve("gan", profile)
data = res.data or {}
display(Markdown(
    f"This book ran the **{profile}** profile on the **{data.get('source', '?')}** dataset "
    f"({data.get('n_patients', 0)} patients). Of the {len(claims)} claims scored on "
    f"the [scorecard](06_scorecard.ipynb): reproduced {counts['reproduced']}, not "
    f"reproduced {counts['not reproduced']}, inconclusive {counts['inconclusive']}, not comparable "
    f"{counts['not comparable']}."
))

# %% [markdown]
# ## Realism
#
# FID is a distance between two Gaussians fitted to Inception features; it depends on the
# data, on the number of samples and on how images are resized before the network sees them,
# so a score is only meaningful beside a {term}`floor` computed the same way. The FID chapter scores
# every generator against real masses it never saw, gives every score with its N, and sets it
# beside a floor of two disjoint real sets of exactly the same sizes.

# %%
fid = pd.DataFrame(res.fid["table"]) if res.fid else None
text = [story["realism"]]
if fid is not None:
    ratio = fid["FID / floor"].mean()
    text.append(
        f"The kept generators score FID {fid.FID.mean():.1f} on average against held-out masses, "
        f"{ratio:.1f} x the matched real-real floor of {fid['real-real FID'].mean():.1f}, with "
        f"precision {fid.precision.mean():.2f} and recall {fid.recall.mean():.2f}; "
        f"{scorecard.pass_words(fid)}. "
        + ("They are far from real masses in Inception's eyes: at this profile's "
           f"size (ngf = {gan['ngf']}, {GanConfig.from_dict(gan).budget}) the DCGAN learns the blob and "
           "its brightness, not the texture." if ratio > realism.MAX_FID_RATIO else
           "Every fold's generator lies close to the floor: in Inception's eyes its masses are nearly as "
           "similar to unseen real masses as real training masses are." if fid.realistic.all() else
           "The folds differ: " + "; ".join(f"fold {f} {words}" for f, words in fid_results.fold_verdicts(
               config.artifacts_dir(profile)).items()) + ".")
    )
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## Augmentation
#
# The thesis' central claim is that synthetic masses, combined with flips, help most when
# real masses are few. The intervals of the augmentation chapter resample training seeds and
# test patients, and a statement that holds at several k is corrected for testing it at each
# (Holm); with few folds and small test sets, differences of a few points are within noise.

# %% tags=["remove-input"]
text = [story["augmentation"]]
if res.aug is not None and res.intervals is not None:
    text.append(f"The best of the thesis' {len(scorecard.THESIS_ARMS)} approaches by mean F1 (a ranking of means, "
                "not a test) was " + "; ".join(
        f"{best} at k = {k}" for k, best in scorecard.best_arm_texts(res, res.aug, scorecard.THESIS_ARMS).items()) + ".")
    judged = scorecard.judged_intervals(res).reset_index()
    sure = judged[judged.verdict != "not distinguishable from 0"]
    text.append(
        f"The scorecard judges {len(judged)} differences between arms, those its claims rest on, with Holm's "
        f"correction over all of them at once (chapter 04 corrects each statement over its k only); {len(sure)} "
        + ("survives" if len(sure) == 1 else "survive") + (": " + "; ".join(
            f"{r.comparison} in {r.metric} at k = {r.k} ({r.estimate:+.3f}, {r.verdict}"
            + ("" if (why := scorecard.standing(res, r.comparison, r.metric, r.k)) == "finding" else f"; {why}") + ")"
            for r in sure.itertuples()) if len(sure) else ", so none can be told from chance") + ".")
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## t-SNE
#
# A t-SNE map keeps neighbourhoods, not distances or densities, and its look depends on the
# perplexity; reading "gaps" from a map is therefore weak evidence. The t-SNE chapter scores
# the same reading in the original feature spaces.

# %% tags=["remove-input"]
display(Markdown(story["t-SNE"]))

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
display(Markdown("- **Settings.** This run's data settings that differ from the thesis': "
                 + "; ".join(reference.departures("data_prep", config.resolve("data_prep", profile))) + ". "
                 "The realism verdicts rest on one GAN per fold, the memorisation check on fold "
                 f"{config.resolve('qualitative', profile)['fold']} only."))

# %% [markdown]
# ## Conclusion

# %%
theirs = claims[scorecard.of_the_thesis(claims)]
reproduced = int((theirs.verdict == scorecard.REPRODUCED).sum())
verdict = scorecard.overall_word(theirs)
display(Markdown(
    f"On the **{data.get('source', '?')}** data at the **{profile}** profile, this book "
    f"{verdict} the thesis' claims (of its {len(theirs)}: "
    + ", ".join(f"{n} {v}" for v, n in scorecard.verdict_counts(theirs).items() if n)
    + "".join(f"; the control it did not run, *{r.claim}*: {r.verdict}"
              for r in claims[~scorecard.of_the_thesis(claims)].itertuples())
    + "). Every number "
    "above was computed by the code of this repository and can be recomputed on another "
    "dataset or at full size with one command; the scorecard and this chapter follow."
))
