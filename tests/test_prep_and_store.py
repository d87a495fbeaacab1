import json
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from thesis_lib.data import datasets, dicom, prep
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data.store import PatchStore


def _build(cohort, out, workers=1, **params):
    records, skips = datasets.scan("synthetic", cohort)
    return build_patch_store(records, out, PatchParams(**params), seed=1, source="synthetic",
                             loader_skips=skips, progress=False, workers=workers)


@pytest.mark.slow
def test_store_contents_are_consistent(cohort, tmp_path):
    store = _build(cohort, tmp_path / "patches")
    assert len(store) == store.read(np.arange(len(store))).shape[0]
    assert set(store.meta.label) == {"mass", "normal"}
    n_masses = sum(len(r.lesions) for r in datasets.scan("synthetic", cohort)[0])
    assert (store.meta.label == "mass").sum() == n_masses  # every mass gives one patch
    assert store.summary["n_patches"]["mass"] == n_masses and store.summary["n_skipped"] == 0
    assert set(store.folds.patient_id) == set(store.meta.patient_id)
    # read() returns rows in the order asked for, repeats included
    idx = [5, 2, 5, 0]
    batch = store.read(idx)
    with __import__("h5py").File(tmp_path / "patches" / "patches.h5") as f:
        np.testing.assert_array_equal(batch, np.stack([f["patches"][i] for i in idx]))
    with pytest.raises(IndexError):
        store.read([len(store)])


@pytest.mark.slow
def test_mass_patches_are_brighter_than_normal_ones(cohort, tmp_path):
    store = _build(cohort, tmp_path / "patches")
    mass = store.read(np.flatnonzero(store.meta.label == "mass")).mean()
    normal = store.read(np.flatnonzero(store.meta.label == "normal")).mean()
    assert mass > normal


@pytest.mark.slow
def test_same_seed_same_store_serial_or_in_processes(cohort, tmp_path):
    a = _build(cohort, tmp_path / "a")
    b = _build(cohort, tmp_path / "b", workers=2)
    pd.testing.assert_frame_equal(a.meta, b.meta)
    pd.testing.assert_frame_equal(a.folds, b.folds)
    np.testing.assert_array_equal(a.read(range(len(a))), b.read(range(len(b))))
    assert a.identity == b.identity  # the same data, built twice
    records, skips = datasets.scan("synthetic", cohort)
    two_folds = build_patch_store(records, tmp_path / "c", PatchParams(), seed=1, source="synthetic",
                                  loader_skips=skips, progress=False, n_folds=2)
    assert two_folds.identity != a.identity  # the same patches in other folds: other data


def test_centre_crop_rule(cohort, tmp_path):
    store = _build(cohort, tmp_path / "patches", patch_rule="centre_crop")
    masses = store.meta[store.meta.label == "mass"]
    windows = masses.window.str.split(",", expand=True).astype(int)
    assert ((windows[2] - windows[0]) == 128).all() and ((windows[3] - windows[1]) == 128).all()


def _first_lesion(cohort):
    records, _ = datasets.scan("synthetic", cohort)
    return next(r for r in records if r.lesions)


def test_bad_files_are_named_skips_and_counted(cohort_copy, tmp_path):
    records, _ = datasets.scan("synthetic", cohort_copy)
    with_lesions = [r for r in records if r.lesions]
    # 1. a corrupt mammogram
    with_lesions[0].image_file.write_bytes(b"garbage" * 100)
    # 2. a mask of the wrong size
    ds = pydicom.dcmread(with_lesions[1].lesions[0].mask_file)
    ds.set_pixel_data(np.zeros((10, 10), np.uint8), "MONOCHROME2", 8)
    ds.save_as(with_lesions[1].lesions[0].mask_file)
    # 3. an empty mask
    ds = pydicom.dcmread(with_lesions[2].lesions[0].mask_file)
    ds.set_pixel_data(np.zeros((ds.Rows, ds.Columns), np.uint8), "MONOCHROME2", 8)
    ds.save_as(with_lesions[2].lesions[0].mask_file)
    # 4. a lesion touching the image border
    ds = pydicom.dcmread(with_lesions[3].lesions[0].mask_file)
    mask = ds.pixel_array.copy()
    mask[:, 0] = 255
    ds.set_pixel_data(mask, "MONOCHROME2", 8)
    ds.save_as(with_lesions[3].lesions[0].mask_file)
    # 5. a non-image DICOM in place of a mammogram
    ds = pydicom.dcmread(with_lesions[4].image_file)
    del ds.PixelData
    ds.save_as(with_lesions[4].image_file)

    store = build_patch_store(records, tmp_path / "patches", PatchParams(), seed=1, source="synthetic",
                              progress=False)
    reasons = dict(zip(store.skips.file, store.skips.reason))
    assert "not a readable DICOM" in reasons[str(with_lesions[0].image_file)]
    assert "differs from its image" in reasons[str(with_lesions[1].lesions[0].mask_file)]
    assert "empty mask" in reasons[str(with_lesions[2].lesions[0].mask_file)]
    assert "touches the image border" in reasons[str(with_lesions[3].lesions[0].mask_file)]
    assert "no pixel data" in reasons[str(with_lesions[4].image_file)]
    assert store.summary["n_skipped"] == 5
    assert set(store.summary["skip_reasons"]) == {"not a readable DICOM", "differs from its image",
                                                  "empty mask", "touches the image border", "no pixel data"}
    assert with_lesions[0].image_id not in set(store.meta.image_id)


