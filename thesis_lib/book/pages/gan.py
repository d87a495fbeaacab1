"""Chapter 01 (the DCGAN): one fold's training run read once, the networks, and each table,
figure and paragraph the chapter shows, with the ablation's rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from IPython.display import HTML

from thesis_lib import config, paths
from thesis_lib.book import plots
from thesis_lib.book.pages import Page
from thesis_lib.models.dcgan import Discriminator, Generator, layer_table, n_parameters
from thesis_lib.provenance import short_commit
from thesis_lib.studies import ablation, fid_results, realism
from thesis_lib.training import gan, runs
from thesis_lib.training.gan_config import GanConfig

RESUME = {"yes": True, "auto": "auto", "no": False}  # the notebook's resume parameter, as gan.current_run takes it
ABLATION_COLUMNS = ["row", "changes", "FID", "real-real FID", "FID / floor", "precision", "recall",
                    "spectrum excess (dex)", "train_s", "best_epoch"]


class GanPage(Page):
    """The DCGAN chapter for ``fold`` (and ``k``: a nested k-subset, None for the fold's pool):
    ``cfg`` is the run's recipe, ``thesis`` the thesis profile's, ``record`` the training run
    (:func:`thesis_lib.training.gan.current_run`)."""

    def __init__(self, profile: str, fold: int, k: int | None = None, resume: str = "yes", **overrides):
        self.profile, self.fold, self.k = profile, fold, k
        self.params = config.resolve("gan", profile, **overrides)
        self.cfg = GanConfig.from_dict(self.params)
        self.thesis_gan = config.resolve("gan", "thesis")
        self.thesis = GanConfig.from_dict(self.thesis_gan)
        self.out = runs.run_dir(self.params["artifacts"], fold, k)
        self.figures = paths.figures(self.params["artifacts"])
        self.record = gan.current_run(self.params, fold, k, resume=RESUME[resume])
        self.size = config.resolve("data_prep", profile)["patch_size"]
        self.summary = self.record["summary"]
        self.selected = bool(self.record["scores"].score.notna().any())

    def opening(self) -> str:
        prov, cfg, thesis = self.record["provenance"], self.cfg, self.thesis
        return (f"Fold {self.fold}: **{prov['n_train']} mass patches** of {self.size} x {self.size} pixels from "
                f"{prov.get('n_patients', 'its')} training patients; profile **{self.profile}**: nz = {cfg.nz}, "
                f"ngf = {cfg.ngf}, ndf = {cfg.ndf}, {cfg.budget} (the thesis: {thesis.nz}, {thesis.ngf}, "
                f"{thesis.ndf}, {thesis.budget}).")

    def generator_layers(self) -> pd.DataFrame:
        """The generator's layers with their output shapes, at this run's widths."""
        return layer_table(Generator(self.cfg.nz, self.cfg.ngf, self.size), torch.randn(1, self.cfg.nz))

    def parameter_counts(self):
        """Parameters of G and D at this run's widths and at the thesis'."""
        cfg, thesis = self.cfg, self.thesis
        counts = pd.DataFrame({
            "this run": [n_parameters(m) for m in (Generator(cfg.nz, cfg.ngf, self.size),
                                                   Discriminator(cfg.ndf, self.size))],
            "thesis widths": [n_parameters(m) for m in (Generator(thesis.nz, thesis.ngf), Discriminator(thesis.ndf))],
        }, index=["generator", "discriminator"])
        return counts.style.format("{:,}")

    def procedure(self) -> str:
        """The loop's settings (label smoothing, flips, Adam, decay, stops, selection), against the thesis'."""
        cfg, thesis = self.cfg, self.thesis
        same = ((cfg.real_label_range, cfg.betas, cfg.lr_g, cfg.lr_d, cfg.lr_decay, cfg.decay_every_g, cfg.decay_every_d)
                == (thesis.real_label_range, thesis.betas, thesis.lr_g, thesis.lr_d, thesis.lr_decay,
                    thesis.decay_every_g, thesis.decay_every_d))
        return (f"Following the thesis, the real label is not 1 but a value drawn from U[{cfg.real_label_range[0]:g}, "
                f"{cfg.real_label_range[1]:g}] at each epoch (one-sided label smoothing {{cite}}`salimans2016improved`)"
                + ("; real patches are flipped at random horizontally and vertically" if cfg.flips else "")
                + f"; Adam runs with beta1 = {cfg.betas[0]:g} and learning rates {cfg.lr_g:g} (G) and {cfg.lr_d:g} "
                f"(D) {{cite}}`heusel2017fid`, multiplied by {cfg.lr_decay:g} every {cfg.decay_every_g} and "
                f"{cfg.decay_every_d} epochs (this run's settings"
                + ("" if same else "; **they differ from the thesis profile's**") + "). "
                "The run stops with a message if a loss becomes non-finite or D wins outright for "
                f"{cfg.saturation_patience} iterations in a row. Every few epochs a model-selection score compares "
                "generated and real patches; the generator with the best score is kept. The thesis used FID on "
                f"{self.thesis_gan['eval_samples']:,} samples every {thesis.eval_every} epochs (`evaluator: fid`, the "
                "thesis profile).")

    def selection(self) -> str:
        evaluator = self.record["provenance"]["evaluator"]
        if self.selected:
            return (f"Model selection: **{evaluator}** on {self.params['eval_samples']} generated patches every "
                    f"{self.cfg.eval_every} epochs.")
        return (f"Model selection: **{evaluator}**: `best.pt` holds the generator of the last epoch "
                f"({self.summary['best_epoch']}).")

    def curves(self) -> list[Path]:
        return self.save(plots.training_curves(self.record["log"]), f"gan_training_curves_fold{self.fold}")

    def balance(self) -> str:
        """How the game went over the second half of training, in words."""
        game = runs.balance(self.record["log"])
        return (f"Over iterations {game.first:,}-{game.last:,} (the second half), D(x) averaged {game.d_real:.2f} and "
                f"D(G(z)) {game.d_fake:.2f}; D(x) was above D(G(z)) in {game.d_ahead * 100:.0f} % of the iterations, "
                f"and one of them was within {runs.SATURATED} of 0 or 1 in {game.saturated * 100:.0f} %. Reading: "
                f"**{game.reading}**. In the first tenth D(G(z)) fell as low as {game.early_min_fake:.3f}: "
                + ("D won the opening, as it usually does, and G caught up." if game.reading == "balanced" else
                   "the game never settled; the samples below show what that costs."))

    def samples(self) -> list[Path]:
        return self.save(plots.sample_progress(self.record["samples"], n=5),
                                 f"gan_samples_over_epochs_fold{self.fold}")

    def score_curve(self) -> list:
        """The model-selection score over epochs with its caption, or why there is none."""
        if not self.selected:
            return ["No selection score: this run keeps its last generator."]
        fig = plots.score_curve(self.record["scores"], self.record["provenance"]["evaluator"],
                                self.summary["best_epoch"])
        self.save(fig, f"gan_model_selection_fold{self.fold}", close=True)
        return [fig, "*The model-selection score over epochs (lower is better); the dashed line marks the generator "
                     "kept as `best.pt`.*"]

    def timing(self) -> pd.DataFrame:
        return runs.timing_table(self.summary, f"fold {self.fold}")

    def all_folds(self) -> pd.DataFrame:
        return runs.summarise_runs(paths.gan(self.params["artifacts"]), pattern="fold[0-9]+")

    def kept(self) -> str:
        """Where the kept generator is, how to sample it, and its realism verdict (FID chapter)."""
        kept = paths.gan(Path("artifacts", self.profile)) / self.out.name / "best.pt"  # as a user types it
        verdicts = fid_results.fold_verdicts(self.params["artifacts"]) if self.k is None else {}
        return (f"Generator kept: `{kept}`; sample it with `python -m thesis_lib.models.generate {kept} --n 1000 "
                f"--out DIR`. Trained at commit `{short_commit(self.record['provenance']['git_commit'])}`, seed "
                f"{self.cfg.seed}."
                + (f" Scored against the fold's held-out masses in the [FID chapter](03_fid.ipynb), it "
                   f"{verdicts[self.fold]}." if self.fold in verdicts else ""))

    def ablation(self) -> list:
        """The ablation's rows and what they show."""
        rows = ablation.read_ablation(self.params["artifacts"])
        first = rows.iloc[0]
        _, reading = ablation.ranking(rows)
        passing = int(rows.realistic.astype(str).isin(["True", "true", "1"]).sum())
        words = (f"Every row: {first['budget']} on fold {config.resolve('ablation', self.profile)['fold']}, "
                 f"N = {int(first['N generated'])} generated against {int(first['N held-out'])} held-out masses. "
                 f"The first row (the thesis' options at this profile's widths and budget) reaches "
                 f"{first['FID / floor']:.1f} x the floor. {passing} of {len(rows)} rows pass the realism rules at "
                 "this budget"
                 + (f" (the fold GANs of this chapter train for {self.cfg.budget}). " if first["budget"] != self.cfg.budget
                    else ". ")
                 + reading + f"\n\nThe realism rule: {realism.REALISM_RULE}.")
        table = rows[ABLATION_COLUMNS].set_index("row").round(3)
        return [HTML(plots.table_with_details(table, ["changes", "FID / floor", "precision", "recall"],
                                              f"Every column ({len(ABLATION_COLUMNS) - 1}: FID, the real-real floor, "
                                              "spectrum excess, training seconds, best epoch)")), words]
