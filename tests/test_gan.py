import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from thesis_lib.data import subsets
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Discriminator, Generator, init_weights, n_parameters
from thesis_lib.models.generate import generate, load_generator
from thesis_lib.training import gan_step
from thesis_lib.training.gan import DivergenceError, fit
from thesis_lib.training.gan_config import GanConfig

REPO = Path(__file__).resolve().parents[1]
TINY = dict(nz=8, ngf=4, ndf=4, batch_size=8, epochs=3, checkpoint_every=2, sample_every=1,
            eval_every=1, device="cpu", seed=3)


def _patches(n=16, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128]
    blobs = [np.exp(-((yy - rng.uniform(40, 88)) ** 2 + (xx - rng.uniform(40, 88)) ** 2) / 400.0) for _ in range(n)]
    return np.stack([(60 + 150 * b + rng.normal(0, 5, b.shape)).clip(0, 255) for b in blobs]).astype(np.uint8)


def test_thesis_widths_and_shapes():
    G, D = Generator(200, 45), Discriminator(45)
    assert n_parameters(G) == pytest.approx(5.4e6, rel=0.01)
    assert n_parameters(D) == pytest.approx(8.9e6, rel=0.01)
    x = G(torch.randn(3, 200))
    assert x.shape == (3, 1, 128, 128) and x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (3,)
    widths = [m.out_channels for m in Discriminator(9).modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths == [9, 18, 36, 72, 90, 1]  # the thesis' evaluation classifier
    with pytest.raises(ValueError, match="128"):
        D(torch.zeros(1, 1, 64, 64))


def test_64_pixel_networks_drop_the_widest_blocks():
    G, D = Generator(100, 8, image_size=64), Discriminator(8, image_size=64)
    assert G(torch.randn(2, 100)).shape == (2, 1, 64, 64) and D(torch.zeros(2, 1, 64, 64)).shape == (2,)
    assert [m.out_channels for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)] == [64, 32, 16, 8, 1]
    assert [m.out_channels for m in D.modules() if isinstance(m, torch.nn.Conv2d)] == [8, 16, 32, 64, 1]
    with pytest.raises(ValueError, match="image_size=96"):
        Generator(100, 8, image_size=96)


def test_dcgan_initialisation():
    G = Generator(100, 16)
    G.apply(init_weights)
    convs = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    bns = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert convs.std().item() == pytest.approx(0.02, rel=0.05) and abs(convs.mean().item()) < 1e-3
    assert torch.cat([b.weight for b in bns]).mean().item() == pytest.approx(1.0, abs=0.01)
    assert all((b.bias == 0).all() for b in bns)


def test_config_validation():
    with pytest.raises(ValueError, match="batch_size=0"):
        GanConfig(batch_size=0)
    with pytest.raises(KeyError, match=r"unknown gan setting\(s\) \['ema_decy'\] in .*smoke.yaml"):
        GanConfig.from_dict({"ema_decy": 0.9, "profile": "smoke"})  # a typo never falls back to a default
    assert GanConfig.from_dict({"ngf": 4, "evaluator": "pixel", "profile": "smoke"}).ngf == 4
    with pytest.raises(ValueError, match="real_label_range"):
        GanConfig(real_label_range=(0.9, 0.5))
    with pytest.raises(ValueError, match="uint8"):
        fit(GanConfig(**TINY), np.zeros((4, 64, 64), np.float32), "unused")
    with pytest.raises(ValueError, match="image_size=128"):  # the config's size is not the data's
        fit(GanConfig(**TINY, image_size=128), np.zeros((4, 64, 64), np.uint8), "unused")
    with pytest.raises(ValueError, match="image_size=48"):  # a size the networks do not have
        fit(GanConfig(**TINY), np.zeros((4, 48, 48), np.uint8), "unused")


