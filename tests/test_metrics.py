import numpy as np
import pytest
import scipy.linalg
import torch

from thesis_lib.evaluation.metrics import PixelFrechet, frechet_distance, frechet_from_features, gaussian_stats, pooled_pixels


def _reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("d", [3, 64])
def test_frechet_matches_sqrtm(d):
    rng = np.random.default_rng(d)
    a, b = rng.normal(size=(500, d)), rng.normal(0.3, 1.2, size=(400, d)) @ rng.normal(size=(d, d)) * 0.3
    args = (*gaussian_stats(a), *gaussian_stats(b))
    assert frechet_distance(*args) == pytest.approx(_reference(*args), rel=1e-6)


@pytest.mark.parametrize("n1, n2", [(30, 40), (64, 20), (200, 300)])
def test_frechet_from_features_matches_the_covariance_route(n1, n2):
    """Fewer samples than dimensions (the small-N FIDs of the book) go through the n1 x n2
    cross-product; the result is the covariance formula's, including at full rank."""
    rng = np.random.default_rng(n1)
    mix = rng.normal(size=(64, 64))
    a, b = rng.normal(size=(n1, 64)) @ mix, np.abs(rng.normal(0.5, 1.0, size=(n2, 64)) @ mix)
    expected = _reference(*gaussian_stats(a), *gaussian_stats(b))
    assert frechet_from_features(a, b) == pytest.approx(expected, rel=1e-7)
    assert frechet_from_features(a, a) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="same d"):
        frechet_from_features(a, b[:, :10])


def test_frechet_known_values():
    eye = np.eye(4)
    assert frechet_distance(np.zeros(4), eye, np.zeros(4), eye) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(np.zeros(4), eye, np.ones(4), eye) == pytest.approx(4.0)
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    assert frechet_distance(np.array([0.0]), [[4.0]], np.array([1.0]), [[1.0]]) == pytest.approx(1 + 1)
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_pixel_frechet_prefers_the_real_distribution():
    rng = np.random.default_rng(0)
    real = rng.integers(100, 156, (300, 128, 128)).astype(np.uint8)
    assert pooled_pixels(real).shape == (300, 256)
    assert np.allclose(pooled_pixels(torch.zeros(2, 1, 128, 128)), 0.5)  # [-1, 1] -> [0, 1]

    class Const(torch.nn.Module):
        nz = 4

        def __init__(self, level):
            super().__init__()
            self.level = torch.nn.Parameter(torch.tensor(level))

        def forward(self, z):
            return self.level + 0.1 * torch.randn(z.shape[0], 1, 128, 128, generator=torch.Generator().manual_seed(1))

    score = PixelFrechet(real, n_samples=200)
    assert score(Const(0.0)) < score(Const(0.8))  # mid-grey is closer to real patches than white


def _textured(n, size=64, seed=0):
    """Smooth blobs with pixel noise: a stand-in for mass patches with texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    blobs = [np.exp(-((yy - rng.uniform(20, 44)) ** 2 + (xx - rng.uniform(20, 44)) ** 2) / rng.uniform(60, 200))
             for _ in range(n)]
    return np.stack([(80 + 100 * b + rng.normal(0, 8, b.shape)).clip(0, 255) for b in blobs]).astype(np.uint8)


def _checkerboard(images, amplitude=12):
    size = images.shape[-1]
    pattern = amplitude * ((np.indices((size, size)).sum(0) % 2) * 2 - 1)
    return (images.astype(float) + pattern).clip(0, 255).astype(np.uint8)


def test_radial_spectra_tell_noise_from_smooth_images():
    from thesis_lib.evaluation.metrics import radial_spectra

    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (4, 64, 64)).astype(np.uint8)
    smooth = np.repeat(np.linspace(0, 255, 64)[None, None, :], 4, axis=0).repeat(64, axis=1).astype(np.uint8)
    ns, ss = radial_spectra(noise), radial_spectra(smooth)
    assert ns.shape == ss.shape and ns.shape[1] >= 8
    assert abs(ns[:, -1].mean() - ns[:, 2].mean()) < 0.5  # white: flat
    assert ss[:, 1].mean() - ss[:, -1].mean() > 3  # a ramp: power at low frequencies only


def test_spectrum_check_flags_checkerboards_and_blur_but_not_real_patches():
    from scipy.ndimage import gaussian_filter

    from thesis_lib.evaluation.metrics import spectrum_check

    real, other = _textured(200, seed=2), _textured(100, seed=3)
    assert spectrum_check(real, other)["within"]
    board = spectrum_check(real, _checkerboard(other))
    assert not board["within"] and board["excess"] > 0.3
    blurred = np.stack([gaussian_filter(im.astype(float), 1.5) for im in other]).astype(np.uint8)
    assert not spectrum_check(real, blurred)["within"]


def test_texture_frechet_sees_what_block_means_miss():
    from thesis_lib.evaluation.metrics import TextureFrechet

    real = _textured(300, seed=4)

    class Replay(torch.nn.Module):  # "generates" a fixed set of patches
        nz = 4

        def __init__(self, images):
            super().__init__()
            self.images = torch.from_numpy(images).float().div(127.5).sub(1.0).unsqueeze(1)
            self.anchor = torch.nn.Parameter(torch.zeros(()))

        def forward(self, z):
            return self.images[: z.shape[0]] + 0 * self.anchor

    honest, board = Replay(_textured(200, seed=5)), Replay(_checkerboard(_textured(200, seed=5)))
    pixel, texture = PixelFrechet(real, n_samples=200, pool=8), TextureFrechet(real, n_samples=200)
    assert pixel(board) == pytest.approx(pixel(honest), rel=0.05)  # 8 x 8 block means cancel the pattern
    assert texture(board) > 3 * texture(honest)
