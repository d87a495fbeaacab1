# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Data: from mammograms to a patch store
#
# The thesis trained its GANs on 128 x 128 patches cut from OPTIMAM (OMI-DB) mammograms, a
# dataset that cannot be shared. This chapter builds the same kind of data from a source anyone
# can run: a cohort of **synthetic mammograms** from a physically motivated phantom, written as
# real DICOM files in the on-disk layout of CBIS-DDSM {cite}`lee2017cbisddsm`, and read back
# through the very loader that reads the real dataset. Point the `dataset` and `data_root`
# parameters at a real dataset (CBIS-DDSM {cite}`lee2017cbisddsm`, INbreast
# {cite}`moreira2012inbreast`, VinDr-Mammo {cite}`nguyen2023vindr` or OMI-DB
# {cite}`halling2020optimam`, the thesis' own) and the rest of the book runs on it unchanged.
# Lesions come as the dataset gives them (mask images, outlines or boxes) and are cut into
# patches by the same rules; only the datasets' pseudonymous IDs are kept, no DICOM field that
# identifies a person.
#
# The chapter then cuts patches by the thesis' rules, puts them in a chunked patch store, and
# splits the patients into folds (three in the thesis {cite}`alyafi2020dcgans`; this build's
# `n_folds` is in the table below), so that no patient is ever in two partitions of a {term}`fold`.

# %% tags=["parameters"]
# Every parameter left at None takes its value from configs/<profile>.yaml
profile: str = "smoke"
dataset: str = None  # synthetic | cbis-ddsm | inbreast | vindr-mammo | omi-db
data_root: str = None  # folder of a real dataset (ignored for synthetic)
n_patients: int = None  # synthetic: cohort size; real data: random subset (0: all)
patch_rule: str = None  # bbox_resize (the thesis) | centre_crop
negative_windows: str = None  # matched (normal windows resized like the masses) | native (the thesis)
negatives_per_image: int = None
patch_size: int = None  # pixels (the thesis: 128)
seed: int = None

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%

import json
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from thesis_lib import config, paths
from thesis_lib.book import plots
from thesis_lib.data import report, shortcuts, spectrum
from thesis_lib.provenance import cpu_cores, short_commit

cfg = config.resolve(
    "data_prep", profile, dataset=dataset, data_root=data_root,
    n_patients=n_patients, patch_rule=patch_rule, negative_windows=negative_windows,
    negatives_per_image=negatives_per_image, patch_size=patch_size, seed=seed,
)
out = Path(cfg["artifacts"])
figures = paths.figures(out)
# The data_report step's results (python -m thesis_lib.data.report); outside the book's render,
# computed here when missing or older than the patch store
results = report.current(cfg, workers=cpu_cores())
cohort = json.loads((results / "cohort.json").read_text())
shown = {k: v for k, v in cfg.items() if k not in ("synthetic", "artifacts")}
pd.Series(shown, name="value").to_frame()

# %% [markdown]
# ## The synthetic cohort
#
# Each synthetic patient has four mammograms: the craniocaudal (CC) and mediolateral oblique
# (MLO) views of a breast holding one or two masses, and of the other, lesion-free breast. An
# image is formed as an X-ray image is:
#
# - the **breast** is compressed to a thickness (in the profile's range, below) that falls to
#   zero at the skin line;
#   the MLO view adds the pectoral muscle;
# - **fibroglandular tissue** is a random field with power spectrum $P(f) \propto f^{-\beta}$,
#   the law measured on real mammograms (the range is given with the spectrum below)
#   {cite}`burgess2001mammographic,chen2012power`, turned into a glandular fraction;
# - **masses** have lobulated or irregular contours (a random Fourier series of the radius),
#   blurred or spiculated margins and sizes in the profile's range, in the BI-RADS vocabulary of CBIS-DDSM
#   (round, oval, lobulated, irregular; circumscribed, obscured, ill-defined, spiculated);
# - X-rays are attenuated by **Beer-Lambert's law** with the attenuation coefficients of
#   adipose, glandular and tumour tissue at 20 keV {cite}`johns1987xray`, and detected with
#   **Poisson quantum noise**; the log image is stored as an integer "for presentation" DICOM.

