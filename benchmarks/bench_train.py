"""DCGAN training throughput: our trainer against a reference loop, timed the same way.

The reference is written the way the PyTorch DCGAN example trains: float patches in a
``TensorDataset`` served by a ``DataLoader`` with per-sample flips, NCHW memory, fp32, the same
seven steps. Ours is ``thesis_lib.training.gan.fit`` with everything it does (log rows, epoch
checkpoints) but model selection and sample grids. Both sides are timed end to end by one clock
(``time.perf_counter``, CUDA synchronised) on the same patches, batch, widths and device; the
warm-up is taken out of both alike: a run of ``warmup`` iterations is subtracted from a run of
``warmup + iterations``, so set-up, first-call costs and the first iterations cancel. Each
variant is repeated; the min and median images per second and their ratios to the reference's
are printed (and written as JSON).

    .venv/bin/python benchmarks/bench_train.py                                  # CPU, ngf = ndf = 16
    .venv/bin/python benchmarks/bench_train.py --ngf 45 --ndf 45 --nz 200 --device cuda --batch 64
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from thesis_lib.devices import pick_device
from thesis_lib.io import write_json
from thesis_lib.models.dcgan import Discriminator, Generator, init_weights
from thesis_lib.training.gan import fit
from thesis_lib.training.gan_config import GanConfig


PER_EPOCH = 4  # iterations in one epoch of the benchmark's patches


def make_patches(batch: int, size: int, seed: int = 0) -> np.ndarray:
    """Random uint8 patches, ``PER_EPOCH`` batches of them."""
    return np.random.default_rng(seed).integers(0, 256, (batch * PER_EPOCH, size, size)).astype(np.uint8)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def reference_run(patches: np.ndarray, cfg: GanConfig, iterations: int) -> float:
    """Seconds, end to end, of ``iterations`` iterations of the example-style loop."""
    device = pick_device(cfg.device)
    _sync(device)
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    size = patches.shape[-1]
    G, D = Generator(cfg.nz, cfg.ngf, size).to(device), Discriminator(cfg.ndf, size).to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    data = torch.from_numpy(patches).float().div(127.5).sub(1).unsqueeze(1)

    def flip(items):
        out = []
        for (im,) in items:  # per-sample transforms, as torchvision's Compose applies them
            if torch.rand(1) < 0.5:
                im = im.flip(2)
            if torch.rand(1) < 0.5:
                im = im.flip(1)
            out.append(im)
        return torch.stack(out)

    loader = DataLoader(TensorDataset(data), batch_size=cfg.batch_size, shuffle=True, drop_last=True, collate_fn=flip)
    done = 0
    while done < iterations:
        for x in loader:
            x = x.to(device)
            D.zero_grad()
            out = D(x)
            F.binary_cross_entropy_with_logits(out, torch.full_like(out, 0.9)).backward()
            fake = G(torch.randn(x.shape[0], cfg.nz, device=device))
            out = D(fake.detach())
            F.binary_cross_entropy_with_logits(out, torch.zeros_like(out)).backward()
            opt_d.step()
            G.zero_grad()
            out = D(fake)
            F.binary_cross_entropy_with_logits(out, torch.ones_like(out)).backward()
            opt_g.step()
            done += 1
            if done == iterations:
                break
    _sync(device)
    return time.perf_counter() - start


def ours_run(patches: np.ndarray, cfg: GanConfig, iterations: int) -> float:
    """Seconds, end to end, of ``fit`` for ``iterations`` iterations (no evaluator, no grids)."""
    cfg = GanConfig(**{**cfg.__dict__, "iterations": iterations, "sample_every": 10**6, "eval_every": 10**6,
                       "checkpoint_every": 10**6, "snapshot_every": 0})
    device = pick_device(cfg.device)
    with tempfile.TemporaryDirectory() as out:
        _sync(device)
        start = time.perf_counter()
        fit(cfg, patches, out, resume=False, progress=False)
        _sync(device)
        return time.perf_counter() - start


def throughput(run, patches: np.ndarray, cfg: GanConfig, iterations: int, warmup: int, repeats: int) -> dict:
    """Images per second of ``run`` (min and median over ``repeats``): the images of
    ``iterations`` iterations over the time ``warmup + iterations`` take beyond ``warmup``."""
    rates = []
    for _ in range(repeats):
        base = run(patches, cfg, warmup)
        total = run(patches, cfg, warmup + iterations)
        rates.append(iterations * cfg.batch_size / max(total - base, 1e-9))
    return {"min": min(rates), "median": statistics.median(rates), "repeats": repeats}


def variants(base: dict, device: str, compile_too: bool) -> dict[str, tuple]:
    """The compared runs: the reference (fp32, NCHW), ours fp32 NCHW, ours fp32 channels_last
    and, on CUDA, bf16 + channels_last (and with torch.compile)."""
    out = {"reference fp32 NCHW": (reference_run, GanConfig(**base, precision="fp32", channels_last=False)),
           "ours fp32 NCHW": (ours_run, GanConfig(**base, precision="fp32", channels_last=False)),
           "ours fp32 channels_last": (ours_run, GanConfig(**base, precision="fp32", channels_last=True))}
    if device.startswith("cuda"):
        out["ours bf16 channels_last"] = (ours_run, GanConfig(**base, precision="bf16", channels_last=True))
        if compile_too:
            out["ours bf16 channels_last compile"] = (ours_run, GanConfig(**base, precision="bf16",
                                                                          channels_last=True, compile=True))
    return out


def compare(patches: np.ndarray, base: dict, iterations: int, warmup: int, repeats: int,
            compile_too: bool = False) -> dict:
    """Throughput of every variant and its ratio (of medians) to the reference."""
    results = {name: throughput(run, patches, cfg, iterations, warmup, repeats)
               for name, (run, cfg) in variants(base, base["device"], compile_too).items()}
    ref = results["reference fp32 NCHW"]["median"]
    for row in results.values():
        row["ratio"] = row["median"] / ref
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--ngf", type=int, default=16)
    p.add_argument("--ndf", type=int, default=16)
    p.add_argument("--size", type=int, default=128, help="patch side in pixels (128, 64 or 32)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iterations", type=int, default=8)
    p.add_argument("--warmup", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="also time torch.compile (CUDA)")
    p.add_argument("--json")
    args = p.parse_args()
    if args.iterations % PER_EPOCH or args.warmup % PER_EPOCH:
        p.error(f"--iterations and --warmup must be multiples of {PER_EPOCH} (the iterations of one epoch), so "
                "that both sides run whole epochs")
    patches = make_patches(args.batch, args.size)
    base = dict(nz=args.nz, ngf=args.ngf, ndf=args.ndf, batch_size=args.batch, device=args.device, seed=0)
    results = compare(patches, base, args.iterations, args.warmup, args.repeats, args.compile)
    for name, row in results.items():
        print(f"{name:32s} {row['median']:8.1f} images/s (min {row['min']:.1f})   ratio to reference {row['ratio']:5.2f}x")
    if args.json:
        write_json(args.json, {"device": args.device, "threads": torch.get_num_threads(), **base,
                               "size": args.size, "iterations": args.iterations, "warmup": args.warmup,
                               "results": results})


if __name__ == "__main__":
    main()
