"""One prepared check of an accelerator: what the thesis profile costs on it, step by step.

Measures, on one device, and writes one JSON (``--out``):

1. trainer throughput at the thesis' widths (nz 200, ngf = ndf = 45, 128 pixels, batch 64): the
   example-style fp32 reference loop, ours fp32, ours bf16 + channels_last and ours with
   ``torch.compile`` (``bench_train.py``'s end-to-end timing, warm-up subtracted), with ratios;
2. seconds per epoch at the thesis' size on the thesis profile's data volume (its training
   masses per fold), from the fastest of ours;
3. one thesis-profile G_k (k = 100) trained for a fixed number of iterations with its FID model
   selection, seconds per iteration including the evaluations, extrapolated to its full budget;
4. one classifier epoch at the largest k (k real masses, 10 k normals, 1.5 k generated);
5. FID of 2,000 generated patches (generation and Inception features, statistics in float64);

and from these an estimate of the whole thesis-profile book on this one device, step by step.
``--dry-run`` runs the same code at toy sizes on the CPU in under a minute (a test runs it).

    .venv/bin/python benchmarks/device_check.py --out device_check.json            # on the GPU machine
    .venv/bin/python benchmarks/device_check.py --dry-run --out /tmp/dry.json      # anywhere
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import PER_EPOCH, compare, make_patches  # noqa: E402  (a sibling script)

from thesis_lib import config  # noqa: E402
from thesis_lib.devices import pick_device  # noqa: E402
from thesis_lib.evaluation.inception import InceptionFeatures  # noqa: E402
from thesis_lib.evaluation.metrics import gaussian_stats, make_evaluator  # noqa: E402
from thesis_lib.io import write_json  # noqa: E402
from thesis_lib.models.dcgan import Generator  # noqa: E402
from thesis_lib.models.generate import sample  # noqa: E402
from thesis_lib.provenance import hardware  # noqa: E402
from thesis_lib.training.classifier import ClassifierConfig, train_classifier  # noqa: E402
from thesis_lib.training.gan import fit  # noqa: E402
from thesis_lib.training.gan_config import GanConfig  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    """What is measured; the full check uses the thesis' sizes, the dry run toy ones."""

    nz: int = 200
    ngf: int = 45
    size: int = 128
    batch: int = 64
    iterations: int = 40  # timed trainer iterations (a multiple of PER_EPOCH)
    warmup: int = 8
    repeats: int = 2
    gk_k: int = 100
    gk_iterations: int = 40  # of the G_k run, FID evaluations included
    gk_eval_every: int = 10  # epochs between FID evaluations in that run
    eval_samples: int = 2000
    classifier_k: int = 1300
    fid_samples: int = 2000


DRY = Sizes(nz=16, ngf=4, size=64, batch=8, iterations=4, warmup=4, repeats=1, gk_k=12, gk_iterations=8,
            gk_eval_every=2, eval_samples=8, classifier_k=6, fid_samples=8)


def _timed(fn, device: torch.device) -> tuple[float, object]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def trainer(sizes: Sizes, device: str) -> dict:
    """Step 1: throughput of each trainer variant (images/s, min and median) and ratios."""
    base = dict(nz=sizes.nz, ngf=sizes.ngf, ndf=sizes.ngf, batch_size=sizes.batch, device=device, seed=0)
    return compare(make_patches(sizes.batch, sizes.size), base, sizes.iterations, sizes.warmup, sizes.repeats,
                   compile_too=device.startswith("cuda"))


def fastest(trainer_results: dict) -> float:
    """Images per second of the fastest of our trainer variants (median over repeats)."""
    return max(row["median"] for name, row in trainer_results.items() if name.startswith("ours"))


def gk_run(sizes: Sizes, device: str, thesis: dict) -> dict:
    """Step 3: a G_k of the thesis profile for ``gk_iterations`` iterations with its FID model
    selection; seconds per iteration with the evaluations amortised, and the full budget."""
    patches = make_patches(sizes.batch, sizes.size)[: sizes.gk_k]
    per_epoch = math.ceil(sizes.gk_k / sizes.batch)
    cfg = GanConfig(nz=sizes.nz, ngf=sizes.ngf, ndf=sizes.ngf, batch_size=sizes.batch, device=device,
                    iterations=sizes.gk_iterations, eval_every=sizes.gk_eval_every, sample_every=10**6, seed=0)
    evaluator = make_evaluator("fid", patches, sizes.eval_samples, device=device)
    with tempfile.TemporaryDirectory() as out:
        seconds, result = _timed(lambda: fit(cfg, patches, out, evaluator=evaluator, resume=False, progress=False),
                                 pick_device(device))
    per_iteration = seconds / result.steps
    full = thesis["gan"]["epochs"] * per_epoch
    return {"k": sizes.gk_k, "iterations": result.steps, "seconds": seconds, "seconds_per_iteration": per_iteration,
            "full_budget_iterations": full, "full_budget_seconds": per_iteration * full}


