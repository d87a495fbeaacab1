"""The thesis' evaluation classifier: mass versus normal tissue on 128 x 128 patches (64 x 64
in the laptop profile).

The network is the discriminator's design with channels 9, 18, 36, 72, 90 and one logit
(:class:`thesis_lib.models.dcgan.Discriminator` with ``ndf=9``; at 64 pixels 9, 18, 36, 72).
Training follows the thesis:
BCEWithLogitsLoss, Adam with weight decay 5e-4 and StepLR (gamma 0.95 per epoch), batch 64,
20 epochs, random horizontal and vertical flips on the fly when asked (the "Aug" approaches).

An epoch is one pass over the training set, or ``steps_per_epoch`` optimiser steps when set:
the augmentation study sets it equal for every arm, so an arm with more positives does not take
more steps (the batches then run through successive shuffles of its set).

The epoch kept is the one with the best validation score ``select_on``: the thesis kept the
best validation F1 at threshold 0.5 (``"f1"``, the first of equals), which is 0 at every epoch
while a classifier of a rare class calls nothing a mass, so every epoch tied and the first was
kept; the default ``"auc"`` ranks epochs by a threshold-free score, and of equal scores the
later (longer-trained) epoch is kept. With ``patience`` > 0 training stops after that many
epochs without a score as good (``epochs`` is then the cap).

Its pooled last-layer features (90 values) also serve as *domain features*: a Fréchet distance
on them compares real and generated patches as a network trained on mammographic patches sees
them. That distance is labelled as such, never as FID.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score, roc_auc_score

from thesis_lib.devices import pick_device
from thesis_lib.models.dcgan import Discriminator, init_weights
from thesis_lib.training.gan_step import augment


@dataclass(frozen=True)
class ClassifierConfig:
    """The mass-vs-normal classifier's training (defaults: the thesis' evaluation network)."""

    ndf: int = 9
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 5e-4
    step_gamma: float = 0.95
    flips: bool = False
    seed: int = 0
    device: str = "auto"  # auto (the GPU when there is one) | cpu | cuda | mps
    select_on: str = "auc"  # the validation score that picks the kept epoch: auc | f1 (the thesis: F1 at 0.5)
    patience: int = 0  # epochs without a better validation score before stopping (0: train all epochs)
    steps_per_epoch: int = 0  # optimiser steps per epoch, whatever the training set's size (0: one pass over it)

    def __post_init__(self):
        for name in ("ndf", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 1")
        if self.select_on not in ("auc", "f1"):
            raise ValueError(f"select_on={self.select_on!r}: expected 'auc' or 'f1'")
        if self.patience < 0:
            raise ValueError(f"patience={self.patience}: must be >= 0 (0: no early stop)")
        if self.steps_per_epoch < 0:
            raise ValueError(f"steps_per_epoch={self.steps_per_epoch}: must be >= 0 (0: one pass over the data)")


@dataclass
class TrainedClassifier:
    model: Discriminator
    best_epoch: int
    best_val_f1: float  # validation F1 at 0.5 of the kept epoch
    history: pd.DataFrame  # epoch, loss, val_f1, val_auc
    best_val_auc: float = float("nan")  # validation AUC of the kept epoch


def _check(x: np.ndarray, y: np.ndarray, name: str, size: int) -> None:
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (size, size):
        raise ValueError(f"{name}: patches must be uint8 (N, {size}, {size}), got {x.dtype} {x.shape}")
    if len(x) != len(y) or not set(np.unique(y)) <= {0, 1}:
        raise ValueError(f"{name}: need one 0/1 label per patch")


def train_classifier(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                     cfg: ClassifierConfig) -> TrainedClassifier:
    """Train on uint8 (N, S, S) patches with 0/1 labels (1 = mass), S one of the networks' sizes
    (128, 64, 32); keep the epoch with the best validation ``cfg.select_on`` score (the last of
    equals: the longer-trained one; the last epoch when the validation set is empty or its score
    undefined), stopping early after ``cfg.patience`` epochs without one as good."""
    size = x_train.shape[-1] if x_train.ndim == 3 else 128
    _check(x_train, y_train, "training set", size)
    if len(x_val):
        _check(x_val, y_val, "validation set", size)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = Discriminator(cfg.ndf, size).to(device, memory_format=torch.channels_last)
    model.apply(init_weights)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=device.type == "cuda")
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, cfg.step_gamma)
    data = torch.from_numpy(x_train).to(device)
    labels = torch.from_numpy(np.asarray(y_train, np.float32)).to(device)
    order_rng = torch.Generator().manual_seed(cfg.seed)
    y_val = np.asarray(y_val, int)
    best = {"score": -np.inf, "epoch": 0, "state": None, "row": None}
    rows = []
    steps = cfg.steps_per_epoch or -(-len(data) // cfg.batch_size)
    stream = _batches(len(data), cfg.batch_size, order_rng)
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        losses = []
        for _ in range(steps):
            idx = next(stream).to(device)
            x = augment(data[idx], cfg.flips, 0.0).contiguous(memory_format=torch.channels_last)
            loss = F.binary_cross_entropy_with_logits(model(x), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.detach())  # read once per epoch: no host wait per iteration
        sched.step()
        row = {"epoch": epoch, "loss": torch.stack(losses).mean().item(), **validation_scores(model, x_val, y_val)}
        rows.append(row)
        score = row[f"val_{cfg.select_on}"]
        if best["state"] is None or (np.isfinite(score) and score >= best["score"]) or not np.isfinite(best["score"]):
            best = {"score": score if np.isfinite(score) else -np.inf, "epoch": epoch,
                    "state": copy.deepcopy(model.state_dict()), "row": row}
        elif cfg.patience and epoch - best["epoch"] >= cfg.patience:
            break
    model.load_state_dict(best["state"])
    return TrainedClassifier(model.eval(), best["epoch"], best["row"]["val_f1"], pd.DataFrame(rows),
                             best["row"]["val_auc"])


def _batches(n: int, batch_size: int, rng: torch.Generator):
    """Index batches (at most ``batch_size`` each) through successive random permutations of
    ``range(n)``, without end: a batch does not cross two permutations, so each shuffle ends
    with its own short batch, as a plain pass over the data does."""
    while True:
        order = torch.randperm(n, generator=rng)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


def validation_scores(model: Discriminator, x_val: np.ndarray, y_val: np.ndarray) -> dict[str, float]:
    """``val_f1`` (at 0.5) and ``val_auc`` of ``model`` on the validation set; NaN when it is
    empty (both) or holds one class (AUC)."""
    if not len(x_val):
        return {"val_f1": float("nan"), "val_auc": float("nan")}
    proba = predict_proba(model, x_val)
    auc = roc_auc_score(y_val, proba) if len(np.unique(y_val)) == 2 else float("nan")
    return {"val_f1": float(f1_score(y_val, proba >= 0.5, zero_division=0.0)), "val_auc": float(auc)}


@torch.no_grad()
def predict_proba(model: Discriminator, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """P(mass) for each uint8 patch, as (N,) float64."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    out = [torch.sigmoid(model(augment(torch.from_numpy(x[i : i + batch_size]).to(device), False, 0.0)))
           for i in range(0, len(x), batch_size)]
    model.train(was)
    return torch.cat(out).double().cpu().numpy() if out else np.zeros(0)


@torch.no_grad()
def domain_features(model: Discriminator, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """(N, C) features: the last hidden layer's activations (C = 10 x ndf channels at 128 pixels, 4 x 4),
    averaged over space."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    body = model.net[:-1]  # everything but the output convolution
    out = [body(augment(torch.from_numpy(x[i : i + batch_size]).to(device), False, 0.0)).mean(dim=(2, 3))
           for i in range(0, len(x), batch_size)]
    model.train(was)
    return torch.cat(out).double().cpu().numpy()
