"""Differentiable augmentation of the discriminator's inputs (DiffAugment; Zhao et al. 2020).

With few real images D memorises them and stops teaching G. DiffAugment shows D only
augmented images, real and generated alike, with transforms that gradients flow through, so G
is trained through the same transforms and does not learn to draw them. Policies (any subset,
comma-separated, applied in this order):

- ``color``: brightness shift U[-0.5, 0.5] x strength and contrast factor
  U[1 - 0.5 s, 1 + 0.5 s] around each image's mean (grey images: no saturation);
- ``translation``: shift by up to 1/8 x strength of the image side in each direction, zeros
  shifted in;
- ``cutout``: one square of side 1/2 x strength of the image set to zero (the value of a
  mid-grey pixel in [-1, 1] is 0).

Each image draws its own parameters from torch's global RNG, so a resumed run repeats them.
``p`` applies the policy to each image with that probability (1: always, as DiffAugment does).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation"`` -> ``("color", "translation")``; an unknown name is an error."""
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    unknown = sorted(set(names) - set(POLICIES))
    if unknown:
        raise ValueError(f"diffaugment={policy!r}: unknown {unknown}; expected a comma-separated subset of {POLICIES}")
    return names


def _color(x: torch.Tensor, s: float) -> torch.Tensor:
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5) * s
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    factor = 1.0 + (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5) * s
    return (x - mean) * factor + mean


def _translation(x: torch.Tensor, s: float) -> torch.Tensor:
    b, _, h, w = x.shape
    sy, sx = int(h * s / 8 + 0.5), int(w * s / 8 + 0.5)
    if not sy and not sx:
        return x
    ty = torch.randint(-sy, sy + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sx, sx + 1, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy.unsqueeze(0) - ty + sy).clamp(0, h + 2 * sy - 1)  # index into the zero-padded image
    gx = (gx.unsqueeze(0) - tx + sx).clamp(0, w + 2 * sx - 1)
    padded = F.pad(x, (sx, sx, sy, sy))
    index = (gy * (w + 2 * sx) + gx).view(b, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, index).view_as(x)


def _cutout(x: torch.Tensor, s: float) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = int(h * s / 2 + 0.5), int(w * s / 2 + 0.5)
    if not ch or not cw:
        return x
    cy = torch.randint(0, h + 1 - ch % 2, (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + 1 - cw % 2, (b, 1, 1), device=x.device)
    gy = torch.arange(h, device=x.device).view(1, h, 1)
    gx = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((gy >= cy - ch // 2) & (gy < cy - ch // 2 + ch)) & ((gx >= cx - cw // 2) & (gx < cx - cw // 2 + cw))
    return x * (~inside).unsqueeze(1).to(x.dtype)


TRANSFORMS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], strength: float = 1.0, p: float = 1.0) -> torch.Tensor:
    """(B, C, H, W) images in [-1, 1] -> the same shape, each image transformed by ``policy``
    with probability ``p``; differentiable with respect to ``x``."""
    if not policy or p <= 0.0:
        return x
    out = x
    for name in policy:
        out = TRANSFORMS[name](out, strength)
    if p >= 1.0:
        return out
    keep = (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p).to(x.dtype)
    return keep * out + (1.0 - keep) * x
