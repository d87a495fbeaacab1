"""Training the DCGAN: the thesis' procedure, resumable, on one device or several.

One iteration follows the seven steps of the thesis' training figure: draw a batch of latent
vectors; generate fakes; score the real batch and the (detached) fakes with D; compute D's loss;
update D; score the fakes again and compute G's non-saturating loss; update G. Around it:

- one-sided label smoothing (the real label drawn from U[0.7, 1.0] once per epoch), random
  horizontal and vertical flips, optional brightness/contrast jitter;
- Adam (beta1 = 0) with G's and D's learning rates decayed x0.99 every 10 and 8 epochs;
- bf16 autocast and channels_last on CUDA (channels_last, fp32 on the CPU), optional
  ``torch.compile``; several GPUs through ``torchrun`` (DistributedDataParallel, data sharded,
  rank 0 alone writes);
- a checkpoint every ``checkpoint_every`` iterations and at each epoch end, holding RNG states
  and the position in the epoch, so that a killed run resumes to the same weights;
- a divergence guard (non-finite losses, or D saturated for ``saturation_patience`` iterations);
- model selection by a pluggable evaluator every ``eval_every`` epochs (lower is better), the
  best generator kept as ``best.pt``.

Command line (one fold's training pool, or a k-subset of it)::

    python -m thesis_lib.gan.train --profile smoke --fold 0 [--k 100] [--epochs 5]
    torchrun --nproc_per_node=4 -m thesis_lib.gan.train --profile thesis --fold 0
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import math
import os
import re
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image
from tqdm.auto import tqdm

from thesis_lib import config
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import TrainingSubset, training_patches
from thesis_lib.devices import pick_device
from thesis_lib.gan import checkpoint
from thesis_lib.gan.diffaugment import diff_augment, parse_policy
from thesis_lib.gan.models import Discriminator, Generator, init_weights, n_blocks, refresh_batchnorm
from thesis_lib.images import mosaic, to_uint8
from thesis_lib.io import atomic_path, write_json
from thesis_lib.metrics import make_evaluator
from thesis_lib.provenance import Run

LOG_COLUMNS = ["step", "epoch", "iteration", "loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2",
               "real_label", "lr_g", "lr_d", "images_per_s"]


# Keys of a resolved gan section that are not GanConfig fields: model selection, and what
# config.resolve adds (the profile's name and its output folder)
SECTION_KEYS = {"evaluator", "eval_samples", "profile", "artifacts"}


@dataclass
class GanConfig:
    """Everything that defines a training run (defaults: the thesis)."""

    nz: int = 200
    ngf: int = 45
    ndf: int = 45
    image_size: int | None = None  # pixels; None: the training patches' size (the thesis: 128)
    epochs: int = 1000
    iterations: int = 0  # > 0: the budget in iterations (rounded up to whole epochs), replacing epochs
    batch_size: int = 64
    lr_g: float = 4e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.999)
    lr_decay: float = 0.99
    decay_every_g: int = 10
    decay_every_d: int = 8
    real_label_range: tuple[float, float] = (0.7, 1.0)
    flips: bool = True
    jitter_grey_levels: float = 0.0  # +- brightness and contrast jitter, in grey levels of 255
    # small-data options (off in the thesis' recipe)
    ema_decay: float = 0.0  # > 0: sample, score and keep an exponential moving average of G
    diffaugment: str = ""  # DiffAugment policy of D's inputs, e.g. "color,translation,cutout"
    diffaugment_strength: float = 1.0  # scales the transforms' ranges (1: DiffAugment's)
    diffaugment_p: float = 1.0  # probability that an image is augmented
    device: str = "auto"  # auto (cuda, mps, cpu) | cuda | cuda:1 | mps | cpu
    precision: str = "auto"  # auto (bf16 on CUDA, fp32 elsewhere) | bf16 | fp32
    channels_last: bool = True
    compile: bool = False
    seed: int = 0
    checkpoint_every: int = 500  # iterations
    sample_every: int = 10  # epochs
    eval_every: int = 10  # epochs
    snapshot_every: int = 0  # epochs between kept generator snapshots (0: none)
    saturation_patience: int = 200  # iterations with D(x) > 0.99 and D(G(z)) < 0.01

    def __post_init__(self):
        self.betas, self.real_label_range = tuple(self.betas), tuple(self.real_label_range)
        for name in ("nz", "ngf", "ndf", "epochs", "batch_size", "checkpoint_every", "sample_every",
                     "eval_every", "saturation_patience"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 1")
        if self.snapshot_every < 0:
            raise ValueError(f"snapshot_every={self.snapshot_every}: must be >= 0")
        lo, hi = self.real_label_range
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"real_label_range={self.real_label_range}: need 0 < low <= high <= 1")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision={self.precision!r}: expected auto, bf16 or fp32")
        if self.jitter_grey_levels < 0:
            raise ValueError(f"jitter_grey_levels={self.jitter_grey_levels}: must be >= 0")
        if self.iterations < 0:
            raise ValueError(f"iterations={self.iterations}: must be >= 0 (0: train for epochs)")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay={self.ema_decay}: must be in [0, 1) (0: no EMA)")
        if not (0.0 <= self.diffaugment_p <= 1.0 and self.diffaugment_strength >= 0.0):
            raise ValueError(f"diffaugment_p={self.diffaugment_p}, diffaugment_strength={self.diffaugment_strength}: "
                             "need 0 <= p <= 1 and strength >= 0")
        parse_policy(self.diffaugment)

    @property
    def budget(self) -> str:
        """The training length as set, e.g. "1,000 iterations of batch 16" or "60 epochs of batch 32"."""
        length = f"{self.iterations:,} iterations" if self.iterations else f"{self.epochs:,} epochs"
        return f"{length} of batch {self.batch_size}"

    @classmethod
    def from_dict(cls, params: dict) -> "GanConfig":
        """Build from a resolved ``gan`` section (its fields, the model-selection settings and
        the resolver's ``profile`` and ``artifacts``); any other key is an error that names it
        and the profile's file, so a misspelt setting never falls back to a default."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - names - SECTION_KEYS)
        if unknown:
            where = f" in {config.profile_path(params['profile'])}" if params.get("profile") else ""
            raise KeyError(f"unknown gan setting(s) {unknown}{where}; known: {sorted(names | SECTION_KEYS)}")
        return cls(**{k: v for k, v in params.items() if k in names})

    def same_run(self, other: "GanConfig") -> bool:
        """True when ``other`` continues this run: equal in all but epochs and bookkeeping."""
        free = {"epochs", "iterations", "checkpoint_every", "sample_every", "eval_every", "snapshot_every", "device",
                "compile"}
        a, b = asdict(self), asdict(other)
        return all(a[k] == b[k] for k in a if k not in free)


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


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits, target, dtype=torch.float32))


