"""From mammograms to a patch store: read each image once, cut its patches, split patients.

Images are processed one at a time (bounded memory) with a progress bar, in two passes: the
first cuts the lesion patches, the second the normal-tissue patches, whose windows take their
sizes from the lesion windows of the whole dataset (see :mod:`thesis_lib.data.patches`). A file
that cannot be used (unreadable DICOM, no pixel data, mask of the wrong size, empty mask, lesion
touching the border) is skipped with its name and reason, and counted in the summary.

A run can be stopped and resumed: each finished image's patches, table rows and skips are
written atomically to ``.<out>.resume/<index>.pos.npz`` (first pass) and ``<index>.neg.npz``
(second pass) beside the store. A later call with the
same records, parameters, seed and source continues from there without reading those images
again; different inputs discard that folder. The store is assembled from it at the end and
swapped in atomically, and the folder is removed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import partial
from dataclasses import asdict, dataclass, fields
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
from thesis_lib.parallel import process_map


NEGATIVE_WINDOWS = ("matched", "native")


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
    # bbox_resize: "matched" cuts normal windows at the lesion windows' sizes and resizes them the same
    # way; "native" keeps the thesis' 128 x 128 native windows (a resampling shortcut, kept as a control)
    negative_windows: str = "matched"

    def __post_init__(self):
        if self.patch_rule not in PATCH_RULES:
            raise ValueError(f"patch_rule={self.patch_rule!r}: expected one of {PATCH_RULES}")
        if self.negative_windows not in NEGATIVE_WINDOWS:
            raise ValueError(f"negative_windows={self.negative_windows!r}: expected one of {NEGATIVE_WINDOWS}")
        if self.bbox_margin < 0:
            raise ValueError(f"bbox_margin={self.bbox_margin}: must be >= 0")
        if self.patch_size < 8:
            raise ValueError(f"patch_size={self.patch_size}: must be >= 8")
        if self.negatives_per_image < 0:
            raise ValueError(f"negatives_per_image={self.negatives_per_image}: must be >= 0")
        lo, hi = self.stretch_percentiles
        if not 0.0 <= lo < hi <= 100.0:
            raise ValueError(f"stretch_percentiles={self.stretch_percentiles}: need 0 <= low < high <= 100")

    @classmethod
    def from_section(cls, section: dict) -> "PatchParams":
        """The patch rules of a profile's ``data_prep`` section (other keys are ignored)."""
        names = {f.name for f in fields(cls)}
        params = {n: section[n] for n in names if n in section}
        for n in ("stretch_percentiles", "lesion_types"):
            if n in params:
                params[n] = tuple(params[n])
        return cls(**params)


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


def _open_image(rec: ImageRecord, params: PatchParams) -> tuple[np.ndarray, np.ndarray, dict, float | None]:
    """The image as uint8 after the histogram stretch, its breast mask, the stretch and the pixel
    spacing; raises ``DicomError`` or ``ValueError`` for an image that cannot be used."""
    image = read_image(rec.image_file, voi_window=rec.voi_window)
    breast = image.pixels > 0
    u8, stretch = histogram_stretch(image.pixels, breast, params.stretch_percentiles)
    return u8, breast, stretch, image.spacing_mm


def _base_row(rec: ImageRecord, source: str, stretch: dict, spacing_mm: float | None) -> dict:
    return {"patient_id": rec.patient_id, "image_id": rec.image_id, "laterality": rec.laterality,
            "view": rec.view, "breast_density": rec.breast_density, "source": source,
            "source_split": rec.source_split, "spacing_mm": spacing_mm,
            "stretch_low": stretch["low"], "stretch_high": stretch["high"]}


def _window_fields(window: tuple[int, int, int, int], size: int) -> dict:
    """The window as text and its resampling factor: the window's side over the patch's
    (geometric mean of height and width; 1 = native resolution, above 1 = downsampled)."""
    r0, c0, r1, c1 = window
    return {"window": ",".join(map(str, window)), "scale": round(float(np.sqrt((r1 - r0) * (c1 - c0))) / size, 4)}


def _cut_positives(rec: ImageRecord, params: PatchParams, source: str) -> dict:
    """Lesion patches ((n, size, size) uint8), their table rows, the skips and the intensity
    stretch (None when the image was skipped) of one image."""
    size = params.patch_size
    cut = {"patches": [], "rows": [], "skips": [], "stretch": None}
    try:
        u8, _, stretch, spacing = _open_image(rec, params)
    except (DicomError, ValueError) as exc:
        cut["skips"].append(Skip(str(rec.image_file), str(exc)))
        return cut
    cut["stretch"] = (stretch["low"], stretch["high"])
    base = _base_row(rec, source, stretch, spacing)
    keep_types = {{"mass": "mass", "calc": "calcification"}[t] for t in params.lesion_types}
    for lesion, bbox, usable in _lesion_boxes(rec, u8.shape, cut["skips"]):
        if not usable or lesion.abnormality_type not in keep_types:
            continue
        patch, window = positive_patch(u8, bbox, params.patch_rule, size, params.bbox_margin)
        cut["patches"].append(patch)
        cut["rows"].append({**base, "label": lesion.abnormality_type, "pathology": lesion.pathology,
                            "abnormality_id": lesion.abnormality_id, "shape": lesion.shape,
                            "margins": lesion.margins, "bbox_r0": bbox[0], "bbox_c0": bbox[1],
                            "bbox_r1": bbox[2], "bbox_c1": bbox[3], **_window_fields(window, size),
                            "rule": params.patch_rule})
    return cut


