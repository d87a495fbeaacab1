"""The thesis' t-SNE study: real, generated and flipped masses among normal tissue.

For one fold and one k (``None``: the fold's whole training pool and its GAN ``gan/fold<f>``;
otherwise the nested k-subset and its G_k ``gan/fold<f>_k<k>``) the study gathers four sets
of (n, 128, 128) uint8 patches:

- ``real``: the generator's training masses;
- ``generated``: ``ratio`` x n_real masses from that generator (the thesis: 1.5 k);
- ``flipped``: ``ratio`` x n_real flipped copies of the real masses (the Aug ORG annex);
- ``normal``: ``n_normal`` normal patches of the fold's training partition.

Each set is described in a feature space (``pixels``: grey values / 255, 16,384 per patch;
``inception``: FID Inception pool3 features, 2,048), mapped with t-SNE and scored with
:mod:`thesis_lib.neighbourhoods` in that space.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib import neighbourhoods
from thesis_lib.embedding import embed

SPACES = ("pixels", "inception")
MAPS = {  # map name -> the sets it shows, drawn in this order
    "real_generated": ("generated", "real"),
    "real_generated_normal": ("normal", "generated", "real"),
    "real_flipped_normal": ("normal", "flipped", "real"),
}
UNCHANGED = 0.005  # AUC or coverage differences below this are read as no change
NEAR_REAL = 0.1  # distance ratios up to 1 + NEAR_REAL count as "as close as real masses are"


def check_spaces(spaces) -> tuple[str, ...]:
    """``spaces`` as a tuple of known feature-space names (one name may be given as a string)."""
    spaces = (spaces,) if isinstance(spaces, str) else tuple(spaces)
    unknown = [s for s in spaces if s not in SPACES]
    if not spaces or unknown:
        raise ValueError(f"spaces={list(spaces)}: expected one or more of {SPACES}")
    return spaces


def flipped_copies(patches: np.ndarray, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``round(ratio * n)`` flipped copies of (n, h, w) ``patches`` and the source index of each.

    Sources cycle through a seeded permutation, so every patch is copied once before any is
    copied twice; each copy is flipped horizontally, vertically or both (uniformly; never
    left as it is, which would add the real patch itself).
    """
    if ratio <= 0 or len(patches) == 0:
        raise ValueError(f"ratio={ratio} and {len(patches)} patches: need ratio > 0 and patches")
    rng = np.random.default_rng(seed)
    source = np.resize(rng.permutation(len(patches)), round(ratio * len(patches)))
    flips = rng.integers(1, 4, len(source))  # bit 1: horizontal, bit 2: vertical
    copies = patches[source].copy()
    h, v = (flips & 1).astype(bool), (flips & 2).astype(bool)
    copies[h] = copies[h][:, :, ::-1]
    copies[v] = copies[v][:, ::-1, :]
    return copies, source


@dataclass
class MassSets:
    """The study's patches, (n, 128, 128) uint8 each, and the flipped copies' sources."""

    real: np.ndarray
    generated: np.ndarray
    flipped: np.ndarray
    flipped_source: np.ndarray
    normal: np.ndarray

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("real", "generated", "flipped", "normal")}


