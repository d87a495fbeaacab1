"""Radially averaged power spectrum and its power-law exponent beta.

Mammographic backgrounds follow ``P(f) ~ 1 / f**beta`` with beta about 2.5 to 3.5
(Burgess 2001; Chen et al. 2012). Measured here as those papers do: square regions of
interest inside the breast, a fitted plane removed, a Hann window, the 2-D periodogram
averaged over rings, and a straight line fitted in log-log over a frequency band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thesis_lib.data.dicom import DicomError, read_image

ROI_SIZE = 128  # pixels a side of the breast regions whose spectra are averaged
BAND_MM = (0.08, 0.4)  # the power-law fit band, cycles/mm


def radial_power_spectrum(roi: np.ndarray, spacing_mm: float = 1.0, n_bins: int = 48):
    """Ring-averaged power spectrum of a square ``roi``.

    Returns ``(f, power)``: ring centre frequencies in cycles/mm (cycles/pixel when
    ``spacing_mm`` is 1) from the first non-zero ring up to Nyquist, and the mean power.
    """
    roi = np.asarray(roi, dtype=np.float64)
    if roi.ndim != 2 or roi.shape[0] != roi.shape[1] or roi.shape[0] < 32:
        raise ValueError(f"roi shape {roi.shape}: expected a square of at least 32 x 32")
    n = roi.shape[0]
    rr, cc = np.mgrid[0:n, 0:n]
    design = np.column_stack([np.ones(n * n), rr.ravel(), cc.ravel()])
    coef, *_ = np.linalg.lstsq(design, roi.ravel(), rcond=None)
    detrended = roi - (design @ coef).reshape(n, n)
    window = np.outer(np.hanning(n), np.hanning(n))
    power = np.abs(np.fft.fftshift(np.fft.fft2(detrended * window))) ** 2
    freq = np.fft.fftshift(np.fft.fftfreq(n))
    f = np.hypot(*np.meshgrid(freq, freq, indexing="ij")).ravel()
    edges = np.geomspace(1.0 / n, 0.5, n_bins + 1)
    which = np.digitize(f, edges) - 1
    ok = (which >= 0) & (which < n_bins)
    sums = np.bincount(which[ok], weights=power.ravel()[ok], minlength=n_bins)
    counts = np.bincount(which[ok], minlength=n_bins)
    keep = counts > 0
    centres = np.sqrt(edges[:-1] * edges[1:])[keep]
    return centres / spacing_mm, sums[keep] / counts[keep]


def fit_beta(f: np.ndarray, power: np.ndarray, band: tuple[float, float]) -> float:
    """Exponent beta of ``power ~ f**-beta``, least squares in log-log over ``band`` (same
    units as ``f``)."""
    sel = (f >= band[0]) & (f <= band[1])
    if sel.sum() < 3:
        raise ValueError(f"band {band}: fewer than 3 spectrum points in it")
    slope, _ = np.polyfit(np.log(f[sel]), np.log(power[sel]), 1)
    return float(-slope)


def breast_rois(image: np.ndarray, breast_mask: np.ndarray, size: int = ROI_SIZE, max_rois: int = 16,
                margin: int = 16):
    """Up to ``max_rois`` non-overlapping ``size`` x ``size`` squares wholly inside the breast,
    taken on a grid from the chest wall outwards. Yields ``(row, col, roi)``."""
    found = 0
    for r in range(margin, image.shape[0] - size - margin + 1, size):
        for c in range(margin, image.shape[1] - size - margin + 1, size):
            if found == max_rois:
                return
            if breast_mask[r - margin : r + size + margin, c - margin : c + size + margin].all():
                found += 1
                yield r, c, image[r : r + size, c : c + size]


def measure_beta(image: np.ndarray, breast_mask: np.ndarray, spacing_mm: float,
                 band_mm: tuple[float, float] = BAND_MM, size: int = ROI_SIZE) -> tuple[float, dict]:
    """Beta of one mammogram: spectra of its breast ROIs averaged, then fitted over
    ``band_mm`` (cycles/mm). Uses the log of the pixel values, so that Beer-Lambert
    attenuation is linear in tissue composition. Returns ``(beta, details)`` where
    ``details`` holds ``f``, ``power`` and ``n_rois``; raises ``ValueError`` when the breast
    holds no ROI of that size.
    """
    log_img = np.log(np.maximum(image.astype(np.float64), 1.0))
    spectra = [radial_power_spectrum(roi, spacing_mm) for _, _, roi in
               breast_rois(log_img, breast_mask, size)]
    if not spectra:
        raise ValueError(f"no {size} x {size} region fits inside the breast")
    f = spectra[0][0]
    power = np.mean([p for _, p in spectra], axis=0)
    return fit_beta(f, power, band_mm), {"f": f, "power": power, "n_rois": len(spectra)}


def measure_files(files, band_mm: tuple[float, float] = BAND_MM, size: int = ROI_SIZE):
    """Beta of each mammogram file (see :func:`measure_beta`).

    Returns ``(table, f, spectra)``: a DataFrame with ``file, beta, n_rois``, the common
    frequency axis (cycles/mm) and each image's averaged spectrum. Unreadable files, images
    without PixelSpacing and images without a breast ROI of ``size`` get no beta, with the reason
    in the ``skipped`` column.
    """
    rows, spectra, f = [], [], None
    for file in files:
        try:
            image = read_image(file)
        except DicomError as exc:
            rows.append({"file": str(file), "beta": np.nan, "n_rois": 0, "skipped": f"unreadable: {exc}"})
            continue
        if image.spacing_mm is None:
            rows.append({"file": str(file), "beta": np.nan, "n_rois": 0, "skipped": "no PixelSpacing"})
            continue
        try:
            beta, details = measure_beta(image.pixels, image.pixels > 0, image.spacing_mm, band_mm, size)
        except ValueError as exc:
            rows.append({"file": str(file), "beta": np.nan, "n_rois": 0, "skipped": str(exc)})
            continue
        f = details["f"]
        spectra.append(details["power"])
        rows.append({"file": str(file), "beta": beta, "n_rois": details["n_rois"], "skipped": ""})
    return pd.DataFrame(rows, columns=["file", "beta", "n_rois", "skipped"]), f, spectra
