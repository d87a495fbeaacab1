"""Tiny copies of the public datasets' on-disk formats, written for the loader tests.

Each writer builds a few 256 x 208 mammograms (a breast-shaped textured region on a zero
background, masses as bright discs) in one dataset's exact layout: folder and file names,
CSV/XML/JSON columns, DICOM tags and the dataset's quirks. Every DICOM carries identifying
fields with distinctive values (:data:`IDENTIFYING`), so a test can prove none of them reaches
the patch store or the book. ``EXPECTED`` holds what each fixture must load into.
"""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (DigitalMammographyXRayImageStorageForPresentation, ExplicitVRLittleEndian,
                         SecondaryCaptureImageStorage)
from scipy.ndimage import gaussian_filter

from thesis_lib.data.dicom import uid

SHAPE = (256, 208)
IDENTIFYING = {"PatientName": "Quillfeather^Zenobia", "PatientBirthDate": "19230405",
               "InstitutionName": "Vexmoor Memorial Infirmary", "AccessionNumber": "ACX5531907",
               "ReferringPhysicianName": "Thistlewood^Orvald"}
IDENTIFYING_VALUES = ("Quillfeather", "Zenobia", "19230405", "Vexmoor", "ACX5531907", "Thistlewood")
CBIS_COLUMNS = ["patient_id", "breast_density", "left or right breast", "image view", "abnormality id",
                "abnormality type", "mass shape", "mass margins", "assessment", "pathology", "subtlety",
                "image file path", "cropped image file path", "ROI mask file path"]
CALC_COLUMNS = ["patient_id", "breast density", "left or right breast", "image view", "abnormality id",
                "abnormality type", "calc type", "calc distribution", "assessment", "pathology", "subtlety",
                "image file path", "cropped image file path", "ROI mask file path"]


