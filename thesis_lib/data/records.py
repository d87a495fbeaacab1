"""What every dataset loader returns: mammograms with their lesions, and the files it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Lesion:
    """One annotated lesion of a mammogram; ``mask_file`` is a binary ROI mask the size of
    the image."""

    abnormality_id: int
    abnormality_type: str  # "mass" or "calcification"
    mask_file: Path
    pathology: str = ""
    shape: str = ""
    margins: str = ""
    assessment: int | None = None
    subtlety: int | None = None


@dataclass(frozen=True)
class ImageRecord:
    """One mammogram. ``image_id`` is unique in the dataset; ``patient_id`` is the split key."""

    patient_id: str
    image_id: str
    image_file: Path
    laterality: str  # "L" / "R"
    view: str  # "CC" / "MLO"
    breast_density: int | None = None
    source_split: str = ""  # the dataset's own train/test label, kept for reference
    lesions: tuple[Lesion, ...] = field(default=())


@dataclass(frozen=True)
class Skip:
    """A file left out, and why. Skips are counted and listed in the run summary."""

    file: str
    reason: str
