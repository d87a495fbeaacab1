"""The thesis' 128 x 128 DCGAN (Radford et al. 2016; Alyafi et al. 2020), and its 64 and 32 pixel
versions.

Generator: z (nz values, N(0, 1)) -> six transposed convolutions, kernel 4, no bias; the first
stride 1 padding 0, the rest stride 2 padding 1; channels 10, 8, 4, 2, 1 x ngf then 1; spatial
4, 8, 16, 32, 64, 128; BatchNorm + LeakyReLU(0.2) after each but the last, which is Tanh.

Discriminator: conv k4 s2 p1 + LeakyReLU(0.2); four conv k6 s2 p2 + BatchNorm + LeakyReLU(0.2)
with 2, 4, 8, 10 x ndf channels (the 6 x 6 kernels removed checkerboard artefacts); output conv
k4 s1 p0 giving one logit (the sigmoid lives in the loss). With ``ndf=9`` it is also the
thesis' evaluation classifier (9, 18, 36, 72, 90).

``image_size`` 64 (or 32) drops the generator's widest block (two) and the discriminator's
widest (two): channels 8, 4, 2, 1 x ngf and 1, 2, 4, 8 x ndf at 64 pixels. The thesis' networks
are the 128-pixel ones; the smaller sizes serve the laptop profile.

Thesis widths (nz 200, ngf = ndf = 45): about 5.4 M and 8.9 M parameters.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

IMAGE_SIZES = (32, 64, 128)
G_MULTIPLIERS = (10, 8, 4, 2, 1)  # the thesis' generator at 128 pixels, widest block first
D_MULTIPLIERS = (1, 2, 4, 8, 10)  # the thesis' discriminator at 128 pixels, widest block last


def n_blocks(image_size: int) -> int:
    """Stride-2 blocks between 4 x 4 and ``image_size`` (5 at 128), after checking the size."""
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size={image_size}: expected one of {IMAGE_SIZES}")
    return image_size.bit_length() - 3


class Generator(nn.Module):
    """(B, nz) or (B, nz, 1, 1) noise -> (B, 1, S, S) images in [-1, 1], S = ``image_size``."""

    def __init__(self, nz: int = 200, ngf: int = 45, image_size: int = 128):
        super().__init__()
        if nz < 1 or ngf < 1:
            raise ValueError(f"nz={nz}, ngf={ngf}: both must be >= 1")
        self.nz, self.image_size = nz, image_size
        widths = [nz] + [m * ngf for m in G_MULTIPLIERS[len(G_MULTIPLIERS) - n_blocks(image_size):]]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            stride, pad = (1, 0) if i == 0 else (2, 1)
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False),
                       nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    """(B, 1, S, S) images, S = ``image_size`` -> (B,) logits (real > 0)."""

    def __init__(self, ndf: int = 45, image_size: int = 128):
        super().__init__()
        if ndf < 1:
            raise ValueError(f"ndf={ndf}: must be >= 1")
        self.image_size = image_size
        widths = [m * ndf for m in D_MULTIPLIERS[:n_blocks(image_size)]]
        layers: list[nn.Module] = [nn.Conv2d(1, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(cin, cout, 6, 2, 2, bias=False), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f"expected (B, 1, {self.image_size}, {self.image_size}) images, got {tuple(x.shape)}")
        return self.net(x).flatten()


@torch.no_grad()
def refresh_batchnorm(G: Generator, n_batches: int = 8, batch_size: int = 64, seed: int = 0) -> None:
    """Recompute G's BatchNorm running statistics from ``n_batches`` of its own samples (a
    cumulative average; latent vectors from a private RNG). Weights that were never trained as
    such, an exponential moving average of G's, need this before G is sampled in eval mode."""
    norms = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was_training = G.training
    G.train()
    rng = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    for _ in range(n_batches):
        G(torch.randn(batch_size, G.nz, generator=rng).to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    G.train(was_training)


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def n_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def layer_table(model: nn.Module, example: torch.Tensor) -> pd.DataFrame:
    """One row per (transposed) convolution: kernel/stride/padding, output shape (C x H x W) and
    parameters (its BatchNorm's included)."""
    rows, hooks = [], []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            def hook(mod, _inp, out):
                rows.append({"operation": f"{type(mod).__name__} k{mod.kernel_size[0]} s{mod.stride[0]} "
                                          f"p{mod.padding[0]}",
                             "output": " x ".join(map(str, out.shape[1:])),
                             "parameters": sum(p.numel() for p in mod.parameters())})
            hooks.append(module.register_forward_hook(hook))
        elif isinstance(module, nn.BatchNorm2d):
            hooks.append(module.register_forward_hook(
                lambda mod, _i, _o: rows[-1].update(parameters=rows[-1]["parameters"] + mod.weight.numel() * 2)))
    was = model.training
    model.eval()
    with torch.no_grad():
        model(example)
    model.train(was)
    for h in hooks:
        h.remove()
    return pd.DataFrame(rows)
