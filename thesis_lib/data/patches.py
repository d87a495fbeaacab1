"""128 x 128 patches from a mammogram: intensity windowing, positives and negatives.

The thesis' rules: intensities histogram-stretched to uint8, breast mask = pixel > 0;
a positive is the lesion's bounding box resized to 128 x 128 (``bbox_resize``; here also a
centred crop at native resolution, ``centre_crop``); negatives are random windows wholly
inside the breast, touching no lesion's box, with at least 30 grey levels, up to N per image.

The thesis cut its negatives as native 128 x 128 windows while resizing every mass box, so
the two classes differed in resampling (smoothed quantum noise) as well as in content: a
classifier could tell them apart by sharpness alone. Here, under ``bbox_resize``, negatives are
cut at window sizes drawn from the dataset's mass windows and resized the same way
(:func:`resize_patch`); under ``centre_crop`` both classes stay at native resolution.
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


def resize_patch(crop: np.ndarray, size: int) -> np.ndarray:
    """A uint8 ``crop`` (h, w) resized to ``size`` x ``size``: bilinear with antialiasing (PIL), the
    one resampling that every resized patch, mass or normal, goes through."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((size, size), Image.Resampling.BILINEAR))


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
        return resize_patch(image[r0:r1, c0:c1], size), (r0, c0, r1, c1)
    if image.shape[0] < size or image.shape[1] < size:
        raise ValueError(f"image {image.shape} is smaller than a {size} x {size} patch")
    top = int(np.clip((r0 + r1) // 2 - size // 2, 0, image.shape[0] - size))
    left = int(np.clip((c0 + c1) // 2 - size // 2, 0, image.shape[1] - size))
    window = (top, left, top + size, left + size)
    return image[top : top + size, left : left + size].copy(), window


def _window_sums(ii: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum over every ``h`` x ``w`` window of the image whose integral image (with a zero first
    row and column) is ``ii``, indexed by the window's top-left corner."""
    return ii[h:, w:] - ii[:-h, w:] - ii[h:, :-w] + ii[:-h, :-w]


def _integral(mask: np.ndarray) -> np.ndarray:
    ii = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    np.cumsum(mask, axis=0, dtype=np.int64, out=ii[1:, 1:])
    np.cumsum(ii[1:, 1:], axis=1, out=ii[1:, 1:])
    return ii


def sample_negatives(image: np.ndarray, breast: np.ndarray, lesion_boxes: list[tuple[int, int, int, int]],
                     n: int, rng: np.random.Generator, size: int = 128, min_grey_levels: int = 30,
                     max_tries: int = 50, window_sizes: np.ndarray | None = None,
                     ) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Up to ``n`` normal-tissue patches ``(patch, window)`` from ``image`` (uint8).

    A window qualifies when it lies wholly inside ``breast``, overlaps no lesion box and no
    window already taken, and holds at least ``min_grey_levels`` distinct values. Candidates
    come from the exact set of qualifying positions (integral images), so a sparse breast
    cannot stall the sampler; fewer than ``n`` are returned when fewer exist.

    ``window_sizes`` (M, 2) of (height, width) in pixels: each window's size is drawn from these
    (the mass windows of the dataset) and the crop is resized to ``size`` by
    :func:`resize_patch`, as a mass's box is, so both classes share one resampling; a size that
    fits nowhere in this image is dropped, not redrawn (redrawing would favour small windows).
    ``None``: native ``size`` x ``size`` windows, not resized (the ``centre_crop`` control).
    Each window gets up to ``max_tries`` positions to pass the grey-level test.
    """
    if n < 0:
        raise ValueError(f"negatives per image n={n}: must be >= 0")
    if window_sizes is not None:
        window_sizes = np.asarray(window_sizes, dtype=np.int64).reshape(-1, 2)
        if len(window_sizes) == 0 or (window_sizes < 1).any():
            raise ValueError(f"window_sizes: need one or more (height, width) pairs >= 1, got {window_sizes.shape}")
    if n == 0:
        return []
    ii = _integral(breast)
    if window_sizes is None:
        sizes = [(size, size)] * n
    else:  # drawn up front and placed largest first, so that space left over does not favour small windows
        drawn = window_sizes[rng.integers(len(window_sizes), size=n)]
        sizes = [tuple(map(int, hw)) for hw in drawn[np.argsort(-drawn.prod(axis=1), kind="stable")]]
    blocked = list(lesion_boxes)  # boxes no window may touch: lesions, then the windows taken
    taken: list[tuple[np.ndarray, tuple[int, int, int, int]]] = []
    for h, w in sizes:
        if h > image.shape[0] or w > image.shape[1]:
            continue
        ok = _window_sums(ii, h, w) == h * w
        for r0, c0, r1, c1 in blocked:  # corners whose window would touch the box
            ok[max(r0 - h + 1, 0) : r1, max(c0 - w + 1, 0) : c1] = False
        for _ in range(max_tries):
            candidates = np.flatnonzero(ok)
            if candidates.size == 0:
                break
            top, left = (int(v) for v in np.unravel_index(rng.choice(candidates), ok.shape))
            crop = image[top : top + h, left : left + w]
            if np.unique(crop).size < min_grey_levels:
                ok[top, left] = False
                continue
            patch = crop.copy() if window_sizes is None else resize_patch(crop, size)
            window = (top, left, top + h, left + w)
            taken.append((patch, window))
            blocked.append(window)
            break
    return taken
