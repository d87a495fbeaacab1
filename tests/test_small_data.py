"""The trainer's small-data options: DiffAugment, an EMA of G, an iteration budget."""

import numpy as np
import pytest
import torch

from thesis_lib.evaluation.metrics import make_evaluator
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Generator, refresh_batchnorm
from thesis_lib.training import diffaugment, gan, resume
from thesis_lib.training.diffaugment import diff_augment, parse_policy
from thesis_lib.training.gan import fit
from thesis_lib.training.gan_config import GanConfig

SMALL = dict(nz=8, ngf=4, ndf=4, batch_size=8, checkpoint_every=100, sample_every=100, eval_every=1,
             device="cpu", seed=2)


def _patches(n=16, size=32):
    rng = np.random.default_rng(0)
    return rng.integers(40, 200, (n, size, size)).astype(np.uint8)


@pytest.mark.parametrize("name", diffaugment.POLICIES)
def test_each_transform_changes_images_and_passes_gradients(name):
    torch.manual_seed(0)
    x = (torch.rand(6, 1, 32, 32) * 2 - 1).requires_grad_(True)
    y = diff_augment(x, (name,))
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_translation_shifts_content_and_cutout_zeroes_a_square():
    x = torch.zeros(1, 1, 32, 32)
    x[..., 16, 16] = 1.0
    torch.manual_seed(3)
    shifted = [diff_augment(x, ("translation",)) for _ in range(20)]
    assert all(s.sum() in (0.0, 1.0) for s in shifted)  # moved (or out of view), never smeared
    assert any(s[..., 16, 16] == 0 for s in shifted)
    ones = torch.ones(4, 1, 32, 32)
    cut = diff_augment(ones, ("cutout",))
    assert ((cut == 0).sum(dim=(1, 2, 3)) <= 16 * 16).all() and ((cut == 0).sum(dim=(1, 2, 3)) > 0).all()


def test_probability_and_policy_checks():
    x = torch.rand(64, 1, 16, 16)
    torch.manual_seed(1)
    out = diff_augment(x, ("color",), p=0.5)
    untouched = (out == x).flatten(1).all(dim=1)
    assert 10 < int(untouched.sum()) < 54
    assert diff_augment(x, ()) is x
    with pytest.raises(ValueError, match="unknown \\['colour'\\]"):
        parse_policy("colour,translation")
    with pytest.raises(ValueError, match="diffaugment"):
        GanConfig(diffaugment="blur")
    with pytest.raises(ValueError, match="ema_decay"):
        GanConfig(ema_decay=1.0)


def test_diffaugment_sees_real_and_generated_inputs_alike(tmp_path, monkeypatch):
    calls = []
    real = gan.diff_augment

    def spy(images, policy, strength, p):
        calls.append((policy, images.requires_grad))
        return real(images, policy, strength, p)

    monkeypatch.setattr(gan, "diff_augment", spy)
    fit(GanConfig(**SMALL, epochs=1, diffaugment="color,cutout"), _patches(), tmp_path, progress=False)
    assert len(calls) == 2 * 3  # two iterations; real, detached fake, fake for G
    assert {c[0] for c in calls} == {("color", "cutout")}
    assert [c[1] for c in calls[:3]] == [False, False, True]  # G's loss goes through the transform


def test_ema_weights_are_kept_and_differ_from_the_raw_ones(tmp_path):
    scores = iter([3.0, 2.0, 1.0])  # each epoch better: best.pt is the last epoch's
    fit(GanConfig(**SMALL, epochs=3, ema_decay=0.9), _patches(), tmp_path, progress=False,
        evaluator=lambda G: next(scores))
    latest, best = checkpoint.load(tmp_path / "latest.pt"), checkpoint.load(tmp_path / "best.pt")
    raw, ema = latest["generator"], latest["generator_ema"]
    assert any(not torch.equal(raw[k], ema[k]) for k in raw if k.endswith("weight"))
    for key, value in best["generator"].items():
        assert torch.equal(value, ema[key]), key


def test_without_selection_the_last_average_is_kept(tmp_path):
    assert make_evaluator("last", _patches(), 4) is None  # evaluator: last
    scores = iter([1.0, 2.0, 3.0])  # with a score, epoch 1 would be kept
    fit(GanConfig(**SMALL, epochs=3, ema_decay=0.9), _patches(), tmp_path / "scored", progress=False,
        evaluator=lambda G: next(scores))
    assert checkpoint.load(tmp_path / "scored" / "best.pt")["epoch"] == 1
    result = fit(GanConfig(**SMALL, epochs=3, ema_decay=0.9), _patches(), tmp_path / "last", progress=False)
    latest, best = checkpoint.load(tmp_path / "last" / "latest.pt"), checkpoint.load(tmp_path / "last" / "best.pt")
    assert best["epoch"] == result.best_epoch == 3
    for key, value in best["generator"].items():
        assert torch.equal(value, latest["generator_ema"][key]), key


def test_refresh_batchnorm_recomputes_running_statistics():
    G = Generator(8, 4, image_size=32)
    before = G.net[1].running_var.clone()
    refresh_batchnorm(G, n_batches=2, batch_size=16)
    assert not torch.equal(before, G.net[1].running_var) and G.training
    assert G.net[1].momentum == 0.1  # restored


def test_iteration_budget_rounds_up_to_whole_epochs(tmp_path):
    result = fit(GanConfig(**SMALL, epochs=1, iterations=5), _patches(), tmp_path, progress=False)
    assert result.steps == 6 and result.epochs_done == 3  # 2 iterations per epoch
    assert checkpoint.load(tmp_path / "latest.pt")["config"]["epochs"] == 3
    assert resume.is_finished(GanConfig(**SMALL, epochs=1, iterations=5), _patches(), tmp_path)
    assert not resume.is_finished(GanConfig(**SMALL, epochs=1, iterations=9), _patches(), tmp_path)
