"""A lesion's annotation (mask file, polygon or box) as a boolean mask of its image.

Every loader hands its lesions over in its dataset's own form; the patch cutter sees only
the mask made here, so positives follow the same rules whatever the dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage.draw import polygon as fill_polygon

from thesis_lib.data.dicom import read_image
from thesis_lib.data.records import ImageRecord, Lesion

SCALE_TOLERANCE = 0.02  # a mask is resized when its row and column scales agree within 2 %


class MaskMismatch(ValueError):
    """A mask that cannot be matched to its image (shape, or nothing inside it)."""


def lesion_name(record: ImageRecord, lesion: Lesion) -> str:
    """What a skip names for a lesion: its mask file, or the image and the lesion's number."""
    if lesion.mask_file is not None:
        return str(lesion.mask_file)
    return f"{record.image_file}#lesion-{lesion.abnormality_id}"


def resize_mask(mask: np.ndarray, shape: tuple[int, int], name: str | Path) -> np.ndarray:
    """``mask`` (bool) brought to ``shape`` (rows, cols).

    Some CBIS-DDSM masks are a few pixels larger or smaller than their mammogram, or stored
    at another resolution. A mask whose row and column scale factors agree within
    :data:`SCALE_TOLERANCE` (a proportional difference) is resized, nearest neighbour; any
    other shape cannot be trusted to overlay the image and raises :class:`MaskMismatch`.
    """
    if mask.shape == shape:
        return mask
    scale_r, scale_c = shape[0] / mask.shape[0], shape[1] / mask.shape[1]
    if abs(scale_r - scale_c) > SCALE_TOLERANCE * max(scale_r, scale_c):
        raise MaskMismatch(f"{name}: mask shape {mask.shape} differs from its image {shape} "
                           f"not proportionally (scales {scale_r:.3f} x {scale_c:.3f})")
    resized = Image.fromarray(mask.astype(np.uint8)).resize((shape[1], shape[0]), Image.Resampling.NEAREST)
    return np.asarray(resized) > 0


def lesion_mask(lesion: Lesion, shape: tuple[int, int], record: ImageRecord | None = None) -> np.ndarray:
    """The lesion's pixels in an image of ``shape`` (rows, cols), as a bool array.

    Raises :class:`~thesis_lib.data.dicom.DicomError` for an unreadable mask file and
    :class:`MaskMismatch` for a mask of another shape (see :func:`resize_mask`) or an
    annotation with no pixel inside the image.
    """
    name = lesion_name(record, lesion) if record is not None else f"lesion {lesion.abnormality_id}"
    if lesion.mask_file is not None:
        mask = resize_mask(read_image(lesion.mask_file).pixels > 0, shape, lesion.mask_file)
    elif lesion.polygon is not None:
        xy = np.asarray(lesion.polygon, dtype=float)
        mask = np.zeros(shape, bool)
        mask[fill_polygon(xy[:, 1], xy[:, 0], shape)] = True
    else:
        r0, c0, r1, c1 = lesion.box
        mask = np.zeros(shape, bool)
        mask[max(r0, 0) : min(r1, shape[0]), max(c0, 0) : min(c1, shape[1])] = True
    if not mask.any():
        raise MaskMismatch(f"{name}: empty mask: no lesion pixel inside the {shape} image")
    return mask