def _cut_negatives(index: int, rec: ImageRecord, params: PatchParams, seed: int, source: str,
                   window_sizes: np.ndarray | None) -> dict:
    """Normal-tissue patches of one image and their rows, drawn with ``default_rng([seed, index])``
    at ``window_sizes`` (see :func:`~thesis_lib.data.patches.sample_negatives`). Called only for
    images whose positives were cut, so the image's skips are already counted."""
    size = params.patch_size
    u8, breast, stretch, spacing = _open_image(rec, params)
    base = _base_row(rec, source, stretch, spacing)
    boxes = [bbox for _, bbox, _ in _lesion_boxes(rec, u8.shape, [])]
    rule = "random_window" if window_sizes is None else "random_window_resized"
    cut = {"patches": [], "rows": [], "skips": [], "stretch": None}
    for patch, window in sample_negatives(u8, breast, boxes, params.negatives_per_image,
                                          np.random.default_rng([seed, index]), size, params.min_grey_levels,
                                          window_sizes=window_sizes):
        cut["patches"].append(patch)
        cut["rows"].append({**base, "label": "normal", "pathology": "", "abnormality_id": 0, "shape": "",
                            "margins": "", "bbox_r0": window[0], "bbox_c0": window[1], "bbox_r1": window[2],
                            "bbox_c1": window[3], **_window_fields(window, size), "rule": rule})
    return cut


def negative_window_sizes(rows: list[dict], params: PatchParams) -> np.ndarray | None:
    """(M, 2) heights and widths of the lesion windows in ``rows``, from which the negatives'
    windows are drawn under ``bbox_resize``; ``None`` (native windows) under ``centre_crop``, with
    ``negative_windows="native"`` or when no lesion patch was cut."""
    if params.patch_rule != "bbox_resize" or params.negative_windows == "native":
        return None
    windows = [tuple(map(int, r["window"].split(","))) for r in rows if r["label"] != "normal"]
    if not windows:
        return None
    return np.array([(r1 - r0, c1 - c0) for r0, c0, r1, c1 in windows], dtype=np.int64)


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
                      "source": source, "layout": 2}, default=str, sort_keys=True)
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
                      val_fraction: float = 0.1, progress: bool = True, workers: int = 1) -> PatchStore:
    """Cut patches from ``records`` into a new store at ``out`` and split its patients.

    ``source`` names the dataset (recorded per patch). Randomness (negative positions, folds)
    comes from ``seed``; image ``i`` uses ``default_rng([seed, i])``. An interrupted call
    resumes where it stopped when called again with the same inputs (see the module notes).
    ``workers`` > 1 cuts images in that many processes, each image written to its own file as
    it finishes: the store is the same byte for byte, and memory holds a few images at a time.
    """
    if not records:
        raise ValueError("no images to cut patches from")
    out = Path(out)
    work = _open_resume_folder(out, records, params, seed, source)
    positives = [work / f"{i:07d}.pos.npz" for i in range(len(records))]
    negatives = [work / f"{i:07d}.neg.npz" for i in range(len(records))]
    _cut_all("cutting lesion patches", positives, progress,
             partial(_cut_positives_of, records, params=params, source=source), params.patch_size, workers)
    cuts = [_load_cut(part) for part in positives]
    window_sizes = negative_window_sizes([row for _, cut in cuts for row in cut["rows"]], params)
    usable = [cut["stretch"] is not None for _, cut in cuts]
    _cut_all("cutting normal patches", [part if ok else None for part, ok in zip(negatives, usable)], progress,
             partial(_cut_negatives_of, records, params=params, seed=seed, source=source, window_sizes=window_sizes),
             params.patch_size, workers)
    with write_store(out, params.patch_size) as store:
        for s in loader_skips:
            store.skip(s.file, s.reason)
        stretch_ranges = []
        for (patches, cut), neg, ok in zip(cuts, negatives, usable):
            normal, normal_cut = _load_cut(neg) if ok else (patches[:0], {"rows": []})
            for patch, row in zip([*patches, *normal], cut["rows"] + normal_cut["rows"]):
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
            "negative_windows": _describe_windows(window_sizes, params.patch_size),
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


def _cut_positives_of(records: list[ImageRecord], i: int, *, params: PatchParams, source: str) -> dict:
    return _cut_positives(records[i], params, source)


def _cut_negatives_of(records: list[ImageRecord], i: int, *, params: PatchParams, seed: int, source: str,
                      window_sizes: np.ndarray | None) -> dict:
    return _cut_negatives(i, records[i], params, seed, source, window_sizes)


def _cut_and_save(i: int, *, cut, parts: list[Path | None], size: int) -> None:
    _save_cut(parts[i], cut(i), size)


def _cut_all(desc: str, parts: list[Path | None], progress: bool, cut, size: int, workers: int = 1) -> None:
    """``cut(i)`` for every image ``i`` whose ``parts[i]`` is not yet written (None: not wanted),
    in ``workers`` processes, each saved atomically as it finishes, so an interrupted run
    continues from there."""
    todo = [i for i, part in enumerate(parts) if part is not None and not part.is_file()]
    wanted = sum(part is not None for part in parts)
    done = process_map(partial(_cut_and_save, cut=cut, parts=parts, size=size), todo, min(workers, max(len(todo), 1)),
                       chunksize=4)
    for _ in tqdm(done, desc=desc, unit="image", total=wanted, initial=wanted - len(todo), disable=not progress):
        pass


def _describe_windows(window_sizes: np.ndarray | None, size: int) -> str:
    if window_sizes is None:
        return f"native {size} x {size} windows, not resized"
    side = np.sqrt(window_sizes.prod(axis=1))
    return (f"sides drawn from the {len(window_sizes)} lesion windows (median {np.median(side):.0f} px, "
            f"{side.min():.0f} to {side.max():.0f}), resized to {size} x {size} as the lesions are")


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