def _mean_probabilities(*logits: torch.Tensor) -> tuple[float, ...]:
    """Mean sigmoid of each logit tensor: D(x), D(G(z)) before and after D's update."""
    return tuple(torch.sigmoid(o.float()).mean().item() for o in logits)


def augment(batch: torch.Tensor, flips: bool, jitter: float) -> torch.Tensor:
    """uint8 (B, S, S) -> float (B, 1, S, S) in [-1, 1], randomly flipped and jittered.

    Randomness comes from the global torch RNG of the batch's device (saved in checkpoints).
    """
    x = batch.unsqueeze(1).float().div_(127.5).sub_(1.0)
    b, dev = x.shape[0], x.device
    if flips:
        h = torch.rand(b, device=dev) < 0.5
        v = torch.rand(b, device=dev) < 0.5
        x = torch.where(h.view(b, 1, 1, 1), x.flip(3), x)
        x = torch.where(v.view(b, 1, 1, 1), x.flip(2), x)
    if jitter > 0:
        shift = (torch.rand(b, 1, 1, 1, device=dev) * 2 - 1) * (2 * jitter / 255.0)
        gain = 1 + (torch.rand(b, 1, 1, 1, device=dev) * 2 - 1) * (jitter / 127.5)
        x = (x * gain + shift).clamp_(-1.0, 1.0)
    return x


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


