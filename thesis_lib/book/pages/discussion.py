"""Chapter 07 (discussion): the scorecard's claims told as a story, each paragraph built from
the run's results."""

from __future__ import annotations

import pandas as pd

from thesis_lib import config, reference
from thesis_lib.book import verdict_words
from thesis_lib.studies import fid_results, realism, scorecard
from thesis_lib.training.gan_config import GanConfig


class DiscussionPage:
    """The discussion of one profile's run: ``res`` its results, ``claims`` the scorecard's claims,
    ``story`` the scorecard's narrative by topic (realism, augmentation, t-SNE)."""

    def __init__(self, profile: str):
        self.profile = profile
        self.res = scorecard.Results.load(config.artifacts_dir(profile))
        self.claims = scorecard.claims_table(self.res)
        self.story = verdict_words.narrative(self.claims)
        self.data = self.res.data or {}

    def opening(self) -> str:
        counts = scorecard.verdict_counts(self.claims)
        return (f"This book ran the **{self.profile}** profile on the **{self.data.get('source', '?')}** dataset "
                f"({self.data.get('n_patients', 0)} patients). Of the {len(self.claims)} claims scored on the "
                f"[scorecard](06_scorecard.ipynb): reproduced {counts['reproduced']}, not reproduced "
                f"{counts['not reproduced']}, inconclusive {counts['inconclusive']}, not comparable "
                f"{counts['not comparable']}.")

    def realism(self) -> str:
        text = [self.story["realism"]]
        if self.res.fid:
            fid = pd.DataFrame(self.res.fid["table"])
            gan = config.resolve("gan", self.profile)
            ratio = fid["FID / floor"].mean()
            text.append(
                f"The kept generators score FID {fid.FID.mean():.1f} on average against held-out masses, {ratio:.1f} x "
                f"the matched real-real floor of {fid['real-real FID'].mean():.1f}, with precision "
                f"{fid.precision.mean():.2f} and recall {fid.recall.mean():.2f}; {scorecard.pass_words(fid)}. "
                + ("They are far from real masses in Inception's eyes: at this profile's size (ngf = "
                   f"{gan['ngf']}, {GanConfig.from_dict(gan).budget}) the DCGAN learns the blob and its brightness, "
                   "not the texture." if ratio > realism.MAX_FID_RATIO else
                   "Every fold's generator lies close to the floor: in Inception's eyes its masses are nearly as "
                   "similar to unseen real masses as real training masses are." if fid.realistic.all() else
                   "The folds differ: " + "; ".join(f"fold {f} {words}" for f, words in fid_results.fold_verdicts(
                       config.artifacts_dir(self.profile)).items()) + "."))
        return "\n\n".join(text)

    def augmentation(self) -> str:
        res, text = self.res, [self.story["augmentation"]]
        if res.aug is not None and res.intervals is not None:
            text.append(f"The best of the thesis' {len(scorecard.THESIS_ARMS)} approaches by mean F1 (a ranking of "
                        "means, not a test) was " + "; ".join(
                            f"{best} at k = {k}"
                            for k, best in verdict_words.best_arm_texts(res, res.aug, scorecard.THESIS_ARMS).items()) + ".")
            judged = scorecard.judged_intervals(res).reset_index()
            sure = judged[judged.verdict != "not distinguishable from 0"]
            text.append(
                f"The scorecard judges {len(judged)} differences between arms, those its claims rest on, with Holm's "
                f"correction over all of them at once (chapter 04 corrects each statement over its k only); {len(sure)} "
                + ("survives" if len(sure) == 1 else "survive") + (": " + "; ".join(
                    f"{r.comparison} in {r.metric} at k = {r.k} ({r.estimate:+.3f}, {r.verdict}"
                    + ("" if (why := scorecard.standing(res, r.comparison, r.metric, r.k)) == "finding"
                       else f"; {why}") + ")"
                    for r in sure.itertuples()) if len(sure) else ", so none can be told from chance") + ".")
        return "\n\n".join(text)

    def tsne(self) -> str:
        return self.story["t-SNE"]

    def settings(self) -> str:
        return ("- **Settings.** This run's data settings that differ from the thesis': "
                + "; ".join(reference.departures("data_prep", config.resolve("data_prep", self.profile))) + ". "
                "The realism verdicts rest on one GAN per fold, the memorisation check on fold "
                f"{config.resolve('qualitative', self.profile)['fold']} only.")

    def conclusion(self) -> str:
        """The thesis' claims counted by verdict, with the control it did not run named apart."""
        claims = self.claims
        theirs = claims[scorecard.of_the_thesis(claims)]
        return (f"On the **{self.data.get('source', '?')}** data at the **{self.profile}** profile, this book "
                f"{verdict_words.overall_word(theirs)} the thesis' claims (of its {len(theirs)}: "
                + ", ".join(f"{n} {v}" for v, n in scorecard.verdict_counts(theirs).items() if n)
                + "".join(f"; the control it did not run, *{r.claim}*: {r.verdict}"
                          for r in claims[~scorecard.of_the_thesis(claims)].itertuples())
                + "). Every number above was computed by the code of this repository and can be recomputed on "
                "another dataset or at full size with one command; the scorecard and this chapter follow.")
