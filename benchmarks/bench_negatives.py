"""Normal-patch sampling: integral-image candidates (ours) vs naive rejection sampling.

Both draw up to 10 non-overlapping 128 x 128 windows per image, inside the breast, off the
lesion boxes, with at least 30 grey levels, on the same synthetic mammograms. The baseline
draws a random corner and tests the window, as a first implementation would, giving up after
``max_tries`` draws per wanted patch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from thesis_lib.data.patches import histogram_stretch, sample_negatives
from thesis_lib.data.phantom import ImagingSpec, random_mass, render_mammogram
from thesis_lib.io import write_json


def naive_negatives(image, breast, boxes, n, rng, size=128, min_grey_levels=30, max_tries=50):
    taken = []
    for _ in range(n * max_tries):
        if len(taken) == n:
            break
        top = rng.integers(0, image.shape[0] - size + 1)
        left = rng.integers(0, image.shape[1] - size + 1)
        window = (top, left, top + size, left + size)
        if not breast[top : top + size, left : left + size].all():
            continue
        if any(not (window[2] <= b[0] or window[0] >= b[2] or window[3] <= b[1] or window[1] >= b[3])
               for b in boxes + [w for _, w in taken]):
            continue
        patch = image[top : top + size, left : left + size]
        if np.unique(patch).size < min_grey_levels:
            continue
        taken.append((patch.copy(), window))
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    spec = ImagingSpec()
    images = []
    for i in range(args.images):
        rng = np.random.default_rng(i)
        m = render_mammogram(spec, "CC" if i % 2 else "MLO", rng, beta=3.0, thickness_mm=50,
                             glandular_fraction=0.3, masses=(random_mass(rng, bool(i % 3), (8, 25)),))
        u8, _ = histogram_stretch(m.pixels, m.breast_mask)
        rows, cols = np.nonzero(m.mass_masks[0])
        images.append((u8, m.breast_mask, [(rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)]))

    results = {}
    for name, fn in (("integral_image", sample_negatives), ("naive_rejection", naive_negatives)):
        best, found = np.inf, 0
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            found = sum(len(fn(u8, breast, boxes, 10, np.random.default_rng(j)))
                        for j, (u8, breast, boxes) in enumerate(images))
            best = min(best, time.perf_counter() - t0)
        results[name] = {"seconds": best, "patches": found, "patches_per_s": found / best}
    ratio = results["integral_image"]["patches_per_s"] / results["naive_rejection"]["patches_per_s"]
    results["speedup_patches_per_s"] = ratio
    for name in ("integral_image", "naive_rejection"):
        r = results[name]
        print(f"{name:16s} {r['seconds']:7.3f} s  {r['patches']:4d} patches  {r['patches_per_s']:8.1f} patches/s")
    print(f"ratio (ours / baseline, patches per second): {ratio:.2f}x; patches found: "
          f"{results['integral_image']['patches']} vs {results['naive_rejection']['patches']}")
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
