"""Dataset registry: a name and a folder in, mammogram records out.

Each loader checks that the folder looks like its dataset, and returns the images with their
lesions (mask files, outlines or boxes) and the files it skipped, with the reason.

``synthetic`` is the embedded cohort (:mod:`thesis_lib.data.synthetic`), written in the
CBIS-DDSM layout and read back by the CBIS-DDSM loader, so the real-data path is the one
exercised by default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thesis_lib.data import cbis_ddsm, inbreast, omidb_loader, vindr
from thesis_lib.data.annotations import MaskMismatch, lesion_mask
from thesis_lib.data.dicom import DicomError, DicomImage, read_image
from thesis_lib.data.records import ImageRecord, Skip

LOADERS = {"synthetic": cbis_ddsm.scan, "cbis-ddsm": cbis_ddsm.scan, "inbreast": inbreast.scan,
           "vindr-mammo": vindr.scan, "omi-db": omidb_loader.scan}


def scan(dataset: str, root: str | Path, lesion_types: tuple[str, ...] = ("mass",)) -> tuple[list[ImageRecord], list[Skip]]:
    """Records and skipped files of ``dataset`` stored under ``root``."""
    if dataset not in LOADERS:
        raise ValueError(f"dataset={dataset!r}: expected one of {sorted(LOADERS)}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data_root {root} does not exist (dataset {dataset!r}); "
                                "pass -p data_root /path/to/the/dataset")
    return LOADERS[dataset](root, lesion_types)


def read_with_masks(record: ImageRecord) -> tuple[DicomImage, list[np.ndarray]]:
    """The record's image and its lesions' masks ((rows, cols) bool), for figures; a lesion
    whose mask cannot be made is left out (the patch store's skips name it)."""
    image = read_image(record.image_file, voi_window=record.voi_window)
    masks = []
    for lesion in record.lesions:
        try:
            masks.append(lesion_mask(lesion, image.pixels.shape, record))
        except (DicomError, MaskMismatch):
            continue
    return image, masks


def example_patient(records: list[ImageRecord], n_images: int = 4,
                    ) -> tuple[list[ImageRecord], list[tuple[DicomImage, list[np.ndarray]]]]:
    """Up to ``n_images`` records of the first patient with a lesion whose images all read, and
    each one's :func:`read_with_masks`; a patient with an unreadable image is passed over (the
    patch store names the file). Raises ``ValueError`` when no such patient exists."""
    for patient in dict.fromkeys(r.patient_id for r in records if r.lesions):
        chosen = [r for r in records if r.patient_id == patient][:n_images]
        try:
            return chosen, [read_with_masks(r) for r in chosen]
        except DicomError:
            continue
    raise ValueError("no patient with a lesion has images that can all be read")


def select_patients(records: list[ImageRecord], n_patients: int, seed: int) -> list[ImageRecord]:
    """All images of ``n_patients`` patients drawn at random (seeded); 0 keeps every patient.

    Raises ``ValueError`` when more patients are asked for than the dataset holds.
    """
    patients = sorted({r.patient_id for r in records})
    if n_patients < 0:
        raise ValueError(f"n_patients={n_patients}: must be >= 0 (0 = all patients)")
    if n_patients > len(patients):
        raise ValueError(f"n_patients={n_patients}, but the dataset holds only {len(patients)} patients")
    if n_patients in (0, len(patients)):
        return list(records)
    chosen = set(np.random.default_rng(seed).choice(patients, n_patients, replace=False))
    return [r for r in records if r.patient_id in chosen]
