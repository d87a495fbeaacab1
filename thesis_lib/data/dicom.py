"""Reading and writing mammograms and ROI masks as DICOM (pydicom).

Reading returns display-ready values: the modality LUT (rescale) applied, on request the VOI
window (WindowCenter/WindowWidth or a VOI LUT), and MONOCHROME1 inverted, so that bright always
means attenuating. Every failure raises :class:`DicomError`
naming the file and, where there is one, the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import (DigitalMammographyXRayImageStorageForPresentation, ExplicitVRLittleEndian,
                         RLELossless, SecondaryCaptureImageStorage, generate_uid)

from thesis_lib.io import atomic_path


class DicomError(ValueError):
    """A DICOM file that cannot be used; the message names the file and the reason."""


@dataclass
class DicomImage:
    """Pixels and the few tags the pipeline needs."""

    pixels: np.ndarray  # (rows, cols) float32, MONOCHROME2 sense (bright = attenuating)
    spacing_mm: float | None  # PixelSpacing (or ImagerPixelSpacing) row spacing; None if absent
    laterality: str | None  # "L" / "R"
    view: str | None  # "CC" / "MLO" / ...
    inverted: bool  # True when the file was MONOCHROME1 and was inverted on reading


def _spacing(ds: Dataset) -> float | None:
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(tag)
        if value:
            return float(value[0])
    return None


def read_header(path: str | os.PathLike) -> Dataset:
    """The data set without its pixel data (fast); :class:`DicomError` if unreadable."""
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, EOFError, ValueError) as exc:
        raise DicomError(f"{path}: not a readable DICOM file ({exc})") from exc


def read_image(path: str | os.PathLike, voi_window: bool = False) -> DicomImage:
    """Read a greyscale image; the modality LUT applied, MONOCHROME1 inverted.

    ``voi_window``: after the rescale, apply the file's first VOI window or VOI LUT where it
    has one (a file without one is read unwindowed) and shift the result to start at 0, so
    that pixels below the window, the background, are 0.
    """
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError, ValueError) as exc:
        raise DicomError(f"{path}: not a readable DICOM file ({exc})") from exc
    if "PixelData" not in ds:
        raise DicomError(f"{path}: has no pixel data (SOP class "
                         f"{ds.get('SOPClassUID', 'unknown')}): not an image")
    try:
        arr = ds.pixel_array
    except Exception as exc:  # pydicom raises several types for codecs and truncated data
        raise DicomError(f"{path}: pixel data cannot be decoded ({exc}); for compressed files "
                         "install a decoder, e.g. pip install pylibjpeg pylibjpeg-libjpeg") from exc
    if arr.ndim != 2:
        raise DicomError(f"{path}: expected one greyscale frame, got pixel array of shape {arr.shape}")
    pixels = np.asarray(apply_modality_lut(arr, ds), dtype=np.float32)
    if voi_window and ("WindowCenter" in ds or "VOILUTSequence" in ds):
        try:
            pixels = np.asarray(apply_voi_lut(pixels, ds, index=0), dtype=np.float32)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise DicomError(f"{path}: VOI window cannot be applied ({exc}); "
                             "read it without the window") from exc
        pixels -= pixels.min()
    inverted = ds.get("PhotometricInterpretation") == "MONOCHROME1"
    if inverted:
        pixels = pixels.max() - pixels
    return DicomImage(pixels, _spacing(ds), ds.get("ImageLaterality") or ds.get("Laterality"),
                      ds.get("ViewPosition"), inverted)


def _base_dataset(sop_class: str, uids: dict[str, str], pixels: np.ndarray, bits_stored: int) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uids["sop"]
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uids["sop"]
    ds.StudyInstanceUID = uids["study"]
    ds.SeriesInstanceUID = uids["series"]
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 8 if pixels.dtype == np.uint8 else 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    return ds


def uid(*parts: object) -> str:
    """A deterministic DICOM UID derived from ``parts`` (e.g. seed, patient, image)."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def write_mammogram(path: str | os.PathLike, pixels: np.ndarray, *, patient_id: str, laterality: str,
                    view: str, spacing_mm: float, bits_stored: int, uids: dict[str, str]) -> None:
    """Write a "for presentation" digital mammogram (MG, MONOCHROME2), atomically.

    ``pixels``: (rows, cols) uint16 in [0, 2**bits_stored - 1].
    """
    if pixels.dtype != np.uint16 or pixels.ndim != 2:
        raise ValueError(f"pixels must be a 2-D uint16 array, got {pixels.dtype} {pixels.shape}")
    ds = _base_dataset(DigitalMammographyXRayImageStorageForPresentation, uids, pixels, bits_stored)
    ds.Modality = "MG"
    ds.PatientID = patient_id
    ds.PatientName = f"SYNTHETIC^{patient_id}"
    ds.BodyPartExamined = "BREAST"
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageLaterality = laterality
    ds.ViewPosition = view
    ds.PixelSpacing = [spacing_mm, spacing_mm]
    ds.ImagerPixelSpacing = [spacing_mm, spacing_mm]
    top = 2**bits_stored - 1
    ds.WindowCenter, ds.WindowWidth = top // 2, top
    ds.Manufacturer = "thesis_lib synthetic phantom"
    _save(ds, path)


def write_secondary(path: str | os.PathLike, pixels: np.ndarray, *, patient_id: str,
                    uids: dict[str, str]) -> None:
    """Write an 8- or 16-bit secondary-capture image (ROI masks and crops, as CBIS-DDSM has),
    RLE-compressed (lossless; a binary mask shrinks about 50-fold)."""
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds = _base_dataset(SecondaryCaptureImageStorage, uids, pixels, bits)
    ds.Modality = "OT"
    ds.PatientID = patient_id
    ds.compress(RLELossless, generate_instance_uid=False)
    _save(ds, path)


def _save(ds: Dataset, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        ds.save_as(tmp, enforce_file_format=True)