def _interrupt_after(monkeypatch, n_images):
    """Make prep.read_image raise KeyboardInterrupt when asked for mammogram n_images + 1 (mask
    reads pass); returns the list of mammograms it read."""
    real, read = dicom.read_image, []

    def counting(path, **kw):
        if Path(path).parts[-4].endswith(("_CC", "_MLO")):  # the case folder of a mammogram
            if len(read) >= n_images:
                raise KeyboardInterrupt  # the user pressing Ctrl-C half-way
            read.append(Path(path))
        return real(path, **kw)

    monkeypatch.setattr(prep, "read_image", counting)
    return read


@pytest.mark.slow
def test_a_crash_leaves_no_half_written_store(cohort, tmp_path, monkeypatch):
    out = tmp_path / "patches"
    good = _build(cohort, out)
    n_good = len(good)
    assert not prep.resume_folder(out).exists()  # removed once the store is complete
    _interrupt_after(monkeypatch, 5)
    with pytest.raises(KeyboardInterrupt):
        _build(cohort, out)
    # no temporary store folder left; only the finished images, kept for a resumed run
    assert sorted(p.name for p in tmp_path.iterdir()) == [".patches.resume", "patches"]
    assert len(list(prep.resume_folder(out).glob("*.npz"))) == 5
    assert len(PatchStore(out)) == n_good  # the previous store is intact
    assert json.loads((out / "summary.json").read_text())["n_patches"] == good.summary["n_patches"]


@pytest.mark.slow
def test_an_interrupted_run_resumes_without_rereading_finished_images(cohort, tmp_path, monkeypatch):
    whole = _build(cohort, tmp_path / "whole")
    first = _interrupt_after(monkeypatch, 7)
    with pytest.raises(KeyboardInterrupt):
        _build(cohort, tmp_path / "patches")
    assert not (tmp_path / "patches").exists() and len(first) == 7
    second = _interrupt_after(monkeypatch, 10**6)
    resumed = _build(cohort, tmp_path / "patches")
    n_images = whole.summary["n_images"]
    # the lesion pass continues after its 7 finished images; the normal-tissue pass then reads each image once
    lesion_pass, normal_pass = second[: n_images - 7], second[n_images - 7 :]
    assert not set(first) & set(lesion_pass) and sorted(normal_pass) == sorted(first + lesion_pass)
    pd.testing.assert_frame_equal(resumed.meta, whole.meta)
    pd.testing.assert_frame_equal(resumed.folds, whole.folds)
    np.testing.assert_array_equal(resumed.read(range(len(resumed))), whole.read(range(len(whole))))
    assert resumed.summary == whole.summary
    assert not prep.resume_folder(tmp_path / "patches").exists()


@pytest.mark.slow
def test_other_parameters_do_not_reuse_a_stale_resume_folder(cohort, tmp_path, monkeypatch):
    _interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        _build(cohort, tmp_path / "patches")
    monkeypatch.undo()
    assert prep.resume_folder(tmp_path / "patches").exists()
    store = _build(cohort, tmp_path / "patches", negatives_per_image=2)
    assert (store.meta.groupby("image_id").label.apply(lambda s: (s == "normal").sum()) <= 2).all()
    fresh = _build(cohort, tmp_path / "fresh", negatives_per_image=2)
    pd.testing.assert_frame_equal(store.meta, fresh.meta)


def test_impossible_parameters_are_named():
    with pytest.raises(ValueError, match="patch_rule='crop'"):
        PatchParams(patch_rule="crop")
    with pytest.raises(ValueError, match="negatives_per_image=-2"):
        PatchParams(negatives_per_image=-2)
    with pytest.raises(ValueError, match="stretch_percentiles"):
        PatchParams(stretch_percentiles=(50.0, 10.0))
    with pytest.raises(ValueError, match="no images"):
        build_patch_store([], "unused", PatchParams(), seed=0, source="x")


def test_missing_store_names_the_step(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebook 00_data_prep first"):
        PatchStore(tmp_path)


def test_window_scales_count_the_upsampled_and_averaged_down_windows_per_class():
    import pandas as pd
    from thesis_lib.data import report
    meta = pd.DataFrame({"label": ["mass"] * 4 + ["normal"] * 2, "scale": [0.5, 1.0, 2.0, 3.0, 1.0, 1.0]})
    scales = report.window_scales(meta)
    assert scales.loc["mass", "upsampled"] == 0.25 and scales.loc["mass", "averaged_down"] == 0.5
    assert scales.loc["mass", "median_scale"] == 1.5 and scales.loc["mass", "n"] == 4
    assert scales.loc["normal", "upsampled"] == scales.loc["normal", "averaged_down"] == 0.0  # native windows
