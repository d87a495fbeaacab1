"""Chapter 04 (the augmentation study): the aug_k, aug_intervals and aug_gate steps' results
read once, and each table, figure and paragraph the chapter shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython.display import HTML

from thesis_lib import config, paths, reference
from thesis_lib.book import plots, verdict_words
from thesis_lib.book.pages import Page
from thesis_lib.data import report, shortcuts, splits
from thesis_lib.evaluation.scoring import auc_standard_error, mean_and_sd
from thesis_lib.provenance import short_commit
from thesis_lib.studies import arms, aug_results, augstudy, generator_gate, primary, realism, scorecard
from thesis_lib.training.gan_config import GanConfig

GATE_COLUMNS = ["generator", "k", "fold", "gan_seed", "N generated", "FID", "real-real FID", "FID / floor", "precision",
                "recall", "normal-tissue FID", "called masses", "called masses limit", "too close to training",
                "too close limit", "spectrum excess (dex)", "standing", "fails"]
GATE_SHOWN = ["k", "fold", "gan_seed", "FID / floor", "precision", "recall", "standing", "fails"]  # the rest folded


class AugPage(Page):
    """The augmentation chapter: ``params`` the resolved ``aug`` section (with the notebook's
    overrides), ``table`` one row per k, arm, fold and classifier (and G_k seed), ``intervals``
    the bootstrap intervals, ``gate`` every G_k's realism scores, ``endpoint`` the primary
    endpoint (None before its step), ``res`` the scorecard's view of them."""

    def __init__(self, profile: str, k=None, reuse: bool = True, **overrides):
        self.profile = profile
        self.params = config.resolve("aug", profile, **overrides)
        self.thesis_aug = config.resolve("aug", "thesis")  # the thesis' design, as the thesis profile states it
        self.art = Path(self.params["artifacts"])
        self.figures = paths.figures(self.art)
        self.ks = augstudy.parse_ks(k if k is not None else self.params["k"])
        # outside the book's render, the missing results are computed here
        self.table = augstudy.current_study(profile, self.ks, reuse=reuse, **overrides)
        self.intervals = aug_results.current_intervals(self.art, self.params["n_boot"], self.params["seed"])
        self.gk_samples, self.budget_rows, self.described = generator_gate.current_shown(profile, self.ks)
        self.gan_params = augstudy.gan_params(profile, self.params, next(
            s for s in augstudy.declared_sources(profile, self.params) if s.trained_here))
        self.order = sorted(set(self.table.approach), key=arms.arm_order)
        self.endpoint = primary.current_endpoint(profile)
        self.gate = generator_gate.current_gate(profile, self.ks)
        self.res = scorecard.Results.load(self.art)
        self.thesis = reference.reported()["augmentation"]
        self.dataset = config.resolve("data_prep", profile)["dataset"]
        self.gk_budget = GanConfig.from_dict(self.gan_params).budget

    def findings(self) -> str:
        return verdict_words.chapter_findings(self.res, "aug")

    def settings(self) -> list:
        """This run's k, classifier and G_k settings, its generators, and where each k's rows come from."""
        params, gan, thesis = self.params, self.gan_params, self.thesis_aug
        table = self.table
        design = ("normal_per_real", "synthetic_per_real", "ndf")
        words = (f"This run: k = {', '.join(map(str, self.ks))}; the table holds k = "
                 f"{', '.join(map(str, sorted(table.k.unique())))} ({len(table)} rows, one per k, arm, fold and "
                 f"classifier seed). Classifier: {params['epochs']} epochs, batch {params['batch_size']}, Adam lr "
                 f"{params['lr']:g}, weight decay {params['weight_decay']:g}, StepLR gamma {params['step_gamma']}, seeds "
                 f"{params['classifier_seeds']}. G_k: {self.gk_budget} at ngf = ndf = {gan['ngf']}, "
                 + ("the last generator kept" if gan["evaluator"] == "last" else
                    f"kept by the **{gan['evaluator']}** score")
                 + f", seeds {params['gan_seeds']} (profile **{self.profile}**). Per real mass: "
                 f"{params['normal_per_real']:g} normal patches and {params['synthetic_per_real']:g} generated masses; "
                 f"classifier width ndf = {params['ndf']}"
                 + ("" if all(params[key] == thesis[key] for key in design) else
                    " (**not the thesis'**: the table above is its design)")
                 + f". Intervals: {params['n_boot']:,} bootstrap replicates.\n\nGenerators of the GAN arms, the first "
                 "behind GAN and Aug GAN:\n\n" + "\n".join(f"- {line}" for line in self.described))
        return [words, "Where each k's rows come from: `config` is a hash of the study's settings, its training subsets "
                       "and the identities of its G_k (not of k); `last run` is when that k's step last started, and "
                       "`rows reused` says whether it found the rows of this config already computed (at the commit "
                       "shown) instead of training them again.", aug_results.reuse_table(self.art, table)]

    def shortcut_audit(self) -> list:
        audit = pd.read_csv(report.current(config.resolve("data_prep", self.profile)) / "shortcut_audit.csv",
                            index_col=0)
        return [audit[["kind", "median mass", "median normal", "auc", "separability"]].round(3),
                f"**Verdict.** {shortcuts.verdict(audit)}"]

    def counts(self) -> list[pd.DataFrame]:
        """Fold 0's training-set sizes per k and arm, and each fold's validation and test sizes."""
        table = self.table
        first = table[(table.fold == 0) & (table.replicate == table.replicate.min())]
        counts = first.drop_duplicates(["k", "approach"]).set_index(["k", "approach"])[  # each G_k seed alike
            ["n_real", "n_positive", "n_synthetic", "n_normal"]]
        return [counts, table.groupby("fold")[["n_val", "n_val_mass", "n_test_mass", "n_test_normal",
                                               "n_test_patients"]].first()]

    def validation(self) -> str:
        """What the smallest validation set can decide, and this run's validation share against the thesis'."""
        table = self.table
        val = table.groupby("fold")[["n_val", "n_val_mass"]].first()
        data_prep = config.load_profile(self.profile)["data_prep"]
        thesis_fraction = config.load_profile("thesis")["data_prep"]["val_fraction"]
        patients = {name: splits.validation_patients(config.load_profile(name)["data_prep"])
                    for name in (self.profile, "gpu", "thesis")}
        smallest = val.n_val_mass.idxmin()  # the fold with the fewest validation masses, and its normals
        n_pos, n_neg = int(val.n_val_mass[smallest]), int(val.n_val[smallest] - val.n_val_mass[smallest])
        val_auc = float(table.best_val_auc.median())
        measurable = n_pos >= 1 and n_neg >= 1 and 0 <= val_auc <= 1
        return (f"The smallest validation set here, fold {smallest}'s, holds **{n_pos} masses** and {n_neg} normal "
                "patches. "
                + (f"At the median validation AUC of the kept epochs ({val_auc:.2f}), an AUC on that set has a standard "
                   f"error of about **{auc_standard_error(val_auc, n_pos, n_neg):.2f}**, so epochs whose validation "
                   "AUCs differ by less than about twice that are chosen between largely by chance; and a threshold "
                   f"chosen on {n_pos} masses moves recall in steps of {1 / n_pos:.2f}. " if measurable else
                   "That is too few to measure a validation AUC on: there the epoch and the threshold are not informed "
                   "by validation at all. ")
                + "`f1_val` is shown for the thesis' protocol; no verdict of the scorecard rests on it (the scorecard "
                f"judges AUC, AP and F1 at 0.5). This run validates on `val_fraction` {data_prep['val_fraction']:g} of "
                f"each fold's non-test patients, {patients[self.profile]} patients per fold (the thesis profile: "
                f"{thesis_fraction:g}, {patients['thesis']} patients"
                + (f"; the gpu profile: {patients['gpu']}" if self.profile != "gpu" else "") + "). "
                + ("The fraction is above the thesis' so that the small cohort's validation set reaches the standard "
                   "error and recall step above (at the thesis' fraction it would hold about "
                   f"{thesis_fraction / data_prep['val_fraction'] * 100:.0f} % as many masses), while every fold's "
                   "training pool still holds the largest k's masses. "
                   if data_prep["val_fraction"] > thesis_fraction else ""))

    def gate_table(self) -> HTML:
        """Every G_k's rule numbers: the main columns shown, the rest folded."""
        every_rule = self.gate.assign(standing=generator_gate.status(self.gate)).reindex(columns=GATE_COLUMNS).round(3)
        return HTML(plots.table_with_details(
            every_rule, GATE_SHOWN,
            f"Every rule's numbers ({every_rule.shape[1]} columns: each G_k's FID and floor, normal-tissue FID, the "
            "called-masses and too-close shares with their limits, the spectrum excess in dex; `fails` names each rule "
            "a G_k failed, or met only within the margin a redraw could erase)"))

    def gate_words(self) -> str:
        gate = self.gate
        counts = generator_gate.status(gate).value_counts()
        failed, borderline = generator_gate.failed_ks(gate), generator_gate.borderline_ks(gate)
        return (f"**Gate.** A G_k passes when {realism.REALISM_RULE}, each by more than the binomial margin a redraw of "
                f"its samples could erase; within that margin it is **borderline**. Here **{counts.get('pass', 0)}** of "
                f"{len(gate)} G_k pass, **{counts.get('borderline', 0)}** are borderline and "
                f"**{counts.get('fail', 0)}** fail"
                + ("." if counts.get("pass", 0) == len(gate) else
                   f" (rules not met by a clear margin: {', '.join(generator_gate.failed_rules(gate))}).")
                + (f" At k = {', '.join(map(str, failed))} a G_k failed: the GAN arms there measure the effect of "
                   "adding such patches, not of adding realistic masses, and the scorecard judges no claim on them."
                   if failed else "")
                + (f" At k = {', '.join(map(str, borderline))} a G_k is borderline: the claims judged there can be "
                   "inconclusive at best." if borderline else ""))

    def budget(self) -> list:
        """The G_k budget measured apart on this build's data, and what it says of this run's."""
        curve = self.budget_rows
        if curve.empty:
            return [f"No G_k budget has been measured on this build's data (profile **{self.profile}**; "
                    "`benchmarks/results/gk_budget.jsonl` holds none for it)."]
        reached = generator_gate.budget_reached(curve)
        passed_ks = set(self.gate.k) - set(generator_gate.failed_ks(self.gate))
        last = {k: curve[curve.k == k] for k in reached}
        n_curve, n_gate = set(curve["N generated"]), set(self.gate["N generated"])
        words = (f"Measured at commit(s) {', '.join(f'`{short_commit(c)}`' for c in sorted(set(curve.commit)))}, fold "
                 f"{', '.join(map(str, sorted(set(curve.fold))))}. " + " ".join(
                     f"G_{k} meets every rule from {it:,} iterations on (at every later snapshot, up to "
                     f"{last[k].iterations.max():,})." if it is not None else
                     f"G_{k} does not meet every rule at its last snapshot ({last[k].iterations.max():,} iterations: "
                     f"{last[k].fails.iloc[-1]})." for k, it in reached.items())
                 + f" This run's G_k trained for {self.gk_budget}."
                 + (f" The snapshots were scored with N = {', '.join(f'{n:.0f}' for n in sorted(n_curve))} generated "
                    f"masses, the gate with N = {', '.join(f'{n:.0f}' for n in sorted(n_gate))}: a measured curve is a "
                    "guide to the budget, not a guarantee of the gate." if n_curve != n_gate else "")
                 + "".join(f" The study's own G_{k} failed the gate at that budget although the measured curve passed: "
                           f"at k = {k} a verdict moves between snapshots and runs, and the measured budget is no "
                           "guarantee." for k, it in reached.items()
                           if it is not None and k not in passed_ks and k in set(self.gate.k)))
        table = curve.drop(columns=["fold", "commit", "fails"]).set_index(["k", "iterations"]).round(2)
        return [words, HTML(plots.table_with_details(table, [], f"Every snapshot's scores ({len(table)} snapshots)"))]

    def primary(self) -> list:
        """The primary endpoint: its sentence, scores, margins, variance components, power, and whether
        the classifiers converged."""
        shown = [verdict_words.primary_sentence(self.res, folder="")]
        endpoint = self.endpoint
        if endpoint is not None:
            scores, reach = primary.scores_table(endpoint).round(4), primary.power_display(endpoint)
            shown += [HTML(plots.table_with_details(
                          scores, ["difference", "95 % low", "95 % high", "margin", "reading"],
                          "Every column (90 % intervals, Student's t degrees of freedom, the smallest detectable "
                          "difference, the thesis' effect)")),
                      f"Why these margins: {endpoint['margin_why']}",
                      primary.components_table(endpoint).round(6), primary.power_words(endpoint),
                      HTML(plots.table_with_details(
                          reach, ["folds", "G_k seeds", "classifier seeds", "detectable", "provable margin"],
                          "Every column (test patients per fold, standard error, and the seeds or patients each "
                          "profile would need)"))]
        cap_share, params, table = scorecard.at_cap_share(self.res), self.params, self.table
        shown.append(
            f"**Did the classifiers converge?** Each trains {int(table.steps_per_epoch.iloc[0])} optimiser steps per "
            f"epoch whatever its arm, until {params['patience']} epochs bring no better validation AUC or the cap of "
            f"{params['epochs']} epochs; they ran {table.epochs_run.mean():.1f} epochs on average, and "
            f"**{cap_share:.0%}** kept their last allowed epoch (a verdict needs at most {scorecard.MAX_AT_CAP:.0%}"
            + ("; here the augmentation verdicts are inconclusive)." if cap_share >= scorecard.MAX_AT_CAP else ")."))
        return shown

    def means(self, metrics: dict[str, str]) -> list:
        """Each metric's mean ± sd over folds and seeds by k and arm, under its title (``metrics``: column -> title)."""
        return [item for metric, title in metrics.items()
                for item in (f"**{title}** (mean ± sd over folds and seeds)", mean_and_sd(self.table, metric)[self.order])]

    def against_k(self, metric: str) -> list[Path]:
        """``metric`` (auc or f1) against k, this run beside the thesis."""
        fig = plots.metric_against_k(self.intervals, self.thesis, metric,
                                     ours_label=f"this run ({self.dataset} data, {self.profile} profile)",
                                     thesis_label="thesis (OPTIMAM data)")
        return self.save(fig, f"aug_{metric}_against_k")

    def precision_recall(self) -> list:
        """Precision and recall at 0.5, one table each (k x arm, means over folds and seeds)."""
        means = self.table.groupby(["k", "approach"])[["precision", "recall"]].mean()
        return [item for score in ("precision", "recall")
                for item in (f"**{score.capitalize()} at 0.5** (means over folds and seeds)",
                             means[score].unstack("approach")[self.order].round(3))]

    def family(self) -> str:
        ks_tested = sorted(self.intervals.k.unique())
        return (f"In this table each family holds {len(ks_tested)} test{'s' if len(ks_tested) != 1 else ''} "
                f"(k = {', '.join(map(str, ks_tested))}), and a difference counts only when its corrected p-value is "
                f"below {aug_results.ALPHA / 2:g} in one direction (a two-sided {aug_results.ALPHA * 100:g} % level).")

    def differences_table(self) -> HTML:
        """:meth:`differences`, folded under one line (the sentences below name the ones that count)."""
        table = self.differences().round(3)
        return HTML(plots.table_with_details(table, [], f"Every paired difference ({len(table)}: by comparison, "
                                                        "score and k, with its 95 % interval, Holm-adjusted one-sided "
                                                        "p-values and verdict)"))

    def differences(self) -> pd.DataFrame:
        """Every paired difference's interval, Holm-adjusted p-values and verdict, by comparison, metric and k."""
        pairs = self.intervals[self.intervals.comparison.str.contains(" - ")].copy()
        pairs["metric"] = pd.Categorical(pairs.metric, aug_results.INTERVAL_METRICS, ordered=True)
        pairs["comparison"] = pd.Categorical(pairs.comparison, [" - ".join(c) for c in arms.comparisons(self.order)],
                                             ordered=True)
        return pairs.sort_values(["comparison", "metric", "k"]).set_index(["comparison", "metric", "k"])[
            ["estimate", "low", "high", "p_holm_better", "p_holm_worse", "verdict"]]

    def surviving(self) -> str:
        """For each comparison and metric, the k at which a difference survives the correction, with its standing."""
        lines = []
        for (comparison, metric), g in self.differences().groupby(level=["comparison", "metric"], observed=True):
            survived = g[g.verdict != "not distinguishable from 0"]
            where = ("; ".join(f"at k = {k}: {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], {r.verdict}"
                               + ("" if (why := scorecard.standing(self.res, comparison, metric, k)) == "finding"
                                  else f" ({why})") for (_, _, k), r in survived.iterrows())
                     if len(survived) else "at no k")
            lines.append(f"- **{comparison}**, {metric}: a difference survives the correction {where}.")
        return "\n".join(lines)

    def thesis_order(self) -> list[str]:
        """The arms the thesis reported, in this chapter's order."""
        return [a for a in self.order if a in self.thesis["f1"]]

    def reported(self) -> list:
        """The thesis' F1 and AUC tables, as reported."""
        shown = []
        for metric in ("f1", "auc"):
            shown += [f"**Thesis {metric.upper()}** (mean over folds)",
                      pd.DataFrame(self.thesis[metric], index=pd.Index(self.thesis["k"], name="k"))[self.thesis_order()]]
        return shown

    def beside_thesis(self) -> str:
        """Best arm per k here and in the thesis, F1 differences, and what differs between the two studies."""
        order, params, table = self.thesis_order(), self.params, self.table
        ours = table.groupby(["k", "approach"]).f1.mean().unstack("approach")[order]
        thesis_f1 = pd.DataFrame(self.thesis["f1"], index=self.thesis["k"])[order]
        text = ["Best of the thesis' four approaches per k by mean F1 here: "
                + ", ".join(f"k = {k}: {t}" for k, t in verdict_words.best_arm_texts(self.res, table, order).items())
                + "; in the thesis: " + ", ".join(f"k = {k}: {a}" for k, a in thesis_f1.idxmax(axis=1).items()) + "."]
        for k in sorted(set(ours.index) & set(thesis_f1.index)):
            diff = ours.loc[k] - thesis_f1.loc[k]
            text.append(f"At k = {k}, our F1 minus the thesis' F1: " + ", ".join(f"{a} {diff[a]:+.3f}" for a in order)
                        + ".")
        text.append(
            f"What differs: the data ({self.dataset} mammograms here; OPTIMAM screening images in the thesis, split "
            "there apparently not by patient); the size ("
            + (f"classifier cap of {params['epochs']} epochs with patience {params['patience']} here against 20 epochs; "
               if params["epochs"] != 20 else
               f"classifier stopped by patience {params['patience']} within the thesis' 20 epochs; ")
            + f"G_k {self.gk_budget} at ngf {self.gan_params['ngf']} against 1,000 epochs of batch 64 at 45; about "
            f"{round(table.n_test_mass.mean())} test masses per fold against about 738); the normal patches (resized "
            "like the masses here, native 128 x 128 windows in the thesis); the data settings "
            f"({'; '.join(reference.departures('data_prep', config.resolve('data_prep', self.profile)))}); and the "
            "hardware (this run's provenance records it; the thesis used one Titan X). Numbers from different data are "
            "not comparable one for one; the order of the approaches and the shape of the curves are what can be "
            "compared.")
        return "\n\n".join(text)

    def gk_samples_figure(self) -> list[Path]:
        panels = {f"G_k, k = {k}: {len(patches)} masses": patches for k, patches in self.gk_samples.items()}
        fig = plots.montage_panels(panels, ncols=5, panels_per_row=len(panels))
        return self.save(fig, "aug_gk_samples")