def mass_sets(store, artifacts: str | Path, fold: int, k: int | str | None, *, ratio: float, n_normal: int,
              seed: int, subset_seed: int | None = None) -> MassSets:
    """The four sets for ``fold`` and ``k`` (see the module docstring), all seeded; ``k`` None
    or ``"all"``: the fold's whole training pool and its GAN (``gan/fold<f>``). A G_k's real
    masses are the augmentation study's subset drawn with ``subset_seed`` (its ``seed``), checked
    against the hash of the masses G_k was trained on."""
    from thesis_lib.data.subsets import rows_hash, training_rows
    from thesis_lib.gan.train import read_run, run_dir
    from thesis_lib.generate import generate
    from thesis_lib.realism import partition_patches

    k = None if k in (None, "all") else int(k)
    out = run_dir(artifacts, fold, k)
    ckpt = out / "best.pt"
    if not ckpt.is_file():
        raise FileNotFoundError(f"{ckpt}: no trained generator for fold={fold}, k={k}; train it first "
                                "(notebook 01 for k None, the augmentation study's G_k otherwise)")
    rows = training_rows(store, fold, k, seed if subset_seed is None else subset_seed)
    trained_on = read_run(out)["summary"].get("masses_hash") if k is not None else None
    if k is not None and trained_on != rows_hash(rows):
        raise ValueError(f"{out}: G_k was trained on other masses than the k = {k} subset of seed "
                         f"{subset_seed}; rerun the augmentation study (python -m thesis_lib.augstudy --k {k})")
    real = store.read(rows.index.to_numpy())
    flipped, source = flipped_copies(real, ratio, seed)
    return MassSets(real=real, generated=generate(ckpt, round(ratio * len(real)), seed=seed),
                    flipped=flipped, flipped_source=source,
                    normal=partition_patches(store, fold, "train", "normal", n_normal, seed))


def features(sets: MassSets, space: str, extractor=None, cache_dir: str | Path | None = None
             ) -> dict[str, np.ndarray]:
    """Set name -> (n, d) features: grey values / 255 (``pixels``) or FID Inception features
    (``inception``; needs ``extractor`` and ``cache_dir``, where they are cached)."""
    from thesis_lib.inception import cached_features

    names = ("real", "generated", "flipped", "normal")
    check_spaces(space)
    if space == "pixels":
        return {n: getattr(sets, n).reshape(len(getattr(sets, n)), -1).astype(np.float32) / 255 for n in names}
    if extractor is None or cache_dir is None:
        raise ValueError("space='inception' needs an extractor and a cache_dir")
    return {n: cached_features(extractor, getattr(sets, n), cache_dir) for n in names}


