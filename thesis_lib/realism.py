"""Realism of trained generators: FID and what FID misses, per fold and over epochs.

Every score is computed against the fold's **training** masses (the thesis compared with its
training images) on ``n_generated`` samples of the kept generator, and reported with its N.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib.generate import generate
from thesis_lib.inception import InceptionFeatures, cached_features
from thesis_lib.metrics import (fid_from_features, fid_infinity, frechet_distance, gaussian_stats, kid,
                                precision_recall, real_real_floor)


def score_features(real: np.ndarray, fake: np.ndarray, *, kid_subsets: int, k: int, seed: int) -> dict:
    """FID, KID, precision, recall and the real-real floor of two feature sets, with the Ns."""
    with warnings.catch_warnings():  # N is reported beside every score instead
        warnings.simplefilter("ignore")
        fid = fid_from_features(real, fake)
        floor = real_real_floor(real, seed)
    kid_mean, kid_std = kid(real, fake, n_subsets=kid_subsets, seed=seed)
    precision, recall = precision_recall(real, fake, k)
    row = {"N real": len(real), "N generated": len(fake), "FID": float(fid), "KID x 1000": 1000 * kid_mean,
           "KID std x 1000": 1000 * kid_std, "precision": precision, "recall": recall,
           "real-real FID": float(floor), "real-real N": floor.n_real}
    try:
        row["FID-infinity"] = fid_infinity(real, fake, seed=seed)[0]
    except ValueError:
        row["FID-infinity"] = np.nan  # too few samples to extrapolate
    return row


def realism_table(store, gan_dir: str | Path, extractor: InceptionFeatures, *, n_generated: int, seed: int,
                  kid_subsets: int, k: int, cache_dir: str | Path) -> pd.DataFrame:
    """One row per fold whose lesion-simulation GAN (``gan_dir/fold<f>/best.pt``) exists."""
    from thesis_lib.data.subsets import training_patches

    rows = []
    for run in sorted(Path(gan_dir).glob("fold[0-9]")):
        if not (run / "best.pt").is_file():
            continue
        fold = int(run.name.removeprefix("fold"))
        real, _ = training_patches(store, fold, None, seed)
        real_feats = cached_features(extractor, real, cache_dir)
        fake_feats = extractor(generate(run / "best.pt", n_generated, seed=seed))
        rows.append({"fold": fold, **score_features(real_feats, fake_feats, kid_subsets=kid_subsets, k=k, seed=seed)})
    if not rows:
        raise FileNotFoundError(f"{gan_dir}: no trained generator (fold*/best.pt); run notebook 01_train_dcgan "
                                "or the workflow's train_gan rules first")
    return pd.DataFrame(rows).set_index("fold")


def fid_over_epochs(run_dir: str | Path, real_feats: np.ndarray, extractor: InceptionFeatures, *,
                    n_generated: int, seed: int) -> pd.DataFrame:
    """FID of each generator snapshot (``run_dir/snapshots/epoch_*.pt``) against ``real_feats``:
    columns ``epoch, FID, N generated``."""
    snapshots = sorted(Path(run_dir).glob("snapshots/epoch_*.pt"))
    if not snapshots:
        raise FileNotFoundError(f"{run_dir}: no generator snapshots; train with snapshot_every > 0")
    rows = []
    for path in snapshots:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fid = fid_from_features(real_feats, extractor(generate(path, n_generated, seed=seed), progress=False))
        rows.append({"epoch": int(path.stem.split("_")[1]), "FID": float(fid), "N generated": n_generated})
    return pd.DataFrame(rows)


def partition_patches(store, fold: int, partition: str, label: str, limit: int | None, seed: int) -> np.ndarray:
    """Patches of one label in one partition of a fold, at most ``limit`` (seeded subsample)."""
    from thesis_lib.data.splits import partition_of

    rows = store.meta.index[(partition_of(store.meta, store.folds, fold) == partition)
                            & (store.meta.label == label)].to_numpy()
    if limit is not None and len(rows) > limit:
        rows = np.sort(np.random.default_rng([seed, fold]).choice(rows, limit, replace=False))
    return store.read(rows)


def domain_table(store, gan_dir: str | Path, cfg, *, n_generated: int, seed: int,
                 normals_per_mass: int = 4) -> pd.DataFrame:
    """Per fold: a classifier (the thesis' evaluation network, ``cfg``) trained on the fold's
    training masses and normal patches (``normals_per_mass`` normals per mass), and the Fréchet
    distance between real training masses and generated ones on its pooled features, beside the
    same distance between two halves of the real masses. Not FID: a domain-feature distance."""
    from thesis_lib.classifier import domain_features, train_classifier
    rows = []
    for run in sorted(Path(gan_dir).glob("fold[0-9]")):
        if not (run / "best.pt").is_file():
            continue
        fold = int(run.name.removeprefix("fold"))
        masses = partition_patches(store, fold, "train", "mass", None, seed)
        normals = partition_patches(store, fold, "train", "normal", normals_per_mass * len(masses), seed)
        val_m = partition_patches(store, fold, "val", "mass", None, seed)
        val_n = partition_patches(store, fold, "val", "normal", normals_per_mass * max(len(val_m), 1), seed)
        net = train_classifier(np.concatenate([masses, normals]), np.r_[np.ones(len(masses)), np.zeros(len(normals))],
                               np.concatenate([val_m, val_n]), np.r_[np.ones(len(val_m)), np.zeros(len(val_n))], cfg)
        real = domain_features(net.model, masses)
        fake = domain_features(net.model, generate(run / "best.pt", n_generated, seed=seed))
        with warnings.catch_warnings():  # a Fréchet distance between halves, here on 90 features
            warnings.simplefilter("ignore")
            floor = float(real_real_floor(real, seed))
        rows.append({"fold": fold, "classifier val F1": net.best_val_f1, "N real": len(real), "N generated": len(fake),
                     "domain FD": frechet_distance(*gaussian_stats(real), *gaussian_stats(fake)),
                     "real-real domain FD": floor})
    return pd.DataFrame(rows).set_index("fold")
