import numpy as np
import pytest
import scipy.linalg
import torch

from thesis_lib.metrics import PixelFrechet, frechet_distance, gaussian_stats, pooled_pixels


def _reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("d", [3, 64])
def test_frechet_matches_sqrtm(d):
    rng = np.random.default_rng(d)
    a, b = rng.normal(size=(500, d)), rng.normal(0.3, 1.2, size=(400, d)) @ rng.normal(size=(d, d)) * 0.3
    args = (*gaussian_stats(a), *gaussian_stats(b))
    assert frechet_distance(*args) == pytest.approx(_reference(*args), rel=1e-6)


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