def maps(feats: dict[str, np.ndarray], *, perplexity: float, n_iter: int, seed: int,
         backend: str = "auto") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Map name -> ((n, 2) t-SNE coordinates, (n,) set names) for each map of :data:`MAPS`,
    each embedded on its own."""
    out = {}
    for name, groups in MAPS.items():
        x = np.concatenate([feats[g] for g in groups])
        labels = np.concatenate([[g] * len(feats[g]) for g in groups])
        out[name] = (embed(x, perplexity, n_iter, seed, backend), labels)
    return out


def support_table(feats: dict[str, np.ndarray], space: str, *, neighbours: int, cv_splits: int,
                  flipped_source: np.ndarray, seed: int) -> pd.DataFrame:
    """Tidy rows ``space, masses, metric, value, expected`` of one feature space: for the
    generated and the flipped masses, the :mod:`~thesis_lib.neighbourhoods` scores; ``expected``
    is the value for masses exchangeable with the real ones (NaN where none applies)."""
    real, normal = feats["real"], feats["normal"]
    rows = [(space, "real only", "mass-vs-normal AUC",
             neighbourhoods.separability(real, normal, n_splits=cv_splits, seed=seed), np.nan)]
    for added, source in (("generated", None), ("flipped", flipped_source)):
        x = feats[added]
        share, share_expected = neighbourhoods.nearest_is_reference(real, x)
        cov = neighbourhoods.coverage(real, x, neighbours)
        rows += [
            (space, added, "nearest neighbour is real", share, share_expected),
            (space, added, f"coverage ({neighbours}-NN)", cov["coverage"], cov["expected"]),
            (space, added, f"outlier coverage ({neighbours}-NN)", cov["outlier coverage"], cov["expected"]),
            (space, added, "distance ratio", neighbourhoods.distance_ratio(real, x), 1.0),
            (space, added, "mass-vs-normal AUC",
             neighbourhoods.separability(real, normal, x, source, n_splits=cv_splits, seed=seed), np.nan),
        ]
    return pd.DataFrame(rows, columns=["space", "masses", "metric", "value", "expected"])


def _value(table: pd.DataFrame, masses: str, metric: str) -> float:
    row = table[(table.masses == masses) & table.metric.str.startswith(metric)]
    return float(row.value.iloc[0])


def readings(table: pd.DataFrame) -> dict:
    """The numbers behind the thesis' two readings, for one space's rows of
    :func:`support_table`: ``gaps`` (generated masses mix with real ones and lie as close to
    them as real masses lie to each other) and ``outliers_less`` (generated masses cover
    outlying real masses less than flips do), with the values they rest on."""
    get = partial(_value, table)
    share = get("generated", "nearest neighbour is real")
    expected = float(table[table.metric == "nearest neighbour is real"].expected.iloc[0])
    ratio = get("generated", "distance ratio")
    out_gen, out_flip = get("generated", "outlier coverage"), get("flipped", "outlier coverage")
    r = {"share": share, "expected": expected, "ratio": ratio, "flip_ratio": get("flipped", "distance ratio"),
         "mixes": share >= expected / 2, "near": ratio <= 1.0 + NEAR_REAL, "out_gen": out_gen,
         "out_flip": out_flip, "auc0": get("real only", "mass-vs-normal AUC"),
         "auc_gen": get("generated", "mass-vs-normal AUC")}
    r["gaps"] = r["mixes"] and r["near"]
    r["outliers_less"] = out_gen < out_flip - UNCHANGED
    return r


def verdicts(table: pd.DataFrame) -> list[str]:
    """One Markdown sentence per claim of the thesis, for one space's rows of
    :func:`support_table`, each computed from the numbers."""
    space = table.space.iloc[0]
    r = readings(table)
    share, expected, ratio, flip_ratio = r["share"], r["expected"], r["ratio"], r["flip_ratio"]
    mixes, near, out_gen, out_flip = r["mixes"], r["near"], r["out_gen"], r["out_flip"]
    auc0, auc_gen = r["auc0"], r["auc_gen"]
    change = ("leaves it unchanged" if abs(auc_gen - auc0) < UNCHANGED
              else "raises it" if auc_gen > auc0 else "lowers it")
    gaps = ("They lie among the real masses, as close to them as real masses lie to each other: "
            "this **supports** the reading that they fill gaps." if mixes and near else
            "This does **not support** the reading that they fill gaps: they sit farther from "
            "the real masses than real masses sit from each other, and cluster among themselves."
            if not (mixes or near) else
            "This **partly supports** the reading that they fill gaps: "
            + ("they lie near real masses but cluster among themselves." if near else
               "they mix with the real masses but sit farther from them than real masses sit "
               "from each other."))
    outliers = ("Generated masses support outliers less than flips do, **as the thesis says**."
                if out_gen < out_flip - UNCHANGED else
                "Generated masses support outliers **as much as** flips do: no difference that "
                "supports the thesis' reading." if abs(out_gen - out_flip) <= UNCHANGED else
                "Generated masses support outliers **more** than flips do, against the thesis' reading.")
    return [
        f"**{space}, gaps.** {share:.0%} of generated masses have a real nearest neighbour "
        f"({expected:.0%} if they were exchangeable with real ones), and their median distance "
        f"to the nearest real mass is {ratio:.2f} x the real-to-real one. " + gaps,
        f"**{space}, outliers.** Outlying real masses (largest neighbourhoods) have a generated "
        f"mass among their neighbours in {out_gen:.0%} of cases, a flipped one in {out_flip:.0%}. "
        + outliers,
        f"**{space}, flips against generated.** Flipped copies lie at {flip_ratio:.2f} x the "
        f"real-to-real distance from the nearest real mass, generated ones at {ratio:.2f} x.",
        f"**{space}, separability.** A linear classifier tells held-out real masses from normal "
        f"tissue with AUC {auc0:.3f}; training it with the generated masses as well {change} "
        f"({auc_gen:.3f}).",
    ]
