"""Loader for the CBIS-DDSM on-disk format (TCIA), which the synthetic cohort shares.

CBIS-DDSM describes its lesions in ``mass_case_description_{train,test}_set.csv`` (and the
``calc_`` ones). Each row is one lesion; its ``image file path`` names the mammogram series
and its ``ROI mask file path`` the ROI series. Quirks handled here:

- the CSVs name ``000000.dcm``/``000001.dcm`` while the files on disk are ``1-1.dcm`` /
  ``1-2.dcm``, and TCIA downloads may rename the study/series folders: files are found by
  their case folder (the path's first part) and searched below it;
- an ROI series holds both the binary mask and the cropped lesion: the mask is the larger;
- the calc CSVs spell ``breast density`` with a space;
- there is no PixelSpacing tag.

``normal_case_description.csv`` (lesion-free images) is not part of CBIS-DDSM; the synthetic
cohort adds it and it is read when present.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from thesis_lib.data.dicom import DicomError, read_header
from thesis_lib.data.records import ImageRecord, Lesion, Skip, read_table

CSV_HINT = "is this an original CBIS-DDSM case-description CSV?"
CALC_COLUMNS = {"breast density": "breast_density"}  # the calcification CSVs' spelling
REQUIRED_COLUMNS = ("patient_id", "breast_density", "left or right breast", "image view",
                    "abnormality id", "abnormality type", "pathology", "image file path",
                    "ROI mask file path")
NORMAL_REQUIRED = ("patient_id", "left or right breast", "image view", "image file path")
LESION_TYPES = ("mass", "calc")


def _series_files(root: Path, csv_path: str) -> list[Path]:
    """DICOM files of the series that ``csv_path`` names, searched below its case folder."""
    case = csv_path.strip().replace("\\", "/").split("/")[0]
    for base in (root / case, root / "CBIS-DDSM" / case):
        if base.is_dir():
            return sorted(base.rglob("*.dcm"))
    return []


def _mask_file(files: list[Path]) -> Path:
    """The ROI mask among an ROI series' files: the one with the most pixels."""
    if len(files) == 1:
        return files[0]
    sizes = {}
    for f in files:
        hdr = read_header(f)
        sizes[f] = int(hdr.get("Rows", 0)) * int(hdr.get("Columns", 0))
    return max(files, key=sizes.__getitem__)


def _int_or_none(value: str) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def scan(root: str | Path, lesion_types: tuple[str, ...] = ("mass",)) -> tuple[list[ImageRecord], list[Skip]]:
    """Mammograms of a CBIS-DDSM folder with their lesions, and the skipped files.

    ``lesion_types``: which case-description CSVs to read, from ``("mass", "calc")``.
    Raises ``FileNotFoundError`` when ``root`` holds none of them.
    """
    root = Path(root)
    unknown = sorted(set(lesion_types) - set(LESION_TYPES))
    if unknown:
        raise ValueError(f"lesion_types {unknown}: expected some of {LESION_TYPES}")
    csvs = [p for t in lesion_types for p in sorted(root.glob(f"{t}_case_description_*_set.csv"))]
    if not csvs:
        raise FileNotFoundError(
            f"{root}: no CBIS-DDSM case-description CSV (expected e.g. "
            "mass_case_description_train_set.csv); point data_root at the folder that holds them")
    images: OrderedDict[str, dict] = OrderedDict()
    skips: list[Skip] = []
    for csv in csvs:
        split = "test" if "_test_" in csv.name else "train"
        for row in read_table(csv, REQUIRED_COLUMNS, CSV_HINT, rename=CALC_COLUMNS).to_dict("records"):
            _add_lesion_row(root, row, split, images, skips)
    normal_csv = root / "normal_case_description.csv"
    if normal_csv.is_file():
        for row in read_table(normal_csv, NORMAL_REQUIRED, CSV_HINT, rename=CALC_COLUMNS).to_dict("records"):
            _add_image(root, row, "normal", images, skips)
    records = [ImageRecord(**{**v, "lesions": tuple(v["lesions"])}) for v in images.values() if v]
    return records, skips


def _add_image(root: Path, row: dict, split: str, images: dict, skips: list[Skip]) -> dict | None:
    key = row["image file path"].strip()
    if key in images:
        return images[key]
    files = _series_files(root, key)
    if not files:
        skips.append(Skip(key, "no DICOM file found for this image path"))
        images[key] = None
        return None
    images[key] = {
        "patient_id": row["patient_id"].strip(),
        "image_id": key.split("/")[0],
        "image_file": files[0],
        "laterality": row["left or right breast"].strip()[:1].upper(),
        "view": row["image view"].strip().upper(),
        "breast_density": _int_or_none(row.get("breast_density", "")),
        "source_split": split,
        "lesions": [],
    }
    return images[key]


def _add_lesion_row(root: Path, row: dict, split: str, images: dict, skips: list[Skip]) -> None:
    image = _add_image(root, row, split, images, skips)
    if image is None:
        return
    files = _series_files(root, row["ROI mask file path"])
    try:
        if not files:
            raise DicomError(f"{row['ROI mask file path']}: no DICOM file found for this ROI path")
        mask = _mask_file(files)
    except DicomError as exc:
        skips.append(Skip(row["ROI mask file path"], str(exc)))
        return
    image["lesions"].append(Lesion(
        abnormality_id=int(row["abnormality id"]),
        abnormality_type="calcification" if row["abnormality type"].startswith("calc") else "mass",
        mask_file=mask, pathology=row["pathology"].strip(),
        shape=row.get("mass shape", row.get("calc type", "")).strip(),
        margins=row.get("mass margins", row.get("calc distribution", "")).strip(),
        assessment=_int_or_none(row.get("assessment", "")),
        subtlety=_int_or_none(row.get("subtlety", ""))))
