"""The public datasets' loaders, on fixtures written in each dataset's own format
(tests/fixtures_datasets.py), down to the patch store."""

import json
import shutil

import h5py
import numpy as np
import pandas as pd
import pydicom
import pytest

import fixtures_datasets as fx
from thesis_lib.data import datasets
from thesis_lib.data.annotations import MaskMismatch, lesion_mask, resize_mask
from thesis_lib.data.dicom import read_image
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data.records import Lesion

WRITERS = {"cbis-ddsm": fx.write_cbis_ddsm, "inbreast": fx.write_inbreast, "vindr-mammo": fx.write_vindr,
           "omi-db": fx.write_omidb}
# images, patients, mass patches, normal patches and skip kinds of each fixture (lesion_types = mass);
# normal windows take the small masses' sizes, so all ten per image fit
EXPECTED = {
    "cbis-ddsm": (5, {"P_00001", "P_00002", "P_00003"}, 3, 50, {"no DICOM file found": 1, "differs from its image": 1}),
    "inbreast": (5, set(fx.INBREAST_PATIENTS), 3, 50, {"point mark": 1, "no DICOM file found": 1, "no image for": 1}),
    "vindr-mammo": (6, {"s1" + "f" * 30, "s2" + "f" * 30, "s3" + "f" * 30}, 3, 60, {"no DICOM file found": 1}),
    "omi-db": (5, set(fx.OMIDB_CLIENTS), 3, 50, {"no DICOM file found": 1, "not for presentation": 1}),
}


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """Each dataset's fixture, written once (read-only: copy before damaging)."""
    base = tmp_path_factory.mktemp("datasets")
    return {name: writer(base / name) for name, writer in WRITERS.items()}


def _store(name, root, out, lesion_types=("mass",)):
    records, skips = datasets.scan(name, root, lesion_types)
    return build_patch_store(records, out, PatchParams(lesion_types=lesion_types), seed=3, source=name,
                             loader_skips=skips, progress=False)


@pytest.mark.parametrize("name", sorted(WRITERS))
@pytest.mark.slow
def test_each_format_loads_into_the_patch_store(name, roots, tmp_path):
    n_images, patients, n_mass, n_normal, skip_kinds = EXPECTED[name]
    store = _store(name, roots[name], tmp_path / "patches")
    assert store.summary["n_images"] == n_images and store.summary["source"] == name
    assert set(store.meta.patient_id) == patients == set(store.folds.patient_id)
    assert store.summary["n_patches"] == {"mass": n_mass, "normal": n_normal}
    assert store.summary["skip_reasons"] == skip_kinds
    assert len(store.read(range(len(store)))) == n_mass + n_normal
    mass = store.read(np.flatnonzero(store.meta.label == "mass")).mean()
    assert mass > store.read(np.flatnonzero(store.meta.label == "normal")).mean()  # the lesion was found
    for _, fold in store.folds.groupby("fold"):  # patient-level folds
        assert fold.patient_id.is_unique


def test_cbis_ddsm_quirks(roots, tmp_path):
    records, skips = datasets.scan("cbis-ddsm", roots["cbis-ddsm"], ("mass", "calc"))
    by_id = {r.image_id: r for r in records}
    assert by_id["Calc-Training_P_00003_RIGHT_CC"].lesions[0].abnormality_type == "calcification"
    assert by_id["Calc-Training_P_00003_RIGHT_CC"].breast_density == 3  # "breast density" column
    for rec in records:  # the mask, not the crop of the same ROI series, whichever its file name
        for lesion in rec.lesions:
            assert pydicom.dcmread(lesion.mask_file).Rows >= 100
    store = _store("cbis-ddsm", roots["cbis-ddsm"], tmp_path / "patches", ("mass", "calc"))
    masses = store.meta[store.meta.label == "mass"]
    assert "Mass-Test_P_00002_RIGHT_CC" in set(masses.image_id)  # mask 2 pixels too large: resized
    assert store.meta.spacing_mm.isna().all()  # CBIS-DDSM has no PixelSpacing
    assert store.summary["n_patches"]["calcification"] == 1
    reasons = dict(zip(store.skips.file, store.skips.reason))
    assert any("Mass-Test_P_00002_RIGHT_MLO_1" in f and "not proportionally" in r for f, r in reasons.items())


