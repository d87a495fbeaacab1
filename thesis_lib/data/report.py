"""What the data chapter shows, computed once from the dataset and the patch store (the
workflow's ``data_report`` step)::

    python -m thesis_lib.data.report --profile smoke

It writes ``artifacts/<profile>/data_report/`` (:func:`thesis_lib.paths.data_report`), which the
chapter reads and nothing else:

- ``cohort.json``: the dataset (patients, images, annotated lesions, files the loader skipped),
  the store's summary and identity, the spectrum's band and requested range, the leakage check;
- ``mammograms.npz``: one patient's four images downsampled to at most ``DISPLAY_ROWS`` rows
  (uint8, display contrast), each lesion's mask at that size (bool), titles and pixel spacing (mm);
- ``spectra.npz`` (the frequency axis in cycles/mm and each measured image's ring-averaged
  spectrum) and ``betas.csv`` (every image's fitted beta, or why it has none; for the synthetic
  cohort, the beta it was drawn with);
- ``patches.npz``: 32 mass and 32 normal patches (uint8) and the grey-level densities of 200
  of each (256 bins);
- ``shortcut_audit.csv``, ``partitions.csv`` (patients and patches per fold and partition),
  ``window_scales.csv`` (per class, the shares of windows upsampled and averaged down),
  ``skips.csv`` (the store's skipped files and why), ``provenance.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib import config, paths
from thesis_lib.data import build, datasets, shortcuts, spectrum, splits
from thesis_lib.io import atomic_path, write_json, write_npz
from thesis_lib.provenance import Run, cpu_cores
from thesis_lib.results import current_record

LITERATURE_BETA = (2.5, 3.5)  # beta of real mammographic backgrounds (the chapter cites it)
DISPLAY_ROWS = 600  # rows of a mammogram as the chapter shows it
N_SHOWN, N_HISTOGRAM = 32, 200  # patches per class in the montages and in the grey-level densities


def downsample(image: np.ndarray, factor: int, reduce=np.mean) -> np.ndarray:
    """``image`` (rows, cols) reduced over ``factor`` x ``factor`` blocks (the edge remainder cut)."""
    rows, cols = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    return reduce(blocks, axis=(1, 3))


def display_uint8(image: np.ndarray) -> np.ndarray:
    """``image`` stretched between its 0.5th and 99.5th percentiles to uint8 (for display only)."""
    lo, hi = np.percentile(image, [0.5, 99.5])
    return (np.clip((image - lo) / max(hi - lo, 1e-12), 0, 1) * 255).round().astype(np.uint8)


def example_mammograms(records) -> dict:
    """One patient's images (:func:`datasets.example_patient`) as the arrays of ``mammograms.npz``."""
    chosen, loaded = datasets.example_patient(records)
    factor = max(1, int(np.ceil(max(image.pixels.shape[0] for image, _ in loaded) / DISPLAY_ROWS)))
    arrays = {"titles": np.array([f"{r.laterality}-{r.view}, {len(r.lesions)} mass(es)" for r in chosen]),
              "spacing_mm": np.array(np.nan if loaded[0][0].spacing_mm is None else loaded[0][0].spacing_mm * factor)}
    for i, (image, masks) in enumerate(loaded):
        arrays[f"image_{i}"] = display_uint8(downsample(image.pixels, factor))
        arrays[f"masks_{i}"] = np.array([downsample(m.astype(bool), factor, np.max) for m in masks], dtype=bool
                                        ).reshape(len(masks), *arrays[f"image_{i}"].shape)
    return arrays


def read_mammograms(folder: str | Path) -> tuple[list[np.ndarray], list[np.ndarray], list[str], float | None]:
    """``mammograms.npz`` back as images, their masks (each (n_lesions, rows, cols) bool), titles
    and spacing (mm per shown pixel; None when the images have none)."""
    with np.load(Path(folder) / "mammograms.npz") as data:
        titles = [str(t) for t in data["titles"]]
        spacing = float(data["spacing_mm"])
        return ([data[f"image_{i}"] for i in range(len(titles))], [data[f"masks_{i}"] for i in range(len(titles))],
                titles, None if np.isnan(spacing) else spacing)


def grey_level_density(patches: np.ndarray) -> np.ndarray:
    """(256,) density of the grey levels 0..255 of uint8 ``patches``."""
    return np.histogram(patches, bins=np.arange(257), density=True)[0]


def spectrum_results(cfg: dict, records, root: Path) -> tuple[pd.DataFrame, np.ndarray, list[np.ndarray], tuple]:
    """Beta of the lesion-free CC images (all CC images when none is lesion-free): the table
    (with ``beta_asked`` for the synthetic cohort), frequencies, spectra and the requested range."""
    cc_views = [r for r in records if r.view == "CC"]
    chosen = [r for r in cc_views if not r.lesions] or cc_views
    betas, f, spectra = spectrum.measure_files([r.image_file for r in chosen], band_mm=spectrum.BAND_MM)
    requested = LITERATURE_BETA
    if cfg["dataset"] == "synthetic":
        requested = tuple(cfg["synthetic"]["beta_range"])
        truth = pd.read_csv(root / "ground_truth.csv")[["file", "beta"]].rename(columns={"beta": "beta_asked"})
        betas = betas.assign(file=[str(Path(p).relative_to(root)) for p in betas.file]).merge(truth, on="file", how="left")
    return betas, f, spectra, requested