# %%
phantom = cfg["synthetic"]
display(Markdown(
    f"**{cohort['dataset']}**: {cohort['patients']} patients, "
    f"{cohort['images']} images, {cohort['lesions']} annotated lesions ({', '.join(cohort['lesion_types'])}); "
    f"{cohort['loader_skips']} file(s) skipped by the loader."
    + (f" The phantom's settings: breasts {phantom['thickness_mm_range'][0]:g}-{phantom['thickness_mm_range'][1]:g} mm "
       f"thick, masses {phantom['mass_diameter_mm_range'][0]:g}-{phantom['mass_diameter_mm_range'][1]:g} mm across, "
       f"{phantom['imaging']['rows']} x {phantom['imaging']['cols']} images of "
       f"{phantom['imaging']['spacing_mm']:g} mm pixels stored with {phantom['imaging']['bits_stored']} bits."
       if cohort["dataset"] == "synthetic" else "")
))

# %% [markdown]
# Four images of one patient ({numref}`fig-data-mammograms`), with each lesion's region of
# interest outlined (the mask file, outline or box that the dataset gives):

# %% mystnb={"figure": {"caption": "Four mammograms of one patient, each lesion's annotated region outlined. Look at the breast outline, the pectoral muscle in the MLO views and how the masses stand out from the fibroglandular texture.", "name": "fig-data-mammograms"}, "image": {"alt": "Four mammograms of one patient, each lesion's annotated region outlined"}}
images, masks, titles, spacing_mm = report.read_mammograms(results)
fig = plots.mammograms_with_rois(images, masks, titles, spacing_mm=spacing_mm)
plots.save_figure(fig, "data_example_mammograms", figures);

# %% [markdown]
# ## Is the texture mammographic? The power spectrum

# %% tags=["remove-input"]
display(Markdown(
    f"Real mammographic backgrounds have a power-law spectrum with $\\beta$ between about "
    f"{report.LITERATURE_BETA[0]} and {report.LITERATURE_BETA[1]} {{cite}}`burgess2001mammographic,chen2012power`. "
    f"We measure $\\beta$ on the lesion-free CC images (all CC images when a dataset has no lesion-free ones; "
    f"images without a pixel spacing cannot be measured) as it is measured on real ones: "
    f"{spectrum.ROI_SIZE} x {spectrum.ROI_SIZE} regions of interest inside the breast, a plane removed, a Hann "
    f"window, the power spectrum averaged over rings, and a straight-line fit in log-log between "
    f"{cohort['band_mm'][0]} and {cohort['band_mm'][1]} cycles/mm."))

# %% mystnb={"figure": {"caption": "Power spectra of lesion-free CC images (log-log) with the fitted power law in the fitting band. A straight line with slope -beta in the band is the signature of mammographic texture; compare the fitted beta with the shaded range requested or reported in the literature.", "name": "fig-data-spectrum"}, "image": {"alt": "Power spectra of lesion-free CC images (log-log) with the fitted power law in the fitting band"}}
betas = pd.read_csv(results / "betas.csv", keep_default_na=False, na_values=[""])
measured = betas.dropna(subset=["beta"])
requested, band = tuple(cohort["requested_beta"]), tuple(cohort["band_mm"])
if len(measured):
    with np.load(results / "spectra.npz") as arrays:
        f, spectra = arrays["f"], list(arrays["spectra"])
    fig = plots.power_spectra(f, spectra, measured.beta.tolist(), band, requested)
    plots.save_figure(fig, "data_power_spectrum", figures)

# %%
unmeasured = betas[betas.beta.isna()]
if len(measured):
    summary = measured.beta.agg(["mean", "std", "min", "max"])
    display(summary.to_frame(f"fitted beta, {len(measured)} images").T.round(2))
else:
    display(Markdown("No image could be measured: spectrum skipped."))
if len(unmeasured):
    display(Markdown(f"{len(unmeasured)} of {len(betas)} images not measured, by reason:"))
    display(unmeasured.skipped.str.split(":").str[0].value_counts().rename("images").to_frame())