@pytest.mark.slow
def test_training_moves_losses_and_writes_its_outputs(tmp_path):
    result = fit(GanConfig(**{**TINY, "epochs": 6}), _patches(), tmp_path, progress=False,
                 evaluator=lambda G: G.net[0].weight.detach().abs().mean().item())
    log = np.genfromtxt(tmp_path / "log.csv", delimiter=",", names=True)
    assert len(log) == 12 and np.isfinite(log["loss_d"]).all()
    assert log["loss_d"][-3:].mean() < log["loss_d"][0]  # D learns to tell real from fake
    assert (log["d_x"] != log["d_x"][0]).any()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir())[:2] == ["epoch_0001.png", "epoch_0002.png"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["epochs_done"] == 6 and summary["steps"] == 12 and result.best_epoch is not None
    stamp = (tmp_path / "summary.json").stat().st_mtime_ns
    fit(GanConfig(**{**TINY, "epochs": 6}), _patches(), tmp_path, progress=False)  # finished: the summary stands
    assert (tmp_path / "summary.json").stat().st_mtime_ns == stamp
    best = checkpoint.load(tmp_path / "best.pt")
    assert best["epoch"] == result.best_epoch and best["config"]["ngf"] == 4
    # a finished run is not trained again; a deleted summary (as Snakemake deletes outputs
    # before rerunning a job) is written again with the run's own totals
    (tmp_path / "summary.json").unlink()
    again = fit(GanConfig(**{**TINY, "epochs": 6}), _patches(), tmp_path, progress=False)
    assert again.steps == 12 and len(np.genfromtxt(tmp_path / "log.csv", delimiter=",", names=True)) == 12
    restored = json.loads((tmp_path / "summary.json").read_text())
    assert restored == summary  # the run's own totals, as the checkpoint holds them


@pytest.mark.slow
def test_resume_needs_the_same_config(tmp_path):
    fit(GanConfig(**TINY), _patches(), tmp_path, progress=False)
    with pytest.raises(ValueError, match="another config"):
        fit(GanConfig(**{**TINY, "lr_g": 1e-3, "epochs": 4}), _patches(), tmp_path, progress=False)


@pytest.mark.slow
def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_bce = gan_step.bce

    def bce(logits, target):
        calls["n"] += 1
        value = real_bce(logits, target)
        return value * float("nan") if calls["n"] > 3 * 5 else value  # 3 losses per step: NaN at step 6

    monkeypatch.setattr(gan_step, "bce", bce)
    with pytest.raises(DivergenceError, match="non-finite loss at epoch 3, iteration 2"):
        fit(GanConfig(**{**TINY, "epochs": 5}), _patches(), tmp_path, progress=False)
    state = checkpoint.load(tmp_path / "latest.pt")
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())


def test_saturated_discriminator_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(gan_step, "mean_probabilities",
                        lambda *logits: tuple(torch.tensor(p) for p in (0.999, 0.001, 0.001)))
    with pytest.raises(DivergenceError, match="saturated for 3 iterations"):
        fit(GanConfig(**{**TINY, "saturation_patience": 3}), _patches(), tmp_path, progress=False)


RESUME_SCRIPT = """
import sys, numpy as np, torch
sys.path.insert(0, {tests!r})
from test_gan import _patches
from thesis_lib.training.gan import fit
from thesis_lib.training.gan_config import GanConfig
torch.set_num_threads(1)
# the small-data options on: their randomness and the average must resume too; a budget of
# 192 iterations is 12 epochs of 16
cfg = GanConfig(nz=8, ngf=8, ndf=8, batch_size=4, iterations=192, checkpoint_every=5, sample_every=100,
                eval_every=100, device="cpu", seed=11, ema_decay=0.99, diffaugment="color,translation,cutout",
                diffaugment_p=0.8)
fit(cfg, _patches(64), sys.argv[1], progress=False)
"""


def _launch(out):
    script = RESUME_SCRIPT.format(tests=str(Path(__file__).parent))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", script, str(out)], env=env)


