"""From mammograms to a patch store: read each image once, cut its patches, split patients.

Images are processed one at a time (bounded memory) with a progress bar. A file that cannot
be used (unreadable DICOM, no pixel data, mask of the wrong size, empty mask, lesion touching
the border) is skipped with its name and reason, and counted in the summary.

A run can be stopped and resumed: each finished image's patches, table rows and skips are
written atomically to ``.<out>.resume/<index>.npz`` beside the store. A later call with the
same records, parameters, seed and source continues from there without reading those images
again; different inputs discard that folder. The store is assembled from it at the end and
swapped in atomically, and the folder is removed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from thesis_lib.data.annotations import MaskMismatch, lesion_mask, lesion_name
from thesis_lib.data.dicom import DicomError, read_image
from thesis_lib.data.patches import PATCH_RULES, bounding_box, histogram_stretch, positive_patch, sample_negatives
from thesis_lib.data.records import ImageRecord, Skip
from thesis_lib.data.splits import check_no_leakage, patient_folds
from thesis_lib.data.store import PatchStore, write_store
from thesis_lib.io import atomic_path


@dataclass(frozen=True)
class PatchParams:
    """How patches are cut (defaults: the thesis' rules)."""

    patch_rule: str = "bbox_resize"
    bbox_margin: float = 0.0  # bbox_resize: context added around the box, fraction of its size per side
    patch_size: int = 128
    negatives_per_image: int = 10
    min_grey_levels: int = 30
    stretch_percentiles: tuple[float, float] = (0.0, 100.0)
    lesion_types: tuple[str, ...] = ("mass",)

    def __post_init__(self):
        if self.patch_rule not in PATCH_RULES:
            raise ValueError(f"patch_rule={self.patch_rule!r}: expected one of {PATCH_RULES}")
        if self.bbox_margin < 0:
            raise ValueError(f"bbox_margin={self.bbox_margin}: must be >= 0")
        if self.patch_size < 8:
            raise ValueError(f"patch_size={self.patch_size}: must be >= 8")
        if self.negatives_per_image < 0:
            raise ValueError(f"negatives_per_image={self.negatives_per_image}: must be >= 0")
        lo, hi = self.stretch_percentiles
        if not 0.0 <= lo < hi <= 100.0:
            raise ValueError(f"stretch_percentiles={self.stretch_percentiles}: need 0 <= low < high <= 100")


def _lesion_boxes(record: ImageRecord, shape: tuple[int, int], skips: list[Skip]) -> list[tuple]:
    """Usable lesions of the record as ``(lesion, bbox, usable)``; usable is False for a lesion
    whose box still blocks negatives but gives no positive (touches the border)."""
    out = []
    for lesion in record.lesions:
        name = lesion_name(record, lesion)
        try:
            bbox = bounding_box(lesion_mask(lesion, shape, record))
        except (DicomError, MaskMismatch) as exc:
            skips.append(Skip(name, str(exc)))
            continue
        touches = bbox[0] == 0 or bbox[1] == 0 or bbox[2] == shape[0] or bbox[3] == shape[1]
        if touches:
            skips.append(Skip(name, "lesion touches the image border: truncated, no positive patch"))
        out.append((lesion, bbox, not touches))
    return out


def _cut_image(index: int, rec: ImageRecord, params: PatchParams, seed: int, source: str) -> dict:
    """Patches ((n, size, size) uint8), their table rows, the skips and the intensity stretch
    (None when the image was skipped) of one image; negatives drawn with ``default_rng([seed, index])``."""
    size = params.patch_size
    cut = {"patches": [], "rows": [], "skips": [], "stretch": None}
    try:
        image = read_image(rec.image_file, voi_window=rec.voi_window)
        breast = image.pixels > 0
        u8, stretch = histogram_stretch(image.pixels, breast, params.stretch_percentiles)
    except (DicomError, ValueError) as exc:
        cut["skips"].append(Skip(str(rec.image_file), str(exc)))
        return cut
    cut["stretch"] = (stretch["low"], stretch["high"])
    base = {"patient_id": rec.patient_id, "image_id": rec.image_id, "laterality": rec.laterality,
            "view": rec.view, "breast_density": rec.breast_density, "source": source,
            "source_split": rec.source_split, "spacing_mm": image.spacing_mm,
            "stretch_low": stretch["low"], "stretch_high": stretch["high"]}
    keep_types = {{"mass": "mass", "calc": "calcification"}[t] for t in params.lesion_types}
    lesions = _lesion_boxes(rec, u8.shape, cut["skips"])
    for lesion, bbox, usable in lesions:
        if not usable or lesion.abnormality_type not in keep_types:
            continue
        patch, window = positive_patch(u8, bbox, params.patch_rule, size, params.bbox_margin)
        cut["patches"].append(patch)
        cut["rows"].append({**base, "label": lesion.abnormality_type, "pathology": lesion.pathology,
                            "abnormality_id": lesion.abnormality_id, "shape": lesion.shape,
                            "margins": lesion.margins, "bbox_r0": bbox[0], "bbox_c0": bbox[1],
                            "bbox_r1": bbox[2], "bbox_c1": bbox[3], "window": ",".join(map(str, window)),
                            "rule": params.patch_rule})
    rng = np.random.default_rng([seed, index])
    boxes = [bbox for _, bbox, _ in lesions]
    for patch, window in sample_negatives(u8, breast, boxes, params.negatives_per_image, rng, size,
                                          params.min_grey_levels):
        cut["patches"].append(patch)
        cut["rows"].append({**base, "label": "normal", "pathology": "", "abnormality_id": 0, "shape": "",
                            "margins": "", "bbox_r0": window[0], "bbox_c0": window[1], "bbox_r1": window[2],
                            "bbox_c1": window[3], "window": ",".join(map(str, window)), "rule": "random_window"})
    return cut


def _save_cut(path: Path, cut: dict, size: int) -> None:
    patches = np.stack(cut["patches"]) if cut["patches"] else np.zeros((0, size, size), np.uint8)
    meta = json.dumps({"rows": cut["rows"], "skips": [asdict(s) for s in cut["skips"]],
                       "stretch": cut["stretch"]}, default=str)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, patches=patches, meta=np.array(meta))


