"""The thesis' 128 x 128 DCGAN (Radford et al. 2016; Alyafi et al. 2020).

Generator: z (nz values, N(0, 1)) -> six transposed convolutions, kernel 4, no bias; the first
stride 1 padding 0, the rest stride 2 padding 1; channels 10, 8, 4, 2, 1 x ngf then 1; spatial
4, 8, 16, 32, 64, 128; BatchNorm + LeakyReLU(0.2) after each but the last, which is Tanh.

Discriminator: conv k4 s2 p1 + LeakyReLU(0.2); four conv k6 s2 p2 + BatchNorm + LeakyReLU(0.2)
with 2, 4, 8, 10 x ndf channels (the 6 x 6 kernels removed checkerboard artefacts); output conv
k4 s1 p0 giving one logit (the sigmoid lives in the loss). With ``ndf=9`` and
``first_channels=9`` it is also the thesis' evaluation classifier (9, 18, 36, 72, 90).

Thesis widths (nz 200, ngf = ndf = 45): about 5.4 M and 8.9 M parameters.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SIZE = 128


class Generator(nn.Module):
    """(B, nz) or (B, nz, 1, 1) noise -> (B, 1, 128, 128) images in [-1, 1]."""

    def __init__(self, nz: int = 200, ngf: int = 45):
        super().__init__()
        if nz < 1 or ngf < 1:
            raise ValueError(f"nz={nz}, ngf={ngf}: both must be >= 1")
        self.nz = nz
        widths = [nz, 10 * ngf, 8 * ngf, 4 * ngf, 2 * ngf, ngf]
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
    """(B, 1, 128, 128) images -> (B,) logits (real > 0)."""

    def __init__(self, ndf: int = 45, multipliers: tuple[int, ...] = (1, 2, 4, 8, 10)):
        super().__init__()
        if ndf < 1:
            raise ValueError(f"ndf={ndf}: must be >= 1")
        widths = [m * ndf for m in multipliers]
        layers: list[nn.Module] = [nn.Conv2d(1, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(cin, cout, 6, 2, 2, bias=False), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"expected (B, 1, {IMAGE_SIZE}, {IMAGE_SIZE}) images, got {tuple(x.shape)}")
        return self.net(x).flatten()


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


def layer_table(model: nn.Module, example: torch.Tensor) -> "pandas.DataFrame":
    """One row per (transposed) convolution: kernel/stride/padding, output shape (C x H x W) and
    parameters (its BatchNorm's included)."""
    import pandas as pd

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
