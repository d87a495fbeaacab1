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
from thesis_lib.book.pages import show
from thesis_lib.book.pages.data import DataPage

# The data_report step's results (python -m thesis_lib.data.report)
page = DataPage(profile, dataset=dataset, data_root=data_root, n_patients=n_patients, patch_rule=patch_rule,
                negative_windows=negative_windows, negatives_per_image=negatives_per_image, patch_size=patch_size,
                seed=seed)
page.settings()

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
show(page.cohort_words())

# %% [markdown]
# Four images of one patient ({numref}`fig-data-mammograms`), with each lesion's region of
# interest outlined (the mask file, outline or box that the dataset gives):

# %% mystnb={"figure": {"caption": "Four mammograms of one patient, each lesion's annotated region outlined. Look at the breast outline, the pectoral muscle in the MLO views and how the masses stand out from the fibroglandular texture.", "name": "fig-data-mammograms"}, "image": {"alt": "Four mammograms of one patient, each lesion's annotated region outlined"}}
page.mammograms();

# %% [markdown]
# ## Is the texture mammographic? The power spectrum

# %% tags=["remove-input"]
show(page.spectrum_method())

# %% mystnb={"figure": {"caption": "Power spectra of lesion-free CC images (log-log) with the fitted power law in the fitting band. A straight line with slope -beta in the band is the signature of mammographic texture; compare the fitted beta with the shaded range requested or reported in the literature.", "name": "fig-data-spectrum"}, "image": {"alt": "Power spectra of lesion-free CC images (log-log) with the fitted power law in the fitting band"}}
page.spectra();

# %%
show(page.beta_summary(), page.beta_check())

# %% [markdown]
# ## Patches

# %% tags=["remove-input"]
show(page.patch_rules())

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
show(page.store_words(), page.counts())

# %%
show(page.skips())

# %% mystnb={"figure": {"caption": "Mass patches drawn at random (bounding box resized to the profile's patch size). Each box is resized to the patch, so a mass's size is not shown (only its shape relative to its box); note the variety of margins, texture and contrast the GAN has to learn.", "name": "fig-data-masses"}, "image": {"alt": "Mass patches drawn at random (bounding box resized to the profile's patch size)"}}
page.patch_montage("mass");

# %% mystnb={"figure": {"caption": "Normal-tissue patches drawn at random: windows inside the breast that touch no lesion. They are the majority class of the classifier.", "name": "fig-data-normals"}, "image": {"alt": "Normal-tissue patches drawn at random: windows inside the breast that touch no lesion"}}
page.patch_montage("normal");

# %% [markdown]
# Grey-level distributions of a sample of each class: masses are denser than the average
# breast tissue, so their patches are brighter.

# %% mystnb={"figure": {"caption": "Grey-level histograms of a random sample of mass and of normal patches (the legend gives each count). Masses are denser, so their distribution lies to the right.", "name": "fig-data-histograms"}, "image": {"alt": "Grey-level histograms of a random sample of mass and of normal patches"}}
page.histograms();

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
show(page.audit().round(3), page.audit_verdict())

# %% [markdown]
# ## Patient-level folds
#
# Each fold holds out its share of the patients as its test set, and a share of the others as
# its validation set; the rest is its training pool, by **patient**, not by patch.
# A check runs on every build: no patient is in two partitions of a fold, and every patient is
# tested exactly once.

# %%
show(page.fold_words(), page.partitions())

# %%
show(page.made_by())

# %%
show(page.downloads())