def classifier_epoch(sizes: Sizes, device: str, thesis: dict) -> dict:
    """Step 4: one epoch of the evaluation classifier on the largest k's training set."""
    aug = thesis["aug"]
    n = round(sizes.classifier_k * (1 + aug["normal_per_real"] + aug["synthetic_per_real"]))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, sizes.size, sizes.size)).astype(np.uint8)
    y = (rng.random(n) < 0.2).astype(np.int64)
    cfg = ClassifierConfig(epochs=1, batch_size=aug["batch_size"], device=device)
    seconds, _ = _timed(lambda: train_classifier(x, y, x[:0], y[:0], cfg), pick_device(device))
    return {"patches": n, "seconds": seconds}


def fid_cost(sizes: Sizes, device: str) -> dict:
    """Step 5: generate ``fid_samples`` patches and embed them (the statistics in float64)."""
    dev = pick_device(device)
    G = Generator(sizes.nz, sizes.ngf, sizes.size).to(dev).eval()
    extractor = InceptionFeatures(device=device)
    seconds, feats = _timed(lambda: extractor(sample(G, sizes.fid_samples), progress=False), dev)
    mu, sigma = gaussian_stats(feats)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    return {"samples": sizes.fid_samples, "seconds": seconds, "images_per_s": sizes.fid_samples / seconds}


def estimate(results: dict, thesis: dict, n_train_masses: int) -> dict:
    """The thesis-profile book on this device, step by step (seconds), from the measurements."""
    gan, aug, fid = thesis["gan"], thesis["aug"], thesis["fid"]
    folds = thesis["data_prep"]["n_folds"]
    best = fastest(results["trainer"])
    per_it = results["gk"]["seconds_per_iteration"]  # training with FID selection, per iteration
    train_only = gan["batch_size"] / best
    eval_share = max(per_it - train_only, 0.0)  # FID evaluation time per iteration of a G_k
    epoch_s = n_train_masses / best
    fold_gans = folds * (gan["epochs"] * epoch_s + gan["epochs"] / gan["eval_every"] * results["fid"]["seconds"]
                         * gan["eval_samples"] / results["fid"]["samples"])
    gk_iters = sum(gan["epochs"] * math.ceil(k / gan["batch_size"]) for k in aug["k"])
    g_ks = folds * len(aug["gan_seeds"]) * gk_iters * (train_only + eval_share)
    classifiers_per_k = folds * len(aug["classifier_seeds"]) * len(aug["approaches"])
    epoch_at = {k: results["classifier"]["seconds"] * k / results["classifier"]["k"] for k in aug["k"]}
    classifiers = sum(classifiers_per_k * aug["epochs"] * s for s in epoch_at.values())
    fid_chapter = folds * (fid["n_generated"] + fid["n_generated_curve"] * gan["epochs"] / gan["snapshot_every"]) \
        / results["fid"]["images_per_s"]
    steps = {"fold GANs (FID selection included)": fold_gans, "G_k (FID selection included)": g_ks,
             "augmentation classifiers": classifiers, "FID chapter (generated side)": fid_chapter}
    return {"steps_s": steps, "total_s": sum(steps.values()), "total_h": sum(steps.values()) / 3600,
            "assumptions": "data prep, t-SNE and the notebooks' own time not included; one device, steps in series; "
                           f"{n_train_masses} training masses per fold"}


def thesis_training_masses(thesis: dict) -> int:
    """Training masses per fold in the thesis profile's synthetic cohort: about 1.2 masses per
    lesion breast, two views each, 60 % of the patients in a fold's training pool."""
    return round(thesis["data_prep"]["n_patients"] * 2 * 1.2 * 0.6)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="the JSON to write")
    p.add_argument("--device", default="auto")
    p.add_argument("--dry-run", action="store_true", help="toy sizes on the CPU (under a minute)")
    args = p.parse_args(argv)
    sizes = DRY if args.dry_run else Sizes()
    device = "cpu" if args.dry_run else str(pick_device(args.device))
    if sizes.iterations % PER_EPOCH or sizes.warmup % PER_EPOCH:
        raise SystemExit(f"error: iterations and warmup must be multiples of {PER_EPOCH}")
    thesis = config.load_profile("thesis")
    results = {"device": device, "hardware": hardware(), "torch": torch.__version__, "dry_run": args.dry_run,
               "sizes": asdict(sizes)}
    start = time.perf_counter()
    results["trainer"] = trainer(sizes, device)
    n_masses = thesis_training_masses(thesis)
    results["epoch"] = {"training_masses": n_masses, "seconds": n_masses / fastest(results["trainer"])}
    results["gk"] = gk_run(sizes, device, thesis)
    results["classifier"] = {"k": sizes.classifier_k, **classifier_epoch(sizes, device, thesis)}
    results["fid"] = fid_cost(sizes, device)
    results["estimate"] = estimate(results, thesis, n_masses)
    results["check_seconds"] = time.perf_counter() - start
    write_json(args.out, results)
    print(json.dumps({k: results[k] for k in ("device", "check_seconds", "estimate")}, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
