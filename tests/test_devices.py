import pytest
import torch

from thesis_lib.devices import pick_device
from thesis_lib.evaluation.metrics import make_evaluator
from thesis_lib.training.classifier import ClassifierConfig


def test_auto_picks_what_exists_and_cuda_is_checked():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device='cuda', but CUDA is not available"):
            pick_device("cuda")


@pytest.mark.slow
def test_feature_networks_follow_the_training_device():
    import numpy as np

    real = np.random.default_rng(0).integers(0, 255, (8, 64, 64)).astype(np.uint8)
    evaluator = make_evaluator("fid", real, 4, device="cpu")
    assert evaluator.extractor.device == torch.device("cpu")
    assert ClassifierConfig().device == "auto"


def test_the_device_is_said_once_and_a_gpu_profile_on_the_cpu_warned(capsys, monkeypatch):
    import torch

    from thesis_lib import devices
    monkeypatch.setattr(devices, "_announced", set())
    with pytest.warns(RuntimeWarning, match="profile 'gpu' is sized for a GPU, but device: auto found none"):
        devices.announce(torch.device("cpu"), "auto", "gpu")
    devices.announce(torch.device("cpu"), "auto", "gpu")  # once per process
    assert capsys.readouterr().err.count("device: cpu (setting: auto)") == 1
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        devices.announce(torch.device("cpu"), "auto", "smoke")  # the laptop profile: no warning
