"""One prepared check of an accelerator: what the thesis and gpu profiles cost on it, step by step.

Measures, on one device, and writes one JSON (``--out``); each measurement runs on its own, so
one that fails (a compiler crash, an out-of-memory) is recorded with its error and the rest
still run:

1. ``trainer``: throughput at the thesis' widths (nz 200, ngf = ndf = 45, 128 pixels, batch
   64) of the sync-free loop, the DCGAN example's loop and ours with its defaults (fp32, bf16,
   bf16 + ``torch.compile``), ``bench_train.py``'s end-to-end timing, warm-up subtracted, with
   ratios to the sync-free loop;
2. ``epoch``: seconds per epoch on the thesis profile's data volume, from the fastest of ours;
3. ``gk``: one G_k (k = 100) trained for a fixed number of iterations with its FID model
   selection, seconds per iteration including the evaluations;
4. ``concurrent_gk``: the total images/s of 1, 4 and 8 G_k trained at once in as many processes
   on the one device;
5. ``classifier``: one classifier epoch at the largest k (k real masses, 10 k normals, 1.5 k generated);
6. ``fid``: images/s of the on-device FID route (sampling, uint8 on the device, Inception
   batches of 500), and ``fid_agreement``: its features against the CPU's on the same images
   (the largest difference relative to the largest feature; target at most 1e-4);

and from these an estimate of the whole thesis profile and of the gpu profile on this one
device, step by step. ``--dry-run`` runs the same code at toy sizes on the CPU in about a minute
(a test runs it).

    .venv/bin/python benchmarks/device_check.py --out device_check.json            # on the GPU machine
    .venv/bin/python benchmarks/device_check.py --dry-run --out /tmp/dry.json      # anywhere
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import PER_EPOCH, compare, make_patches  # noqa: E402  (a sibling script)

from thesis_lib import config  # noqa: E402
from thesis_lib.devices import pick_device  # noqa: E402
from thesis_lib.evaluation.inception import InceptionFeatures  # noqa: E402
from thesis_lib.evaluation.metrics import FIDEvaluator, make_evaluator  # noqa: E402
from thesis_lib.io import write_json  # noqa: E402
from thesis_lib.models.dcgan import Generator  # noqa: E402
from thesis_lib.models.generate import sample, sample_on_device  # noqa: E402
from thesis_lib.provenance import cpu_cores, hardware  # noqa: E402
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
    agreement_images: int = 64
    concurrency: tuple[int, ...] = (1, 4, 8)
    concurrent_iterations: int = 200


DRY = Sizes(nz=16, ngf=4, size=64, batch=8, iterations=16, warmup=4, repeats=1, gk_k=12, gk_iterations=8,
            gk_eval_every=2, eval_samples=8, classifier_k=6, fid_samples=8, agreement_images=2,
            concurrency=(1, 2), concurrent_iterations=8)


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
    """Images per second of the fastest of our trainer variants that ran (median over repeats)."""
    return max(row["median"] for name, row in trainer_results.items() if name.startswith("ours") and "median" in row)


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
    """Step 6: sample ``fid_samples`` patches and embed them, all on the device (as the
    trainer's FID selection does), and take the FID against the first half of them."""
    dev = pick_device(device)
    G = Generator(sizes.nz, sizes.ngf, sizes.size).to(dev).eval()
    extractor = InceptionFeatures(device=device)
    seconds, feats = _timed(lambda: extractor.on_device(sample_on_device(G, sizes.fid_samples)), dev)
    score = FIDEvaluator(sample(G, sizes.fid_samples // 2 + 2, seed=1), extractor=extractor)
    distance_s, _ = _timed(lambda: float(score.distance(feats.double())), dev)
    return {"samples": sizes.fid_samples, "seconds": seconds, "images_per_s": sizes.fid_samples / seconds,
            "batch_size": extractor.batch_size, "distance_seconds": distance_s}


def fid_agreement(sizes: Sizes, device: str) -> dict:
    """Step 6b: Inception features of the same uint8 images on the device and on the CPU; the
    largest absolute difference relative to the largest feature (target: at most 1e-4)."""
    images = make_patches(sizes.agreement_images, sizes.size)[: sizes.agreement_images]
    here = InceptionFeatures(device=device)
    on_device = here.on_device(torch.from_numpy(images).to(here.device)).double().cpu().numpy()
    on_cpu = InceptionFeatures(device="cpu")(images, progress=False)
    relative = float(np.abs(on_device - on_cpu).max() / np.abs(on_cpu).max())
    return {"images": len(images), "max_relative_difference": relative, "within_1e-4": relative <= 1e-4}


def _concurrent_worker(args) -> dict:
    """One of several G_k trained at once: a warm-up run, then the timed run (wall-clock stamps)."""
    sizes, device, threads = args
    torch.set_num_threads(threads)
    patches = make_patches(sizes.batch, sizes.size)[: sizes.gk_k]
    cfg = GanConfig(nz=sizes.nz, ngf=sizes.ngf, ndf=sizes.ngf, batch_size=sizes.batch, device=device, seed=0,
                    sample_every=10**6, snapshot_every=0)
    with tempfile.TemporaryDirectory() as out:
        fit(replace(cfg, iterations=PER_EPOCH), patches, out, resume=False, progress=False)
        start = time.time()
        result = fit(replace(cfg, iterations=sizes.concurrent_iterations), patches, out, resume=False, progress=False)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return {"images": result.steps * sizes.batch, "start": start, "end": time.time()}


def concurrent_gk(sizes: Sizes, device: str) -> dict:
    """Step 4: total images/s of n G_k (k = ``gk_k``, no model selection) trained at once in n
    processes on the one device, for each n of ``sizes.concurrency``; the speed-up is against n = 1."""
    out = {}
    ctx = multiprocessing.get_context("spawn")
    for n in sizes.concurrency:
        threads = max(1, cpu_cores() // n)
        with ctx.Pool(n) as pool:
            runs = pool.map(_concurrent_worker, [(sizes, device, threads)] * n)
        wall = max(r["end"] for r in runs) - min(r["start"] for r in runs)
        out[str(n)] = {"processes": n, "images_per_s": sum(r["images"] for r in runs) / wall, "seconds": wall}
    single = out[str(sizes.concurrency[0])]["images_per_s"]
    for row in out.values():
        row["speedup"] = row["images_per_s"] / single
    return out


def _iterations(gan: dict, n: int) -> tuple[int, int]:
    """(iterations, epochs) of a run of the resolved gan settings ``gan`` on ``n`` patches."""
    per_epoch = math.ceil(n / gan["batch_size"])
    epochs = math.ceil(gan["iterations"] / per_epoch) if gan["iterations"] else gan["epochs"]
    return epochs * per_epoch, epochs


def _evaluations(gan: dict, epochs: int) -> int:
    """FID evaluations of a run (none unless its evaluator is ``fid``)."""
    return epochs // gan["eval_every"] if gan["evaluator"] == "fid" else 0


def estimate(results: dict, profile: dict, n_train_masses: int) -> dict:
    """A whole profile's book on this device, step by step (seconds), from the measurements:
    training from the fastest trainer variant, FID evaluations from the on-device FID rate, the
    G_k and classifiers sped up by the best measured concurrency (they are trained side by side)."""
    gan, aug, fid = profile["gan"], profile["aug"], profile["fid"]
    folds = profile["data_prep"]["n_folds"]
    rate = fastest(results["trainer"])  # images/s of one training
    fid_rate = results["fid"]["images_per_s"]
    concurrent = results.get("concurrent_gk", {})
    speedup = max([row["speedup"] for row in concurrent.values()] or [1.0])
    iterations, epochs = _iterations(gan, n_train_masses)
    fold_gans = folds * (iterations * gan["batch_size"] / rate + _evaluations(gan, epochs) * gan["eval_samples"] / fid_rate)
    recipes = [g for g in aug["generators"] if "=" not in g]  # trained here (label=path: a ready generator)
    g_ks = 0.0
    for recipe in recipes:
        run = {**gan, **(profile.get("recipes") or {}).get(recipe, {}), **aug.get("gan", {})}
        for k in aug["k"]:
            its, eps = _iterations(run, k)
            g_ks += its * run["batch_size"] / rate / speedup + _evaluations(run, eps) * run["eval_samples"] / fid_rate
    g_ks *= folds * len(aug["gan_seeds"])
    classifiers_per_k = folds * len(aug["classifier_seeds"]) * len(aug["approaches"])
    epoch_at = {k: results["classifier"]["seconds"] * k / results["classifier"]["k"] for k in aug["k"]}
    classifiers = sum(classifiers_per_k * aug["epochs"] * s for s in epoch_at.values()) / speedup
    snapshots = epochs // gan["snapshot_every"] if gan["snapshot_every"] else 0
    fid_chapter = folds * (fid["n_generated"] + fid["n_generated_curve"] * snapshots) / fid_rate
    steps = {"fold GANs (FID selection included)": fold_gans, "G_k (FID selection included)": g_ks,
             "augmentation classifiers": classifiers, "FID chapter (generated side)": fid_chapter}
    return {"profile": profile["profile"], "steps_s": steps, "total_s": sum(steps.values()),
            "total_h": sum(steps.values()) / 3600, "concurrency_speedup": speedup,
            "assumptions": "data prep, t-SNE and the notebooks' own time not included; one device; G_k and "
                           f"classifiers side by side at the best measured speed-up ({speedup:.2f}x), the rest in "
                           f"series; {n_train_masses} training masses per fold"}


def training_masses(profile: dict) -> int:
    """Training masses per fold in a profile's synthetic cohort: about 1.2 masses per lesion
    breast, two views each, 60 % of the patients in a fold's training pool."""
    return round(profile["data_prep"]["n_patients"] * 2 * 1.2 * 0.6)


def isolated(fn, *args) -> dict:
    """``fn(*args)``, or ``{"error": ..., "traceback": ...}`` when it raises: one failing
    measurement does not lose the others."""
    try:
        return fn(*args)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc)[:500]}", "traceback": traceback.format_exc()[-3000:]}


def profile_estimates(results: dict) -> dict:
    """``estimate_thesis`` and ``estimate_gpu``: :func:`estimate` of each profile (an error
    recorded where a measurement it needs is missing)."""
    out = {}
    for name in ("thesis", "gpu"):
        profile = config.load_profile(name)
        out[f"estimate_{name}"] = isolated(estimate, results, profile, training_masses(profile))
    return out


def reestimate(measured: str, out: str, trainer_rate: float | None = None) -> dict:
    """The estimates of the thesis and gpu profiles (as they stand) from an earlier check's
    measurements; with ``trainer_rate`` the trainer's images/s is assumed to be that instead."""
    results = json.loads(Path(measured).read_text())
    if trainer_rate:
        results["trainer"] = {"ours (assumed)": {"median": trainer_rate}}
    estimates = {"measurements": str(measured), "assumed_trainer_images_per_s": trainer_rate}
    estimates.update(profile_estimates(results))
    write_json(out, estimates)
    for name in ("thesis", "gpu"):
        row = estimates[f"estimate_{name}"]
        print(f"{name}: {row.get('total_s', float('nan')) / 60:.1f} min "
              + ", ".join(f"{k} {v / 60:.1f}" for k, v in row.get("steps_s", {}).items()))
    return estimates


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="thesis-device-check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="the JSON to write")
    p.add_argument("--device", default="auto")
    p.add_argument("--dry-run", action="store_true", help="toy sizes on the CPU (under a minute)")
    p.add_argument("--from-json", help="measure nothing: recompute the estimates from a check's JSON")
    p.add_argument("--trainer-rate", type=float, help="with --from-json: assume this trainer images/s (a target, "
                                                        "not a measurement; recorded as assumed)")
    args = p.parse_args(argv)
    if args.from_json:
        return reestimate(args.from_json, args.out, args.trainer_rate)
    if args.trainer_rate:
        p.error("--trainer-rate goes with --from-json")
    sizes = DRY if args.dry_run else Sizes()
    device = "cpu" if args.dry_run else str(pick_device(args.device))
    if sizes.iterations % PER_EPOCH or sizes.warmup % PER_EPOCH:
        raise SystemExit(f"error: iterations and warmup must be multiples of {PER_EPOCH}")
    thesis = config.load_profile("thesis")
    results = {"device": device, "hardware": hardware(), "torch": torch.__version__, "dry_run": args.dry_run,
               "sizes": asdict(sizes)}
    start = time.perf_counter()
    results["trainer"] = isolated(trainer, sizes, device)
    n_masses = training_masses(thesis)
    if any("median" in row for row in results["trainer"].values()):
        results["epoch"] = {"training_masses": n_masses, "seconds": n_masses / fastest(results["trainer"])}
    results["gk"] = isolated(gk_run, sizes, device, thesis)
    results["concurrent_gk"] = isolated(concurrent_gk, sizes, device)
    results["classifier"] = isolated(lambda: {"k": sizes.classifier_k, **classifier_epoch(sizes, device, thesis)})
    results["fid"] = isolated(fid_cost, sizes, device)
    results["fid_agreement"] = isolated(fid_agreement, sizes, device)
    if "error" in results["concurrent_gk"]:
        results["concurrent_gk"], failed = {}, results["concurrent_gk"]
        results["concurrent_gk_error"] = failed
    results.update(profile_estimates(results))
    results["check_seconds"] = time.perf_counter() - start
    write_json(args.out, results)
    failed = [k for k, v in results.items() if isinstance(v, dict) and "error" in v]
    print(json.dumps({k: results[k] for k in ("device", "check_seconds", "estimate_thesis", "estimate_gpu")},
                     indent=2, default=str))
    if failed:
        print(f"failed measurements (their errors are in {args.out}): {', '.join(failed)}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
