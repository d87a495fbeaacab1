"""Which device a step runs on: one rule for the trainer, the classifiers and the feature networks."""

from __future__ import annotations

import sys
import warnings

import torch

GPU_PROFILES = ("gpu", "thesis")  # profiles sized for a GPU: hours or days on a CPU
_announced: set[str] = set()


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """``auto``: the first of cuda, mps, cpu that is available; any other name as given, after
    checking that CUDA exists when it is asked for."""
    if str(name) != "auto":
        device = torch.device(name)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device={str(name)!r}, but CUDA is not available here; use device=auto or cpu")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def announce(device: torch.device, setting: str, profile: str | None = None) -> None:
    """Say once per process which device a step runs on (to stderr, so logs show it), and warn
    when ``device: auto`` found no GPU for a profile sized for one (:data:`GPU_PROFILES`)."""
    key = f"{device}|{setting}|{profile}"
    if key in _announced:
        return
    _announced.add(key)
    print(f"device: {device} (setting: {setting})", file=sys.stderr)
    if device.type == "cpu" and str(setting) == "auto" and profile in GPU_PROFILES:
        warnings.warn(f"profile {profile!r} is sized for a GPU, but device: auto found none (torch "
                      f"{torch.__version__}, CUDA available: {torch.cuda.is_available()}): it runs on the CPU, "
                      "which takes far longer; check the NVIDIA driver (README: 'Full size on a GPU')",
                      RuntimeWarning, stacklevel=2)
