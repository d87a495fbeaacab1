"""Realism of trained generators: FID and what FID misses, per fold and over epochs.

Every generator is scored against real masses it never saw: its fold's **held-out** masses (the
masses of the fold's validation and test patients). Scoring against the training masses, as the
thesis did, rewards a generator that copies them. Each score is set beside a **matched floor**:
the FID between the held-out masses and a set of real training masses of exactly the generated
set's size, so both carry the same small-N bias. The same generated set is also scored against a
sample of its training masses of the held-out set's size: a generator much closer to its training
masses than to unseen ones is memorising, which the nearest-neighbour test below measures.

A kept generator is called **realistic** when all of these hold (:func:`realism_verdict`):

- FID against held-out masses at most :data:`MAX_FID_RATIO` x the matched floor;
- precision at least :data:`MIN_PRECISION` and recall at least :data:`MIN_RECALL` (k nearest
  neighbours in Inception features, against held-out masses);
- **no copying**: no more generated masses as close to one of the generator's training masses
  as only 10 % of real unseen (held-out) masses are than those 10 %, within a one-sided 99 % margin
  (:func:`memorisation_check`; calibrated on real masses, so it does not move with the sizes of
  the sets). ``closer to training`` (the share of generated masses nearer a training than a
  held-out mass, equal-sized sets) is shown beside it, as a description;
- no checkerboard: the generated masses' mean power spectrum inside the real masses' central
  95 % range at high frequencies (:func:`thesis_lib.evaluation.metrics.spectrum_check`; scored by
  :func:`score_patches`, which has the images);
- **masses, not tissue** (the class boundary; scored when held-out normal patches are given,
  as :func:`score_patches` always gives them): FID against held-out masses below the FID of as
  many held-out *normal* patches against the same masses, and the share of generated samples
  that a mass-vs-normal classifier calls masses (:data:`CALL_NEIGHBOURS`-nearest neighbours among
  held-out masses and as many held-out normals, in the same features) at least the share of real
  unseen masses (training masses the reference never holds) it calls masses, less a 95 %
  binomial margin. Real normal tissue passes the rules above (it is mammographic texture at
  the right scale) and fails these.

"FID falls during training" is judged by the slope of FID against epoch over all snapshots,
with a bootstrap interval (:func:`fid_trend`), not by two points.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import torch

from thesis_lib.data.subsets import training_patches
from thesis_lib.evaluation.inception import InceptionFeatures, cached_features
from thesis_lib.evaluation.memorisation import nearest
from thesis_lib.evaluation.metrics import (fid_from_features, fid_infinity, frechet_distance, gaussian_stats, kid,
                                precision_recall, spectrum_check, HIGH_FREQUENCY)
from thesis_lib.models.generate import generate
from thesis_lib.training.classifier import domain_features, predict_proba, train_classifier


MAX_FID_RATIO = 2.0
MIN_PRECISION = 0.5
MIN_RECALL = 0.3
CALL_NEIGHBOURS = 5
COPY_QUANTILE = 0.10  # "as close to a training mass as only 10 % of real unseen masses are"
CALL_LEVEL = 0.95  # two-sided level of the Wilson interval whose lower limit the called-masses share must reach
COPY_LEVEL = 0.99  # one-sided level of the margin on the too-close share
MARGIN_LEVEL = 0.95  # two-sided level of the binomial margins that make a precision or recall verdict borderline
RULE_COLUMNS = ("too close to training", "too close limit", "normal-tissue FID", "called masses", "called masses limit",
                "real masses called")
"""The scores of the class-boundary and copy rules, which :func:`realism_verdict` applies only to a
row that holds them (rows measured before those rules existed lack them)."""
REALISM_RULE = (f"FID against held-out masses at most {MAX_FID_RATIO:g} x the matched real-real floor and below "
                f"that of as many held-out normal patches, precision >= {MIN_PRECISION:g}, recall >= "
                f"{MIN_RECALL:g}, called masses by a mass-vs-normal {CALL_NEIGHBOURS}-NN classifier as often as "
                f"real unseen masses (within a {CALL_LEVEL * 100:g} % margin), no more generated masses as close to a training "
                f"mass as the closest {COPY_QUANTILE * 100:g} % of real unseen masses than {COPY_QUANTILE * 100:g} % (within a "
                f"{COPY_LEVEL * 100:g} % margin), and their mean power spectrum inside the real masses' range above "
                f"{HIGH_FREQUENCY:g} cycles/pixel (no checkerboard)")


def score_generator(train: np.ndarray, held_out: np.ndarray, fake: np.ndarray, *, kid_subsets: int, k: int,
                    seed: int, normals: np.ndarray | None = None) -> dict:
    """Scores of generated features ``fake`` (n_gen, d) against real ``held_out`` (n_ref, d) masses,
    with the generator's ``train`` masses (n_train, d) for the matched floor and the memorisation
    checks; ``n_train`` must be at least ``n_gen`` (the floor draws that many) and ``n_ref``
    is cut to ``n_train`` when larger. With held-out ``normals`` (n_normal, d) the class-boundary
    scores are added (see the module docstring). Every FID's Ns are in the row."""
    n_gen = len(fake)
    if len(train) < n_gen or len(held_out) < 2:
        raise ValueError(f"need at least n_generated = {n_gen} training masses and 2 held-out ones, got "
                         f"{len(train)} and {len(held_out)}")
    rng = np.random.default_rng(seed)
    held_out = held_out[np.sort(rng.choice(len(held_out), min(len(held_out), len(train)), replace=False))]
    n_ref = len(held_out)
    floor_set = train[rng.choice(len(train), n_gen, replace=False)]
    train_ref = train[rng.choice(len(train), n_ref, replace=False)]
    with warnings.catch_warnings():  # N is reported beside every score instead
        warnings.simplefilter("ignore")
        fid = fid_from_features(held_out, fake)
        floor = fid_from_features(held_out, floor_set)
        fid_train = fid_from_features(train_ref, fake)
    kid_mean, kid_std = kid(held_out, fake, n_subsets=kid_subsets, seed=seed)
    precision, recall = precision_recall(held_out, fake, k)
    to_train, _ = nearest(fake, train_ref)
    to_held_out, _ = nearest(fake, held_out)
    row = {"N generated": n_gen, "N held-out": n_ref, "N train": len(train), "FID": float(fid),
           "real-real FID": float(floor), "FID / floor": float(fid) / max(float(floor), 1e-12),
           "FID vs training": float(fid_train), "KID x 1000": 1000 * kid_mean, "KID std x 1000": 1000 * kid_std,
           "precision": precision, "recall": recall, "closer to training": float(np.mean(to_train < to_held_out))}
    try:
        row["FID-infinity"] = fid_infinity(held_out, fake, seed=seed)[0]
    except ValueError:
        row["FID-infinity"] = np.nan  # too few samples to extrapolate
    if normals is not None:
        row.update(class_boundary(held_out, normals, fake, floor_set, rng))
    row.update(memorisation_check(train, held_out, fake))
    return row