def test_mask_resizing_rule():
    mask = np.zeros((100, 80), bool)
    mask[40:60, 30:50] = True
    assert resize_mask(mask, (200, 160), "m").sum() == 4 * mask.sum()  # proportional: resized
    assert resize_mask(mask, (101, 81), "m").shape == (101, 81)  # a pixel off: resized
    with pytest.raises(MaskMismatch, match="m: mask shape .* differs from its image .*not proportionally"):
        resize_mask(mask, (200, 80), "m")


def test_polygon_and_box_annotations():
    square = Lesion(1, "mass", polygon=((10.0, 20.0), (30.0, 20.0), (30.0, 40.0), (10.0, 40.0)))
    mask = lesion_mask(square, (64, 64))
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (20, 40, 10, 30)  # x is the column
    box = lesion_mask(Lesion(2, "mass", box=(50, 60, 80, 90)), (64, 64))
    assert box.sum() == (64 - 50) * (64 - 60)  # clipped to the image
    with pytest.raises(MaskMismatch, match="empty mask"):
        lesion_mask(Lesion(3, "mass", box=(70, 70, 80, 80)), (64, 64))
    with pytest.raises(ValueError, match="exactly one of mask_file, polygon, box"):
        Lesion(4, "mass", box=(0, 0, 1, 1), polygon=((0, 0), (1, 0), (1, 1)))
    with pytest.raises(ValueError, match="exactly one"):
        Lesion(5, "mass")


def test_inbreast_outlines_and_patients(roots):
    records, skips = datasets.scan("inbreast", roots["inbreast"], ("mass", "calc"))
    assert {r.patient_id for r in records} == set(fx.INBREAST_PATIENTS)  # the file-name hash
    rec = next(r for r in records if r.image_id == "20586908")
    assert (rec.laterality, rec.view, rec.breast_density) == ("L", "CC", 2)
    assert len(rec.lesions[0].polygon) == 24 and rec.lesions[0].assessment == 4
    assert sorted(s.reason.split(" of ")[0] for s in skips if "point mark" in s.reason) == ["point mark"] * 2


def test_vindr_window_and_monochrome1(roots):
    records, _ = datasets.scan("vindr-mammo", roots["vindr-mammo"])
    rec = next(r for r in records if r.lesions)
    assert rec.voi_window and rec.patient_id.startswith("s1") and rec.breast_density == 3
    image = read_image(rec.image_file, voi_window=True)
    raw = pydicom.dcmread(rec.image_file).pixel_array
    assert image.inverted and image.pixels[raw == 4095].max() == 0  # background dark after inversion
    assert (image.pixels[raw < 4095] > 0).mean() > 0.99
    r0, c0, r1, c1 = rec.lesions[0].box
    assert image.pixels[r0:r1, c0:c1].mean() > image.pixels[raw < 4095].mean()  # mass bright


def test_omidb_marks_and_pathology(roots):
    records, skips = datasets.scan("omi-db", roots["omi-db"], ("mass", "calc"))
    lesions = {(r.patient_id, les.abnormality_type, les.pathology) for r in records for les in r.lesions}
    assert lesions == {("demd100", "mass", "MALIGNANT"), ("optm300", "mass", "BENIGN"),
                       ("optm300", "calcification", "BENIGN")}
    assert {(r.laterality, r.view) for r in records if r.patient_id == "demd200"} == {("R", "CC"), ("R", "MLO")}
    assert records == sorted(records, key=lambda r: (r.patient_id, r.image_id))


@pytest.mark.parametrize("name, match", [
    ("cbis-ddsm", "no CBIS-DDSM case-description CSV"),
    ("inbreast", "no AllDICOMs/ folder under .*is this INbreast"),
    ("vindr-mammo", "no finding_annotations.csv and images/ folder under .*is this VinDr-Mammo"),
    ("omi-db", "no OMI-DB client folder .*is this OMI-DB"),
])
def test_a_folder_of_another_dataset_is_refused(name, match, roots):
    other = roots["inbreast" if name != "inbreast" else "vindr-mammo"]
    with pytest.raises(FileNotFoundError, match=match):
        datasets.scan(name, other)


