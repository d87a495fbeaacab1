"""One epoch of the evaluation classifier: ours against a reference loop, timed the same way.

The reference trains the same network (the thesis' classifier, ``Discriminator(9)``) the way a
PyTorch example would: float patches in a ``TensorDataset``, a shuffling ``DataLoader`` with
per-sample flips, NCHW, fp32, Adam and BCE. Ours is ``thesis_lib.training.classifier.train_classifier``
(uint8 patches on the device, whole-batch flips, channels_last) for the same epochs, with no
validation set. Both are timed end to end by one clock; the warm-up is subtracted alike (a run
of ``warmup`` epochs from a run of ``warmup + epochs``). Min and median patches per second over
the repeats, and the ratio of medians.

    .venv/bin/python benchmarks/bench_classifier.py [--n 1024] [--size 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from thesis_lib.io import write_json
from thesis_lib.models.dcgan import Discriminator, init_weights
from thesis_lib.training.classifier import ClassifierConfig, train_classifier


def reference_run(x: np.ndarray, y: np.ndarray, cfg: ClassifierConfig) -> float:
    """Seconds, end to end, of ``cfg.epochs`` epochs of the example-style loop."""
    device = torch.device(cfg.device)
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = Discriminator(cfg.ndf, x.shape[-1]).to(device)
    model.apply(init_weights)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    data = TensorDataset(torch.from_numpy(x).float().div(127.5).sub(1).unsqueeze(1), torch.from_numpy(y).float())

    def flip(items):
        images, labels = [], []
        for im, label in items:
            if torch.rand(1) < 0.5:
                im = im.flip(2)
            if torch.rand(1) < 0.5:
                im = im.flip(1)
            images.append(im)
            labels.append(label)
        return torch.stack(images), torch.stack(labels)

    for _ in range(cfg.epochs):
        for images, labels in DataLoader(data, batch_size=cfg.batch_size, shuffle=True, collate_fn=flip):
            loss = F.binary_cross_entropy_with_logits(model(images.to(device)), labels.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def ours_run(x: np.ndarray, y: np.ndarray, cfg: ClassifierConfig) -> float:
    """Seconds, end to end, of ``train_classifier`` for ``cfg.epochs`` epochs (no validation)."""
    start = time.perf_counter()
    train_classifier(x, y, x[:0], y[:0], cfg)
    if cfg.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1024, help="training patches")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.n, args.size, args.size)).astype(np.uint8)
    y = (rng.random(args.n) < 0.2).astype(np.int64)
    results = {}
    for name, run in (("reference fp32 NCHW", reference_run), ("ours channels_last", ours_run)):
        rates = []
        for _ in range(args.repeats):
            base = run(x, y, ClassifierConfig(epochs=args.warmup, flips=True, device=args.device))
            total = run(x, y, ClassifierConfig(epochs=args.warmup + args.epochs, flips=True, device=args.device))
            rates.append(args.epochs * args.n / max(total - base, 1e-9))
        results[name] = {"min": min(rates), "median": statistics.median(rates), "repeats": args.repeats}
    ref = results["reference fp32 NCHW"]["median"]
    for name, row in results.items():
        row["ratio"] = row["median"] / ref
        print(f"{name:22s} {row['median']:8.1f} patches/s (min {row['min']:.1f})   ratio to reference {row['ratio']:5.2f}x")
    if args.json:
        write_json(args.json, {"device": args.device, "threads": torch.get_num_threads(), **vars(args),
                               "results": results})


if __name__ == "__main__":
    main()