# %%
if cohort["dataset"] == "synthetic" and len(measured):
    paired = measured.dropna(subset=["beta_asked"])
    error = paired.beta - paired.beta_asked
    mean_fit = paired.beta.mean()
    inside = paired.beta.between(*requested).mean()
    verdict = "lies" if requested[0] <= mean_fit <= requested[1] else "does NOT lie"
    display(Markdown(
        f"Each synthetic patient's $\\beta$ was drawn from "
        f"{requested[0]}-{requested[1]}. Over {len(paired)} images, fitted minus "
        f"requested $\\beta$ has mean {error.mean():+.2f} and standard deviation "
        f"{error.std():.2f}; {inside:.0%} of the fitted values lie in the "
        f"requested range, and their mean, {mean_fit:.2f}, {verdict} in it."
    ))

# %% [markdown]
# ## Patches

# %% tags=["remove-input"]
display(Markdown(
    "Patches follow the thesis {cite}`alyafi2020dcgans`: the image's breast pixels (value > 0) are "
    "histogram-stretched to 8 bits; a **mass patch** is the mass's bounding box resized to 128 x 128 in the thesis "
    f"(`bbox_resize`; this build resizes to {cfg['patch_size']} x {cfg['patch_size']}, `patch_size`"
    + (", so that its GANs can train in minutes" if cfg["patch_size"] < 128 else "")
    + "; a `centre_crop` at native resolution is the alternative). The thesis' boxes were drawn by readers around "
    f"the lesion; a mask's box is tight, so `bbox_margin` widens it by {cfg['bbox_margin'] * 100:g} % of its size on "
    f"each side to keep some surrounding tissue in view. **Normal patches** are up to {cfg['negatives_per_image']} "
    "random windows per image lying wholly inside the breast, overlapping no lesion box and no other normal patch, "
    f"with at least {cfg['min_grey_levels']} grey levels."))

# %% [markdown]
# The thesis cut its normal windows at 128 x 128, native resolution, while every mass box was
# resized. Resizing changes a mass box's quantum noise (a box smaller than the patch is
# *upsampled*, which smooths it; a larger one is averaged down, which thins it), while native
# normal windows keep theirs. A classifier could then tell the classes apart by sharpness alone. So, under `bbox_resize`, each normal window takes its size
# from a mass window of the dataset drawn at random and is resized to the patch size in the same way:
# both classes pass through one pipeline. (Under `centre_crop`, the native-resolution control,
# both classes are native windows of the patch size; `negative_windows: native` restores the thesis' rule for
# comparison.) The shortcut audit below checks the result.

# %%
summary = cohort["store"]
counts = {**summary["n_patches"], "patients": summary["n_patients"], "skipped files": summary["n_skipped"]}
patches_by_label = ", ".join(f"{n} {label}" for label, n in summary["n_patches"].items())
display(Markdown(
    f"This book uses **{summary['source']}**: {summary['n_patients']} patients, "
    f"{summary['n_images_used']} of {summary['n_images']} images cut into "
    f"{cohort['n_store_patches']} patches of {cfg['patch_size']} x {cfg['patch_size']} pixels ({patches_by_label}). "
    f"Normal windows: "
    f"{summary['negative_windows']}."
))
scales = pd.read_csv(results / "window_scales.csv", index_col=0)
display(Markdown("At this patch size, " + "; ".join(
    f"{row.upsampled * 100:.1f} % of the {label} windows were smaller than the patch (upsampled) and "
    f"{row.averaged_down * 100:.1f} % larger (averaged down, by a median factor of {row.median_scale:.2f} a side)"
    for label, row in scales.iterrows()) + "."))
pd.Series(counts, name="count").to_frame().T

# %%
skips = pd.read_csv(results / "skips.csv")
if len(skips):
    display(Markdown("Files left out, and why:"))
    display(skips.groupby("reason").size().rename("files").to_frame())
else:
    display(Markdown("No file was skipped."))

