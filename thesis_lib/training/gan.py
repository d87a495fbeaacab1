"""Training the DCGAN: the thesis' procedure, resumable, on one device or several.

One iteration follows the seven steps of the thesis' training figure: draw a batch of latent
vectors; generate fakes; score the real batch and the (detached) fakes with D; compute D's loss;
update D; score the fakes again and compute G's non-saturating loss; update G. Around it:

- one-sided label smoothing (the real label drawn from U[0.7, 1.0] once per epoch), random
  horizontal and vertical flips, optional brightness/contrast jitter;
- Adam (beta1 = 0) with G's and D's learning rates decayed x0.99 every 10 and 8 epochs;
- bf16 autocast and channels_last on CUDA (channels_last, fp32 on the CPU), optional
  ``torch.compile`` (a compiler failure at the first step stops the run with
  :class:`CompileError`, naming the setting); several GPUs through ``torchrun`` (DistributedDataParallel, data sharded,
  rank 0 alone writes);
- ``latest.pt`` every ``checkpoint_every`` iterations or ``checkpoint_seconds`` of training,
  whichever comes first, and at the end (never merely because an epoch ended: a G_50's epoch
  is one iteration), holding RNG states and the position in the epoch, so that a killed run
  resumes to the same weights;
- no host read inside the iteration: the losses stay on the device and are read back in
  blocks of ``log_every`` iterations (and before a checkpoint, sample grid, score or snapshot),
  still one ``log.csv`` row per iteration, its ``images_per_s`` the block's mean;
- a divergence guard (non-finite losses, or D saturated for ``saturation_patience`` iterations),
  checked on each block as it is read, and always before a checkpoint is written;
- model selection by a pluggable evaluator every ``eval_every`` epochs (lower is better), the
  best generator kept as ``best.pt``.

Command line (one fold's training pool, or a k-subset of it)::

    python -m thesis_lib.training.gan --profile smoke --fold 0 [--k 100] [--epochs 5]
    torchrun --nproc_per_node=4 -m thesis_lib.training.gan --profile thesis --fold 0
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from PIL import Image
from tqdm.auto import tqdm

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import TrainingSubset, training_patches
from thesis_lib.devices import announce, pick_device
from thesis_lib.evaluation.metrics import make_evaluator
from thesis_lib.images import mosaic, to_uint8
from thesis_lib.io import atomic_path, write_json
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Discriminator, Generator, init_weights, refresh_batchnorm
from thesis_lib.provenance import Run
from thesis_lib.results import recorded, render_only
from thesis_lib.training.diffaugment import diff_augment, parse_policy
from thesis_lib.training.gan_config import GanConfig
from thesis_lib.training.gan_step import augment, ema_update, train_step
from thesis_lib.training.resume import (data_fingerprint, is_trained, iterations_per_epoch, resolved, resumable_state,
                                   start_fresh, truncate_log)
from thesis_lib.training.runs import read_run, run_dir

LOG_COLUMNS = ["step", "epoch", "iteration", "loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2",
               "real_label", "lr_g", "lr_d", "images_per_s"]
PROGRESS_LINES = 10  # without a progress bar (--no-progress: the workflow's logs), a line at every tenth of the run


class DivergenceError(RuntimeError):
    """Training went wrong (non-finite loss or a saturated discriminator)."""


@dataclass
class TrainResult:
    out_dir: Path
    epochs_done: int
    steps: int
    best_score: float | None
    best_epoch: int | None
    seconds: float
    images_per_s: float
    device: str
    precision: str
    world_size: int
    ranks_in_sync: bool | None = None
    summary: dict = field(default_factory=dict)


def check_health(values: np.ndarray, saturated: int, patience: int, epoch: int, it: int) -> int:
    """Stop a run that has gone wrong: a non-finite loss, or a discriminator that has won
    outright (D(x) > 0.99, D(G(z)) < 0.01) for ``patience`` iterations in a row. ``values``: one
    iteration's (5,) :data:`~thesis_lib.training.gan_step.STEP_VALUES`; returns the updated
    count of such iterations."""
    loss_d, loss_g, d_x, d_gz1, _ = (float(v) for v in values)
    if not (math.isfinite(loss_d) and math.isfinite(loss_g)):
        raise DivergenceError(f"non-finite loss at epoch {epoch + 1}, iteration {it + 1} "
                              f"(loss_d={loss_d}, loss_g={loss_g}); lower the learning rates")
    saturated = saturated + 1 if (d_x > 0.99 and d_gz1 < 0.01) else 0
    if saturated >= patience:
        raise DivergenceError(f"discriminator saturated for {saturated} iterations (D(x) > 0.99, D(G(z)) < 0.01) "
                              f"at epoch {epoch + 1}: the generator gets no gradient; try a lower lr_d")
    return saturated


def read_block(values: list[torch.Tensor]) -> np.ndarray:
    """The losses of a block of iterations, (n, 5) float64 on the host: the loop's one read
    from the device (it waits for the block's last iteration to finish)."""
    return torch.stack(values).double().cpu().numpy()


def save_grid(images: torch.Tensor, path: Path, ncols: int = 8) -> None:
    """(n, 1, S, S) images in [-1, 1] -> a PNG mosaic, written atomically."""
    with atomic_path(path) as tmp:
        Image.fromarray(mosaic(to_uint8(images), ncols)).save(tmp, format="PNG")


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def fit(cfg: GanConfig, patches: np.ndarray, out_dir: str | Path, *,
        evaluator: Callable[[Generator], float] | None = None, resume: bool | str = True,
        progress: bool = True) -> TrainResult:
    """Train on ``patches`` ((N, S, S) uint8, S = ``cfg.image_size`` or any size the models
    support when it is None) and write everything under ``out_dir``.

    ``out_dir`` receives ``latest.pt`` (resumable state), ``best.pt`` (the generator with the
    lowest ``evaluator`` score; the last one when there is no evaluator), ``log.csv`` (one row
    per iteration), ``samples/epoch_NNNN.png`` (fixed-noise grids), ``snapshots/epoch_NNNN.pt``
    (the generator every ``snapshot_every`` epochs) and ``summary.json``.

    ``resume``: ``True`` continues from ``latest.pt`` (an error if it was trained with another
    config or other data); ``"auto"`` continues when both match and starts afresh otherwise;
    ``False`` always starts afresh. A finished run returns at once.
    """
    patches = np.asarray(patches)
    rank, world = _distributed()
    cfg = resolved(cfg, patches, world)
    if len(patches) < world * 2:
        raise ValueError(f"{len(patches)} patches are too few to train on {world} process(es)")
    out = Path(out_dir)
    is_main = rank == 0
    device = pick_device(cfg.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else nullcontext
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format

    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed % 2**32)
    G, D = Generator(cfg.nz, cfg.ngf, cfg.image_size), Discriminator(cfg.ndf, cfg.image_size)
    G.apply(init_weights)
    D.apply(init_weights)
    G.to(device, memory_format=memory_format)
    D.to(device, memory_format=memory_format)
    # the generator that is sampled, scored and kept: G itself, or the moving average of its weights
    G_ema = copy.deepcopy(G).requires_grad_(False) if cfg.ema_decay else None
    G_kept = G if G_ema is None else G_ema
    policy = parse_policy(cfg.diffaugment)

    def d_input(images: torch.Tensor) -> torch.Tensor:
        return diff_augment(images, policy, cfg.diffaugment_strength, cfg.diffaugment_p)
    fused = device.type == "cuda"  # one kernel per update instead of one per parameter
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas, fused=fused)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas, fused=fused)
    sched_g = torch.optim.lr_scheduler.StepLR(opt_g, cfg.decay_every_g, cfg.lr_decay)
    sched_d = torch.optim.lr_scheduler.StepLR(opt_d, cfg.decay_every_d, cfg.lr_decay)
    fixed_noise = torch.randn(64, cfg.nz, generator=torch.Generator().manual_seed(cfg.seed))
    # what latest.pt holds of the networks, optimisers and schedulers, by checkpoint key
    parts = {"generator": G, "discriminator": D, "opt_g": opt_g, "opt_d": opt_d, "sched_g": sched_g,
             "sched_d": sched_d, **({"generator_ema": G_ema} if G_ema is not None else {})}

    start_epoch, start_it, step, best = 0, 0, 0, {"score": None, "epoch": None}
    spent = {"seconds": 0.0, "images": 0}  # training time and images over all sessions of this run
    latest = out / "latest.pt"
    fingerprint = data_fingerprint(patches)
    state = resumable_state(latest, cfg, fingerprint, resume)
    if state is None and is_main:
        start_fresh(out)
    if world > 1:
        dist.barrier()
    if state is not None:
        for key, part in parts.items():
            part.load_state_dict(state[key])
        start_epoch, start_it, step, best = state["epoch"], state["iteration"], state["step"], state["best"]
        spent = state["spent"]
        checkpoint.set_rng_state(state["rng"])
        if world > 1:  # the checkpoint holds rank 0's RNG: give each rank its own stream again
            torch.manual_seed(cfg.seed + 1_000_003 * rank + step)
        if is_main:
            truncate_log(out / "log.csv", step)
            truncate_log(out / "eval.csv", step)  # scores of epochs after the checkpoint are made again
    elif world > 1:
        torch.manual_seed(cfg.seed + 1_000_003 * rank)  # different noise and flips per rank
    if start_epoch >= cfg.epochs:  # finished before: only the summary is written again
        return _finish(cfg, out, G_kept, start_epoch, step, best, spent, device, bf16, world, rank)

    G_run, D_run = G, D
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        G_run = torch.nn.parallel.DistributedDataParallel(G, device_ids=ids)
        D_run = torch.nn.parallel.DistributedDataParallel(D, device_ids=ids)
    if cfg.compile:
        G_run, D_run = torch.compile(G_run), torch.compile(D_run)

    data = torch.from_numpy(patches).to(device)
    per_rank = max(cfg.batch_size // world, 1)
    usable = (len(data) // world) * world
    iters_per_epoch = iterations_per_epoch(len(data), cfg.batch_size, world)
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "samples").mkdir(exist_ok=True)
    log_file = (out / "log.csv").open("a", newline="") if is_main else None
    writer = csv.writer(log_file) if log_file else None
    if writer and log_file.tell() == 0:
        writer.writerow(LOG_COLUMNS)
    tb = _tensorboard(out) if is_main else None

    def state_dict(epoch: int, iteration: int, spent_now: dict) -> dict:
        return {"config": asdict(cfg), **{key: part.state_dict() for key, part in parts.items()},
                "epoch": epoch, "iteration": iteration, "step": step, "best": best, "rng": checkpoint.rng_state(),
                "fixed_noise": fixed_noise, "data_sha1": fingerprint, "spent": spent_now}

    def _spent() -> dict:
        return {"seconds": spent["seconds"] + time.perf_counter() - t_start, "images": spent["images"] + seen}

    saturated, seen, t_start = 0, 0, time.perf_counter()
    last_spent, compiled_once = spent, False
    # rows of iterations whose losses are still on the device: (step, epoch, it, real label,
    # lr_g, lr_d, (5,) tensor); read back in one block (flush) every log_every iterations,
    # before a checkpoint or any end-of-epoch work, and at the end
    pending: list[tuple] = []
    block = {"start": time.perf_counter(), "images": 0}
    last_save = time.perf_counter()
    reported = {"line": step * PROGRESS_LINES // max(cfg.epochs * iters_per_epoch, 1)}  # progress lines printed

    def flush() -> None:
        nonlocal saturated
        if not pending:
            return
        values = read_block([row[-1] for row in pending])
        now = time.perf_counter()
        ips = block["images"] / max(now - block["start"], 1e-9)  # the block's mean throughput
        for (at_step, ep, it, label, lr_g, lr_d, _), v in zip(pending, values):
            saturated = check_health(v, saturated, cfg.saturation_patience, ep, it)
            if writer:
                writer.writerow([at_step, ep + 1, it + 1, *(f"{x:.5f}" for x in v[:2]), *(f"{x:.4f}" for x in v[2:]),
                                 f"{label:.4f}", lr_g, lr_d, f"{ips:.1f}"])
            if tb:
                for name, x in zip(("loss/d", "loss/g", "d/x", "d/g_z"), v):
                    tb.add_scalar(name, x, at_step)
        if writer:
            log_file.flush()
            bar.set_postfix(loss_d=f"{values[-1][0]:.3f}", loss_g=f"{values[-1][1]:.3f}", img_s=f"{ips:.0f}")
            total = cfg.epochs * iters_per_epoch
            if not progress and step * PROGRESS_LINES // total > reported["line"]:  # a plain line for a log file
                reported["line"] = step * PROGRESS_LINES // total
                print(f"iteration {step:,}/{total:,} ({step / total:.0%}), {time.perf_counter() - t_start:.0f} s, "
                      f"loss D {values[-1][0]:.3f} G {values[-1][1]:.3f}, {ips:.0f} images/s", flush=True)
        pending.clear()
        block.update(start=now, images=0)

    def save_latest(epoch: int, iteration: int) -> dict:
        nonlocal last_save
        flush()  # the losses up to here are healthy before the state is kept
        now_spent = _spent()
        checkpoint.save(latest, state_dict(epoch, iteration, now_spent))
        last_save = time.perf_counter()
        return now_spent

    try:
        for epoch in range(start_epoch, cfg.epochs):
            epoch_rng = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
            order = torch.randperm(len(data), generator=epoch_rng)[:usable]
            shard = order[rank::world]
            shard = shard.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else shard.to(device)
            lo, hi = cfg.real_label_range
            real_label = lo + (hi - lo) * torch.rand(1, generator=epoch_rng).item()  # a CPU generator: no device read
            bar = tqdm(range(start_it, iters_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                       disable=not (progress and is_main), leave=False)
            checkpoint_due = False
            for it in bar:
                x = augment(data[shard[it * per_rank : (it + 1) * per_rank]], cfg.flips, cfg.jitter_grey_levels)
                x = x.contiguous(memory_format=memory_format)
                z = torch.randn(x.shape[0], cfg.nz, device=device)
                if cfg.compile and not compiled_once:
                    values = _first_compiled_step(G_run, D_run, opt_g, opt_d, x, z, real_label, d_input, autocast)
                    compiled_once = True
                else:
                    values = train_step(G_run, D_run, opt_g, opt_d, x, z, real_label, d_input, autocast)
                if G_ema is not None:  # the average's decay ramps up from 0.1 while few steps are in it
                    ema_update(G_ema, G, min(cfg.ema_decay, (1 + step) / (10 + step)))
                step += 1
                seen += x.shape[0] * world
                block["images"] += x.shape[0] * world
                pending.append((step, epoch, it, real_label, sched_g.get_last_lr()[0], sched_d.get_last_lr()[0], values))
                if len(pending) >= cfg.log_every:
                    flush()
                checkpoint_due = is_main and (step % cfg.checkpoint_every == 0
                                              or time.perf_counter() - last_save >= cfg.checkpoint_seconds)
                if checkpoint_due and it + 1 < iters_per_epoch:  # at an epoch's end: after its bookkeeping
                    last_spent = save_latest(epoch, it + 1)
                    checkpoint_due = False
            start_it = 0
            sched_g.step()
            sched_d.step()
            done = epoch + 1
            sampling = done % cfg.sample_every == 0 or done == cfg.epochs or done == 1
            scoring = (evaluator is not None and done % cfg.eval_every == 0) or done == cfg.epochs  # no score: kept at the end
            keeping = cfg.snapshot_every and (done % cfg.snapshot_every == 0 or done == cfg.epochs)
            epoch_work = sampling or scoring or keeping or done == cfg.epochs
            if epoch_work:
                flush()
            if is_main:
                if G_ema is not None and (sampling or scoring or keeping):
                    refresh_batchnorm(G_ema, seed=cfg.seed)
                if sampling:
                    save_grid(_sample(G_kept, fixed_noise.to(device)), out / "samples" / f"epoch_{done:04d}.png")
                if scoring:
                    score = float(evaluator(G_kept)) if evaluator else None
                    if best["score"] is None or score is None or score < best["score"]:
                        best = {"score": score, "epoch": done}
                        checkpoint.save(out / "best.pt", {"config": asdict(cfg), "generator": G_kept.state_dict(),
                                                         "score": score, "epoch": done})
                    _append_eval(out / "eval.csv", done, step, score)
                if keeping:
                    checkpoint.save(out / "snapshots" / f"epoch_{done:04d}.pt",
                                    {"config": asdict(cfg), "generator": G_kept.state_dict(), "epoch": done})
                if checkpoint_due or done == cfg.epochs:
                    last_spent = save_latest(done, 0)  # the summary reports what the checkpoint holds
            if world > 1 and epoch_work:  # the other ranks wait while rank 0 samples, scores and writes
                dist.barrier()
    finally:
        if log_file:
            log_file.close()
        if tb:
            tb.close()
    return _finish(cfg, out, G_kept, cfg.epochs, step, best, last_spent if is_main else _spent(), device, bf16,
                   world, rank)


class CompileError(RuntimeError):
    """``compile: true`` failed when the compiled networks first ran."""


def _first_compiled_step(*args) -> torch.Tensor:
    """The first :func:`train_step` of ``torch.compile``d networks, where compilation happens:
    a compiler failure stops the run with an error naming the setting (no silent fallback, so a
    run's speed and numerics are those its config says)."""
    try:
        return train_step(*args)
    except Exception as exc:
        raise CompileError(f"gan.compile: true failed at the first training step ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:300] if str(exc) else ''}); set compile: false in the "
                           "profile's gan section (or leave out --compile)") from exc


@torch.no_grad()
def _sample(G: Generator, noise: torch.Tensor) -> torch.Tensor:
    was = G.training
    G.eval()
    images = G(noise).float()
    G.train(was)
    return images


def _append_eval(path: Path, epoch: int, step: int, score: float | None) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["epoch", "step", "score"])
        w.writerow([epoch, step, "" if score is None else f"{score:.6f}"])


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard not installed: CSV only
        return None
    return SummaryWriter(out / "tensorboard")


def _ranks_in_sync(G: Generator, world: int) -> bool | None:
    """All ranks hold the same generator weights (checked with one all-gather)."""
    if world == 1:
        return None
    total = torch.stack([p.detach().double().sum() for p in G.parameters()]).sum().reshape(1)
    total = total.to(next(G.parameters()).device)
    gathered = [torch.zeros_like(total) for _ in range(world)]
    dist.all_gather(gathered, total)
    return bool(all(torch.equal(g, gathered[0]) for g in gathered))


def _finish(cfg, out, G, epochs, step, best, spent, device, bf16, world, rank) -> TrainResult:
    """The run's result; rank 0 writes it as ``summary.json`` (also when nothing was left to
    train, so that a deleted summary is restored; a summary that already says the same, extra
    keys aside, is left untouched, so a workflow does not see the run as new)."""
    in_sync = _ranks_in_sync(G, world)
    seconds = spent["seconds"]
    result = TrainResult(out, epochs, step, best["score"], best["epoch"], seconds,
                         spent["images"] / max(seconds, 1e-9), str(device), "bf16" if bf16 else "fp32",
                         world, in_sync)
    result.summary = {k: v for k, v in asdict(result).items() if k != "summary"}
    result.summary["out_dir"] = str(out)
    path = out / "summary.json"
    written = json.loads(path.read_text()) if path.is_file() else None
    if rank == 0 and (written is None or {k: written.get(k) for k in result.summary} != result.summary):
        write_json(path, result.summary)  # untouched when it already says this: later steps stay up to date
    return result


def train_run(params: dict, fold: int, k: int | None = None, *, subset: TrainingSubset | None = None,
              out: str | Path | None = None, resume: bool | str = "auto", progress: bool = True) -> TrainResult:
    """Train the generator of ``fold`` with the resolved ``gan`` parameters ``params``, scored by
    ``params["evaluator"]``, and write provenance next to it (default folder: :func:`run_dir`).

    Its training masses: ``subset.masses`` when given (the augmentation study hands over its
    subset, and the hash of its masses goes into ``summary.json`` as ``masses_hash``); else the
    fold's nested ``k``-subset drawn with ``params["seed"]``, or all its training masses when
    ``k`` is None."""
    cfg = GanConfig.from_dict(params)
    announce(pick_device(cfg.device), cfg.device, params.get("profile"))
    store = PatchStore(paths.store(params["artifacts"]))
    if subset is not None:
        patches, patients = store.read(subset.masses.index.to_numpy()), subset.masses.patient_id.nunique()
    else:
        patches, rows = training_patches(store, fold, k, cfg.seed)
        patients = rows.patient_id.nunique()
    out = Path(out) if out else run_dir(params["artifacts"], fold, k)
    run = Run("train_gan", {**params, "fold": fold, "k": k})
    evaluator = make_evaluator(params["evaluator"], patches, params["eval_samples"], cfg.seed,
                               cache_dir=paths.cache(params["artifacts"]), device=pick_device(cfg.device))
    # a finished run keeps the record of its training (the workflow deletes only its summary before a rerun)
    trained_before = bool(resume) and is_trained(cfg, patches, out) and (out / "provenance.json").is_file()
    result = fit(cfg, patches, out, evaluator=evaluator, resume=resume, progress=progress)
    if int(os.environ.get("RANK", "0")) == 0:
        if subset is not None and result.summary.get("masses_hash") != subset.mass_hash:
            result.summary["masses_hash"] = subset.mass_hash
            write_json(out / "summary.json", result.summary)
    if int(os.environ.get("RANK", "0")) == 0 and not trained_before:
        run.write(out, n_train=len(patches), n_patients=int(patients), evaluator=evaluator.name if evaluator else "none (the last generator kept)",
                  result=result.summary)
    return result


def current_run(params: dict, fold: int, k: int | None = None, resume: bool | str = "auto") -> dict:
    """The records of the run of ``fold`` (and ``k``) with ``params`` (:func:`read_run`): at render
    time as on disk, or :class:`~thesis_lib.results.ResultsMissing` naming the step; else after
    :func:`train_run` (which returns at once when the run is finished)."""
    out = run_dir(params["artifacts"], fold, k)
    if render_only():
        step = f"python -m thesis_lib.training.gan --profile {params['profile']} --fold {fold}" + (f" --k {k}" if k else "")
        recorded(out / "provenance.json", {**params, "fold": fold, "k": k}, step)
    else:
        train_run(params, fold, k, resume=resume)
    return read_run(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="thesis-train", description="Train the thesis' DCGAN on one fold's training masses.")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--k", type=int, default=None, help="train on a k-subset of the training masses")
    p.add_argument("--out", default=None, help="output folder (default artifacts/<profile>/gan/fold<f>[_k<k>])")
    p.add_argument("--resume", choices=["yes", "auto", "no"], default="yes",
                   help="yes: continue latest.pt (error if config or data differ); auto: continue "
                        "if they match, else start afresh; no: start afresh")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the models")
    for f in fields(GanConfig):
        if f.type in ("int", "float", "str"):
            p.add_argument(f"--{f.name.replace('_', '-')}", type={"int": int, "float": float, "str": str}[f.type])
    args = p.parse_args(argv)
    overrides = {f.name: getattr(args, f.name) for f in fields(GanConfig) if getattr(args, f.name, None) is not None}
    params = config.resolve("gan", args.profile, **overrides)
    resume = {"yes": True, "auto": "auto", "no": False}[args.resume]
    train_run(params, args.fold, args.k, out=args.out, resume=resume, progress=not args.no_progress)
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
