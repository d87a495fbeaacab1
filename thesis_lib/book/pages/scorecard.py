"""Chapter 06 (the scorecard): every claim's verdict from the run's results, the landing page's
verdict lines, and the tables the scorecard shows beside the thesis'."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from thesis_lib import config, paths, reference
from thesis_lib.book import plots, verdict_words
from thesis_lib.io import atomic_path
from thesis_lib.provenance import Run
from thesis_lib.studies import scorecard, tsne

FID_COLUMNS = ["fold", "N generated", "N held-out", "FID", "real-real FID", "precision", "recall",
               "too close to training", "realistic"]
TSNE_COLUMNS = ["space", "masses", "metric", "value", "expected", "low", "high"]


class ScorecardPage:
    """The scorecard of one profile's run: ``res`` its results, ``claims`` one row per claim with
    its verdict, ``counts`` the verdicts counted. Opening it starts the chapter's run record
    (written by :meth:`record`)."""

    def __init__(self, profile: str):
        self.profile = profile
        self.art = config.artifacts_dir(profile)
        self.run = Run("scorecard", {"profile": profile})
        self.res = scorecard.Results.load(self.art)
        self.data = self.res.data or {}
        self.claims = scorecard.claims_table(self.res)
        self.counts = scorecard.verdict_counts(self.claims)

    def data_words(self) -> str:
        data = self.data
        return (f"Profile **{self.profile}**; dataset **{data.get('source', 'not prepared')}**: "
                f"{data.get('n_patients', 0)} patients, {data.get('n_images', 0)} images, "
                + ", ".join(f"{n:,} {label} patches" for label, n in data.get("n_patches", {}).items())
                + f" ({scorecard.link('data chapter', 'data')}).")

    def verdicts(self) -> list:
        """The verdicts counted, the claims table (rules folded), and the degenerate cells. Writes the
        landing page's verdict lines (a workflow output, always written)."""
        with atomic_path(verdict_words.VERDICT_PAGE) as tmp:
            tmp.write_text(verdict_words.verdict_markdown(self.claims, self.profile,
                                                      self.data.get("source", "not prepared"), self.res))
        shown, rules = verdict_words.claims_on_the_page(self.claims)
        items = [", ".join(f"**{n}** {v}" for v, n in self.counts.items()) + f" ({len(self.claims)} claims).",
                 shown.to_markdown(index=False), HTML(rules)]
        if self.res.aug is not None:
            cells = scorecard.constant_cells(self.res, "f1")
            items.append("Degenerate cells (every classifier of the arm scores one constant F1 at 0.5; no claim rests "
                         "on F1 there): " + "; ".join(f"{arm} at k = {k} ({value:.3f})" for k, arm, value in cells)
                         + "." if cells else
                         "No degenerate cell: in every arm at every k the classifiers' F1 at 0.5 differ.")
        return items

    def side_by_side(self) -> list[str]:
        """F1 and AUC by k and arm, this run beside the thesis, and the data settings that differ."""
        items = []
        for metric in ("f1", "auc"):
            table = verdict_words.side_by_side(self.res, metric)
            for source, words in (("this run", "this run (mean [95 % interval])"), ("thesis", "the thesis")):
                by_arm = table.xs(source, axis=1, level=1).T  # one row per arm, one column per k
                ran = by_arm.loc[:, (by_arm != "–").any()].rename(columns=lambda k: f"k = {k}")
                items += [f"**{metric.upper()}, {words}**, by arm and k",
                          ran.rename_axis("arm").reset_index().to_markdown(index=False)]
        if self.res.aug is not None:
            items.append(f"This run's k: {', '.join(map(str, sorted(self.res.aug.k.unique())))}. Its data settings "
                         "that differ from the thesis': "
                         + "; ".join(reference.departures("data_prep", config.resolve("data_prep", self.profile))) + ".")
        return items

    def evidence(self) -> list[str]:
        """The FID and t-SNE tables the claims rest on (saturated t-SNE scores left out)."""
        items = []
        if self.res.fid is not None:
            fid = pd.DataFrame(self.res.fid["table"])[FID_COLUMNS].set_index("fold").round(3)
            items += [scorecard.link("FID chapter", "fid"),
                      HTML(plots.table_with_details(fid, ["FID", "real-real FID", "precision", "recall", "realistic"],
                                                    "Every column (N generated and held-out, too close to training)"))]
        if self.res.tsne is not None:
            shown = self.res.tsne[~tsne.saturated(self.res.tsne)]  # a null of zero width: any set scores the same
            items.append(scorecard.link("t-SNE chapter", "tsne") + " (saturated scores left out, as there)\n\n"
                         + shown[TSNE_COLUMNS].round(3).to_markdown(index=False))
        return items

    def record(self) -> None:
        """The chapter's run record: every claim and the verdict counts."""
        self.run.write(paths.chapter_record(self.art, "scorecard"), claims=self.claims.to_dict("records"),
                       verdicts=self.counts)