def memorisation_check(train: np.ndarray, held_out: np.ndarray, fake: np.ndarray) -> dict:
    """Copying, calibrated on real unseen masses: each held-out mass's distance to its nearest
    training mass gives the distance that only :data:`COPY_QUANTILE` of real unseen masses come
    under; ``too close to training`` is the share of ``fake`` (n_gen, d) under it (copies of
    training masses: all of them; an honest generator: about 10 %), ``too close limit`` that
    share plus a one-sided :data:`COPY_LEVEL` margin for both sets' sizes (the gate judges many generators:
    at 95 % one honest generator in 14 failed in simulations). An honest generator's expected
    share is :data:`COPY_QUANTILE` whatever the sizes of the training and held-out sets (a share
    of nearest neighbours would move with them); the margin, and so the limit, narrows as
    ``len(held_out)`` and ``len(fake)`` grow."""
    to_train_real = nearest(held_out, train)[0]
    cut = float(np.quantile(to_train_real, COPY_QUANTILE))
    too_close = float(np.mean(nearest(fake, train)[0] < cut))
    q = COPY_QUANTILE
    margin = NormalDist().inv_cdf(COPY_LEVEL) * np.sqrt(q * (1 - q) * (1 / len(held_out) + 1 / len(fake)))
    return {"too close to training": too_close, "too close limit": q + margin}


