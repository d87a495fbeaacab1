"""One training iteration of the DCGAN, on one screen: the seven steps of the methods chapter.

(1) draw a batch of latent vectors; (2) generate fakes; (3) score the real batch and the
detached fakes with D; (4) D's loss; (5) update D; (6) score the fakes with the updated D and
compute G's non-saturating loss; (7) update G. Around it: the real batch's flips and jitter
(:func:`augment`), D's inputs through ``d_input`` (DiffAugment or the identity) and the moving
average of G (:func:`ema_update`).
"""

from __future__ import annotations

from typing import Callable, ContextManager

import torch
import torch.nn.functional as F
from torch import nn

from thesis_lib.models.dcgan import Generator


# What one iteration reports, in this order: D's and G's losses and D's mean outputs D(x),
# D(G(z)) before and after D's update (probabilities in [0, 1]).
STEP_VALUES = ("loss_d", "loss_g", "d_x", "d_gz1", "d_gz2")


def train_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               real: torch.Tensor, z: torch.Tensor, real_label: float,
               d_input: Callable[[torch.Tensor], torch.Tensor], autocast: Callable[[], ContextManager]) -> torch.Tensor:
    """One iteration on ``real`` ((B, 1, S, S) in [-1, 1]) and latent vectors ``z`` ((B, nz));
    ``real_label`` is the smoothed label of real patches (the thesis: U[0.7, 1.0] per epoch).

    Returns the :data:`STEP_VALUES` as one detached float32 tensor of shape (5,) on the
    device: nothing is read back to the host, so the host never waits for the device here."""
    opt_d.zero_grad(set_to_none=True)
    with autocast():
        fake = G(z)  # (1-2) latent batch -> fakes
        out_real = D(d_input(real))  # (3) D on the real batch
        loss_real = bce(out_real, real_label)  # (4) D's loss, real half
    loss_real.backward()
    with autocast():
        out_fake = D(d_input(fake.detach()))  # (3) D on the detached fakes
        loss_fake = bce(out_fake, 0.0)  # (4) D's loss, generated half
    loss_fake.backward()
    opt_d.step()  # (5) update D
    opt_g.zero_grad(set_to_none=True)
    with autocast():
        out_g = D(d_input(fake))  # (6) the updated D on the fakes, G's non-saturating loss
        loss_g = bce(out_g, 1.0)
    loss_g.backward()
    opt_g.step()  # (7) update G
    return torch.stack([(loss_real + loss_fake).detach(), loss_g.detach(),
                        *mean_probabilities(out_real, out_fake, out_g)])


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits, target, dtype=torch.float32))


def mean_probabilities(*logits: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Mean sigmoid of each logit tensor (0-d, detached, on its device): D(x), D(G(z)) before
    and after D's update."""
    return tuple(torch.sigmoid(o.detach().float()).mean() for o in logits)


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


@torch.no_grad()
def ema_update(average: Generator, G: Generator, decay: float) -> None:
    """average <- decay x average + (1 - decay) x G, parameter by parameter."""
    torch._foreach_lerp_(list(average.parameters()), list(G.parameters()), 1.0 - decay)
