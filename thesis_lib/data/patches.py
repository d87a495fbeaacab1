"""128 x 128 patches from a mammogram: intensity windowing, positives and negatives.

The thesis' rules: intensities histogram-stretched to uint8, breast mask = pixel > 0;
a positive is the lesion's bounding box resized to 128 x 128 (``bbox_resize``; here also a
centred crop at native resolution, ``centre_crop``); negatives are random 128 x 128 windows
wholly inside the breast, touching no lesion's box, with at least 30 grey levels, up to N per
image.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

PATCH_RULES = ("bbox_resize", "centre_crop")


def histogram_stretch(pixels: np.ndarray, breast: np.ndarray,
                      percentiles: tuple[float, float] = (0.0, 100.0)) -> tuple[np.ndarray, dict]:
    """Map breast pixels linearly from their ``percentiles`` range to [0, 255] (uint8); the
    background stays 0. Returns ``(image_u8, {"low": ..., "high": ...})`` in input units."""
    if not breast.any():
        raise ValueError("empty breast mask: the image holds no pixel > 0")
    low, high = np.percentile(pixels[breast], percentiles)
    if high <= low:
        raise ValueError(f"breast pixels are constant ({low}): nothing to stretch")
    scaled = (pixels.astype(np.float32) - low) * (255.0 / (high - low))
    out = np.where(breast, np.clip(np.rint(scaled), 0, 255), 0).astype(np.uint8)
    return out, {"low": float(low), "high": float(high)}


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(r0, c0, r1, c1)`` of the mask's pixels, end-exclusive; ``ValueError`` when empty."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("empty mask")
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def widen_box(bbox: tuple[int, int, int, int], margin: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``bbox`` grown by ``margin`` times its height/width on each side, clipped to ``shape``."""
    if margin < 0:
        raise ValueError(f"bbox_margin={margin}: must be >= 0")
    r0, c0, r1, c1 = bbox
    dr, dc = int(round(margin * (r1 - r0))), int(round(margin * (c1 - c0)))
    return max(r0 - dr, 0), max(c0 - dc, 0), min(r1 + dr, shape[0]), min(c1 + dc, shape[1])


def positive_patch(image: np.ndarray, bbox: tuple[int, int, int, int], rule: str = "bbox_resize",
                   size: int = 128, margin: float = 0.0) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A ``size`` x ``size`` uint8 patch of a lesion and the image window it came from.

    ``bbox_resize``: the bounding box, widened by ``margin`` (a fraction of its size, on each
    side; 0 = the box itself), resized (anisotropically, bilinear with antialiasing) to ``size``.
    ``centre_crop``: a window of ``size`` at native resolution centred on the box, shifted
    inwards where it would leave the image.
    """
    if rule not in PATCH_RULES:
        raise ValueError(f"patch_rule={rule!r}: expected one of {PATCH_RULES}")
    r0, c0, r1, c1 = widen_box(bbox, margin, image.shape) if rule == "bbox_resize" else bbox
    if rule == "bbox_resize":
        crop = Image.fromarray(np.ascontiguousarray(image[r0:r1, c0:c1]))
        return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR)), (r0, c0, r1, c1)
    if image.shape[0] < size or image.shape[1] < size:
        raise ValueError(f"image {image.shape} is smaller than a {size} x {size} patch")
    top = int(np.clip((r0 + r1) // 2 - size // 2, 0, image.shape[0] - size))
    left = int(np.clip((c0 + c1) // 2 - size // 2, 0, image.shape[1] - size))
    window = (top, left, top + size, left + size)
    return image[top : top + size, left : left + size].copy(), window


def _window_sums(mask: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``mask`` over every ``size`` x ``size`` window, indexed by its top-left corner."""
    ii = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int32)
    np.cumsum(mask, axis=0, dtype=np.int32, out=ii[1:, 1:])
    np.cumsum(ii[1:, 1:], axis=1, out=ii[1:, 1:])
    return ii[size:, size:] - ii[:-size, size:] - ii[size:, :-size] + ii[:-size, :-size]


def sample_negatives(image: np.ndarray, breast: np.ndarray, lesion_boxes: list[tuple[int, int, int, int]],
                     n: int, rng: np.random.Generator, size: int = 128, min_grey_levels: int = 30,
                     max_tries: int = 50) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Up to ``n`` normal-tissue patches ``(patch, window)`` from ``image`` (uint8).

    A window qualifies when it lies wholly inside ``breast``, overlaps no lesion box and no
    window already taken, and holds at least ``min_grey_levels`` distinct values. Candidates
    come from the exact set of qualifying positions (integral images), so a sparse breast
    cannot stall the sampler; fewer than ``n`` are returned when fewer exist.
    """
    if n < 0:
        raise ValueError(f"negatives per image n={n}: must be >= 0")
    if n == 0 or image.shape[0] < size or image.shape[1] < size:
        return []
    ok = _window_sums(breast, size) == size * size
    for r0, c0, r1, c1 in lesion_boxes:  # corners whose window would touch the box
        ok[max(r0 - size + 1, 0) : r1, max(c0 - size + 1, 0) : c1] = False
    taken: list[tuple[np.ndarray, tuple[int, int, int, int]]] = []
    for _ in range(n * max_tries):
        if len(taken) == n:
            break
        candidates = np.flatnonzero(ok)
        if candidates.size == 0:
            break
        top, left = np.unravel_index(rng.choice(candidates), ok.shape)
        patch = image[top : top + size, left : left + size]
        if np.unique(patch).size < min_grey_levels:
            ok[top, left] = False
            continue
        taken.append((patch.copy(), (int(top), int(left), int(top) + size, int(left) + size)))
        # no later window may overlap this one: block corners within size-1 of it
        ok[max(top - size + 1, 0) : top + size, max(left - size + 1, 0) : left + size] = False
    return taken