def window_scales(meta: pd.DataFrame) -> pd.DataFrame:
    """Per label (rows ``mass``, ``normal``): the patches (``n``), the share whose window was
    smaller than the patch and so upsampled (``upsampled``, scale < 1), the share averaged down
    (``averaged_down``, scale > 1) and the median ``scale`` (window side over patch side, the
    geometric mean of height and width; 1 for a native window). ``meta``: the store's table."""
    by_label = meta.groupby("label")["scale"]
    return pd.DataFrame({"n": by_label.size(), "upsampled": by_label.apply(lambda s: float((s < 1).mean())),
                         "averaged_down": by_label.apply(lambda s: float((s > 1).mean())),
                         "median_scale": by_label.median()})


def write_report(cfg: dict, workers: int | None = None) -> dict:
    """Compute everything the data chapter shows into ``paths.data_report``; returns its record."""
    run = Run("data_report", cfg)
    out = paths.data_report(cfg["artifacts"])
    store_folder = paths.store(cfg["artifacts"])
    store = build.current_store(cfg, workers)  # the data step's store (built here when missing or different)
    root = build.dataset_root(cfg, workers=workers or cpu_cores())
    records, loader_skips = build.scan_records(cfg, root)
    betas, f, spectra, requested = spectrum_results(cfg, records, root)
    rng = np.random.default_rng(cfg["seed"])
    shown = {label: store.read(store.sample(label, N_SHOWN, rng)) for label in ("mass", "normal")}
    densities = {}
    for label in ("mass", "normal"):
        sample = store.read(store.sample(label, N_HISTOGRAM, rng))
        densities[f"density_{label}"], densities[f"n_{label}"] = grey_level_density(sample), np.array(len(sample))
    splits.check_no_leakage(store.folds)
    out.mkdir(parents=True, exist_ok=True)
    write_npz(out / "mammograms.npz", example_mammograms(records))
    frequencies = np.asarray(f if f is not None else [])
    write_npz(out / "spectra.npz", {"f": frequencies, "spectra": np.asarray(spectra).reshape(len(spectra), len(frequencies))})
    write_npz(out / "patches.npz", {**{f"shown_{k}": v for k, v in shown.items()}, **densities})
    for name, table in {"betas.csv": betas, "shortcut_audit.csv": shortcuts.audit(store),
                        "partitions.csv": splits.partition_counts(store.meta, store.folds),
                        "window_scales.csv": window_scales(store.meta), "skips.csv": store.skips}.items():
        with atomic_path(out / name) as tmp:
            table.to_csv(tmp, index=name in ("shortcut_audit.csv", "partitions.csv", "window_scales.csv"))
    write_json(out / "cohort.json", {
        "dataset": cfg["dataset"], "patients": len({r.patient_id for r in records}), "images": len(records),
        "lesions": sum(len(r.lesions) for r in records), "lesion_types": list(cfg["lesion_types"]),
        "loader_skips": len(loader_skips), "store": store.summary, "store_identity": store.identity,
        "n_store_patches": len(store), "band_mm": list(spectrum.BAND_MM), "requested_beta": list(requested),
        "leakage_check": "passed", "store_provenance": _store_provenance(store_folder)})
    return run.write(out)


def current(cfg: dict, workers: int | None = None) -> Path:
    """The report folder of ``cfg``: as on disk when it was computed with ``cfg`` after the store
    was last written; at render time as on disk or :class:`~thesis_lib.results.ResultsMissing`;
    else computed now (:func:`write_report`)."""
    out = paths.data_report(cfg["artifacts"])
    current_record(out / "provenance.json", cfg, f"python -m thesis_lib.data.report --profile {cfg['profile']}",
                   lambda: write_report(cfg, workers), inputs=[paths.store(cfg["artifacts"]) / "patches.h5"])
    return out


def _store_provenance(store_folder: Path) -> dict:
    """The data step's record (commit, seconds) as the chapter quotes it."""
    record = json.loads((store_folder / "provenance.json").read_text())
    return {k: record.get(k) for k in ("duration_s", "git_commit", "finished")}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m thesis_lib.data.report",
                                description="Compute what the data chapter shows (the data_report step).")
    p.add_argument("--profile", default="smoke", help="configs/<profile>.yaml (default: smoke)")
    p.add_argument("--dataset", default=None, help="override data_prep.dataset")
    p.add_argument("--data-root", default=None, help="override data_prep.data_root")
    p.add_argument("--n-patients", type=int, default=None, help="override data_prep.n_patients")
    args = p.parse_args(argv)
    cfg = config.resolve("data_prep", args.profile, dataset=args.dataset, data_root=args.data_root,
                         n_patients=args.n_patients)
    write_report(cfg)
    print(f"wrote {paths.data_report(cfg['artifacts'])}")


if __name__ == "__main__":
    main()
