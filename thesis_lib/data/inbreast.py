"""Loader for INbreast (Moreira et al. 2012), as its authors distribute it::

    <root>/INbreast.csv                 semicolon-separated: Laterality;View;...;File Name;ACR;Bi-Rads
    <root>/AllDICOMs/<FileName>_<hash>_MG_<L|R>_<CC|MLO>_ANON.dcm
    <root>/AllXML/<FileName>.xml        OsiriX plist: Images -> ROIs (Name, NumberOfPoints, Point_px)

The CSV's Patient ID column is emptied; the hash in the DICOM file name is the same for all
images of a patient and is the split key. ``Point_px`` holds ``"(x, y)"`` strings in image
pixels. ROIs of one or two points mark single calcifications (or a spot), not an outline:
they are skipped as point marks when their type is wanted. Images without an XML file have
no annotated lesion.
"""

from __future__ import annotations

import plistlib
import re
from pathlib import Path

from thesis_lib.data.records import ImageRecord, Lesion, Skip, read_table

REQUIRED_COLUMNS = ("Laterality", "View", "File Name", "ACR", "Bi-Rads")
ROI_TYPES = {"mass": "mass", "calcification": "calc", "calcifications": "calc", "cluster": "calc"}
FILE_NAME = re.compile(r"^(?P<file>\d+)_(?P<hash>[0-9a-fA-F]+)_MG_(?P<lat>[LR])_(?P<view>CC|MLO)_ANON\.dcm$")
POINT = re.compile(r"\(\s*([-0-9.eE+]+)\s*,\s*([-0-9.eE+]+)")


def _leading_int(value: str) -> int | None:
    match = re.match(r"\s*(\d+)", value or "")
    return int(match.group(1)) if match else None


def read_rois(xml: Path) -> list[dict]:
    """The ROIs of an INbreast XML file: dicts with ``name``, ``points`` ((x, y) floats) and
    ``n_points`` (as declared). Raises ``ValueError`` naming the file when it is not such a plist."""
    try:
        with xml.open("rb") as f:
            plist = plistlib.load(f)
        rois = [roi for image in plist["Images"] for roi in image.get("ROIs", [])]
        return [{"name": str(roi.get("Name", "")).strip(),
                 "n_points": int(roi.get("NumberOfPoints", len(roi.get("Point_px", [])))),
                 "points": tuple((float(x), float(y)) for x, y in
                                 (POINT.match(p).groups() for p in roi.get("Point_px", [])))}
                for roi in rois]
    except (plistlib.InvalidFileException, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"{xml}: not an INbreast (OsiriX plist) annotation file ({exc!r})") from exc


def scan(root: str | Path, lesion_types: tuple[str, ...] = ("mass",)) -> tuple[list[ImageRecord], list[Skip]]:
    """Mammograms of an INbreast folder with their outlined lesions, and the skipped files."""
    root = Path(root)
    dicom_dir, xml_dir, csv = root / "AllDICOMs", root / "AllXML", root / "INbreast.csv"
    if not dicom_dir.is_dir():
        raise FileNotFoundError(f"no AllDICOMs/ folder under {root}: is this INbreast? Point data_root at the "
                                "folder holding AllDICOMs/, AllXML/ and INbreast.csv, or pass -p dataset ...")
    if not csv.is_file():
        raise FileNotFoundError(f"{csv} not found: INbreast's table of images (semicolon-separated) is needed")
    files: dict[str, tuple[Path, re.Match]] = {}
    skips: list[Skip] = []
    for path in sorted(dicom_dir.glob("*.dcm")):
        match = FILE_NAME.match(path.name)
        if match is None:
            skips.append(Skip(str(path), "unknown image file name (expected <FileName>_<hash>_MG_<L|R>_<CC|MLO>"
                                         "_ANON.dcm)"))
        else:
            files[match["file"]] = (path, match)
    records = []
    table = read_table(csv, REQUIRED_COLUMNS, f"expected INbreast's semicolon-separated INbreast.csv with "
                       f"columns {list(REQUIRED_COLUMNS)}", sep=";")
    for row in table.to_dict("records"):
        name = row["File Name"].strip()
        if not name:
            continue
        if name not in files:
            skips.append(Skip(f"AllDICOMs/{name}_*.dcm", "no DICOM file found for this INbreast.csv row"))
            continue
        path, match = files.pop(name)
        lesions = _lesions(xml_dir / f"{name}.xml", lesion_types, _leading_int(row["Bi-Rads"]), skips)
        records.append(ImageRecord(
            patient_id=match["hash"], image_id=name, image_file=path, laterality=match["lat"],
            view=match["view"], breast_density=_leading_int(row["ACR"]), lesions=tuple(lesions)))
    skips += [Skip(str(path), "unknown image: not listed in INbreast.csv") for path, _ in files.values()]
    known = {r.image_id for r in records}
    if xml_dir.is_dir():
        skips += [Skip(str(xml), "no image for this annotation file")
                  for xml in sorted(xml_dir.glob("*.xml")) if xml.stem not in known]
    return records, skips


def _lesions(xml: Path, lesion_types: tuple[str, ...], birads: int | None, skips: list[Skip]) -> list[Lesion]:
    if not xml.is_file():
        return []
    try:
        rois = read_rois(xml)
    except ValueError as exc:
        skips.append(Skip(str(xml), str(exc)))
        return []
    lesions = []
    for k, roi in enumerate(rois, start=1):
        kind = ROI_TYPES.get(roi["name"].lower())
        if kind not in lesion_types:
            continue
        if roi["n_points"] < 3 or len(roi["points"]) < 3:
            skips.append(Skip(f"{xml}#roi-{k}", f"point mark of {roi['n_points']} point(s), not an outline"))
            continue
        lesions.append(Lesion(abnormality_id=k, abnormality_type="mass" if kind == "mass" else "calcification",
                              polygon=roi["points"], assessment=birads))
    return lesions
