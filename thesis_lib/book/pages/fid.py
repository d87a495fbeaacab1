"""Chapter 03 (FID and realism): the fid_results step's results read once, and each table,
figure and paragraph the chapter shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from thesis_lib import config, paths, reference
from thesis_lib.book import plots, verdict_words
from thesis_lib.book.pages import Page
from thesis_lib.provenance import short_commit
from thesis_lib.studies import fid_results, realism, scorecard

CURVE_COLUMNS = ["epoch", "iterations", "FID", "precision", "recall", "N generated"]


class FidPage(Page):
    """The FID chapter: ``params`` its resolved ``fid`` section, ``results`` the step's record,
    ``table`` the kept generators' scores by fold, ``domain`` the domain network's, ``curve`` the
    FID curve's snapshots (none for a ready generator)."""

    def __init__(self, profile: str, **overrides):
        self.profile = profile
        self.params = config.resolve("fid", profile, **overrides)
        self.art = Path(self.params["artifacts"])
        self.figures = paths.figures(self.art)
        self.results = fid_results.current(self.params)  # computed here when missing or stale (outside the render)
        self.ready = self.results["generator"]
        self.table = pd.DataFrame(self.results["table"]).set_index("fold")
        self.domain = pd.DataFrame(self.results["domain"]).set_index("fold")
        self.curve = pd.DataFrame(self.results["curve"], columns=CURVE_COLUMNS)
        self.thesis = reference.reported()["fid_over_epochs"]  # the thesis' FID curve, as reported

    def findings(self) -> str:
        return verdict_words.chapter_findings(scorecard.Results.load(self.art), "fid")

    def setup(self) -> str:
        """The weights, resize and sample counts, against the thesis'."""
        params, thesis_n, inception = self.params, self.thesis["n_generated"], self.results["inception"]
        return ((f"**Scored here: a ready generator, not this run's GANs.** {self.ready['description']}.\n\n"
                 if self.ready else "")
                + f"FID Inception weights: `{inception['weights']}` (SHA-1 `{inception['sha1'][:12]}...`, checked); "
                f"resize **{params['resize']}** to 299 x 299; {params['n_generated']} generated patches per fold and "
                f"{params['n_generated_curve']} per snapshot of the FID curve"
                + (f" (the thesis: {thesis_n:,}; on a CPU the network manages a few images a second per core, which is "
                   f"why the **{self.profile}** profile uses fewer)." if params["n_generated"] < thesis_n else
                   f", as the thesis' {thesis_n:,}."))

    def scores(self) -> pd.DataFrame:
        """Every score of each fold's kept generator, one column per fold."""
        return self.table.drop(columns=["fails"]).round(3).T.rename(columns=lambda f: f"fold {f}")

    def verdicts(self) -> str:
        """The realism rule, each fold's verdict, and the means over folds."""
        table = self.table
        lines = [f"- fold {f}: " + ("**realistic**" if r.realistic else f"**not realistic**: {r.fails}")
                 + ("; **borderline**: " + "; ".join(close) + " (a redraw of samples could turn it)"
                    if (close := realism.borderline(r)) else "")
                 for f, r in table.iterrows()]
        return (f"**Rule.** A kept generator is realistic when {realism.REALISM_RULE}.\n\n" + "\n".join(lines) + "\n\n"
                f"Mean FID over folds: **{table.FID.mean():.1f}** against held-out masses (N = "
                f"{int(table['N generated'].min())} generated, {int(table['N held-out'].min())}-"
                f"{int(table['N held-out'].max())} held-out), {table['FID / floor'].mean():.1f} x the matched floor "
                f"of {table['real-real FID'].mean():.1f}; against training masses {table['FID vs training'].mean():.1f}. "
                + ("FID-infinity could not be extrapolated: it needs more than 4,096 generated samples."
                   if table["FID-infinity"].isna().all() else
                   f"FID-infinity: {table['FID-infinity'].mean():.1f} on average."))

    def domain_words(self) -> str:
        domain = self.domain
        within = int((domain["domain FD"] <= domain["real-real domain FD"]).sum())
        n = domain["N generated"]
        return (f"In {within} of {len(domain)} folds the generated masses lie as close to the held-out masses, in these "
                f"features, as the same number of real training masses do (N = {int(n.min())}"
                + (f"-{int(n.max())}" if n.nunique() > 1 else "") + "), and "
                f"{scorecard.pass_words(self.table)}. Where the two disagree, a network trained to tell masses from "
                "normal tissue and the Inception features see the generated patches differently: the distances "
                "measure different things, and neither alone certifies realism. The same network calls "
                f"{domain['called masses'].mean():.0%} of the generated patches masses on average, and "
                f"{domain['val masses called'].mean():.0%} of the folds' real validation masses.")

    def curve_figure(self) -> list[Path]:
        fig = plots.fid_curves(self.curve, self.thesis["points"],
                               f"this run, fold {self.params['curve_fold']} (N = {self.params['n_generated_curve']})",
                               f"the thesis, as reported (N = {self.thesis['n_generated']})")
        return self.save(fig, "fid_over_epochs")

    def trend(self) -> str:
        trend = realism.fid_trend(self.curve)  # the scorecard's call: the same interval on both pages
        if trend["falls"] is None:
            return f"{trend['snapshots']} snapshot(s): too few to show a trend."
        return (f"Over {trend['snapshots']} snapshots FID reads {scorecard.curve_shape(self.curve)}. A straight line "
                f"through them changes by {trend['slope']:+.1f} per 100 epochs (95 % interval "
                f"{trend['low']:+.1f} to {trend['high']:+.1f}): "
                + ("FID falls as training goes on." if trend["falls"] else
                   "the interval holds 0, so no steady fall is shown; where the curve falls and then rises, the "
                   "line fits neither part, and the rise is what the kept generator's rule below is about."))

    def snapshots(self) -> list:
        return [self.curve.round(3), "**The kept generator's rule.** " + realism.selection_cost(self.curve)]

    def first_met(self) -> str:
        """When the curve's fold first met the precision and recall rules, or how close it came."""
        curve, fold = self.curve, self.params["curve_fold"]
        if curve.empty:
            return "No snapshot of a generator made elsewhere."
        rule = f"precision >= {realism.MIN_PRECISION:g} and recall >= {realism.MIN_RECALL:g}"
        met = curve[(curve.precision >= realism.MIN_PRECISION) & (curve.recall >= realism.MIN_RECALL)]
        if len(met):
            return (f"Fold {fold}'s GAN first met {rule} at epoch {int(met.epoch.iloc[0])}, after about "
                    f"{int(met.iterations.iloc[0]):,} iterations of its {int(curve.iterations.max()):,}.")
        verdicts, n = fid_results.fold_verdicts(self.art), int(curve["N generated"].max())
        return (f"No snapshot of fold {fold}'s GAN met {rule} at the snapshots' N = {n} within its "
                f"{int(curve.iterations.max()):,} iterations (highest precision {curve.precision.max():.2f}, at "
                f"{int(curve.iterations[curve.precision.idxmax()]):,} iterations; highest recall "
                f"{curve.recall.max():.2f}, at {int(curve.iterations[curve.recall.idxmax()]):,}). "
                + (f"The kept generator, scored above with {self.params['n_generated']} samples, {verdicts[fold]}: at "
                   f"N = {n} a precision near {realism.MIN_PRECISION:g} moves by up to about "
                   f"{realism.binomial_margin(realism.MIN_PRECISION, n):.2f} from one draw of samples to another."
                   if fold in verdicts else "A longer budget is needed (the README gives a measured one)."))

    def beside_reported(self) -> pd.DataFrame:
        """This run's mean FID beside the thesis' lowest and the released generator's (as reported)."""
        medigan = reference.reported()["medigan"]
        return pd.DataFrame([
            {"generator": self.ready["name"] if self.ready else "this run (mean over folds)",
             "data": f"{self.results['source']} held-out masses", "N generated": self.params["n_generated"],
             "FID": round(self.table.FID.mean(), 1)},
            {"generator": "the thesis, lowest (epoch 830)", "data": "OPTIMAM lesions",
             "N generated": self.thesis["n_generated"], "FID": self.thesis["minimum"]["fid"]},
            {"generator": "the thesis' released mass generator (medigan)", "data": "its own evaluation",
             "N generated": medigan["n_generated"], "FID": medigan["fid"]},
        ]).set_index("generator")

    def departures(self) -> str:
        return ("**This run's data settings that differ from the thesis'** (FID moves with each; the patches are "
                "resized to 299 x 299 for Inception either way): "
                + "; ".join(reference.departures("data_prep", config.resolve("data_prep", self.profile))) + ".")

    def made_by(self) -> str:
        return (f"Computed by the step `python -m thesis_lib.studies.fid_results` at commit "
                f"`{short_commit(self.results['git_commit'])}`, seed {self.params['seed']}, in "
                f"{self.results['duration_s']:.0f} s.")
