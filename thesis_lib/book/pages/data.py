"""Chapter 00 (data): the data_report step's results read once, and each table, figure and
paragraph the chapter shows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib import config, paths
from thesis_lib.book import plots
from thesis_lib.book.pages import Page
from thesis_lib.data import report, shortcuts, spectrum
from thesis_lib.provenance import cpu_cores, short_commit


class DataPage(Page):
    """The data chapter of one profile: ``cfg`` is its resolved ``data_prep`` section (with the
    notebook's parameters), ``results`` the data report's folder, ``cohort`` its ``cohort.json``."""

    def __init__(self, profile: str, **overrides):
        self.cfg = config.resolve("data_prep", profile, **overrides)
        self.figures = paths.figures(Path(self.cfg["artifacts"]))
        # outside the book's render, computed here when missing or older than the patch store
        self.results = report.current(self.cfg, workers=cpu_cores())
        self.cohort = json.loads((self.results / "cohort.json").read_text())
        self.betas = pd.read_csv(self.results / "betas.csv", keep_default_na=False, na_values=[""])
        self.measured = self.betas.dropna(subset=["beta"])
        self.patches = np.load(self.results / "patches.npz")

    def settings(self) -> pd.DataFrame:
        """The data settings this build ran with (one row each)."""
        shown = {k: v for k, v in self.cfg.items() if k not in ("synthetic", "artifacts")}
        return pd.Series(shown, name="value").to_frame()

    def cohort_words(self) -> str:
        c, phantom = self.cohort, self.cfg["synthetic"]
        text = (f"**{c['dataset']}**: {c['patients']} patients, {c['images']} images, {c['lesions']} annotated lesions "
                f"({', '.join(c['lesion_types'])}); {c['loader_skips']} file(s) skipped by the loader.")
        if c["dataset"] == "synthetic":
            imaging = phantom["imaging"]
            text += (f" The phantom's settings: breasts {phantom['thickness_mm_range'][0]:g}-"
                     f"{phantom['thickness_mm_range'][1]:g} mm thick, masses {phantom['mass_diameter_mm_range'][0]:g}-"
                     f"{phantom['mass_diameter_mm_range'][1]:g} mm across, {imaging['rows']} x {imaging['cols']} images "
                     f"of {imaging['spacing_mm']:g} mm pixels stored with {imaging['bits_stored']} bits.")
        return text

    def mammograms(self) -> list[Path]:
        """Four mammograms of one patient, each lesion's region outlined (saved with the figures)."""
        images, masks, titles, spacing_mm = report.read_mammograms(self.results)
        fig = plots.mammograms_with_rois(images, masks, titles, spacing_mm=spacing_mm)
        return self.save(fig, "data_example_mammograms")

    def spectrum_method(self) -> str:
        band = self.cohort["band_mm"]
        return (f"Real mammographic backgrounds have a power-law spectrum with $\\beta$ between about "
                f"{report.LITERATURE_BETA[0]} and {report.LITERATURE_BETA[1]} {{cite}}`burgess2001mammographic,"
                "chen2012power`. We measure $\\beta$ on the lesion-free CC images (all CC images when a dataset has no "
                "lesion-free ones; images without a pixel spacing cannot be measured) as it is measured on real ones: "
                f"{spectrum.ROI_SIZE} x {spectrum.ROI_SIZE} regions of interest inside the breast, a plane removed, a "
                "Hann window, the power spectrum averaged over rings, and a straight-line fit in log-log between "
                f"{band[0]} and {band[1]} cycles/mm.")

    def spectra(self) -> list[Path] | None:
        """The measured images' power spectra with their fits (None when no image was measured)."""
        if not len(self.measured):
            return None
        with np.load(self.results / "spectra.npz") as arrays:
            f, spectra = arrays["f"], list(arrays["spectra"])
        fig = plots.power_spectra(f, spectra, self.measured.beta.tolist(), tuple(self.cohort["band_mm"]),
                                  tuple(self.cohort["requested_beta"]))
        return self.save(fig, "data_power_spectrum")

    def beta_summary(self) -> list:
        """The fitted betas' summary and the unmeasured images by reason, as displays."""
        shown = []
        unmeasured = self.betas[self.betas.beta.isna()]
        if len(self.measured):
            summary = self.measured.beta.agg(["mean", "std", "min", "max"])
            shown.append(summary.to_frame(f"fitted beta, {len(self.measured)} images").T.round(2))
        else:
            shown.append("No image could be measured: spectrum skipped.")
        if len(unmeasured):
            shown.append(f"{len(unmeasured)} of {len(self.betas)} images not measured, by reason:")
            shown.append(unmeasured.skipped.str.split(":").str[0].value_counts().rename("images").to_frame())
        return shown

    def beta_check(self) -> str:
        """Fitted against requested beta, for the synthetic cohort (empty otherwise)."""
        if self.cohort["dataset"] != "synthetic" or not len(self.measured):
            return ""
        requested = tuple(self.cohort["requested_beta"])
        paired = self.measured.dropna(subset=["beta_asked"])
        error = paired.beta - paired.beta_asked
        mean_fit = paired.beta.mean()
        inside = paired.beta.between(*requested).mean()
        verdict = "lies" if requested[0] <= mean_fit <= requested[1] else "does NOT lie"
        return (f"Each synthetic patient's $\\beta$ was drawn from {requested[0]}-{requested[1]}. Over {len(paired)} "
                f"images, fitted minus requested $\\beta$ has mean {error.mean():+.2f} and standard deviation "
                f"{error.std():.2f}; {inside:.0%} of the fitted values lie in the requested range, and their mean, "
                f"{mean_fit:.2f}, {verdict} in it.")

    def patch_rules(self) -> str:
        cfg = self.cfg
        return ("Patches follow the thesis {cite}`alyafi2020dcgans`: the image's breast pixels (value > 0) are "
                "histogram-stretched to 8 bits; a **mass patch** is the mass's bounding box resized to 128 x 128 in the "
                f"thesis (`bbox_resize`; this build resizes to {cfg['patch_size']} x {cfg['patch_size']}, `patch_size`"
                + (", so that its GANs can train in minutes" if cfg["patch_size"] < 128 else "")
                + "; a `centre_crop` at native resolution is the alternative). The thesis' boxes were drawn by readers "
                "around the lesion; a mask's box is tight, so `bbox_margin` widens it by "
                f"{cfg['bbox_margin'] * 100:g} % of its size on each side to keep some surrounding tissue in view. "
                f"**Normal patches** are up to {cfg['negatives_per_image']} random windows per image lying wholly "
                "inside the breast, overlapping no lesion box and no other normal patch, with at least "
                f"{cfg['min_grey_levels']} grey levels.")

    def store_words(self) -> str:
        """What the patch store holds, and how many windows were up- or downsampled."""
        summary, size = self.cohort["store"], self.cfg["patch_size"]
        patches_by_label = ", ".join(f"{n} {label}" for label, n in summary["n_patches"].items())
        scales = pd.read_csv(self.results / "window_scales.csv", index_col=0)
        return (f"This book uses **{summary['source']}**: {summary['n_patients']} patients, "
                f"{summary['n_images_used']} of {summary['n_images']} images cut into {self.cohort['n_store_patches']} "
                f"patches of {size} x {size} pixels ({patches_by_label}). Normal windows: "
                f"{summary['negative_windows']}.\n\nAt this patch size, " + "; ".join(
                    f"{row.upsampled * 100:.1f} % of the {label} windows were smaller than the patch (upsampled) and "
                    f"{row.averaged_down * 100:.1f} % larger (averaged down, by a median factor of "
                    f"{row.median_scale:.2f} a side)" for label, row in scales.iterrows()) + ".")

    def counts(self) -> pd.DataFrame:
        summary = self.cohort["store"]
        counts = {**summary["n_patches"], "patients": summary["n_patients"], "skipped files": summary["n_skipped"]}
        return pd.Series(counts, name="count").to_frame().T

    def skips(self) -> list:
        skips = pd.read_csv(self.results / "skips.csv")
        if not len(skips):
            return ["No file was skipped."]
        return ["Files left out, and why:", skips.groupby("reason").size().rename("files").to_frame()]

    def patch_montage(self, label: str) -> list[Path]:
        """The shown patches of ``label`` (``mass`` or ``normal``)."""
        shown = self.patches[f"shown_{label}"]
        title = f"{len(shown)} {'mass' if label == 'mass' else 'normal-tissue'} patches"
        return self.save(plots.patch_montage(shown, title), f"data_{label}_patches")

    def histograms(self) -> list[Path]:
        fig = plots.intensity_histograms({label: (self.patches[f"density_{label}"], int(self.patches[f"n_{label}"]))
                                          for label in ("mass", "normal")})
        return self.save(fig, "data_intensity_histograms")

    def audit(self) -> pd.DataFrame:
        return pd.read_csv(self.results / "shortcut_audit.csv", index_col=0)

    def audit_verdict(self) -> str:
        return (f"**Verdict.** {shortcuts.verdict(self.audit())} (rule: each nuisance statistic's AUC, or 1 - AUC, at "
                f"most {shortcuts.MAX_AUC}; patch rule `{self.cfg['patch_rule']}`.)")

    def fold_words(self) -> str:
        cfg = self.cfg
        test_share = 1 / cfg["n_folds"]
        val_share = cfg["val_fraction"] * (1 - test_share)
        return (f"With {cfg['n_folds']} folds (the thesis had three) and `val_fraction` {cfg['val_fraction']:g}, a fold "
                f"trains on about {(1 - test_share - val_share) * 100:.1f} % of the patients, validates on "
                f"{val_share * 100:.1f} % and tests on {test_share * 100:.1f} %.\n\n"
                f"Leakage check: **{self.cohort['leakage_check']}**.")

    def partitions(self) -> pd.DataFrame:
        return pd.read_csv(self.results / "partitions.csv", index_col=[0, 1])

    def made_by(self) -> str:
        prov, cfg = self.cohort["store_provenance"], self.cfg
        return (f"Data prepared by the step `python -m thesis_lib.data.build` in {prov['duration_s']:.0f} s at commit "
                f"`{short_commit(prov['git_commit'])}`, profile **{cfg['profile']}**, seed {cfg['seed']}; provenance "
                f"in `artifacts/{cfg['profile']}/patches/provenance.json`.")
