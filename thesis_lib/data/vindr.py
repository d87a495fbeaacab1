"""Loader for VinDr-Mammo (Nguyen et al. 2023), as PhysioNet distributes it::

    <root>/finding_annotations.csv     one row per finding (or one "No Finding" row per image)
    <root>/images/<study_id>/<image_id>.dicom

Columns used: ``study_id, image_id, laterality, view_position, breast_density,
finding_categories, xmin, ymin, xmax, ymax, split``. ``finding_categories`` is a list such as
``['Mass']`` or ``['Mass', 'Suspicious Calcification']``; boxes are in image pixels. Each
study is one patient: ``study_id`` is the split key. The images are read through their VOI
window after the rescale (MONOCHROME1 inverted), as the dataset's authors display them.
"""

from __future__ import annotations

import ast
import math
from collections import OrderedDict
from pathlib import Path

from thesis_lib.data.records import ImageRecord, Lesion, Skip, read_table

REQUIRED_COLUMNS = ("study_id", "image_id", "laterality", "view_position", "breast_density",
                    "finding_categories", "xmin", "ymin", "xmax", "ymax", "split")
CATEGORIES = {"Mass": "mass", "Suspicious Calcification": "calc"}


def _categories(value: str) -> list[str]:
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return [value.strip()]
    return [str(c).strip() for c in (parsed if isinstance(parsed, (list, tuple)) else [parsed])]


def _density(value: str) -> int | None:
    """``"DENSITY C"`` -> 3 (BI-RADS A-D as 1-4)."""
    letter = value.strip()[-1:].upper()
    return "ABCD".index(letter) + 1 if letter and letter in "ABCD" else None


def _box(row: dict) -> tuple[int, int, int, int]:
    """``(r0, c0, r1, c1)`` of a row's box; ``ValueError`` when it is missing or empty."""
    x0, y0, x1, y1 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
    if not all(map(math.isfinite, (x0, y0, x1, y1))):
        raise ValueError("box has missing coordinates")
    box = (int(math.floor(y0)), int(math.floor(x0)), int(math.ceil(y1)), int(math.ceil(x1)))
    if box[0] >= box[2] or box[1] >= box[3]:
        raise ValueError(f"empty box {box}")
    return box


def scan(root: str | Path, lesion_types: tuple[str, ...] = ("mass",)) -> tuple[list[ImageRecord], list[Skip]]:
    """Mammograms of a VinDr-Mammo folder with their boxed lesions, and the skipped rows."""
    root = Path(root)
    csv = root / "finding_annotations.csv"
    if not csv.is_file() or not (root / "images").is_dir():
        raise FileNotFoundError(f"no finding_annotations.csv and images/ folder under {root}: is this "
                                "VinDr-Mammo? Point data_root at the folder holding both, or pass -p dataset ...")
    images: OrderedDict[str, dict] = OrderedDict()
    skips: list[Skip] = []
    table = read_table(csv, REQUIRED_COLUMNS, "is this VinDr-Mammo's finding_annotations.csv?")
    for n, row in enumerate(table.to_dict("records"), start=2):  # CSV line numbers
        key = f"{row['study_id']}/{row['image_id']}"
        if key not in images:
            path = root / "images" / row["study_id"] / f"{row['image_id']}.dicom"
            if not path.is_file():
                skips.append(Skip(f"images/{key}.dicom", "no DICOM file found for this finding_annotations row"))
                images[key] = None
                continue
            images[key] = {"patient_id": row["study_id"], "image_id": row["image_id"], "image_file": path,
                           "laterality": row["laterality"].strip()[:1].upper(),
                           "view": row["view_position"].strip().upper(),
                           "breast_density": _density(row["breast_density"]),
                           "source_split": row["split"].strip(), "lesions": [], "voi_window": True}
        image = images[key]
        if image is None:
            continue
        kinds = [CATEGORIES[c] for c in _categories(row["finding_categories"]) if c in CATEGORIES]
        kind = "mass" if "mass" in kinds else (kinds[0] if kinds else None)
        if kind not in lesion_types:
            continue
        try:
            box = _box(row)
        except ValueError as exc:
            skips.append(Skip(f"{csv.name}:{n}", f"finding of {key}: {exc}"))
            continue
        image["lesions"].append(Lesion(abnormality_id=len(image["lesions"]) + 1,
                                       abnormality_type="mass" if kind == "mass" else "calcification", box=box))
    records = [ImageRecord(**{**v, "lesions": tuple(v["lesions"])}) for v in images.values() if v]
    return records, skips
