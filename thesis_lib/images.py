"""Small image conversions shared by sampling, training and figures."""

from __future__ import annotations

import numpy as np
import torch


def quantise(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) float images in [-1, 1] -> (B, H, W) uint8 in [0, 255], on their device."""
    return ((images[:, 0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 1, H, W) float images in [-1, 1] -> (B, H, W) uint8 in [0, 255], on the host."""
    return quantise(images).cpu().numpy()


def mosaic(patches: np.ndarray, ncols: int = 8) -> np.ndarray:
    """(n, h, w) uint8 patches -> one uint8 image, ``ncols`` per row, white 2-pixel gaps."""
    n, h, w = patches.shape
    nrows = int(np.ceil(n / ncols))
    grid = np.full((nrows * (h + 2), ncols * (w + 2)), 255, np.uint8)
    for i, patch in enumerate(patches):
        r, c = divmod(i, ncols)
        grid[r * (h + 2) + 1 : r * (h + 2) + 1 + h, c * (w + 2) + 1 : c * (w + 2) + 1 + w] = patch
    return grid