def _truncate_log(path: Path, last_step: int) -> None:
    """Keep only complete log rows up to ``last_step`` (iterations after the checkpoint rerun)."""
    if not path.is_file():
        return
    rows = pd.read_csv(path, on_bad_lines="skip")
    rows = rows[pd.to_numeric(rows.step, errors="coerce") <= last_step]
    with atomic_path(path) as tmp:
        rows.to_csv(tmp, index=False)


def data_fingerprint(patches: np.ndarray) -> str:
    """SHA-1 of the training patches: a checkpoint resumes only on the data it was trained on."""
    return hashlib.sha1(np.ascontiguousarray(patches).tobytes()).hexdigest()


def _start_fresh(out: Path) -> None:
    """Remove a previous run's files from ``out``."""
    for name in ("latest.pt", "best.pt", "log.csv", "eval.csv", "summary.json", "provenance.json"):
        (out / name).unlink(missing_ok=True)
    for name in ("samples", "snapshots", "tensorboard"):
        shutil.rmtree(out / name, ignore_errors=True)


def _resumable_state(latest: Path, cfg: GanConfig, fingerprint: str, resume: bool | str) -> dict | None:
    """The checkpoint to continue from, or None to start afresh (see :func:`fit`'s ``resume``)."""
    if not resume or not latest.is_file():
        return None
    try:
        state = checkpoint.load(latest)
    except checkpoint.CheckpointError:
        if resume != "auto":
            raise
        return None  # unreadable or from an older format
    problem = ("another config" if not GanConfig.from_dict(state["config"]).same_run(cfg) else
               "other data" if state.get("data_sha1") != fingerprint else None)
    if problem and resume != "auto":
        raise ValueError(f"{latest} was trained with {problem}; use another out_dir or resume=False")
    return None if problem else state