def breast(seed: int, masses: tuple[tuple[int, int, int], ...] = (), side: str = "L"):
    """A 12-bit mammogram (uint16, MONOCHROME2 sense, background 0) and one bool mask per mass
    ``(row, col, radius)``; the chest wall is on the image's left for ``side`` "L"."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[: SHAPE[0], : SHAPE[1]]
    inside = ((rows - SHAPE[0] / 2) / 200) ** 2 + (cols / 260) ** 2 <= 1
    tissue = 1400 + 3000 * gaussian_filter(rng.standard_normal(SHAPE), 4) + rng.normal(0, 20, SHAPE)
    masks = []
    for r, c, radius in masses:
        disc = (rows - r) ** 2 + (cols - c) ** 2 <= radius**2
        tissue += 900 * gaussian_filter(disc.astype(float), 2)
        masks.append(disc)
    pixels = np.where(inside, np.clip(tissue, 1, 4095), 0).astype(np.uint16)
    if side == "R":
        pixels, masks = np.fliplr(pixels), [np.fliplr(m) for m in masks]
    return np.ascontiguousarray(pixels), [np.ascontiguousarray(m) for m in masks]


def write_dicom(path: Path, pixels: np.ndarray, *, mammogram: bool = True, **tags) -> Path:
    """A DICOM file holding ``pixels`` (uint8/uint16), with the identifying fields and ``tags``."""
    sop_class = DigitalMammographyXRayImageStorageForPresentation if mammogram else SecondaryCaptureImageStorage
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = uid("fixture", path)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid("study", path), uid("series", path)
    ds.Modality = "MG" if mammogram else "OT"
    for key, value in {**IDENTIFYING, **tags}.items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = tags.get("PhotometricInterpretation", "MONOCHROME2")
    ds.BitsAllocated = 8 if pixels.dtype == np.uint8 else 16
    ds.BitsStored = 8 if pixels.dtype == np.uint8 else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


# ---------------------------------------------------------------- CBIS-DDSM

def write_cbis_ddsm(root: Path) -> Path:
    """Three patients in TCIA's CBIS-DDSM layout, no PixelSpacing, no lesion-free images.

    P_00001: LEFT CC + MLO, one mass each. P_00002: RIGHT CC mass whose mask is 2 pixels larger
    than its image (resized), RIGHT MLO mass whose mask is 100 x 100 (skipped). P_00003: LEFT CC
    with a mass row whose ROI folder is missing (loader skip) and a RIGHT CC calcification in the
    calc CSV (``breast density`` with a space, ``calc type``/``calc distribution``).
    """
    rows = {"mass_train": [], "mass_test": [], "calc_train": []}
    cases = [("P_00001", "LEFT", "CC", "Training", "mass", "ok", 1),
             ("P_00001", "LEFT", "MLO", "Training", "mass", "ok", 2),
             ("P_00002", "RIGHT", "CC", "Test", "mass", "larger", 3),
             ("P_00002", "RIGHT", "MLO", "Test", "mass", "tiny", 4),
             ("P_00003", "LEFT", "CC", "Training", "mass", "missing", 5),
             ("P_00003", "RIGHT", "CC", "Training", "calc", "ok", 6)]
    for pid, side, view, split, kind, quirk, seed in cases:
        case = f"{'Mass' if kind == 'mass' else 'Calc'}-{split}_{pid}_{side}_{view}"
        pixels, (mask,) = breast(seed, ((190, 90, 14),), side[0])
        study, series = uid(case, "study"), uid(case, "series")
        write_dicom(root / case / study / series / "1-1.dcm", pixels, PatientID=case, ImageLaterality=side[0],
                    ViewPosition=view)
        roi_case, roi_series = f"{case}_1", uid(case, "roi")
        if quirk != "missing":
            mask_u8 = (mask * 255).astype(np.uint8)
            if quirk == "larger":
                mask_u8 = np.pad(mask_u8, ((0, 2), (0, 2)))
            elif quirk == "tiny":
                mask_u8 = np.zeros((100, 100), np.uint8)
                mask_u8[40:60, 40:60] = 255
            crop = pixels[176:205, 76:105] if side == "LEFT" else pixels[176:205, 103:132]
            names = ("1-1.dcm", "1-2.dcm") if seed % 2 else ("1-2.dcm", "1-1.dcm")
            write_dicom(root / roi_case / study / roi_series / names[0], mask_u8, mammogram=False, PatientID=roi_case)
            write_dicom(root / roi_case / study / roi_series / names[1], np.ascontiguousarray(crop),
                        mammogram=False, PatientID=roi_case)
        image_path = f"{case}/{study}/{series}/000000.dcm"
        roi = f"{roi_case}/{study}/{roi_series}"
        row = [pid, 3, side, view, 1, "mass" if kind == "mass" else "calcification", "OVAL" if kind == "mass" else
               "PLEOMORPHIC", "CIRCUMSCRIBED" if kind == "mass" else "CLUSTERED", 4, "MALIGNANT", 3, image_path,
               f"{roi}/000000.dcm", f"{roi}/000001.dcm\n"]  # TCIA's CSVs end some paths with a newline
        rows[f"{kind}_{'test' if split == 'Test' else 'train'}"].append(row)
    for name, key in (("mass_case_description_train_set.csv", "mass_train"),
                      ("mass_case_description_test_set.csv", "mass_test"),
                      ("calc_case_description_train_set.csv", "calc_train")):
        columns = CALC_COLUMNS if key.startswith("calc") else CBIS_COLUMNS
        pd.DataFrame(rows[key], columns=columns).to_csv(root / name, index=False)
    return root


# ---------------------------------------------------------------- INbreast

INBREAST_PATIENTS = {"a1b2c3d4e5f60718": [("20586908", "L", "CC", "mass"), ("20586934", "L", "MLO", "mass+points")],
                     "0f9e8d7c6b5a4321": [("22670147", "R", "CC", None), ("22670174", "R", "MLO", None)],
                     "77aa88bb99cc00dd": [("24065530", "L", "CC", "mass")]}


def _roi(name: str, points: list[tuple[float, float]]) -> dict:
    return {"Name": name, "NumberOfPoints": len(points), "IndexInImage": 0, "Type": 15 if len(points) > 2 else 19,
            "Point_px": [f"({x:.6f}, {y:.6f})" for x, y in points], "Point_mm": [], "Area": 0.0,
            "Center": "(0.000000, 0.000000, 0.000000)"}


def write_inbreast(root: Path) -> Path:
    """INbreast as distributed: AllDICOMs/, AllXML/ (OsiriX plists) and INbreast.csv (``;``).

    Three patients (their hash is the split key): one with masses outlined on CC and MLO (the MLO
    also has a 1-point calcification and a 2-point "Mass" mark), one without annotations, one
    with a CC mass. Plus an XML whose image is absent and a CSV row whose DICOM is absent.
    """
    (root / "AllDICOMs").mkdir(parents=True)
    (root / "AllXML").mkdir()
    rows = []
    for n, (hash_, images) in enumerate(INBREAST_PATIENTS.items()):
        for k, (name, side, view, marks) in enumerate(images):
            pixels, masks = breast(10 * n + k, ((180, 100, 16),) if marks else (), side)
            write_dicom(root / "AllDICOMs" / f"{name}_{hash_}_MG_{side}_{view}_ANON.dcm", pixels,
                        PatientID=f"{hash_}", ImageLaterality=side, ViewPosition=view, PatientAge="058Y")
            rows.append(["removed", "removed", side, view, "200101", name, "2", "4b" if marks else "1"])
            if marks:
                cx = 100 if side == "L" else SHAPE[1] - 1 - 100
                angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
                outline = [(cx + 16 * np.cos(a), 180 + 16 * np.sin(a)) for a in angles]
                rois = [_roi("Mass", outline)]
                if "points" in marks:
                    rois += [_roi("Calcification", [(60.0, 70.0)]), _roi("Mass", [(50.0, 50.0), (52.0, 53.0)])]
                _write_plist(root / "AllXML" / f"{name}.xml", rois)
    rows.append(["removed", "removed", "R", "CC", "200101", "30000001", "3", "2"])  # no DICOM on disk
    _write_plist(root / "AllXML" / "39999999.xml", [_roi("Mass", [(10.0, 10.0), (20.0, 10.0), (15.0, 20.0)])])
    columns = ["Patient ID", "Patient age", "Laterality", "View", "Acquisition date", "File Name", "ACR", "Bi-Rads"]
    pd.DataFrame(rows, columns=columns).to_csv(root / "INbreast.csv", sep=";", index=False)
    return root


def _write_plist(path: Path, rois: list[dict]) -> None:
    images = [{"ImageHeight": SHAPE[0], "ImageWidth": SHAPE[1], "ImageIndex": 0, "NumberOfROIs": len(rois),
               "ROIs": rois}]
    with path.open("wb") as f:
        plistlib.dump({"Images": images}, f)


# ---------------------------------------------------------------- VinDr-Mammo

def write_vindr(root: Path) -> Path:
    """VinDr-Mammo as on PhysioNet: images/<study>/<image>.dicom and finding_annotations.csv.

    MONOCHROME1 DICOMs with a rescale and a VOI window. Study s1: L CC and L MLO with a mass box,
    R CC without finding. Study s2: R CC with a mass-and-calcification box and a calcification
    box, R MLO without finding. Study s3: L CC without finding, and a row whose DICOM is absent.
    """
    images = [("s1", "L", "CC", ["Mass"]), ("s1", "L", "MLO", ["Mass"]), ("s1", "R", "CC", None),
              ("s2", "R", "CC", ["Mass", "Suspicious Calcification"]), ("s2", "R", "MLO", None),
              ("s3", "L", "CC", None)]
    rows = []
    for k, (study, side, view, finding) in enumerate(images):
        study_id, image_id = study + "f" * 30, f"img{k:029d}"
        pixels, masks = breast(100 + k, ((185, 95, 15),) if finding else (), side)
        raw = np.where(pixels > 0, 4095 - pixels, 4095).astype(np.uint16)  # MONOCHROME1: bright = thin
        write_dicom(root / "images" / study_id / f"{image_id}.dicom", raw, PhotometricInterpretation="MONOCHROME1",
                    RescaleSlope=1, RescaleIntercept=0, WindowCenter=2300, WindowWidth=3800,
                    PatientID=f"VNR{k:05d}", ImageLaterality=side, ViewPosition=view)
        base = [study_id, uid(study, "series"), image_id, side, view, SHAPE[0], SHAPE[1], "BI-RADS 4", "DENSITY C"]
        if finding:
            r0, c0, r1, c1 = _bbox(masks[0])
            rows.append(base + [str(finding), "BI-RADS 4", c0, r0, c1 - 0.5, r1 - 0.5, "training"])
            if "Suspicious Calcification" in finding:
                rows.append(base + [str(["Suspicious Calcification"]), "BI-RADS 4", 20.0, 30.0, 40.0, 50.0, "training"])
        else:
            rows.append(base + [str(["No Finding"]), "", "", "", "", "", "test" if study == "s3" else "training"])
    rows.append([f"s3{'f' * 30}", "x", f"img{99:029d}", "R", "CC", SHAPE[0], SHAPE[1], "BI-RADS 1", "DENSITY B",
                 str(["No Finding"]), "", "", "", "", "", "test"])
    columns = ["study_id", "series_id", "image_id", "laterality", "view_position", "height", "width", "breast_birads",
               "breast_density", "finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax", "split"]
    pd.DataFrame(rows, columns=columns).to_csv(root / "finding_annotations.csv", index=False)
    return root


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    r, c = np.nonzero(mask)
    return int(r.min()), int(c.min()), int(r.max()) + 1, int(c.max()) + 1


# ---------------------------------------------------------------- OMI-DB

OMIDB_CLIENTS = {
    "demd100": {"opinion": "OM", "images": [("L", "CC", "mass", "FOR PRESENTATION"),
                                            ("L", "MLO", "mass", "FOR PRESENTATION"),
                                            ("L", "CC", None, "FOR PROCESSING")]},
    "demd200": {"opinion": None, "images": [("R", "CC", None, "FOR PRESENTATION"),
                                            ("R", "MLO", None, "FOR PRESENTATION")]},
    "optm300": {"opinion": "OB", "images": [("L", "CC", "mass+calc", "FOR PRESENTATION"),
                                            ("L", "MLO", "missing", "FOR PRESENTATION")]},
}


def write_omidb(root: Path) -> Path:
    """OMI-DB as OPTIMAM shares it: data/<client>/{nbss,imagedb}_<client>.json, the DICOM
    headers as JSON beside them, and images/<client>/<study>/<image>.dcm.

    demd100 (malignant): L CC and L MLO with a mass mark, and a "for processing" L CC.
    demd200: R CC and R MLO, no marks. optm300 (benign): L CC with a mass and a calcification
    mark, and an L MLO whose DICOM file is absent.
    """
    for n, (client, spec) in enumerate(OMIDB_CLIENTS.items()):
        study = uid(client, "study")
        series_marks: dict[str, dict] = {}
        for k, (side, view, marks, intent) in enumerate(spec["images"]):
            image_id, series = uid(client, k, "image"), uid(client, k, "series")
            pixels, masks = breast(200 + 10 * n + k, ((185, 95, 15),) if marks else (), side)
            dcm = write_dicom(root / "images" / client / study / f"{image_id}.dcm", pixels, PatientID=client,
                              ImageLaterality=side, ViewPosition=view, PresentationIntentType=intent,
                              StudyDate="20110101")
            header = pydicom.dcmread(dcm, stop_before_pixels=True)
            (root / "data" / client / study).mkdir(parents=True, exist_ok=True)
            (root / "data" / client / study / f"{image_id}.json").write_text(json.dumps(header.to_json_dict()))
            if marks == "missing":
                dcm.unlink()
            image_marks = {}
            if marks in ("mass", "mass+calc"):
                r0, c0, r1, c1 = _bbox(masks[0])
                image_marks["1"] = {"MarkID": 1, "X1": c0, "Y1": r0, "X2": c1 - 1, "Y2": r1 - 1, "Mass": "1",
                                    "Conspicuity": "Obvious", "MassClassification": "well_defined",
                                    "LinkedNBSSLesionNumber": "1"}
            if marks == "mass+calc":
                image_marks["2"] = {"MarkID": 2, "X1": 30, "Y1": 20, "X2": 50, "Y2": 40, "WithCalcification": "1",
                                    "Conspicuity": "Subtle", "LinkedNBSSLesionNumber": "2"}
            series_marks[series] = {image_id: image_marks}
        imagedb = {"Site": "adde", "STUDIES": {study: {"StudyDate": "20110101", "EpisodeID": "1", **series_marks}}}
        episode = {"EpisodeIsClosed": "Y", "EpisodeType": "R",
                   "SCREENING": {"L": {"DateTaken": "2011-01-01", "Opinion": "RM"},
                                 "R": {"DateTaken": "2011-01-01", "Opinion": "RN"}}}
        if spec["opinion"]:
            episode["SURGERY"] = {"L": {"1": {"DatePerformed": "2011-03-01"}}, "left_opinion": spec["opinion"]}
        (root / "data" / client / f"imagedb_{client}.json").write_text(json.dumps(imagedb))
        (root / "data" / client / f"nbss_{client}.json").write_text(json.dumps({"1": episode}))
    return root