def class_boundary(held_out: np.ndarray, normals: np.ndarray, fake: np.ndarray, real_unseen: np.ndarray,
                   rng: np.random.Generator) -> dict:
    """Whether generated features ``fake`` (n_gen, d) are masses rather than tissue: the FID of as
    many ``normals`` (held-out normal patches) against ``held_out`` masses, and the share of
    ``fake`` and of ``real_unseen`` masses (n_gen, d; masses the reference does not hold) that a
    :data:`CALL_NEIGHBOURS`-NN classifier over ``held_out`` and as many normals calls masses,
    with the lower limit of the real share's :data:`CALL_LEVEL` Wilson interval at n_gen."""
    n_gen, n_ref = len(fake), len(held_out)
    normal_set = normals[rng.choice(len(normals), min(n_gen, len(normals)), replace=False)]
    normal_ref = normals[rng.choice(len(normals), min(n_ref, len(normals)), replace=False)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        normal_fid = fid_from_features(held_out, normal_set)
    reference = np.concatenate([held_out, normal_ref])
    is_mass = np.r_[np.ones(n_ref, bool), np.zeros(len(normal_ref), bool)]
    called, real_called = (float(np.mean(calls_masses(x, reference, is_mass))) for x in (fake, real_unseen))
    z = NormalDist().inv_cdf((1 + CALL_LEVEL) / 2)
    centre = (real_called + z**2 / (2 * n_gen)) / (1 + z**2 / n_gen)
    margin = z * np.sqrt(real_called * (1 - real_called) / n_gen + z**2 / (4 * n_gen**2)) / (1 + z**2 / n_gen)
    return {"N normal": len(normal_set), "normal-tissue FID": float(normal_fid), "called masses": called,
            "real masses called": real_called, "called masses limit": float(max(centre - margin, 0.0))}


def calls_masses(x: np.ndarray, reference: np.ndarray, is_mass: np.ndarray, k: int = CALL_NEIGHBOURS) -> np.ndarray:
    """(n,) bool: whether most of each row's ``k`` nearest ``reference`` rows (Euclidean) are
    masses; distances in blocks of 512 rows, so memory stays at 512 x len(reference)."""
    r = torch.as_tensor(np.asarray(reference, np.float64))
    votes = [is_mass[torch.cdist(block, r).topk(k, largest=False).indices.numpy()].mean(axis=1)
             for block in torch.as_tensor(np.asarray(x, np.float64)).split(512)]
    return np.concatenate(votes) > 0.5


def score_patches(train: np.ndarray, held_out: np.ndarray, fake: np.ndarray, normals: np.ndarray,
                  extractor: InceptionFeatures, cache_dir: str | Path, *, kid_subsets: int, k: int, seed: int) -> dict:
    """:func:`score_generator` on the (cached) Inception features of uint8 patches (held-out
    ``normals`` for the class boundary), with the generated patches' high-frequency spectrum
    excess over the held-out masses' range added."""
    feats = [cached_features(extractor, images, cache_dir) for images in (train, held_out, fake, normals)]
    row = score_generator(*feats[:3], kid_subsets=kid_subsets, k=k, seed=seed, normals=feats[3])
    row["spectrum excess (dex)"] = spectrum_check(held_out, fake)["excess"]
    return row


def binomial_margin(share: float, n: float) -> float:
    """Half the width of the two-sided :data:`MARGIN_LEVEL` normal interval of a share near
    ``share`` (in [0, 1]) measured on ``n`` items: how far one draw of samples moves it."""
    return float(NormalDist().inv_cdf((1 + MARGIN_LEVEL) / 2) * np.sqrt(share * (1 - share) / n))


def borderline(row) -> list[str]:
    """The precision and recall verdicts of a row of :func:`score_generator` that a redraw of its
    samples could turn: the score lies within the binomial :data:`MARGIN_LEVEL` margin of its
    threshold at its set's size (precision: ``N generated`` samples; recall: ``N held-out``
    masses), e.g. "precision 0.54 within 0.10 of 0.5 (N = 100)". Empty when both are clear."""
    close = []
    for name, threshold, n in (("precision", MIN_PRECISION, row["N generated"]), ("recall", MIN_RECALL, row["N held-out"])):
        margin = binomial_margin(threshold, n)
        if abs(row[name] - threshold) < margin:
            close.append(f"{name} {row[name]:.2f} within {margin:.2f} of {threshold:g} (N = {int(n)})")
    return close


def clear_failures(row) -> list[str]:
    """The rules ``row`` fails even when each borderline score (:func:`borderline`) is given the
    benefit of the doubt, set to its threshold: failures no redraw of samples could turn."""
    lifted = dict(row)
    for name, threshold in (("precision", MIN_PRECISION), ("recall", MIN_RECALL)):
        if any(text.startswith(name) for text in borderline(row)):
            lifted[name] = max(row[name], threshold)
    return realism_verdict(lifted)[1]


def realism_verdict(row) -> tuple[bool, list[str]]:
    """Whether a row of :func:`score_generator` passes every realism rule, and the rules it fails."""
    failed = []
    if not row["FID / floor"] <= MAX_FID_RATIO:
        failed.append(f"FID {row['FID / floor']:.1f} x the floor (> {MAX_FID_RATIO:g})")
    if not row["precision"] >= MIN_PRECISION:
        failed.append(f"precision {row['precision']:.2f} (< {MIN_PRECISION:g})")
    if not row["recall"] >= MIN_RECALL:
        failed.append(f"recall {row['recall']:.2f} (< {MIN_RECALL:g})")
    if "too close limit" in row and not row["too close to training"] <= row["too close limit"]:
        failed.append(f"{row['too close to training']:.0%} as close to a training mass as only "
                      f"{COPY_QUANTILE:.0%} of real unseen masses are (> {row['too close limit']:.0%})")
    if "spectrum excess (dex)" in row and not row["spectrum excess (dex)"] <= 0.0:
        failed.append(f"high-frequency spectrum outside the real range ({row['spectrum excess (dex)']:.2f} dex)")
    if "normal-tissue FID" in row and not row["FID"] < row["normal-tissue FID"]:
        failed.append(f"FID {row['FID']:.1f} not below normal tissue's {row['normal-tissue FID']:.1f}")
    if "called masses" in row and not row["called masses"] >= row["called masses limit"]:
        failed.append(f"{row['called masses']:.0%} called masses (< {row['called masses limit']:.0%}: real masses "
                      f"{row['real masses called']:.0%} less the {CALL_LEVEL * 100:g} % margin)")
    return not failed, failed


def held_out_masses(store, fold: int) -> np.ndarray:
    """The masses of ``fold``'s validation and test patients: real masses no generator of that
    fold was trained on."""
    return partition_patches(store, fold, ("val", "test"), "mass", None, 0)


def held_out_mass_patients(store, fold: int) -> np.ndarray:
    """The patient of each of :func:`held_out_masses`, in the same order."""
    return store.rows(fold, ("val", "test"), "mass").patient_id.to_numpy()


def held_out_normals(store, fold: int) -> np.ndarray:
    """Normal patches of ``fold``'s validation and test patients, twice as many as its held-out
    masses (a fixed seeded draw, so every step embeds the same ones once)."""
    n_masses = len(store.rows(fold, ("val", "test"), "mass"))
    return partition_patches(store, fold, ("val", "test"), "normal", 2 * n_masses, 0)


def score_fold_generator(store, fold: int, ckpt: str | Path, extractor: InceptionFeatures, *, n_generated: int,
                         seed: int, kid_subsets: int, k: int, cache_dir: str | Path) -> dict:
    """The scores of :func:`score_patches` for the generator ``ckpt`` trained on ``fold``'s
    training masses (``n_generated`` samples, fewer when the fold has fewer training masses),
    with ``realistic`` (the verdict) and ``fails`` (the rules failed)."""
    train, _ = training_patches(store, fold, None, seed)
    fake = generate(ckpt, min(n_generated, len(train)), seed=seed)
    row = score_patches(train, held_out_masses(store, fold), fake, held_out_normals(store, fold), extractor, cache_dir,
                        kid_subsets=kid_subsets,
                        k=k, seed=seed)
    passed, failed = realism_verdict(row)
    return {**row, "realistic": passed, "fails": "; ".join(failed)}


def fold_generators(store, gan_dir: str | Path, generator: str | Path | None = None) -> dict[int, Path]:
    """Fold -> the generator to score there: each fold's lesion-simulation GAN
    (``gan_dir/fold<f>/best.pt``, folds without one left out), or one ready ``generator`` for
    every fold of the store. No generator at all is an error naming the step."""
    folds = sorted(int(f) for f in store.folds.fold.unique())
    if generator is not None:
        return {fold: Path(generator) for fold in folds}
    found = {fold: Path(gan_dir) / f"fold{fold}" / "best.pt" for fold in folds}
    found = {fold: path for fold, path in found.items() if path.is_file()}
    if not found:
        raise FileNotFoundError(f"{gan_dir}: no trained generator (fold<f>/best.pt); run notebook 01_train_dcgan "
                                "or the workflow's train_gan rules first")
    return found


def realism_table(store, generators: dict[int, Path], extractor: InceptionFeatures, *, n_generated: int, seed: int,
                  kid_subsets: int, k: int, cache_dir: str | Path) -> pd.DataFrame:
    """One row per fold of ``generators`` (:func:`fold_generators`): the scores of
    :func:`score_generator` (``n_generated`` samples, fewer when the fold has fewer training
    masses), the verdict and the rules failed."""
    rows = [{"fold": fold, **score_fold_generator(store, fold, ckpt, extractor, n_generated=n_generated, seed=seed,
                                                  kid_subsets=kid_subsets, k=k, cache_dir=cache_dir)}
            for fold, ckpt in generators.items()]
    return pd.DataFrame(rows).set_index("fold")


MIN_SNAPSHOTS = 5  # fewer give a bootstrap of the slope too few distinct resamples (3 snapshots: 4 slopes)


def selection_cost(curve: pd.DataFrame) -> str:
    """What keeping the last generator cost on this run, from its snapshots (``curve``: epoch,
    FID, precision, N generated; all at one N): the best snapshot by FID beside the last one,
    with the differences. A rule that keeps the last is supported only where the last snapshot
    is the best or within the precision's binomial margin of it and no worse by FID."""
    if len(curve) < 2:
        return "Too few snapshots to weigh the rule that keeps the last generator."
    curve = curve.sort_values("epoch")
    best, last = curve.loc[curve.FID.idxmin()], curve.iloc[-1]
    n = int(last["N generated"])
    lowest = (f"At N = {n} per snapshot, the lowest FID was at epoch {int(best.epoch)} ({best.FID:.1f}, precision "
              f"{best.precision:.2f})")
    if best.epoch == last.epoch:
        return lowest + ", the last snapshot: keeping the last generator is supported by this run's snapshots."
    head = f"{lowest}; the last snapshot, epoch {int(last.epoch)}, scored {last.FID:.1f} (precision {last.precision:.2f}). "
    margin = binomial_margin(max(min(best.precision, 0.99), 0.01), n)
    close = best.precision - last.precision < margin and last.FID <= best.FID * 1.05
    return head + (f"The last is within the precision's draw-to-draw margin at this N ({margin:.2f}) and 5 % of the "
                   "best FID: keeping it costs little on this run." if close else
                   f"Keeping the last generator cost {last.FID - best.FID:+.1f} FID and "
                   f"{last.precision - best.precision:+.2f} precision on this run, more than precision moves between "
                   f"draws of {n} samples (about {margin:.2f}): its snapshots do not support the rule. These are two "
                   "snapshots, not a trend; a selection by FID on held-out masses (evaluator: fid) would have kept "
                   "the earlier one, at the cost of Inception scoring during training.")


def fid_trend(curve: pd.DataFrame, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Least-squares slope of FID against epoch over all snapshots (``curve``: epoch, FID), in FID
    per 100 epochs, with a percentile bootstrap interval over snapshots; ``falls`` is True when the
    whole interval lies below 0. Fewer than :data:`MIN_SNAPSHOTS` snapshots cannot show a trend
    (``falls`` None)."""
    epochs, fid = curve.epoch.to_numpy(float), curve.FID.to_numpy(float)
    if len(epochs) < MIN_SNAPSHOTS:
        return {"slope": np.nan, "low": np.nan, "high": np.nan, "falls": None, "snapshots": len(epochs)}
    slope = np.polyfit(epochs, fid, 1)[0] * 100
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(epochs), (n_boot, len(epochs)))
    x, y = epochs[draws], fid[draws]
    xc = x - x.mean(axis=1, keepdims=True)
    var = (xc**2).sum(axis=1)
    slopes = np.divide((xc * (y - y.mean(axis=1, keepdims=True))).sum(axis=1), var, out=np.full(n_boot, np.nan),
                       where=var > 0) * 100
    low, high = np.nanquantile(slopes, [(1 - level) / 2, (1 + level) / 2])
    return {"slope": float(slope), "low": float(low), "high": float(high), "falls": bool(high < 0),
            "snapshots": len(epochs)}


def fid_over_epochs(run_dir: str | Path, real_feats: np.ndarray, extractor: InceptionFeatures, *,
                    n_generated: int, seed: int, k: int = 3) -> pd.DataFrame:
    """FID, precision and recall (``k`` nearest neighbours) of each generator snapshot
    (``run_dir/snapshots/epoch_*.pt``) against ``real_feats``: columns ``epoch, FID, precision,
    recall, N generated``. How far along its budget a run met the realism targets."""
    snapshots = sorted(Path(run_dir).glob("snapshots/epoch_*.pt"))
    if not snapshots:
        raise FileNotFoundError(f"{run_dir}: no generator snapshots; train with snapshot_every > 0")
    rows = []
    for path in snapshots:
        fake = extractor(generate(path, n_generated, seed=seed), progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fid = fid_from_features(real_feats, fake)
        enough = min(len(real_feats), len(fake)) > k  # a k-NN manifold needs more than k points
        precision, recall = precision_recall(real_feats, fake, k) if enough else (np.nan, np.nan)
        rows.append({"epoch": int(path.stem.split("_")[1]), "FID": float(fid), "precision": precision,
                     "recall": recall, "N generated": n_generated})
    return pd.DataFrame(rows)


def partition_patches(store, fold: int, partition: str | tuple[str, ...], label: str, limit: int | None,
                      seed: int) -> np.ndarray:
    """Patches of one label in one partition of a fold (or several: ``("val", "test")``), at
    most ``limit`` (seeded subsample)."""
    rows = store.rows(fold, partition, label).index.to_numpy()
    if limit is not None and len(rows) > limit:
        rows = np.sort(np.random.default_rng([seed, fold]).choice(rows, limit, replace=False))
    return store.read(rows)


def domain_table(store, generators: dict[int, Path], cfg, *, n_generated: int, seed: int,
                 normals_per_mass: int = 4) -> pd.DataFrame:
    """Per fold of ``generators`` (:func:`fold_generators`): a classifier (the thesis' evaluation
    network, ``cfg``) trained on the fold's training masses and normal patches
    (``normals_per_mass`` normals per mass), and on its pooled features the Fréchet distance
    between generated masses and the fold's **held-out** masses (validation and test patients:
    none seen by the generator), beside the same distance between as many real training masses
    and those held-out masses (the floor). All three sets hold the same N, the smallest of
    ``n_generated`` and the two real sets (seeded draws), so the floor and the distance share
    their small-N bias. Not FID: a domain-feature distance. ``called masses``: the share of
    generated patches the classifier calls masses (P >= 0.5), and ``val masses called``: the
    same share of the fold's real validation masses, its yardstick."""
    rows = []
    for fold, ckpt in generators.items():
        masses = partition_patches(store, fold, "train", "mass", None, seed)
        normals = partition_patches(store, fold, "train", "normal", normals_per_mass * len(masses), seed)
        val_m = partition_patches(store, fold, "val", "mass", None, seed)
        val_n = partition_patches(store, fold, "val", "normal", normals_per_mass * max(len(val_m), 1), seed)
        net = train_classifier(np.concatenate([masses, normals]), np.r_[np.ones(len(masses)), np.zeros(len(normals))],
                               np.concatenate([val_m, val_n]), np.r_[np.ones(len(val_m)), np.zeros(len(val_n))], cfg)
        held_out = held_out_masses(store, fold)
        n = min(n_generated, len(held_out), len(masses))
        rng = np.random.default_rng([seed, fold])
        reference = domain_features(net.model, held_out[rng.choice(len(held_out), n, replace=False)])
        seen = domain_features(net.model, masses[rng.choice(len(masses), n, replace=False)])
        generated = generate(ckpt, n, seed=seed)
        fake = domain_features(net.model, generated)
        with warnings.catch_warnings():  # a Fréchet distance on 90 features from a few hundred patches
            warnings.simplefilter("ignore")
            distance = frechet_distance(*gaussian_stats(reference), *gaussian_stats(fake))
            floor = frechet_distance(*gaussian_stats(reference), *gaussian_stats(seen))
        rows.append({"fold": fold, "classifier val F1": net.best_val_f1, "N held-out": n, "N training": n,
                     "N generated": len(fake), "domain FD": float(distance), "real-real domain FD": float(floor),
                     "called masses": float(np.mean(predict_proba(net.model, generated) >= 0.5)),
                     "val masses called": float(np.mean(predict_proba(net.model, val_m) >= 0.5)) if len(val_m)
                     else np.nan})
    return pd.DataFrame(rows).set_index("fold")
