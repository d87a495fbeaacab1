"""What every dataset loader returns: mammograms with their lesions, and the files it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Lesion:
    """One annotated lesion of a mammogram, outlined by exactly one of:

    - ``mask_file``: a binary ROI mask DICOM the size of the image (CBIS-DDSM);
    - ``polygon``: the outline as ``((x, y), ...)`` in image pixels, x = column (INbreast);
    - ``box``: ``(r0, c0, r1, c1)`` in image pixels, end-exclusive (VinDr-Mammo, OMI-DB).

    :func:`thesis_lib.data.annotations.lesion_mask` turns any of them into a mask.
    """

    abnormality_id: int
    abnormality_type: str  # "mass" or "calcification"
    mask_file: Path | None = None
    polygon: tuple[tuple[float, float], ...] | None = None
    box: tuple[int, int, int, int] | None = None
    pathology: str = ""
    shape: str = ""
    margins: str = ""
    assessment: int | None = None
    subtlety: int | None = None

    def __post_init__(self):
        given = [name for name in ("mask_file", "polygon", "box") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"lesion {self.abnormality_id}: give exactly one of mask_file, polygon, box "
                             f"(got {given or 'none'})")
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError(f"lesion {self.abnormality_id}: a polygon needs >= 3 points, got {len(self.polygon)}")
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise ValueError(f"lesion {self.abnormality_id}: box {self.box} must have r0 < r1 and c0 < c1")


@dataclass(frozen=True)
class ImageRecord:
    """One mammogram. ``image_id`` is unique in the dataset; ``patient_id`` is the split key.

    ``voi_window``: read the pixels through the file's VOI window (WindowCenter/Width), as
    the dataset's authors display them (VinDr-Mammo).
    """

    patient_id: str
    image_id: str
    image_file: Path
    laterality: str  # "L" / "R"
    view: str  # "CC" / "MLO"
    breast_density: int | None = None
    source_split: str = ""  # the dataset's own train/test label, kept for reference
    lesions: tuple[Lesion, ...] = field(default=())
    voi_window: bool = False


@dataclass(frozen=True)
class Skip:
    """A file left out, and why. Skips are counted and listed in the run summary."""

    file: str
    reason: str


def read_table(path: Path, required: tuple[str, ...], expected: str, *, sep: str = ",",
               rename: dict[str, str] | None = None) -> pd.DataFrame:
    """A dataset's CSV as strings (empty cells are ""), column names stripped and ``rename``d;
    a missing ``required`` column is an error naming the file, the columns and ``expected``."""
    df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    df.columns = [(rename or {}).get(c.strip(), c.strip()) for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; {expected}")
    return df
