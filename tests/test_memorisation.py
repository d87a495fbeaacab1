import numpy as np
import pytest
import torch

from thesis_lib.evaluation import memorisation
from thesis_lib.models.dcgan import Generator
from thesis_lib.models.generate import interpolate


def test_copies_are_flagged_and_far_samples_are_not():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (40, 16, 16)).astype(np.uint8)
    copies = train[:5].copy()
    copies[:, 0, 0] ^= 1  # near-exact copies
    chk = memorisation.check(train, copies, "pixels")
    assert list(chk.flagged) == [0, 1, 2, 3, 4] and list(chk.nearest_train) == [0, 1, 2, 3, 4]
    novel = rng.integers(0, 256, (5, 16, 16)).astype(np.uint8)
    assert len(memorisation.check(train, novel, "pixels").flagged) == 0
    summary = chk.summary()
    assert summary["flagged"] == 5 and summary["train"] == 40
    with pytest.raises(ValueError, match="at least 2"):
        memorisation.check(train[:1], copies, "pixels")


def test_nearest_excludes_self():
    x = np.array([[0.0], [1.0], [3.0]])
    d, i = memorisation.nearest(x, x, exclude_self=True)
    assert list(i) == [1, 0, 1] and list(d) == [1.0, 1.0, 2.0]


def test_interpolation_ends_at_its_two_latent_vectors():
    torch.manual_seed(0)
    G = Generator(8, 2).eval()
    strip = interpolate(G, steps=5, seed=3)
    assert strip.shape == (5, 128, 128) and strip.dtype == np.uint8
    z0, z1 = torch.randn(2, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ends = ((G(torch.stack([z0, z1]))[:, 0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    assert np.abs(strip[[0, -1]].astype(int) - ends.astype(int)).max() <= 1
    with pytest.raises(ValueError, match="steps=1"):
        interpolate(G, steps=1)
