"""DCGAN training throughput: our trainer, as it runs by default, beside two plain PyTorch loops.

- **sync-free loop**: the PyTorch DCGAN example's loop (float patches in a ``TensorDataset``
  served by a ``DataLoader`` with per-sample flips, NCHW, fp32, the same seven steps) without
  reading anything back to the host: the fastest a plain loop runs.
- **DCGAN example loop**: the same with the example's logging, five ``.item()`` reads per
  iteration (errD, errG, D(x), D(G(z)) twice) and a printed line every 50 iterations: how the
  example itself runs.
- **ours**: ``thesis_lib.training.gan.fit`` with the trainer's real defaults (log rows, blocks
  of host reads, latest.pt on its schedule and at the end, fixed-noise grids every
  ``sample_every`` epochs, EMA and DiffAugment as configured), only the widths, batch, device and
  precision set: on CUDA fp32 and bf16 (``precision: auto``), channels_last as by default, and
  with ``torch.compile`` when asked.

All are timed end to end by one clock (``time.perf_counter``, CUDA synchronised) on the same
patches, batch, widths and device; the warm-up is taken out of all alike: a run of ``warmup``
iterations is subtracted from a run of ``warmup + iterations``, so set-up, first-call costs and
what a run does once at its end cancel. Each variant is repeated; the min and median images per
second and their ratios to the sync-free loop's median are printed (and written as JSON). A
variant that fails is recorded with its error and the others still run.

    .venv/bin/python benchmarks/bench_train.py                                  # CPU, ngf = ndf = 16
    .venv/bin/python benchmarks/bench_train.py --ngf 45 --ndf 45 --nz 200 --device cuda --batch 64
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace

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


def plain_loop(patches: np.ndarray, cfg: GanConfig, iterations: int, example_logging: bool = False) -> float:
    """Seconds, end to end, of ``iterations`` iterations of the example-style loop; with
    ``example_logging`` it reads five numbers per iteration back to the host, as the example does."""
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
            out_real = D(x)
            err_real = F.binary_cross_entropy_with_logits(out_real, torch.full_like(out_real, 0.9))
            err_real.backward()
            fake = G(torch.randn(x.shape[0], cfg.nz, device=device))
            out_fake = D(fake.detach())
            err_fake = F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
            err_fake.backward()
            opt_d.step()
            G.zero_grad()
            out_g = D(fake)
            err_g = F.binary_cross_entropy_with_logits(out_g, torch.ones_like(out_g))
            err_g.backward()
            opt_g.step()
            done += 1
            if example_logging:  # the example's five reads and its progress line
                err_d, g_loss = (err_real + err_fake).item(), err_g.item()
                d_x, d_gz1, d_gz2 = (torch.sigmoid(o).mean().item() for o in (out_real, out_fake, out_g))
                if done % 50 == 0:
                    print(f"[{done}] Loss_D {err_d:.4f} Loss_G {g_loss:.4f} D(x) {d_x:.4f} "
                          f"D(G(z)) {d_gz1:.4f} / {d_gz2:.4f}")
            if done == iterations:
                break
    _sync(device)
    return time.perf_counter() - start


def example_loop(patches: np.ndarray, cfg: GanConfig, iterations: int) -> float:
    """:func:`plain_loop` with the DCGAN example's per-iteration ``.item()`` logging."""
    return plain_loop(patches, cfg, iterations, example_logging=True)


def ours_run(patches: np.ndarray, cfg: GanConfig, iterations: int) -> float:
    """Seconds, end to end, of ``fit`` for ``iterations`` iterations with ``cfg`` as given (no
    evaluator: the defaults keep the last generator)."""
    cfg = replace(cfg, iterations=iterations)
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
        if total <= base:
            raise RuntimeError(f"{iterations} iterations took no measurable time beyond the warm-up's noise: "
                               "raise --iterations")
        rates.append(iterations * cfg.batch_size / (total - base))
    return {"min": min(rates), "median": statistics.median(rates), "repeats": repeats}


REFERENCE = "sync-free loop fp32"


def variants(base: dict, device: str, compile_too: bool) -> dict[str, tuple]:
    """The compared runs: the two plain loops (fp32, NCHW) and ours with its defaults (fp32 on
    the CPU; fp32 and bf16 on CUDA, and bf16 with torch.compile when asked)."""
    out = {REFERENCE: (plain_loop, GanConfig(**base)),
           "DCGAN example loop fp32 (.item() logging)": (example_loop, GanConfig(**base)),
           "ours fp32": (ours_run, GanConfig(**base, precision="fp32"))}
    if device.startswith("cuda"):
        out["ours bf16"] = (ours_run, GanConfig(**base, precision="bf16"))
        if compile_too:
            out["ours bf16 compile"] = (ours_run, GanConfig(**base, precision="bf16", compile=True))
    return out


def compare(patches: np.ndarray, base: dict, iterations: int, warmup: int, repeats: int,
            compile_too: bool = False) -> dict:
    """Throughput of every variant and its ratio (of medians) to the sync-free loop; a variant
    that raises is recorded as ``{"error": "..."}`` and the rest still run."""
    results = {}
    for name, (run, cfg) in variants(base, base["device"], compile_too).items():
        try:
            results[name] = throughput(run, patches, cfg, iterations, warmup, repeats)
        except Exception as exc:  # one failing variant (a compiler crash) must not lose the others
            results[name] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    ref = results[REFERENCE].get("median")
    for row in results.values():
        if "median" in row and ref:
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
        if "error" in row:
            print(f"{name:42s} failed: {row['error']}")
        else:
            print(f"{name:42s} {row['median']:8.1f} images/s (min {row['min']:.1f})   "
                  f"ratio to the sync-free loop {row.get('ratio', float('nan')):5.2f}x")
    if args.json:
        write_json(args.json, {"device": args.device, "threads": torch.get_num_threads(), **base,
                               "size": args.size, "iterations": args.iterations, "warmup": args.warmup,
                               "results": results})


if __name__ == "__main__":
    main()
