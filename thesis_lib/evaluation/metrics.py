"""Distances between image sets.

:func:`frechet_distance` is the distance between two Gaussians fitted to features (the
formula behind FID, Heusel et al. 2017), computed in float64 with the trace term taken from
eigenvalues rather than a matrix square root. On Inception features (:mod:`thesis_lib.evaluation.inception`)
it is FID (:func:`fid_from_features`); beside it: KID, precision and recall, the real-real floor
and FID-infinity. For model selection during training, :class:`FIDEvaluator` and, cheaper,
:class:`PixelFrechet`, a Fréchet distance on coarse pixel features that is **not** FID.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from thesis_lib.evaluation.inception import InceptionFeatures, cached_features
from thesis_lib.models.generate import sample, sample_on_device

HIGH_FREQUENCY = 0.25  # cycles/pixel above which spectrum_check looks for checkerboard artefacts


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


def frechet_from_features(x1: np.ndarray, x2: np.ndarray) -> float:
    """:func:`frechet_distance` between the Gaussians fitted to (n1, d) and (n2, d) features,
    computed without a d x d matrix when there are fewer samples than dimensions.

    With centred features X1, X2, the non-zero eigenvalues of ``S1 S2`` are the squared singular
    values of ``X1 X2^T / sqrt((n1 - 1)(n2 - 1))`` (an n1 x n2 matrix), so ``tr((S1 S2)^(1/2))``
    is their sum: exact, and for 100 samples of 2,048 features about 1,000 times faster than
    the eigenvalues of the 2,048 x 2,048 product (``benchmarks/bench_fid.py``).
    """
    x1, x2 = (np.asarray(x, dtype=np.float64) for x in (x1, x2))
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1] or min(len(x1), len(x2)) < 2:
        raise ValueError(f"features must be (n >= 2, d) with the same d, got {x1.shape} and {x2.shape}")
    if min(len(x1), len(x2)) > x1.shape[1]:  # full rank: the d x d route is the smaller one
        return frechet_distance(*gaussian_stats(x1), *gaussian_stats(x2))
    c1, c2 = x1 - x1.mean(axis=0), x2 - x2.mean(axis=0)
    scale1, scale2 = len(x1) - 1, len(x2) - 1
    tr_sqrt = np.linalg.svd(c1 @ c2.T, compute_uv=False).sum() / np.sqrt(scale1 * scale2)
    diff = x1.mean(axis=0) - x2.mean(axis=0)
    return float(diff @ diff + (c1 * c1).sum() / scale1 + (c2 * c2).sum() / scale2 - 2.0 * tr_sqrt)


def pooled_pixels(images: np.ndarray | torch.Tensor, pool: int = 8) -> np.ndarray:
    """(n, S, S) images (uint8 or float in [-1, 1]) -> (n, (S/pool)^2) block means in [0, 1]."""
    x = torch.as_tensor(images)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else (x.float() + 1.0) / 2.0
    x = x.reshape(x.shape[0], 1, *x.shape[-2:])
    return torch.nn.functional.avg_pool2d(x, pool).flatten(1).numpy()


class PixelFrechet:
    """Fréchet distance between real patches and a generator's samples on block means (16 x 16
    blocks of a 128-pixel patch with the default ``pool``).

    Cheap (no network) and monotone enough to pick a checkpoint; label it as a pixel Fréchet
    distance, never as FID. Samples come from a private RNG, so scoring leaves training
    randomness untouched.
    """

    def __init__(self, real: np.ndarray, n_samples: int = 512, seed: int = 0, pool: int = 8):
        side = np.asarray(real).shape[-1] // pool
        self.name = f"pixel Fréchet distance ({side} x {side} block means)"
        self.mu, self.sigma = gaussian_stats(pooled_pixels(real, pool))
        self.n_samples, self.seed, self.pool = n_samples, seed, pool

    def __call__(self, generator: torch.nn.Module) -> float:
        fake = pooled_pixels(sample(generator, self.n_samples, self.seed), self.pool)
        return frechet_distance(self.mu, self.sigma, *gaussian_stats(fake))


def radial_spectra(images: np.ndarray | torch.Tensor, n_bins: int = 12) -> np.ndarray:
    """(n, S, S) images (uint8 or float in [-1, 1]) -> (n, m) log10 ring-averaged power spectra,
    m <= ``n_bins`` rings log-spaced from 1/S cycles/pixel to the FFT's corner, sqrt(2) / 2 (so the
    (0.5, 0.5) frequency of a pixel checkerboard is counted; empty rings dropped): each
    image's mean removed and a Hann window applied before the 2-D FFT. Grey levels in [0, 1]."""
    x = torch.as_tensor(images)
    x = x.double() / 255.0 if x.dtype == torch.uint8 else (x.double() + 1.0) / 2.0
    x = x.reshape(x.shape[0], *x.shape[-2:])
    size = x.shape[-1]
    window = torch.hann_window(size, periodic=False, dtype=torch.float64)
    x = (x - x.mean(dim=(1, 2), keepdim=True)) * window[:, None] * window[None, :]
    power = torch.fft.fft2(x).abs().square().flatten(1)
    ring, _ = _rings(size, n_bins)
    return torch.log10(power @ torch.from_numpy(ring) + 1e-20).numpy()