@pytest.mark.parametrize("name, table, column, sep", [
    ("inbreast", "INbreast.csv", "Bi-Rads", ";"),
    ("vindr-mammo", "finding_annotations.csv", "finding_categories", ","),
    ("cbis-ddsm", "calc_case_description_train_set.csv", "ROI mask file path", ","),
])
def test_a_missing_column_is_named(name, table, column, sep, roots, tmp_path):
    root = shutil.copytree(roots[name], tmp_path / name)
    df = pd.read_csv(root / table, sep=sep, dtype=str)
    df.drop(columns=column).to_csv(root / table, sep=sep, index=False)
    with pytest.raises(ValueError, match=f"{table}: missing column.*{column}"):
        datasets.scan(name, root, ("mass", "calc"))


def test_bad_files_are_named_skips(roots, tmp_path):
    root = shutil.copytree(roots["inbreast"], tmp_path / "inbreast")
    corrupt = next((root / "AllDICOMs").glob("22670147_*.dcm"))
    corrupt.write_bytes(b"not a DICOM" * 50)
    (root / "AllXML" / "24065530.xml").write_text("<plist><dict><key>oops</key></dict></plist>")
    vindr = shutil.copytree(roots["vindr-mammo"], tmp_path / "vindr")
    table = pd.read_csv(vindr / "finding_annotations.csv", dtype=str, keep_default_na=False)
    table.loc[0, ["xmin", "xmax"]] = ["500", "520"]  # a box outside its 208-pixel-wide image
    table.to_csv(vindr / "finding_annotations.csv", index=False)

    store = _store("inbreast", root, tmp_path / "a")
    reasons = dict(zip(store.skips.file, store.skips.reason))
    assert "not a readable DICOM" in reasons[str(corrupt)]
    assert "not an INbreast (OsiriX plist) annotation file" in reasons[str(root / "AllXML" / "24065530.xml")]
    assert store.summary["n_patches"]["mass"] == 2
    store = _store("vindr-mammo", vindr, tmp_path / "b")
    assert store.summary["skip_reasons"]["empty mask"] == 1 and store.summary["n_patches"]["mass"] == 2


def _files_text(folder):
    """Every text a store holds: its CSV and JSON files and the HDF5 attributes."""
    texts = [p.read_text() for p in folder.iterdir() if p.suffix in (".csv", ".json")]
    with h5py.File(folder / "patches.h5") as f:
        texts += [f"{k}={v}" for k, v in f.attrs.items()]
        texts += [f"{k}={v}" for k, v in f["patches"].attrs.items()]
    return "\n".join(texts)


def test_no_identifying_dicom_field_reaches_the_store(roots, tmp_path):
    for name, root in roots.items():
        dcm = next(p for p in sorted(root.rglob("*")) if p.suffix in (".dcm", ".dicom") and p.stat().st_size > 10_000)
        assert str(pydicom.dcmread(dcm).PatientName) == fx.IDENTIFYING["PatientName"]  # the fixture has them
        store = _store(name, root, tmp_path / name)
        text = _files_text(store.path)
        assert json.loads((store.path / "summary.json").read_text())["source"] == name
        leaked = [v for v in fx.IDENTIFYING_VALUES if v.lower() in text.lower()]
        assert not leaked, f"{name}: identifying DICOM values in the store: {leaked}"


@pytest.mark.slow
def test_data_chapter_on_inbreast_states_its_data_and_no_identity(roots, tmp_path):
    """papermill ... -p dataset inbreast -p data_root ...: the chapter names the dataset and its
    counts, and neither it nor the store carries an identifying DICOM field."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from thesis_lib.data.store import PatchStore

    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "out.ipynb"
    env = {**os.environ, "THESIS_ARTIFACTS": str(tmp_path / "artifacts")}
    result = subprocess.run(
        [Path(sys.executable).parent / "papermill", "--no-progress-bar", repo / "notebooks" / "00_data_prep.ipynb",
         out, "-p", "dataset", "inbreast", "-p", "data_root", str(roots["inbreast"]), "-p", "n_patients", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert ("This book uses **inbreast**: 3 patients, 5 of 5 images cut into 51 patches of 64 x 64 pixels "
            "(48 normal, 3 mass)") in text
    store = PatchStore(tmp_path / "artifacts" / "smoke" / "patches")
    everything = (text + _files_text(store.path)).lower()
    assert not [v for v in fx.IDENTIFYING_VALUES if v.lower() in everything]
