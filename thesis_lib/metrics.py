"""Distances between image sets.

:func:`frechet_distance` is the distance between two Gaussians fitted to features (the
formula behind FID, Heusel et al. 2017), computed in float64 with the trace term taken from
eigenvalues rather than a matrix square root. :class:`PixelFrechet` applies it to coarse pixel
features: a cheap model-selection score for GAN training, **not** FID.
"""

from __future__ import annotations

import numpy as np
import torch


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of (n, d) features, in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must be (n >= 2, d), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``.

    ``tr((S1 S2)^(1/2))`` is the sum of the square roots of the eigenvalues of ``S1 S2``, which
    are real and non-negative for covariance matrices (tiny negative or complex parts from
    round-off are dropped).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: {mu1.shape} vs {mu2.shape}, {sigma1.shape} vs {sigma2.shape}")
    eig = np.linalg.eigvals(sigma1 @ sigma2)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_sqrt)


def pooled_pixels(images: np.ndarray | torch.Tensor, pool: int = 8) -> np.ndarray:
    """(n, 128, 128) images (uint8 or float in [-1, 1]) -> (n, (128/pool)^2) block means in [0, 1]."""
    x = torch.as_tensor(images)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else (x.float() + 1.0) / 2.0
    x = x.reshape(x.shape[0], 1, *x.shape[-2:])
    return torch.nn.functional.avg_pool2d(x, pool).flatten(1).numpy()


class PixelFrechet:
    """Fréchet distance between real patches and a generator's samples on 16 x 16 block means.

    Cheap (no network) and monotone enough to pick a checkpoint; label it as a pixel Fréchet
    distance, never as FID. Samples come from a private RNG, so scoring leaves training
    randomness untouched.
    """

    name = "pixel Fréchet distance (16 x 16 block means)"

    def __init__(self, real: np.ndarray, n_samples: int = 512, seed: int = 0, pool: int = 8):
        self.mu, self.sigma = gaussian_stats(pooled_pixels(real, pool))
        self.n_samples, self.seed, self.pool = n_samples, seed, pool

    @torch.no_grad()
    def __call__(self, generator: torch.nn.Module) -> float:
        device = next(generator.parameters()).device
        rng = torch.Generator(device="cpu").manual_seed(self.seed)
        z = torch.randn(self.n_samples, generator.nz, generator=rng).to(device)
        was_training = generator.training
        generator.eval()
        fake = torch.cat([generator(chunk).float().cpu() for chunk in z.split(256)])
        generator.train(was_training)
        mu, sigma = gaussian_stats(pooled_pixels(fake, self.pool))
        return frechet_distance(self.mu, self.sigma, mu, sigma)