def _load_cut(path: Path) -> tuple[np.ndarray, dict]:
    with np.load(path) as z:
        return z["patches"], json.loads(str(z["meta"]))


def resume_folder(out: str | Path) -> Path:
    """Where the finished images of an interrupted run into ``out`` are kept."""
    out = Path(out)
    return out.with_name(f".{out.name}.resume")


def _open_resume_folder(out: Path, records: list[ImageRecord], params: PatchParams, seed: int,
                        source: str) -> Path:
    """The resume folder for exactly these inputs: kept when its fingerprint matches, else emptied."""
    key = json.dumps({"records": [asdict(r) for r in records], "params": asdict(params), "seed": seed,
                      "source": source, "layout": 1}, default=str, sort_keys=True)
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    folder = resume_folder(out)
    stamp = folder / "fingerprint.txt"
    if folder.exists() and (not stamp.is_file() or stamp.read_text() != fingerprint):
        shutil.rmtree(folder)
    if not folder.exists():
        folder.mkdir(parents=True)
        with atomic_path(stamp) as tmp:
            tmp.write_text(fingerprint)
    return folder


def build_patch_store(records: list[ImageRecord], out: str | Path, params: PatchParams, *, seed: int,
                      source: str, loader_skips: list[Skip] = (), n_folds: int = 3,
                      val_fraction: float = 0.1, progress: bool = True) -> PatchStore:
    """Cut patches from ``records`` into a new store at ``out`` and split its patients.

    ``source`` names the dataset (recorded per patch). Randomness (negative positions, folds)
    comes from ``seed``; image ``i`` uses ``default_rng([seed, i])``. An interrupted call
    resumes where it stopped when called again with the same inputs (see the module notes).
    """
    if not records:
        raise ValueError("no images to cut patches from")
    out = Path(out)
    work = _open_resume_folder(out, records, params, seed, source)
    parts = [work / f"{i:07d}.npz" for i in range(len(records))]
    todo = [i for i, part in enumerate(parts) if not part.is_file()]
    for i in tqdm(todo, desc="cutting patches", unit="image", total=len(records),
                  initial=len(records) - len(todo), disable=not progress):
        _save_cut(parts[i], _cut_image(i, records[i], params, seed, source), params.patch_size)
    with write_store(out, params.patch_size) as store:
        for s in loader_skips:
            store.skip(s.file, s.reason)
        stretch_ranges = []
        for part in parts:
            patches, cut = _load_cut(part)
            for patch, row in zip(patches, cut["rows"]):
                store.add(patch, **row)
            for s in cut["skips"]:
                store.skip(s["file"], s["reason"])
            if cut["stretch"] is not None:
                stretch_ranges.append(cut["stretch"])
        if not store.rows:
            raise ValueError(f"no patch could be cut from {len(records)} image(s); "
                             f"{len(store.skips)} skipped, first: {store.skips[:1]}")
        meta = pd.DataFrame(store.rows)
        per_patient = meta.groupby("patient_id").label.agg(lambda s: bool((s != "normal").any()))
        folds = patient_folds(per_patient.index.to_series(), per_patient.values, n_folds, val_fraction, seed)
        check_no_leakage(folds)
        summary = {
            "source": source, "seed": seed, "params": asdict(params), "n_folds": n_folds,
            "val_fraction": val_fraction, "n_images": len(records),
            "n_images_used": len(stretch_ranges),
            "n_patients": int(meta.patient_id.nunique()),
            "n_patches": {str(k): int(v) for k, v in meta.label.value_counts().items()},
            "n_skipped": len(store.skips),
            "skip_reasons": {r: int(n) for r, n in pd.Series([_reason_kind(s.reason) for s in store.skips],
                                                              dtype=str).value_counts().items()},
            "intensity_window": {
                "method": "histogram stretch of breast pixels (pixel > 0) to uint8 [0, 255]",
                "percentiles": list(params.stretch_percentiles),
                "low_median": float(np.median([r[0] for r in stretch_ranges])) if stretch_ranges else None,
                "high_median": float(np.median([r[1] for r in stretch_ranges])) if stretch_ranges else None,
            },
        }
        store.close(folds, summary)
    shutil.rmtree(work)
    return PatchStore(out)


def _reason_kind(reason: str) -> str:
    """A skip reason without its file names and numbers, for counting."""
    for kind in ("not a readable DICOM", "no pixel data", "cannot be decoded", "differs from its image",
                 "empty mask", "touches the image border", "no DICOM file found", "constant",
                 "empty breast mask", "greyscale frame", "VOI window", "point mark", "no image for",
                 "unknown image", "not for presentation", "could not parse", "no DICOM header JSON",
                 "missing coordinates", "empty box", "not an INbreast"):
        if kind in reason:
            return kind
    return "other"
