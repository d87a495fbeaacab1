"""Shortcut audit: can a statistic that says nothing about a mass tell masses from normal tissue?

A classifier trained on mass and normal patches learns whatever separates them. If the two
classes went through different pipelines (a mass box resized to 128, a normal window cut at
native resolution), sharpness and noise differ between them, and a classifier can score well
without looking at a mass at all. This module measures, per patch, nuisance statistics of that
kind and reports each one's ROC AUC for mass versus normal; an AUC near 0.5 means the statistic
carries no label information.

Nuisance statistics (should not separate):

- ``laplacian_sd``: standard deviation of the 4-neighbour Laplacian (grey levels): sharpness
  and fine noise together;
- ``high_freq_power``: log10 of the mean power spectral density above half the Nyquist
  frequency (0.25 to 0.5 cycles/pixel; mean removed, Hann window): the fine grain that
  resampling smooths;
- ``noise_sd``: Donoho's robust noise estimate, median |finest diagonal Haar detail| / 0.6745
  (grey levels);
- ``scale``: the resampling factor, the patch's source window side over the patch side.

Content statistics (may separate, for a reason: masses are denser than the tissue around them):
``mean`` intensity and ``contrast`` (standard deviation), both in grey levels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.metrics import roc_auc_score

NUISANCE = ("laplacian_sd", "high_freq_power", "noise_sd", "scale")
CONTENT = ("mean", "contrast")
MAX_AUC = 0.65  # a nuisance statistic separating better than this is a shortcut
CHUNK = 256


def _high_frequency_power(x: np.ndarray) -> np.ndarray:
    """log10 of each patch's mean power (grey levels squared per frequency bin; mean removed,
    Hann window) at radial frequencies of at least 0.25 cycles/pixel."""
    window = np.outer(np.hanning(x.shape[-2]), np.hanning(x.shape[-1]))
    centred = (x - x.mean(axis=(1, 2), keepdims=True)) * window
    power = np.abs(np.fft.fft2(centred)) ** 2 / window.size
    fy, fx = np.meshgrid(np.fft.fftfreq(x.shape[-2]), np.fft.fftfreq(x.shape[-1]), indexing="ij")
    return np.log10(power[:, np.hypot(fy, fx) >= 0.25].mean(axis=1) + 1e-12)


def patch_statistics(patches: np.ndarray) -> pd.DataFrame:
    """One row per patch of ``patches`` ((N, H, W) uint8) with the columns of :data:`NUISANCE`
    (but ``scale``, which comes from the store's table) and :data:`CONTENT`."""
    patches = np.asarray(patches)
    if patches.ndim != 3 or patches.dtype != np.uint8:
        raise ValueError(f"patches: expected uint8 (N, H, W), got {patches.dtype} {patches.shape}")
    parts = []
    for start in range(0, len(patches), CHUNK):
        x = patches[start : start + CHUNK].astype(np.float64)
        lap = np.stack([ndimage.laplace(p)[1:-1, 1:-1] for p in x])
        haar = (x[:, :-1:2, :-1:2] - x[:, 1::2, :-1:2] - x[:, :-1:2, 1::2] + x[:, 1::2, 1::2]) / 2
        parts.append(pd.DataFrame({
            "laplacian_sd": lap.std(axis=(1, 2)),
            "high_freq_power": _high_frequency_power(x),
            "noise_sd": np.median(np.abs(haar), axis=(1, 2)) / 0.6745,
            "mean": x.mean(axis=(1, 2)),
            "contrast": x.std(axis=(1, 2)),
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*NUISANCE[:-1], *CONTENT])


def audit(store, max_auc: float = MAX_AUC) -> pd.DataFrame:
    """The audit of a :class:`~thesis_lib.data.store.PatchStore`'s mass and normal patches.

    One row per statistic: ``kind`` (nuisance or content), the medians for masses and normals,
    ``auc`` (mass vs normal, > 0.5 when masses score higher), ``separability`` = max(auc, 1 - auc)
    and ``shortcut`` (True for a nuisance statistic whose separability exceeds ``max_auc``).
    """
    rows = store.meta[store.meta.label.isin(["mass", "normal"])]
    y = (rows.label == "mass").to_numpy()
    if y.all() or not y.any():
        raise ValueError("shortcut audit: the store needs both mass and normal patches")
    stats = patch_statistics(store.read(rows.index.to_numpy()))
    if "scale" not in rows:
        raise ValueError(f"{store.path}: the patch store has no 'scale' column (written by an older version); "
                         "rebuild it with the data step")
    stats["scale"] = rows["scale"].to_numpy(float)
    out = []
    for name in (*NUISANCE, *CONTENT):
        values = stats[name].to_numpy(float)
        auc = float(roc_auc_score(y, values))
        sep = max(auc, 1 - auc)
        out.append({"statistic": name, "kind": "nuisance" if name in NUISANCE else "content",
                    "median mass": float(np.median(values[y])), "median normal": float(np.median(values[~y])),
                    "auc": auc, "separability": sep, "shortcut": bool(name in NUISANCE and sep > max_auc)})
    return pd.DataFrame(out).set_index("statistic")


def verdict(table: pd.DataFrame, max_auc: float = MAX_AUC) -> str:
    """A sentence: which nuisance statistics separate masses from normals beyond ``max_auc``."""
    nuisance = table[table.kind == "nuisance"]
    worst = nuisance.separability.idxmax()
    bad = nuisance[nuisance.shortcut]
    if len(bad):
        names = ", ".join(f"{n} ({r.separability:.2f})" for n, r in bad.iterrows())
        return (f"Shortcut found: {names} tell masses from normal tissue with AUC above {max_auc}; a "
                f"classifier can score on these patches without learning what a mass looks like.")
    return (f"No shortcut found: every nuisance statistic separates masses from normal tissue with AUC "
            f"at most {max_auc} (the largest, {worst}, {nuisance.separability.max():.2f}).")
