"""Which device a step runs on: one rule for the trainer, the classifiers and the feature networks."""

from __future__ import annotations

import torch


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