def _rows(log):
    return log.read_text().count("\n") - 1 if log.is_file() else 0


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_gives_identical_weights(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert _launch(reference).wait(timeout=300) == 0
    proc = _launch(killed)
    deadline = time.time() + 120
    while _rows(killed / "log.csv") < 23 and time.time() < deadline:  # mid-epoch 2 (16 iterations per epoch)
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "summary.json").exists(), "the run finished before it could be killed"
    assert _launch(killed).wait(timeout=300) == 0
    a, b = checkpoint.load(reference / "latest.pt"), checkpoint.load(killed / "latest.pt")
    assert a["step"] == b["step"] == 192
    assert a["config"]["epochs"] == 12
    for key in ("generator", "discriminator", "generator_ema"):
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name} differs after resume"
    log = np.genfromtxt(killed / "log.csv", delimiter=",", names=True)
    assert list(log["step"]) == list(range(1, 193))  # no step logged twice


DDP_SCRIPT = """
import sys, torch
sys.path.insert(0, {tests!r})
from test_gan import _patches
from thesis_lib.training.gan import fit
from thesis_lib.training.gan_config import GanConfig
torch.set_num_threads(1)
fit(GanConfig(nz=8, ngf=4, ndf=4, batch_size=8, epochs=2, device="cpu", seed=5, sample_every=1,
              eval_every=1), _patches(32), sys.argv[1], progress=False)
"""


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_keeps_ranks_identical(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT.format(tests=str(Path(__file__).parent)))
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             str(script), str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_in_sync"] is True
    assert summary["steps"] == 8  # 32 patches / 2 ranks / 4 per rank = 4 iterations, x 2 epochs
    log = np.genfromtxt(tmp_path / "out" / "log.csv", delimiter=",", names=True)
    assert len(log) == 8  # rank 0 alone writes, one row per iteration


