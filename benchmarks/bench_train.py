"""DCGAN training throughput: our trainer against a minimal reference loop.

The reference is written the way the PyTorch DCGAN example trains: float patches in a
``TensorDataset`` served by a ``DataLoader`` with per-sample flips, NCHW memory, fp32, the same
seven steps. Ours keeps the uint8 patches on the device, flips whole batches at once, and uses
channels_last (and bf16 autocast on CUDA). Same architecture, batch, widths and device; both
timed in this one run, after a warm-up, and reported as images per second and their ratio.

    .venv/bin/python benchmarks/bench_train.py                 # CPU, ngf = ndf = 16
    .venv/bin/python benchmarks/bench_train.py --ngf 45 --ndf 45 --nz 200 --device cuda
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from thesis_lib.gan.models import Discriminator, Generator, init_weights
from thesis_lib.gan.train import GanConfig, fit
from thesis_lib.io import write_json


def reference_loop(patches: np.ndarray, cfg: GanConfig, device: torch.device, iterations: int) -> float:
    """Images per second of the example-style loop (after one warm-up iteration)."""
    torch.manual_seed(cfg.seed)
    G, D = Generator(cfg.nz, cfg.ngf).to(device), Discriminator(cfg.ndf).to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    data = torch.from_numpy(patches).float().div(127.5).sub(1).unsqueeze(1)

    def flip(batch):
        x, = batch
        out = []
        for im in x:  # per-sample transforms, as torchvision's Compose applies them
            if torch.rand(1) < 0.5:
                im = im.flip(2)
            if torch.rand(1) < 0.5:
                im = im.flip(1)
            out.append(im)
        return torch.stack(out)

    loader = DataLoader(TensorDataset(data), batch_size=cfg.batch_size, shuffle=True, drop_last=True,
                        collate_fn=lambda items: flip([torch.stack([i[0] for i in items])]))
    done, t0, images = 0, None, 0
    while done < iterations + 1:
        for x in loader:
            if done == 1:
                t0, images = time.perf_counter(), 0
            x = x.to(device)
            b = x.shape[0]
            D.zero_grad()
            out = D(x)
            F.binary_cross_entropy_with_logits(out, torch.full_like(out, 0.9)).backward()
            z = torch.randn(b, cfg.nz, device=device)
            fake = G(z)
            out = D(fake.detach())
            F.binary_cross_entropy_with_logits(out, torch.zeros_like(out)).backward()
            opt_d.step()
            G.zero_grad()
            out = D(fake)
            F.binary_cross_entropy_with_logits(out, torch.ones_like(out)).backward()
            opt_g.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            images += b
            done += 1
            if done == iterations + 1:
                break
    return images / (time.perf_counter() - t0)


def ours(patches: np.ndarray, cfg: GanConfig, iterations: int, out: str) -> float:
    """Images per second of thesis_lib's trainer, from its own per-iteration log (warm-up dropped)."""
    epochs = int(np.ceil((iterations + 1) / np.ceil(len(patches) / cfg.batch_size)))
    cfg = GanConfig(**{**cfg.__dict__, "epochs": epochs, "sample_every": 10**6, "eval_every": 10**6,
                       "checkpoint_every": 10**6})
    fit(cfg, patches, out, resume=False, progress=False)
    import pandas as pd
    log = pd.read_csv(f"{out}/log.csv").iloc[1 : iterations + 1]
    return float(len(log) * cfg.batch_size / (cfg.batch_size / log.images_per_s).sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--ngf", type=int, default=16)
    p.add_argument("--ndf", type=int, default=16)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iterations", type=int, default=8)
    p.add_argument("--precision", default="auto")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--json")
    args = p.parse_args()
    device = torch.device(args.device)
    patches = np.random.default_rng(0).integers(0, 256, (args.batch * 4, 128, 128)).astype(np.uint8)
    base = dict(nz=args.nz, ngf=args.ngf, ndf=args.ndf, batch_size=args.batch, device=args.device, seed=0)
    results = {"device": str(device), "threads": torch.get_num_threads(), **base, "iterations": args.iterations}
    results["reference_fp32_nchw"] = reference_loop(patches, GanConfig(**base), device, args.iterations)
    results["ours_channels_last"] = ours(patches, GanConfig(**base, precision=args.precision, compile=args.compile),
                                         args.iterations, "/tmp/bench_train_ours")
    results["ours_nchw"] = ours(patches, GanConfig(**base, precision="fp32", channels_last=False),
                                args.iterations, "/tmp/bench_train_nchw")
    ref = results["reference_fp32_nchw"]
    for key in ("reference_fp32_nchw", "ours_nchw", "ours_channels_last"):
        print(f"{key:22s} {results[key]:8.1f} images/s   ratio to reference {results[key] / ref:5.2f}x")
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
