"""Chapter 02 (realism by eye, memorisation): the qualitative_results step's results read once,
and each figure and paragraph the chapter shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from thesis_lib import config, paths
from thesis_lib.book import plots
from thesis_lib.book.pages import Page
from thesis_lib.evaluation import memorisation
from thesis_lib.provenance import short_commit
from thesis_lib.studies import fid_results, qualitative


class QualitativePage(Page):
    """The qualitative chapter: ``params`` its resolved ``qualitative`` section, ``record`` the
    step's record (:func:`thesis_lib.studies.qualitative.current`), ``fold`` the fold it shows."""

    def __init__(self, profile: str, **overrides):
        self.params = config.resolve("qualitative", profile, **overrides)
        self.art = Path(self.params["artifacts"])
        self.figures = paths.figures(self.art)
        # outside the book's render, computed here when missing or older than a kept generator
        self.record = qualitative.current(self.params)
        self.fold = self.record["fold"]
        self.checks, self.shown, self.neighbours = qualitative.read_checks(self.art)

    def ready_note(self) -> str:
        """Says so when a ready generator is shown instead of this run's GANs."""
        if not self.record["ready"]:
            return ""
        return (f"**Shown here: a ready generator, not this run's GANs.** {self.record['ready']}; its \"training "
                "masses\" below are the fold's, which it never saw.")

    def side_by_side(self) -> list[Path]:
        fig = plots.montage_panels(qualitative.read_panels(self.art), ncols=8, panels_per_row=2)
        return self.save(fig, "real_and_generated")

    def realism(self) -> str:
        """The shown fold's realism verdict from the FID chapter (empty for a ready generator)."""
        verdicts = {} if self.record["ready"] else fid_results.fold_verdicts(self.art)
        if self.fold not in verdicts:
            return ""
        return (f"Fold {self.fold}'s generator, scored against its held-out masses in the [FID chapter](03_fid.ipynb), "
                f"{verdicts[self.fold]}.")

    def memorisation_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.record["memorisation"]).set_index("space").round(3)

    def distances(self) -> list[Path]:
        return self.save(plots.nearest_distance_histograms(self.checks),
                                 f"memorisation_distances_fold{self.fold}")

    def neighbours_figure(self) -> list[Path]:
        return self.save(plots.nearest_neighbours(self.shown, self.neighbours),
                                 f"memorisation_neighbours_fold{self.fold}")

    def flags(self) -> list[str]:
        """How many generated patches were flagged, against chance, and the flags' tests."""
        flagged = {m["space"]: m["flagged"] for m in self.record["memorisation"]}
        n = self.params["n_generated"]
        return [
            f"Flagged as possible copies: {flagged['pixels']} of {n} in pixel space, "
            f"{flagged['Inception features']} in feature space (fold {self.fold}, {self.record['n_train']} training "
            f"masses). The threshold is the nearest-neighbour distance that {memorisation.FLAG_PERCENTILE:g} % of "
            f"training patches fall below, so a generator that does not copy has about "
            f"{n * memorisation.FLAG_PERCENTILE / 100:.1f} of {n} flagged by chance; many more than that, or "
            "generated patches nearer the training set than training patches are to each other (the medians above), "
            "is the pattern of copying, unless sets that cannot copy show it too: both are tested below against real "
            "unseen masses and averages of two of them. The FID chapter's memorisation rule, calibrated on real "
            "unseen masses, is the one the verdicts use.",
            "**The flags, tested** (against chance, and against sets that cannot copy: real unseen masses and averages "
            "of two of them, whose smoothness alone brings them near the training set):\n\n"
            + "\n".join(f"- {t['space']}: {t['text']}" for t in self.record["flag_tests"])]

    def interpolation(self) -> list[Path]:
        strip = qualitative.read_interpolation(self.art)
        fig = plots.patch_montage(strip, f"latent interpolation, fold {self.fold}: {len(strip)} steps",
                                  ncols=len(strip))
        return self.save(fig, f"latent_interpolation_fold{self.fold}")

    def made_by(self) -> str:
        return (f"Computed by the step `python -m thesis_lib.studies.qualitative` at commit "
                f"`{short_commit(self.record['git_commit'])}`, seed {self.params['seed']}.")
