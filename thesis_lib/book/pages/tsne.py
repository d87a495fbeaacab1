"""Chapter 05 (t-SNE): the tsne_results step's results read once, and each figure, table and
paragraph the chapter shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from thesis_lib import config, paths, reference
from thesis_lib.book import plots, verdict_words
from thesis_lib.book.pages import Page
from thesis_lib.evaluation import embedding, neighbourhoods
from thesis_lib.provenance import short_commit
from thesis_lib.studies import scorecard, tsne, tsne_results

SPACE_NAMES = {"pixels": "raw pixels", "inception": "FID Inception features"}


class TsnePage(Page):
    """The t-SNE chapter: ``params`` the resolved ``tsne`` section, ``spaces`` the feature spaces
    mapped, ``results`` the step's record, ``table`` its readings (one row per space, mass set
    and metric)."""

    def __init__(self, profile: str, **overrides):
        self.profile = profile
        self.params = config.resolve("tsne", profile, **overrides)
        self.art = Path(self.params["artifacts"])
        self.figures = paths.figures(self.art)
        self.spaces = tsne.check_spaces(self.params["spaces"])
        self.results = tsne_results.current(self.params)  # computed here when missing or stale (outside the render)
        self.table = pd.DataFrame(self.results["table"])
        self.res = scorecard.Results.load(self.art)

    def findings(self) -> str:
        return verdict_words.chapter_findings(self.res, "tsne")

    def setup(self) -> str:
        params, results = self.params, self.results
        departures = tsne.departures(params) + reference.departures("data_prep",
                                                                     config.resolve("data_prep", self.profile))
        return (f"Fold {params['fold']}, {results['drawn_by']}: "
                + ", ".join(f"{n} {name}" for name, n in results["counts"].items())
                + f" patches. t-SNE by **{results['backend']}**, perplexity {params['perplexity']}, {params['n_iter']} "
                f"iterations, seed {params['seed']}.\n\n**Departures from the thesis' maps:** "
                + "; ".join(departures) + ".")

    def rows_of_the_figure(self) -> str:
        return ("Rows of the figure below, top to bottom: " + ", ".join(SPACE_NAMES[s] for s in self.spaces)
                + f" (the spaces this run mapped: `spaces: {list(self.spaces)}`), each reduced to "
                f"{embedding.PCA_COMPONENTS} principal components first. Outliers below: the real masses whose "
                f"neighbourhood radius is at or above its {neighbourhoods.OUTLIER_PERCENTILE:g}th percentile.")

    def maps(self) -> list[Path]:
        """Every map in one figure (shown), and each map in a file of its own (for a thesis)."""
        coords = tsne_results.read_maps(self.art)
        for space in self.spaces:
            for name, (xy, groups) in coords[space].items():
                fig = plots.tsne_map(xy, groups, f"{space}: {name.replace('_', ', ')}")
                self.save(fig, f"tsne_{space}_{name}", close=True)
        return self.save(plots.tsne_maps(coords), "tsne_maps")

    def readings(self) -> list:
        """The readings that can tell sets apart, and the saturated ones named apart."""
        table, flat = self.table, tsne.saturated(self.table)
        shown = [table[~flat].set_index(["space", "masses", "metric"]).round(3)]
        if flat.any():
            shown.append("Not shown, saturated (their permutation null has a range of zero width, so any set would "
                         "score the same): " + "; ".join(f"{r.space}, {r.masses}: {r.metric} {r.value:.3f} (null "
                                                        f"[{r.low:.3f}, {r.high:.3f}])"
                                                        for r in table[flat].itertuples()) + ".")
        return shown

    def rules(self) -> str:
        return (f"Rules: the generated set is judged on distances only with spread at least {tsne.MIN_SPREAD:g} x the "
                f"real set's, precision at least {tsne.MIN_PRECISION:g} and recall at least {tsne.MIN_RECALL:g}. It "
                "*fills gaps* when it brings held-out masses closer than the flips do and than the smooth control does "
                "(averages of two real masses, which the measure can reward for smoothness alone): both 95 % "
                "intervals, over held-out patients and G_k seeds, above 0; it *supports outliers less than flips* "
                "when it stays farther from outlying real masses than an exchangeable set would (its outlier distance "
                "ratio above its permutation null's 95 % range) and than the flips do.\n\n"
                + "\n\n".join(sentence for space in self.spaces
                              for sentence in tsne.verdicts(self.table[self.table.space == space])))

    def generator_realism(self) -> str:
        """Whether the generator the maps show is realistic by the book's rules, and what follows for the verdicts."""
        params = self.params
        failed = scorecard.tsne_generator_failed(self.res)
        if failed:
            return (f"**Realism of the generator these maps show** (the book's one definition, the quality gate or the "
                    f"FID chapter's rules): {failed}. These readings are therefore descriptions only; the scorecard "
                    "does not judge the thesis' t-SNE claims on them.")
        borderline = str(params["k"]).isdigit() and int(params["k"]) in scorecard.borderline_ks(self.res)
        return (f"**Realism of the generator these maps show** ({self.results['drawn_by']}): "
                + ("a ready generator, which this run's realism rules do not judge" if params["generator"] else
                   "no realism rule failed it")
                + (f", but a G_{params['k']} of this fold and k is borderline on the quality gate (a redraw of its "
                   "samples could turn its verdict either way), so the scorecard's t-SNE verdicts are inconclusive"
                   if borderline else ", so the scorecard judges the thesis' t-SNE claims on these readings")
                + ". The maps and the nearest-neighbour and outlier readings show one G_k (seed 0); only the gap "
                "filling averages the G_k seeds.")

    def made_by(self) -> str:
        return (f"Computed by the step `python -m thesis_lib.studies.tsne_results` at commit "
                f"`{short_commit(self.results['git_commit'])}`, seed {self.params['seed']}, in "
                f"{self.results['duration_s']:.0f} s.")