def iterations_per_epoch(n_patches: int, batch_size: int, world: int = 1) -> int:
    """Iterations of one epoch over ``n_patches`` (each of ``world`` processes takes its share)."""
    usable = (n_patches // world) * world
    return math.ceil((usable // world) / max(batch_size // world, 1))


def _resolved(cfg: GanConfig, patches: np.ndarray, world: int = 1) -> GanConfig:
    """``cfg`` for these patches: ``image_size`` set to their size (after checking that they are
    uint8 (N, S, S), S the config's size when set and one the networks support) and, with an
    iteration budget, ``epochs`` the whole epochs that cover it."""
    size = cfg.image_size or (patches.shape[-1] if patches.ndim == 3 else 0)
    if patches.ndim != 3 or patches.shape[1:] != (size, size) or patches.dtype != np.uint8:
        raise ValueError(f"patches must be uint8 (N, {size}, {size}) (gan image_size={cfg.image_size}), "
                         f"got {patches.dtype} {patches.shape}")
    n_blocks(size)
    epochs = cfg.epochs
    if cfg.iterations:
        epochs = math.ceil(cfg.iterations / iterations_per_epoch(len(patches), cfg.batch_size, world))
    return replace(cfg, image_size=size, epochs=epochs)


def is_finished(cfg: GanConfig, patches: np.ndarray, out_dir: str | Path) -> bool:
    """True when ``out_dir`` holds a complete run of ``cfg`` on ``patches`` with its summary
    written: training again would change nothing (and :func:`fit` would only rewrite files)."""
    out = Path(out_dir)
    if not (out / "summary.json").is_file():
        return False
    cfg = _resolved(cfg, np.asarray(patches))
    state = _resumable_state(out / "latest.pt", cfg, data_fingerprint(patches), "auto")
    return state is not None and state["epoch"] >= cfg.epochs


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
    cfg = _resolved(cfg, patches, world)
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
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    sched_g = torch.optim.lr_scheduler.StepLR(opt_g, cfg.decay_every_g, cfg.lr_decay)
    sched_d = torch.optim.lr_scheduler.StepLR(opt_d, cfg.decay_every_d, cfg.lr_decay)
    fixed_noise = torch.randn(64, cfg.nz, generator=torch.Generator().manual_seed(cfg.seed))

    start_epoch, start_it, step, best = 0, 0, 0, {"score": None, "epoch": None}
    spent = {"seconds": 0.0, "images": 0}  # training time and images over all sessions of this run
    latest = out / "latest.pt"
    fingerprint = data_fingerprint(patches)
    state = _resumable_state(latest, cfg, fingerprint, resume)
    if state is None and is_main:
        _start_fresh(out)
    if world > 1:
        dist.barrier()
    if state is not None:
        G.load_state_dict(state["generator"])
        D.load_state_dict(state["discriminator"])
        if G_ema is not None:
            G_ema.load_state_dict(state["generator_ema"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        sched_g.load_state_dict(state["sched_g"])
        sched_d.load_state_dict(state["sched_d"])
        start_epoch, start_it, step, best = state["epoch"], state["iteration"], state["step"], state["best"]
        spent = state["spent"]
        checkpoint.set_rng_state(state["rng"])
        if world > 1:  # the checkpoint holds rank 0's RNG: give each rank its own stream again
            torch.manual_seed(cfg.seed + 1_000_003 * rank + step)
        if is_main:
            _truncate_log(out / "log.csv", step)
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
        return {"config": asdict(cfg), "generator": G.state_dict(), "discriminator": D.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "sched_g": sched_g.state_dict(),
                "sched_d": sched_d.state_dict(), "epoch": epoch, "iteration": iteration, "step": step,
                "best": best, "rng": checkpoint.rng_state(), "fixed_noise": fixed_noise,
                "data_sha1": fingerprint, "spent": spent_now,
                **({"generator_ema": G_ema.state_dict()} if G_ema is not None else {})}

    def _spent() -> dict:
        return {"seconds": spent["seconds"] + time.perf_counter() - t_start, "images": spent["images"] + seen}

    saturated, seen, t_start = 0, 0, time.perf_counter()
    last_spent = spent
    try:
        for epoch in range(start_epoch, cfg.epochs):
            epoch_rng = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
            order = torch.randperm(len(data), generator=epoch_rng)[:usable]
            shard = order[rank::world].to(device)
            lo, hi = cfg.real_label_range
            real_label = lo + (hi - lo) * torch.rand(1, generator=epoch_rng).item()
            bar = tqdm(range(start_it, iters_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                       disable=not (progress and is_main), leave=False)
            for it in bar:
                t0 = time.perf_counter()
                x = augment(data[shard[it * per_rank : (it + 1) * per_rank]], cfg.flips, cfg.jitter_grey_levels)
                x = x.contiguous(memory_format=memory_format)
                z = torch.randn(x.shape[0], cfg.nz, device=device)
                # (1-2) latent batch -> fakes; (3-5) D on real and fake, D's loss, D update
                opt_d.zero_grad(set_to_none=True)
                with autocast():
                    fake = G_run(z)
                    out_real = D_run(d_input(x))
                    loss_real = _bce(out_real, real_label)
                loss_real.backward()
                with autocast():
                    out_fake = D_run(d_input(fake.detach()))
                    loss_fake = _bce(out_fake, 0.0)
                loss_fake.backward()
                opt_d.step()
                # (6-7) G's non-saturating loss through the updated D, G update
                opt_g.zero_grad(set_to_none=True)
                with autocast():
                    out_g = D_run(d_input(fake))
                    loss_g = _bce(out_g, 1.0)
                loss_g.backward()
                opt_g.step()
                if G_ema is not None:  # the average's decay ramps up from 0.1 while few steps are in it
                    _ema_update(G_ema, G, min(cfg.ema_decay, (1 + step) / (10 + step)))

                loss_d = (loss_real + loss_fake).item()
                lg = loss_g.item()
                d_x, d_gz1, d_gz2 = _mean_probabilities(out_real, out_fake, out_g)
                if not (math.isfinite(loss_d) and math.isfinite(lg)):
                    raise DivergenceError(f"non-finite loss at epoch {epoch + 1}, iteration {it + 1} "
                                          f"(loss_d={loss_d}, loss_g={lg}); lower the learning rates")
                saturated = saturated + 1 if (d_x > 0.99 and d_gz1 < 0.01) else 0
                if saturated >= cfg.saturation_patience:
                    raise DivergenceError(
                        f"discriminator saturated for {saturated} iterations (D(x) > 0.99, D(G(z)) < 0.01) "
                        f"at epoch {epoch + 1}: the generator gets no gradient; try a lower lr_d")
                step += 1
                seen += x.shape[0] * world
                ips = x.shape[0] * world / (time.perf_counter() - t0)
                if writer:
                    writer.writerow([step, epoch + 1, it + 1, f"{loss_d:.5f}", f"{lg:.5f}", f"{d_x:.4f}",
                                     f"{d_gz1:.4f}", f"{d_gz2:.4f}", f"{real_label:.4f}",
                                     sched_g.get_last_lr()[0], sched_d.get_last_lr()[0], f"{ips:.1f}"])
                    log_file.flush()
                    bar.set_postfix(loss_d=f"{loss_d:.3f}", loss_g=f"{lg:.3f}", img_s=f"{ips:.0f}")
                    if tb:
                        for k, v in (("loss/d", loss_d), ("loss/g", lg), ("d/x", d_x), ("d/g_z", d_gz1)):
                            tb.add_scalar(k, v, step)
                if is_main and step % cfg.checkpoint_every == 0 and it + 1 < iters_per_epoch:
                    checkpoint.save(latest, state_dict(epoch, it + 1, _spent()))
            start_it = 0
            sched_g.step()
            sched_d.step()
            done = epoch + 1
            if is_main:
                sampling = done % cfg.sample_every == 0 or done == cfg.epochs or done == 1
                scoring = done % cfg.eval_every == 0 or done == cfg.epochs
                keeping = cfg.snapshot_every and (done % cfg.snapshot_every == 0 or done == cfg.epochs)
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
                last_spent = _spent()  # the summary reports what the checkpoint holds
                checkpoint.save(latest, state_dict(done, 0, last_spent))
            if world > 1:
                dist.barrier()
    finally:
        if log_file:
            log_file.close()
        if tb:
            tb.close()
    return _finish(cfg, out, G_kept, cfg.epochs, step, best, last_spent if is_main else _spent(), device, bf16,
                   world, rank)


@torch.no_grad()
def _ema_update(average: Generator, G: Generator, decay: float) -> None:
    """average <- decay x average + (1 - decay) x G, parameter by parameter."""
    torch._foreach_lerp_(list(average.parameters()), list(G.parameters()), 1.0 - decay)


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


def read_run(out_dir: str | Path) -> dict:
    """A finished run's records: ``log`` and ``scores`` (DataFrames), ``samples`` (list of
    ``(epoch, path)``), ``summary`` and ``provenance`` (dicts; the latter empty when the run was
    trained by :func:`fit` alone). Raises ``FileNotFoundError`` naming the step."""
    out = Path(out_dir)
    if not (out / "summary.json").is_file():
        raise FileNotFoundError(f"{out}: no finished training run (summary.json missing); train it first "
                                "(notebook 01_train_dcgan, or python -m thesis_lib.gan.train)")
    samples = sorted((int(p.stem.split("_")[1]), p) for p in (out / "samples").glob("epoch_*.png"))
    scores = pd.read_csv(out / "eval.csv") if (out / "eval.csv").is_file() else pd.DataFrame(columns=["epoch", "step", "score"])
    provenance = out / "provenance.json"
    return {"log": pd.read_csv(out / "log.csv"), "scores": scores, "samples": samples,
            "summary": json.loads((out / "summary.json").read_text()),
            "provenance": json.loads(provenance.read_text()) if provenance.is_file() else {}}


def timing_table(summary: dict, name: str) -> pd.DataFrame:
    """A run's device, precision, size and speed as a one-column table."""
    seconds, epochs = summary["seconds"], max(summary["epochs_done"], 1)
    return pd.Series({
        "device": summary["device"], "precision": summary["precision"],
        "processes": summary["world_size"], "epochs": summary["epochs_done"],
        "iterations": summary["steps"], "training time (s)": round(seconds, 1),
        "s per epoch": round(seconds / epochs, 2), "images per s": round(summary["images_per_s"], 1),
        "kept epoch": summary["best_epoch"],
        "kept score": None if summary["best_score"] is None else round(summary["best_score"], 4),
    }, name=name).to_frame()


def summarise_runs(folder: str | Path, pattern: str = r".*") -> pd.DataFrame:
    """One row per finished run in ``folder`` (sub-folders whose whole name matches the regular
    expression ``pattern``, e.g. ``r"fold\d+"`` for the fold GANs)."""
    rows = []
    for out in sorted(Path(folder).glob("*"), key=lambda p: [int(t) if t.isdigit() else t
                                                              for t in re.split(r"(\d+)", p.name)]):
        if re.fullmatch(pattern, out.name) and (out / "summary.json").is_file():
            s = read_run(out)["summary"]
            rows.append({"run": out.name, "epochs": s["epochs_done"], "iterations": s["steps"],
                         "kept epoch": s["best_epoch"], "kept score": s["best_score"],
                         "training time (s)": round(s["seconds"], 1)})
    return pd.DataFrame(rows, columns=["run", "epochs", "iterations", "kept epoch", "kept score",
                                       "training time (s)"]).set_index("run")


def run_dir(profile_artifacts: str | Path, fold: int, k: int | None, replicate: int = 0,
            recipe: str | None = None) -> Path:
    """Where a run writes: ``artifacts/<profile>/gan/fold<f>``, ``.../fold<f>_k<k>``, for the
    further training seeds of a G_k ``.../fold<f>_k<k>_g<replicate>``, and for a G_k of a further
    recipe (``aug.generators``) that name with ``_<recipe>`` added."""
    if (replicate or recipe) and k is None:
        raise ValueError("replicate, recipe: only G_k (k given) has several training seeds and recipes")
    name = f"fold{fold}" if k is None else f"fold{fold}_k{k}" + (f"_g{replicate}" if replicate else "")
    return Path(profile_artifacts) / "gan" / (name + (f"_{recipe}" if recipe else ""))


def train_run(params: dict, fold: int, k: int | None = None, *, subset: TrainingSubset | None = None,
              out: str | Path | None = None, resume: bool | str = "auto", progress: bool = True) -> TrainResult:
    """Train the generator of ``fold`` with the resolved ``gan`` parameters ``params``, scored by
    ``params["evaluator"]``, and write provenance next to it (default folder: :func:`run_dir`).

    Its training masses: ``subset.masses`` when given (the augmentation study hands over its
    subset, and the hash of its masses goes into ``summary.json`` as ``masses_hash``); else the
    fold's nested ``k``-subset drawn with ``params["seed"]``, or all its training masses when
    ``k`` is None."""
    cfg = GanConfig.from_dict(params)
    store = PatchStore(Path(params["artifacts"]) / "patches")
    if subset is not None:
        patches = store.read(subset.masses.index.to_numpy())
    else:
        patches, _ = training_patches(store, fold, k, cfg.seed)
    out = Path(out) if out else run_dir(params["artifacts"], fold, k)
    run = Run("train_gan", {**params, "fold": fold, "k": k})
    evaluator = make_evaluator(params["evaluator"], patches, params["eval_samples"], cfg.seed,
                               cache_dir=Path(params["artifacts"]) / "cache", device=pick_device(cfg.device))
    trained_before = is_finished(cfg, patches, out)
    result = fit(cfg, patches, out, evaluator=evaluator, resume=resume, progress=progress)
    if int(os.environ.get("RANK", "0")) == 0 and not trained_before:
        if subset is not None:
            result.summary["masses_hash"] = subset.mass_hash
            write_json(out / "summary.json", result.summary)
        run.write(out, n_train=len(patches), evaluator=evaluator.name, result=result.summary)
    return result


def main(argv: list[str] | None = None) -> TrainResult:
    p = argparse.ArgumentParser(description="Train the thesis' DCGAN on one fold's training masses.")
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
    result = train_run(params, args.fold, args.k, out=args.out, resume=resume, progress=not args.no_progress)
    if dist.is_initialized():
        dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
