"""Sampling a trained generator: ``generate`` in Python, or from the command line::

    python -m thesis_lib.models.generate artifacts/smoke/gan/fold0/best.pt --n 1000 --out samples/

A generator checkpoint (``best.pt``) carries its own config, so it can be handed to someone
else and used with no other file. It is loaded as data (``weights_only=True``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from thesis_lib.devices import pick_device
from thesis_lib.images import quantise, to_uint8
from thesis_lib.io import atomic_path
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Generator
from thesis_lib.models.generators import GeneratorSource, ready_source


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> Generator:
    """The generator of a ``best.pt`` or ``latest.pt`` checkpoint, in eval mode on ``device``."""
    state = checkpoint.load(path)
    cfg = state.get("config") or {}
    if "generator" not in state or "nz" not in cfg or "ngf" not in cfg:
        raise checkpoint.CheckpointError(f"{path}: holds no generator with its config")
    G = Generator(cfg["nz"], cfg["ngf"], cfg.get("image_size") or 128)
    try:
        G.load_state_dict(state["generator"])
    except RuntimeError as exc:
        raise checkpoint.CheckpointError(f"{path}: weights do not fit the thesis generator with nz={cfg['nz']}, "
                                         f"ngf={cfg['ngf']}, image_size={G.image_size} (another architecture?): "
                                         f"{str(exc)[:300]}") from exc
    return G.to(device).eval()


@torch.no_grad()
def sample(G: torch.nn.Module, n: int, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """``n`` patches from generator ``G`` (in eval mode) as (n, S, S) uint8 on the host. The
    latent vectors come from a private RNG seeded with ``seed``: the global RNG is left untouched."""
    return sample_on_device(G, n, seed, batch_size).cpu().numpy()


@torch.no_grad()
def sample_on_device(G: torch.nn.Module, n: int, seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """:func:`sample`'s patches as a (n, S, S) uint8 tensor on ``G``'s device, quantised there:
    the same values, with nothing copied to the host but the latent vectors' way in."""
    if n < 1:
        raise ValueError(f"n={n}: must be >= 1")
    device = next(G.parameters()).device
    z = torch.randn(n, G.nz, generator=torch.Generator().manual_seed(seed)).to(device)
    was_training = G.training
    G.eval()
    out = torch.cat([quantise(G(chunk)) for chunk in z.split(batch_size)])
    G.train(was_training)
    return out


@torch.no_grad()
def interpolate(G: torch.nn.Module, steps: int = 10, seed: int = 0) -> np.ndarray:
    """(steps, S, S) uint8 patches along the great circle between two latent vectors drawn
    with ``seed`` (spherical interpolation keeps the path where N(0, I) puts its mass)."""
    if steps < 2:
        raise ValueError(f"steps={steps}: must be >= 2")
    z0, z1 = torch.randn(2, G.nz, generator=torch.Generator().manual_seed(seed)).double()
    omega = torch.arccos((z0 @ z1) / (z0.norm() * z1.norm()))
    t = torch.linspace(0, 1, steps, dtype=torch.float64)[:, None]
    z = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    x = G(z.float().to(device)).float().cpu()
    G.train(was_training)
    return to_uint8(x)


def generate(ckpt: str | Path, n: int, seed: int = 0, device: str | torch.device = "auto",
             batch_size: int = 256) -> np.ndarray:
    """``n`` patches from the checkpoint's generator as (n, S, S) uint8, computed on ``device``
    (``auto``: the GPU when there is one); the same seed gives the same patches on one device."""
    return sample(load_generator(ckpt, pick_device(device)), n, seed, batch_size)


def ready(source: GeneratorSource, patch_size: int, setting: str) -> GeneratorSource:
    """``source`` checked against the patch store: a ready checkpoint must draw ``patch_size``
    patches (else an error naming both sizes and ``setting``), and gets the origin it records."""
    if source.trained_here:
        return source
    state = checkpoint.load(source.checkpoint)
    size = int((state.get("config") or {}).get("image_size") or 128)
    if size != patch_size:
        raise ValueError(f"{setting}: {source.checkpoint} draws {size} x {size} patches but the patch store holds "
                         f"{patch_size} x {patch_size} ones; a generator is only scored against real patches of "
                         f"its own size (use a profile with data_prep.patch_size: {size}, e.g. configs/thesis.yaml)")
    return replace(source, origin=(state.get("source") or {}).get("origin"))


def ready_generator(value, patch_size: int, setting: str) -> GeneratorSource | None:
    """A chapter's ``generator`` setting (:func:`~thesis_lib.models.generators.ready_source`), checked by
    :func:`ready`; None for the run's own GANs."""
    source = ready_source(value, setting)
    return None if source is None else ready(source, patch_size, setting)


def write_pngs(patches: np.ndarray, out_dir: str | Path, prefix: str = "synthetic") -> list[Path]:
    """One 8-bit greyscale PNG per patch, each written atomically; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    width = len(str(len(patches) - 1))
    paths = []
    for i, patch in enumerate(tqdm(patches, desc="writing PNGs", unit="image", disable=len(patches) < 500)):
        path = out_dir / f"{prefix}_{i:0{width}d}.png"
        with atomic_path(path) as tmp:
            Image.fromarray(patch, mode="L").save(tmp, format="PNG")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="thesis-generate",
                                description="Write PNG patches sampled from a trained DCGAN checkpoint.")
    p.add_argument("checkpoint", help="a generator checkpoint (best.pt of a run, or an imported one)")
    p.add_argument("--n", type=int, default=1000, help="how many patches (default 1000)")
    p.add_argument("--out", required=True, help="the folder the PNGs are written to (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent vectors (default 0): the same seed, the "
                                                       "same patches")
    p.add_argument("--device", default="auto", help="auto (the GPU when there is one) | cpu | cuda | mps")
    args = p.parse_args(argv)
    try:
        patches = generate(args.checkpoint, args.n, args.seed, args.device)
    except checkpoint.CheckpointError as exc:
        raise SystemExit(f"error: {exc}") from None
    paths = write_pngs(patches, args.out)
    print(f"wrote {len(paths)} PNGs to {args.out}")


if __name__ == "__main__":
    main()