def _rings(size: int, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(size * size, m) weights averaging an FFT's power over each non-empty ring, and the (m,)
    mean frequency of each ring in cycles/pixel."""
    freq = np.fft.fftfreq(size)
    f = np.hypot(*np.meshgrid(freq, freq, indexing="ij")).ravel()
    which = np.digitize(f, np.geomspace(1.0 / size, np.sqrt(0.5) + 1e-9, n_bins + 1)) - 1
    onehot = (which[:, None] == np.arange(n_bins)[None, :]).astype(np.float64)
    onehot = onehot[:, onehot.sum(0) > 0]
    weights = onehot / onehot.sum(0)
    return weights, f @ weights


def spectrum_check(real: np.ndarray, fake: np.ndarray, high: float = HIGH_FREQUENCY, level: float = 0.95) -> dict:
    """Whether the generated patches' mean power spectrum stays inside the real patches' range
    at high frequencies (above ``high`` cycles/pixel), where checkerboard artefacts of transposed
    convolutions show. The range of each ring is the central ``level`` of the real patches'
    values; ``excess`` is how far (in log10 power, "dex") the mean generated spectrum leaves it
    at worst (0 inside)."""
    _, centres = _rings(np.shape(real)[-1], 12)
    real_s, fake_s = radial_spectra(real), radial_spectra(fake).mean(axis=0)
    lo, hi = np.quantile(real_s, [(1 - level) / 2, (1 + level) / 2], axis=0)
    sel = centres > high
    excess = np.maximum(fake_s - hi, lo - fake_s)[sel]
    return {"within": bool((excess <= 0).all()), "excess": float(max(excess.max(), 0.0)),
            "rings": int(sel.sum()), "above": high}


class TextureFrechet:
    """Fréchet distance between real patches and a generator's samples on block means (shape and
    brightness) and ring-averaged power spectra (texture, noise, checkerboards), each feature
    standardised by the real patches' spread. For model selection: cheap, and it sees the high
    frequencies that block means average away; not FID."""

    name = "texture Fréchet distance (block means and power spectra)"

    def __init__(self, real: np.ndarray, n_samples: int = 512, seed: int = 0, pool: int = 8):
        self.n_samples, self.seed, self.pool = n_samples, seed, pool
        feats = self._features(real)
        self.centre, self.scale = feats.mean(0), feats.std(0) + 1e-8
        self.mu, self.sigma = gaussian_stats((feats - self.centre) / self.scale)

    def _features(self, images) -> np.ndarray:
        return np.concatenate([pooled_pixels(images, self.pool), radial_spectra(images)], axis=1)

    def __call__(self, generator: torch.nn.Module) -> float:
        fake = (self._features(sample(generator, self.n_samples, self.seed)) - self.centre) / self.scale
        return frechet_distance(self.mu, self.sigma, *gaussian_stats(fake))


class FIDEvaluator:
    """FID of a generator's ``n_samples`` patches against the real patches, for model
    selection during training (the thesis: 2,000 samples every 10 epochs). Real features are
    computed once (and cached on disk when ``cache_dir`` is given).

    A score stays on the extractor's device from start to end: the samples are quantised to
    uint8 there (:func:`~thesis_lib.models.generate.sample_on_device`), embedded there, and the
    distance is taken there in float64 with the real side's ``S1^(1/2)`` computed once:
    ``tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2))``, the eigenvalues of an
    ``n x n`` (or ``d x d``, whichever is smaller) symmetric matrix. One number comes back."""

    name = "FID (Inception pool3)"

    def __init__(self, real: np.ndarray, n_samples: int = 2000, seed: int = 0, extractor=None,
                 cache_dir: str | None = None, device: str | torch.device = "auto"):
        self.extractor = extractor or InceptionFeatures(device=device)
        feats = cached_features(self.extractor, real, cache_dir) if cache_dir else self.extractor(real)
        mu, sigma = gaussian_stats(feats)
        dev = self.extractor.device
        self.mu = torch.from_numpy(mu).to(dev)
        self.trace_real = float(np.trace(sigma))
        eigenvalues, vectors = np.linalg.eigh(sigma)
        self.sqrt_sigma = torch.from_numpy((vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T).to(dev)
        self.n_samples, self.seed = n_samples, seed

    def __call__(self, generator: torch.nn.Module) -> float:
        """FID of ``generator``'s samples (``generator`` on the extractor's device)."""
        feats = self.extractor.on_device(sample_on_device(generator, self.n_samples, self.seed)).double()
        return float(self.distance(feats))

    def distance(self, feats: torch.Tensor) -> torch.Tensor:
        """FID of (n, 2048) features (float64, on the device) against the real side, a 0-d tensor."""
        n = feats.shape[0]
        mu = feats.mean(0)
        centred = feats - mu
        b = centred @ self.sqrt_sigma / np.sqrt(n - 1)  # S1^(1/2) S2 S1^(1/2) = b^T b
        gram = b @ b.T if n <= b.shape[1] else b.T @ b
        tr_sqrt = torch.linalg.eigvalsh(gram).clamp(min=0).sqrt().sum()
        diff = self.mu - mu
        return diff @ diff + self.trace_real + (centred * centred).sum() / (n - 1) - 2.0 * tr_sqrt


def make_evaluator(kind: str, real: np.ndarray, n_samples: int, seed: int = 0, cache_dir: str | None = None,
                   device: str | torch.device = "auto"):
    """The trainer's model-selection score: ``pixel`` (:class:`PixelFrechet`), ``texture``
    (:class:`TextureFrechet`), ``fid`` (its Inception network on ``device``, the trainer's), or
    ``last`` (None: no selection, the trainer keeps its last generator)."""
    if kind == "last":
        return None
    if kind == "pixel":
        return PixelFrechet(real, n_samples, seed)
    if kind == "texture":
        return TextureFrechet(real, n_samples, seed)
    if kind == "fid":
        return FIDEvaluator(real, n_samples, seed, cache_dir=cache_dir, device=device)
    raise ValueError(f"evaluator={kind!r}: expected 'pixel', 'texture', 'fid' or 'last'")


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> "FIDScore":
    """FID between two (n, 2048) Inception feature sets, with the sample sizes it rests on.

    Fewer samples than feature dimensions + 1 give a rank-deficient covariance and a biased
    (too high) score: a warning says so.
    """
    n_real, n_fake, d = len(real), len(fake), np.shape(real)[1]
    if min(n_real, n_fake) <= d:
        warnings.warn(f"FID on N = {n_real} real / {n_fake} generated samples with {d} features: the "
                      f"covariances are rank-deficient (N <= {d}) and the score is biased upwards; "
                      "compare it only with scores at the same N", stacklevel=2)
    return FIDScore(frechet_from_features(real, fake), n_real, n_fake)


class FIDScore(float):
    """A FID value that remembers its sample sizes: ``str`` prints them with the score."""

    def __new__(cls, value: float, n_real: int, n_fake: int):
        obj = super().__new__(cls, value)
        obj.n_real, obj.n_fake = n_real, n_fake
        return obj

    def __str__(self) -> str:
        return f"FID {float(self):.2f} (N = {self.n_real} real, {self.n_fake} generated)"


def kid(real: np.ndarray, fake: np.ndarray, n_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 estimate with the
    cubic polynomial kernel ``(x.y / d + 1)^3``, averaged over random subsets of
    ``min(subset_size, n)`` samples. Returns ``(mean, standard deviation)`` over subsets."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(real)} and {len(fake)}")
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = ((a @ b.T / d + 1.0) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(within - 2.0 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def _kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row of ``x`` to its k-th nearest other row."""
    return torch.cat([torch.cdist(chunk, x).kthvalue(k + 1, dim=1).values for chunk in x.split(1024)])


def _covered(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """For each point: does it fall inside any centre's ball?"""
    return torch.cat([(torch.cdist(chunk, centres) <= radii).any(dim=1) for chunk in points.split(1024)])


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of a generative model (Kynkaanniemi et al. 2019).

    Each set's manifold is the union of balls around its samples reaching their k-th nearest
    neighbour. Precision: the share of generated samples inside the real manifold (fidelity);
    recall: the share of real samples inside the generated manifold (coverage).
    """
    r, f = torch.as_tensor(real, dtype=torch.float64), torch.as_tensor(fake, dtype=torch.float64)
    if min(len(r), len(f)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples per set")
    precision = _covered(f, r, _kth_neighbour_radii(r, k)).double().mean().item()
    recall = _covered(r, f, _kth_neighbour_radii(f, k)).double().mean().item()
    return precision, recall


def fid_infinity(real: np.ndarray, fake: np.ndarray, n_points: int = 10, seed: int = 0) -> tuple[float, pd.DataFrame]:
    """FID extrapolated to infinitely many generated samples (Chong and Forsyth 2020).

    FID at N generated samples is close to linear in 1/N; it is computed on random subsets of
    N from ``len(fake) // 2`` to ``len(fake)``, a line is fitted against 1/N and its intercept
    returned, with the (N, FID) points. Needs ``len(fake) // 2`` above the feature dimension.
    """
    d = np.shape(fake)[1]
    if len(fake) // 2 <= d:
        raise ValueError(f"FID-infinity needs more than {2 * d} generated samples (2 x {d} features), "
                         f"got {len(fake)}")
    rng = np.random.default_rng(seed)
    mu_r, sigma_r = gaussian_stats(real)
    ns = np.linspace(len(fake) // 2, len(fake), n_points).astype(int)
    fids = [frechet_distance(mu_r, sigma_r, *gaussian_stats(fake[rng.choice(len(fake), n, replace=False)]))
            for n in ns]
    slope, intercept = np.polyfit(1.0 / ns, fids, 1)
    return float(intercept), pd.DataFrame({"n": ns, "fid": fids})