@pytest.mark.slow
def test_generate_and_export_round_trip(tmp_path):
    fit(GanConfig(**TINY), _patches(), tmp_path, progress=False)
    a = generate(tmp_path / "best.pt", 6, seed=1)
    assert a.shape == (6, 128, 128) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, generate(tmp_path / "best.pt", 6, seed=1))
    assert not np.array_equal(a, generate(tmp_path / "best.pt", 6, seed=2))
    result = subprocess.run([sys.executable, "-m", "thesis_lib.models.generate", str(tmp_path / "best.pt"), "--n", "6",
                             "--seed", "1", "--out", str(tmp_path / "png")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    from PIL import Image
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert len(pngs) == 6
    np.testing.assert_array_equal(np.stack([np.asarray(Image.open(p)) for p in pngs]), a)
    mask = os.umask(0o022)
    os.umask(mask)
    assert {p.stat().st_mode & 0o777 for p in pngs} == {0o666 & ~mask}  # as a plain open() makes them, not 0600
    console = subprocess.run([str(Path(sys.executable).with_name("thesis-generate")), "--help"], capture_output=True,
                             text=True)
    assert console.returncode == 0 and console.stdout.startswith("usage: thesis-generate")
    assert "how many patches" in console.stdout and "the folder the PNGs are written to" in console.stdout


@pytest.mark.slow
def test_bad_checkpoints_are_refused(tmp_path):
    (tmp_path / "corrupt.pt").write_bytes(b"\x00not a checkpoint" * 50)
    with pytest.raises(checkpoint.CheckpointError, match="corrupt.pt: not a readable checkpoint"):
        load_generator(tmp_path / "corrupt.pt")
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(checkpoint.CheckpointError, match="other.pt: not a thesis_lib.dcgan/2 checkpoint"):
        load_generator(tmp_path / "other.pt")
    checkpoint.save(tmp_path / "mismatch.pt", {"config": {"nz": 8, "ngf": 5},
                                               "generator": Generator(8, 4).state_dict()})
    with pytest.raises(checkpoint.CheckpointError, match="do not fit the thesis generator"):
        load_generator(tmp_path / "mismatch.pt")
    torch.save({"format": checkpoint.FORMAT, "evil": Path("/")}, tmp_path / "code.pt")  # needs unpickling code
    with pytest.raises(checkpoint.CheckpointError, match="code.pt: not a readable checkpoint"):
        load_generator(tmp_path / "code.pt")
    result = subprocess.run([sys.executable, "-m", "thesis_lib.models.generate", str(tmp_path / "corrupt.pt"),
                             "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert result.returncode != 0 and "corrupt.pt" in result.stderr and not (tmp_path / "x").exists()


@pytest.mark.slow
def test_resume_auto_starts_afresh_on_other_data(tmp_path):
    fit(GanConfig(**TINY), _patches(), tmp_path, progress=False)
    with pytest.raises(ValueError, match="other data"):
        fit(GanConfig(**TINY), _patches(seed=1), tmp_path, progress=False)
    result = fit(GanConfig(**TINY), _patches(seed=1), tmp_path, resume="auto", progress=False)
    assert result.steps == 6 and result.seconds > 0  # trained again, from scratch
    assert len(np.genfromtxt(tmp_path / "log.csv", delimiter=",", names=True)) == 6


@pytest.mark.slow
def test_training_patches_are_nested_and_from_training_patients(cohort, tmp_path):
    from thesis_lib.data import datasets
    from thesis_lib.data.prep import PatchParams, build_patch_store
    from thesis_lib.data.splits import partition_of

    records, _ = datasets.scan("synthetic", cohort)
    store = build_patch_store(records, tmp_path / "p", PatchParams(), seed=0, source="synthetic", progress=False)
    for fold in range(3):
        everything, rows = subsets.training_patches(store, fold, None, seed=0)
        assert (partition_of(rows, store.folds, fold) == "train").all() and (rows.label == "mass").all()
        assert len(everything) == len(rows)
        small, small_rows = subsets.training_patches(store, fold, 2, seed=0)
        larger, larger_rows = subsets.training_patches(store, fold, 3, seed=0)
        assert set(small_rows.index) <= set(larger_rows.index) <= set(rows.index)
    with pytest.raises(ValueError, match="k=999"):
        subsets.training_patches(store, 0, 999, seed=0)
    with pytest.raises(ValueError, match="fold=7"):
        subsets.training_patches(store, 7, None, seed=0)


def _count_host_work(monkeypatch):
    """Count, during fit: blocks of losses read from the device, ``Tensor.item`` calls made by
    the project's code (Adam's own step counters live on the CPU even when training on a GPU, so
    its calls are not counted) and checkpoint writes by file name."""
    from thesis_lib.training import gan
    counts = {"blocks": 0, "items": 0, "saves": []}
    read_block, item, save = gan.read_block, torch.Tensor.item, checkpoint.save

    def counted_read(values):
        counts["blocks"] += 1
        return read_block(values)

    def counted_item(self):
        counts["items"] += sys._getframe(1).f_globals.get("__name__", "").startswith("thesis_lib")
        return item(self)

    def counted_save(path, state):
        counts["saves"].append(Path(path).name)
        return save(path, state)

    monkeypatch.setattr(gan, "read_block", counted_read)
    monkeypatch.setattr(torch.Tensor, "item", counted_item)
    monkeypatch.setattr(checkpoint, "save", counted_save)
    return counts


def test_iterations_read_the_device_once_per_block_and_checkpoint_on_their_schedule(tmp_path, monkeypatch):
    counts = _count_host_work(monkeypatch)
    # 32 patches of batch 8: 4 iterations per epoch, 10 epochs; no grids, scores or snapshots but the
    # first and last epoch's grid
    cfg = GanConfig(**{**TINY, "iterations": 40, "log_every": 10, "checkpoint_every": 15, "checkpoint_seconds": 1e9,
                       "sample_every": 10**6, "eval_every": 10**6})
    fit(cfg, _patches(32), tmp_path, progress=False)
    assert counts["saves"].count("latest.pt") == 3  # iterations 15 and 30, and the end; not the 10 epoch ends
    # one read per 10 iterations, plus the reads before the two checkpoints and the first epoch's grid
    assert counts["blocks"] == 6
    assert counts["items"] == 10  # each epoch's smoothed label, from a CPU generator; none per iteration
    log = np.genfromtxt(tmp_path / "log.csv", delimiter=",", names=True)
    assert list(log["step"]) == list(range(1, 41)) and np.isfinite(log["loss_d"]).all()  # still a row per iteration


def test_one_iteration_epochs_do_not_write_a_checkpoint_each(tmp_path, monkeypatch):
    counts = _count_host_work(monkeypatch)
    cfg = GanConfig(**{**TINY, "iterations": 30, "checkpoint_every": 1000, "sample_every": 10**6, "eval_every": 10**6})
    fit(cfg, _patches(8), tmp_path, progress=False)  # a G_k whose k fits one batch: 30 epochs of 1 iteration
    assert sorted(counts["saves"]) == ["best.pt", "latest.pt"]  # at the end only (best.pt: the last G kept)
    assert counts["blocks"] == 2  # the first epoch's grid, then the end


def test_checkpoint_seconds_bounds_the_work_lost_to_a_kill(tmp_path, monkeypatch):
    counts = _count_host_work(monkeypatch)
    cfg = GanConfig(**{**TINY, "iterations": 8, "checkpoint_every": 1000, "checkpoint_seconds": 1e-9,
                       "sample_every": 10**6, "eval_every": 10**6})
    fit(cfg, _patches(32), tmp_path, progress=False)
    assert counts["saves"].count("latest.pt") == 8  # every iteration once the time has passed
    with pytest.raises(ValueError, match="checkpoint_seconds=0"):
        GanConfig(checkpoint_seconds=0)


def test_a_compiler_failure_at_the_first_step_names_the_setting(tmp_path, monkeypatch):
    from thesis_lib.training.gan import CompileError

    class Broken(torch.nn.Module):  # what inductor's crash looks like to the trainer
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            raise AssertionError("expected size 450==450, stride 16==1 at dim=1")

    monkeypatch.setattr(torch, "compile", lambda module: Broken(module))
    with pytest.raises(CompileError, match="gan.compile: true failed at the first training step "
                                           r"\(AssertionError: expected size 450==450.*set compile: false"):
        fit(GanConfig(**{**TINY, "compile": True}), _patches(), tmp_path, progress=False)


def _log(d_x: np.ndarray, d_gz: np.ndarray):
    import pandas as pd
    return pd.DataFrame({"d_x": d_x, "d_g_z1": d_gz})


def test_the_balance_reading_tells_a_settled_game_from_a_won_or_lost_one():
    from thesis_lib.training import runs
    rng = np.random.default_rng(0)
    n = 400
    opening = np.linspace(0.003, 0.3, n // 2)  # D wins the opening in every case
    settled = runs.balance(_log(np.r_[np.full(n // 2, 0.9), 0.5 + 0.05 * rng.standard_normal(n // 2)],
                                np.r_[opening, 0.3 + 0.05 * rng.standard_normal(n // 2)]))
    assert settled.reading == "balanced" and settled.first == n // 2 + 1 and settled.early_min_fake < 0.01
    won = runs.balance(_log(np.full(n, 0.995), np.r_[opening, np.full(n // 2, 0.004)]))
    assert won.reading == "discriminator wins" and won.saturated == 1.0
    fooled = runs.balance(_log(np.full(n, 0.4), np.r_[opening, 0.45 + 0.05 * rng.standard_normal(n // 2)]))
    assert fooled.reading == "generator ahead" and fooled.d_ahead < runs.MOSTLY
    with pytest.raises(ValueError, match="too short"):
        runs.balance(_log(np.array([0.5]), np.array([0.3])))