# %% mystnb={"figure": {"caption": "Mass patches drawn at random (bounding box resized to the profile's patch size). Each box is resized to the patch, so a mass's size is not shown (only its shape relative to its box); note the variety of margins, texture and contrast the GAN has to learn.", "name": "fig-data-masses"}, "image": {"alt": "Mass patches drawn at random (bounding box resized to the profile's patch size)"}}
shown = np.load(results / "patches.npz")
fig = plots.patch_montage(shown["shown_mass"], f"{len(shown['shown_mass'])} mass patches")
plots.save_figure(fig, "data_mass_patches", figures);

# %% mystnb={"figure": {"caption": "Normal-tissue patches drawn at random: windows inside the breast that touch no lesion. They are the majority class of the classifier.", "name": "fig-data-normals"}, "image": {"alt": "Normal-tissue patches drawn at random: windows inside the breast that touch no lesion"}}
fig = plots.patch_montage(shown["shown_normal"], f"{len(shown['shown_normal'])} normal-tissue patches")
plots.save_figure(fig, "data_normal_patches", figures);

# %% [markdown]
# Grey-level distributions of a sample of each class: masses are denser than the average
# breast tissue, so their patches are brighter.

# %% mystnb={"figure": {"caption": "Grey-level histograms of a random sample of mass and of normal patches (the legend gives each count). Masses are denser, so their distribution lies to the right.", "name": "fig-data-histograms"}, "image": {"alt": "Grey-level histograms of a random sample of mass and of normal patches"}}
fig = plots.intensity_histograms({label: (shown[f"density_{label}"], int(shown[f"n_{label}"]))
                                  for label in ("mass", "normal")})
plots.save_figure(fig, "data_intensity_histograms", figures);

# %% [markdown]
# ## Shortcut audit: what else tells masses from normal tissue?
#
# A classifier learns whatever separates its classes. Before asking whether generated masses
# help one, we check that nothing *but the mass* separates the patches: for each patch we
# measure statistics that say nothing about a mass, namely sharpness and noise (the standard
# deviation of the Laplacian, the share of power above half the Nyquist frequency, a robust
# noise estimate from the finest wavelet detail) and the resampling factor (source window over
# patch side), and ask how well each one alone tells masses from normals (ROC {term}`AUC`; 0.5 = not at
# all, and a statistic that separates *downwards* counts the same as one that separates
# upwards). Mean intensity and contrast are listed too, as content: masses are denser than the
# tissue around them, so these may separate for a good reason.

# %%
audit = pd.read_csv(results / "shortcut_audit.csv", index_col=0)
display(audit.round(3))
display(Markdown(f"**Verdict.** {shortcuts.verdict(audit)} (rule: each nuisance statistic's AUC, "
                 f"or 1 - AUC, at most {shortcuts.MAX_AUC}; patch rule `{cfg['patch_rule']}`.)"))

# %% [markdown]
# ## Patient-level folds
#
# Each fold holds out its share of the patients as its test set, and a share of the others as
# its validation set; the rest is its training pool, by **patient**, not by patch.
# A check runs on every build: no patient is in two partitions of a fold, and every patient is
# tested exactly once.

# %%
test_share = 1 / cfg["n_folds"]
val_share = cfg["val_fraction"] * (1 - test_share)
display(Markdown(
    f"With {cfg['n_folds']} folds (the thesis had three) and `val_fraction` {cfg['val_fraction']:g}, a fold trains on "
    f"about {(1 - test_share - val_share) * 100:.1f} % of the patients, validates on {val_share * 100:.1f} % and tests on "
    f"{test_share * 100:.1f} %."))
display(Markdown(f"Leakage check: **{cohort['leakage_check']}**."))
pd.read_csv(results / "partitions.csv", index_col=[0, 1])

# %%
prov = cohort["store_provenance"]
display(Markdown(
    f"Data prepared by the step `python -m thesis_lib.data.build` in {prov['duration_s']:.0f} s "
    f"at commit `{short_commit(prov['git_commit'])}`, "
    f"profile **{cfg['profile']}**, seed {cfg['seed']}; provenance in "
    f"`artifacts/{cfg['profile']}/patches/provenance.json`."
))
