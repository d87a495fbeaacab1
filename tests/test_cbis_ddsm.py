import numpy as np
import pandas as pd
import pytest

from thesis_lib.data import cbis_ddsm, datasets
from thesis_lib.data.dicom import read_header, read_image
from thesis_lib.data.synthetic import CBIS_MASS_COLUMNS


def test_cohort_has_the_cbis_ddsm_layout(cohort):
    train = pd.read_csv(cohort / "mass_case_description_train_set.csv")
    assert list(train.columns) == CBIS_MASS_COLUMNS
    path = train["image file path"].iloc[0]
    assert path.endswith("/000000.dcm") and not (cohort / path).exists()  # CSV names != disk names
    case, study, series, _ = path.split("/")
    assert (cohort / case / study / series / "1-1.dcm").is_file()
    assert case.startswith("Mass-Training_P_") and case.endswith(("_CC", "_MLO"))


def test_scan_reads_every_image_and_finds_masks_by_shape(cohort):
    records, skips = datasets.scan("synthetic", cohort)
    assert skips == []
    assert len(records) == 24 and len({r.patient_id for r in records}) == 6
    with_lesions = [r for r in records if r.lesions]
    assert len(with_lesions) == 12  # CC and MLO of each patient's lesion breast
    for rec in with_lesions:
        shape = read_image(rec.image_file).pixels.shape
        for lesion in rec.lesions:
            hdr = read_header(lesion.mask_file)
            assert (hdr.Rows, hdr.Columns) == shape  # the mask, not the cropped lesion
            mask = read_image(lesion.mask_file).pixels
            assert set(np.unique(mask)) == {0, 255}
            assert lesion.pathology in ("BENIGN", "MALIGNANT") and lesion.abnormality_type == "mass"


def test_patient_ids_and_views_come_from_the_csv(cohort):
    records, _ = datasets.scan("cbis-ddsm", cohort)
    for rec in records:
        assert rec.image_id.split("_")[1:3] == rec.patient_id.split("_")
        assert rec.view in ("CC", "MLO") and rec.laterality in ("L", "R")
        assert read_image(rec.image_file).laterality == rec.laterality


def test_not_a_cbis_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no CBIS-DDSM case-description CSV"):
        datasets.scan("cbis-ddsm", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.scan("cbis-ddsm", tmp_path / "nowhere")
    with pytest.raises(ValueError, match="dataset='inbreastt'"):
        datasets.scan("inbreastt", tmp_path)


def test_missing_column_is_named(cohort_copy):
    csv = cohort_copy / "mass_case_description_train_set.csv"
    pd.read_csv(csv).drop(columns="pathology").to_csv(csv, index=False)
    with pytest.raises(ValueError, match="mass_case_description_train_set.csv: missing column.*pathology"):
        datasets.scan("cbis-ddsm", cohort_copy)


def test_calc_csv_with_spaced_density_column(cohort_copy):
    mass = pd.read_csv(cohort_copy / "mass_case_description_train_set.csv")
    calc = mass.rename(columns={"breast_density": "breast density", "mass shape": "calc type",
                                "mass margins": "calc distribution"})
    calc["abnormality type"] = "calcification"
    calc.to_csv(cohort_copy / "calc_case_description_train_set.csv", index=False)
    records, _ = cbis_ddsm.scan(cohort_copy, lesion_types=("calc",))
    lesions = [les for r in records for les in r.lesions]
    assert lesions and all(les.abnormality_type == "calcification" for les in lesions)
    assert all(r.breast_density is not None for r in records if r.lesions)


def test_missing_image_folder_is_a_named_skip(cohort_copy):
    import shutil
    csv = pd.read_csv(cohort_copy / "mass_case_description_train_set.csv")
    case = csv["image file path"].iloc[0].split("/")[0]
    shutil.rmtree(cohort_copy / case)
    records, skips = datasets.scan("cbis-ddsm", cohort_copy)
    assert [s.file.split("/")[0] for s in skips] == [case]
    assert "no DICOM file found" in skips[0].reason
    assert case not in {r.image_id for r in records}


def test_select_patients(cohort):
    records, _ = datasets.scan("synthetic", cohort)
    some = datasets.select_patients(records, 2, seed=0)
    assert len({r.patient_id for r in some}) == 2 and len(some) == 8  # all images of each patient
    assert datasets.select_patients(records, 0, seed=0) == records
    with pytest.raises(ValueError, match="n_patients=7, but the dataset holds only 6 patients"):
        datasets.select_patients(records, 7, seed=0)
