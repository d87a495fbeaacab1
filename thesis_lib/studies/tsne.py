"""The thesis' t-SNE study: real, generated and flipped masses among normal tissue.

For one fold and one k (``None``: the fold's whole training pool and its GAN ``gan/fold<f>``;
otherwise the augmentation study's k-subset and its G_k ``gan/fold<f>_k<k>``) the study gathers
(n, 128, 128) uint8 patches:

- ``real``: the generator's training masses;
- ``generated``: ``ratio`` x n_real masses from that generator (the thesis: 1.5 k);
- ``flipped``: ``ratio`` x n_real flipped copies of the real masses (the Aug ORG annex);
- ``normal``: ``n_normal`` normal patches of the fold's training partition;
- ``held_out`` and ``held_out_normal``: masses and (at most ``n_normal``) normal patches of the
  fold's validation and test patients, which neither the generator nor the flips ever saw, with
  ``held_out_patient``, the patient of each held-out mass;
- ``generated_more``: as many masses from each further G_k seed (the augmentation study's
  ``gan_seeds``), so that the gap-filling interval resamples generator seeds;
- ``mixed``: the **smooth control**, ``ratio`` x n_real averages of two different real masses
  (mixup): new patches that lie between real ones by construction, smoother than any of them.

Each set is described in a feature space (``pixels``: grey values / 255, 16,384 per patch;
``inception``: FID Inception pool3 features, 2,048), mapped with t-SNE and scored with
:mod:`thesis_lib.evaluation.neighbourhoods` in that space. The thesis' two readings become rules
(:func:`readings`):

- **fills gaps**: adding the generated masses to the training masses brings held-out real
  masses closer to their nearest neighbour than adding the flipped copies does (a paired
  bootstrap interval above 0, drawing held-out patients and G_k seeds), *and* the smooth
  control does not (its interval against the flips does not lie above 0): a measure that calls
  averaged real masses gap-filling cannot tell generated masses that fill gaps from smooth ones;
- **supports outliers less than flips**: the generated masses stay farther from outlying real
  masses than exchangeable sets would (a permutation null) and than the flipped copies do.

Both are judged only for a generated set that lies among the real masses in that space and is
spread like them (precision and recall against the real masses, and :data:`MIN_SPREAD`): a
blurred, mean-image or collapsed set can sit close to everything, and no distance of it means
"fills gaps". That is a condition on distances, not a verdict on realism: whether the generator
draws realistic masses is the realism rules' verdict (the quality gate, the FID chapter), the one
definition the whole book uses; the scorecard leaves these readings unjudged for a generator
that fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib.data.subsets import rows_hash, training_rows
from thesis_lib.evaluation import neighbourhoods
from thesis_lib import reference
from thesis_lib.evaluation.embedding import PCA_COMPONENTS, embed
from thesis_lib.evaluation.inception import cached_features
from thesis_lib.evaluation.metrics import precision_recall
from thesis_lib.models.generate import generate
from thesis_lib.studies.realism import held_out_mass_patients, held_out_masses, partition_patches
from thesis_lib.training.runs import read_run, run_dir

SPACES = ("pixels", "inception")
MAPS = {  # map name -> the sets it shows, drawn in this order
    "real_generated": ("generated", "real"),
    "real_generated_normal": ("normal", "generated", "real"),
    "real_flipped_normal": ("normal", "flipped", "real"),
}
UNCHANGED = 0.005  # AUC differences below this are read as no change
MIN_SPREAD = 0.5  # a generated set less varied than half the real set's spread is not judged on distances
MIN_PRECISION, MIN_RECALL = 0.5, 0.3  # nor one that does not lie among, and cover, the real masses


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


def mixed_copies(patches: np.ndarray, ratio: float, seed: int) -> np.ndarray:
    """``round(ratio * n)`` averages of two different patches of ``patches`` (n, ...) (mixup at
    one half): the smooth control, new patches between real ones by construction. uint8 patches
    stay uint8 (rounded)."""
    if ratio <= 0 or len(patches) < 2:
        raise ValueError(f"ratio={ratio} and {len(patches)} patches: need ratio > 0 and two patches at least")
    rng = np.random.default_rng([seed, 2])
    n = round(ratio * len(patches))
    first = rng.integers(0, len(patches), n)
    second = (first + rng.integers(1, len(patches), n)) % len(patches)  # never the same patch
    mean = (patches[first].astype(np.float64) + patches[second]) / 2
    return np.round(mean).astype(patches.dtype) if patches.dtype == np.uint8 else mean.astype(patches.dtype)


@dataclass
class MassSets:
    """The study's patches, (n, 128, 128) uint8 each (``generated_more``: (seeds - 1, n, 128,
    128)), the flipped copies' sources and the held-out masses' patients."""

    real: np.ndarray
    generated: np.ndarray
    flipped: np.ndarray
    flipped_source: np.ndarray
    normal: np.ndarray
    held_out: np.ndarray
    held_out_normal: np.ndarray
    held_out_patient: np.ndarray
    generated_more: np.ndarray
    mixed: np.ndarray

    NAMES = ("real", "generated", "flipped", "normal", "held_out", "held_out_normal", "generated_more", "mixed")

    LABELS = {"held_out": "held-out", "held_out_normal": "held-out normal",
              "generated_more": "generated by the further G_k seeds", "mixed": "smooth-control (averaged)"}

    def counts(self) -> dict[str, int]:
        """Patches per set, named as the chapter writes them."""
        return {self.LABELS.get(name, name): int(np.prod(getattr(self, name).shape[:-2])) for name in self.NAMES}


def mass_sets(store, artifacts: str | Path, fold: int, k: int | str | None, *, ratio: float, n_normal: int,
              seed: int, subset_seed: int | None = None, generator: str | Path | None = None,
              gan_seeds: list[int] | tuple[int, ...] = (0,)) -> MassSets:
    """The sets for ``fold`` and ``k`` (see the module docstring), all seeded; ``k`` None or
    ``"all"``: the fold's whole training pool and its GAN (``gan/fold<f>``). A G_k's real
    masses are the augmentation study's subset drawn with ``subset_seed`` (its ``seed``), checked
    against the hash of the masses each G_k (one per of ``gan_seeds``) was trained on. A ready
    ``generator`` (a checkpoint made elsewhere) draws the generated set instead; the real sets
    stay this run's. The fold's GAN and a ready generator have one seed."""
    k = None if k in (None, "all") else int(k)
    seeds = list(gan_seeds) if k is not None and generator is None else [0]
    rows = training_rows(store, fold, k, seed if subset_seed is None else subset_seed)
    checkpoints = []
    for gan_seed in seeds:
        out = run_dir(artifacts, fold, k, gan_seed)
        ckpt = Path(generator) if generator is not None else out / "best.pt"
        if not ckpt.is_file():
            raise FileNotFoundError(f"{ckpt}: no trained generator for fold={fold}, k={k}, seed {gan_seed}; train it "
                                    "first (notebook 01 for k None, the augmentation study's G_k otherwise)")
        if k is not None and generator is None and read_run(out)["summary"].get("masses_hash") != rows_hash(rows):
            raise ValueError(f"{out}: G_k was trained on other masses than the k = {k} subset of seed {subset_seed}; "
                             f"rerun the augmentation study (python -m thesis_lib.studies.augstudy --k {k})")
        checkpoints.append(ckpt)
    real = store.read(rows.index.to_numpy())
    n = round(ratio * len(real))
    flipped, source = flipped_copies(real, ratio, seed)
    generated = [generate(ckpt, n, seed=seed) for ckpt in checkpoints]
    return MassSets(real=real, generated=generated[0], flipped=flipped, flipped_source=source,
                    normal=partition_patches(store, fold, "train", "normal", n_normal, seed),
                    held_out=held_out_masses(store, fold),
                    held_out_normal=partition_patches(store, fold, ("val", "test"), "normal", n_normal, seed),
                    held_out_patient=held_out_mass_patients(store, fold),
                    generated_more=np.stack(generated[1:]) if len(generated) > 1 else
                    np.zeros((0, *real.shape), real.dtype),
                    mixed=mixed_copies(real, ratio, seed))


def features(sets: MassSets, space: str, extractor=None, cache_dir: str | Path | None = None
             ) -> dict[str, np.ndarray]:
    """Set name -> (n, d) features: grey values / 255 (``pixels``) or FID Inception features
    (``inception``; needs ``extractor`` and ``cache_dir``, where they are cached)."""
    check_spaces(space)
    if space == "inception" and (extractor is None or cache_dir is None):
        raise ValueError("space='inception' needs an extractor and a cache_dir")

    def described(patches: np.ndarray) -> np.ndarray:
        if patches.ndim == 4:  # one set per further G_k seed
            return np.stack([described(p) for p in patches]) if len(patches) else np.zeros((0, 0, 0), np.float32)
        if space == "pixels":
            return patches.reshape(len(patches), -1).astype(np.float32) / 255
        return cached_features(extractor, patches, cache_dir)

    return {n: described(getattr(sets, n)) for n in sets.NAMES}


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


def support_table(feats: dict[str, np.ndarray], space: str, *, neighbours: int, n_perm: int = 200,
                  n_boot: int = 2000, seed: int = 0, held_out_patient: np.ndarray | None = None) -> pd.DataFrame:
    """Tidy rows ``space, masses, metric, value, expected, low, high`` of one feature space.

    For the generated and the flipped masses: the neighbourhood scores of
    :func:`~thesis_lib.evaluation.neighbourhoods.neighbourhood_scores` with their permutation null
    (``expected`` its mean, ``low``/``high`` its 95 % range); the mean gap filling of held-out
    masses; the set's spread, precision and recall against the real masses; and the held-out
    mass-vs-normal AUC with the set added to training. Then the paired difference in gap
    filling, generated minus flipped, with its bootstrap interval over held-out patients
    (``held_out_patient``; default each mass its own) and G_k seeds (``generated`` and the sets of
    ``generated_more``, when given) (masses ``generated - flipped``); the same for the smooth
    control ``mixed`` (masses ``smooth control - flipped``), and the AUC without added masses
    (``real only``)."""
    real, held = feats["real"], feats["held_out"]
    patients = np.arange(len(held)) if held_out_patient is None else np.asarray(held_out_patient)

    def auc(added=None):
        return neighbourhoods.separability(real, feats["normal"], held, feats["held_out_normal"], added, seed=seed)

    rows = [(space, "real only", "mass-vs-normal AUC (held-out)", auc(), np.nan, np.nan, np.nan)]
    more = feats.get("generated_more")
    by_seed = [neighbourhoods.gap_filling(real, held, x)  # the generated sets' gap filling, one per G_k seed
               for x in [feats["generated"], *(more if more is not None else [])]]
    gaps = {}
    for added in ("generated", "flipped"):
        x = feats[added]
        dist = neighbourhoods.pairwise(np.concatenate([real, x]))
        is_real = np.r_[np.ones(len(real), bool), np.zeros(len(x), bool)]
        scores = neighbourhoods.neighbourhood_scores(dist, is_real, neighbours)
        null = neighbourhoods.permutation_null(dist, len(real), neighbours, n_perm, seed)
        rows += [(space, added, name if "coverage" not in name else f"{name} ({neighbours}-NN)", scores[name],
                  *null[name]) for name in neighbourhoods.SCORES]
        gaps[added] = by_seed[0] if added == "generated" else neighbourhoods.gap_filling(real, held, x)
        precision, recall = precision_recall(real, x, 3)
        shown = np.mean(by_seed) if added == "generated" else gaps[added].mean()  # generated: over the G_k seeds
        rows += [(space, added, "gap filling of held-out masses", float(shown), np.nan, np.nan, np.nan),
                 (space, added, "spread", neighbourhoods.spread(real, x), 1.0, np.nan, np.nan),
                 (space, added, "precision", precision, np.nan, np.nan, np.nan),
                 (space, added, "recall", recall, np.nan, np.nan, np.nan),
                 (space, added, "mass-vs-normal AUC (held-out)", auc(x), np.nan, np.nan, np.nan)]
    diff, low, high = neighbourhoods.clustered_difference(np.stack(by_seed) - gaps["flipped"], patients, n_boot, seed)
    rows.append((space, "generated - flipped", "gap filling of held-out masses", diff, 0.0, low, high))
    smooth = neighbourhoods.gap_filling(real, held, feats["mixed"])
    value, low, high = neighbourhoods.clustered_difference((smooth - gaps["flipped"])[None], patients, n_boot, seed)
    rows.append((space, "smooth control - flipped", "gap filling of held-out masses", value, 0.0, low, high))
    value, low, high = neighbourhoods.clustered_difference(np.stack(by_seed) - smooth, patients, n_boot, seed)
    rows.append((space, "generated - smooth control", "gap filling of held-out masses", value, 0.0, low, high))
    return pd.DataFrame(rows, columns=["space", "masses", "metric", "value", "expected", "low", "high"])


def _row(table: pd.DataFrame, masses: str, metric: str) -> pd.Series:
    return table[(table.masses == masses) & table.metric.str.startswith(metric)].iloc[0]


def readings(table: pd.DataFrame) -> dict:
    """The thesis' two readings, judged for one space's rows of :func:`support_table`:
    ``judged`` (the generated set lies among the real masses: spread, precision and recall, with the
    reasons in ``not_judged``), ``gaps`` (it fills gaps more than flips do: the interval of the
    difference above 0, and the interval of generated minus the smooth control above 0 too:
    they fill more than averages of real masses; ``control_fills``: the control itself beats the
    flips, the share of the measure smoothness alone earns; ``gaps_against``: the first interval
    below 0) and ``outliers_less`` (it stays farther from
    outlying real masses than an exchangeable set would, above its permutation null's 95 % range,
    and farther than the flips; ``outliers_more``: nearer, below that range); with the values.
    Between the two of a pair the data cannot tell."""
    gen = {m: _row(table, "generated", m) for m in ("spread", "precision", "recall", "outlier distance ratio",
                                                    "nearest neighbour is real", "distance ratio")}
    flip_out = _row(table, "flipped", "outlier distance ratio")
    diff = _row(table, "generated - flipped", "gap filling")
    reasons = [f"{name} {gen[name].value:.2f} < {bound:g}" for name, bound in
               (("spread", MIN_SPREAD), ("precision", MIN_PRECISION), ("recall", MIN_RECALL))
               if not gen[name].value >= bound]
    r = {"judged": not reasons, "not_judged": "; ".join(reasons), "spread": gen["spread"].value,
         "precision": gen["precision"].value, "recall": gen["recall"].value,
         "gap_diff": diff.value, "gap_low": diff.low, "gap_high": diff.high,
         "gap_gen": _row(table, "generated", "gap filling").value,
         "gap_flip": _row(table, "flipped", "gap filling").value,
         "out_gen": gen["outlier distance ratio"].value, "out_gen_null": gen["outlier distance ratio"].expected,
         "out_gen_low": gen["outlier distance ratio"].low, "out_gen_high": gen["outlier distance ratio"].high,
         "out_flip": flip_out.value,
         "out_flip_null": flip_out.expected,
         "share": gen["nearest neighbour is real"].value, "share_null": gen["nearest neighbour is real"].expected,
         "share_low": gen["nearest neighbour is real"].low, "share_high": gen["nearest neighbour is real"].high,
         "ratio": gen["distance ratio"].value, "ratio_null": gen["distance ratio"].expected,
         "ratio_low": gen["distance ratio"].low, "ratio_high": gen["distance ratio"].high,
         "auc0": _row(table, "real only", "mass-vs-normal AUC").value,
         "auc_gen": _row(table, "generated", "mass-vs-normal AUC").value}
    for key, masses in (("control", "smooth control - flipped"), ("beyond", "generated - smooth control")):
        row = table[(table.masses == masses) & table.metric.str.startswith("gap filling")]
        r[f"{key}_diff"], r[f"{key}_low"], r[f"{key}_high"] = ((row.value.iloc[0], row.low.iloc[0], row.high.iloc[0])
                                                               if len(row) else (np.nan,) * 3)
    r["control_fills"] = bool(r["control_low"] > 0)  # the measure rewards averages of real masses too
    r["gaps"] = r["judged"] and r["gap_low"] > 0 and bool(r["beyond_low"] > 0)  # no control: never
    r["gaps_against"] = r["judged"] and r["gap_high"] < 0  # the flips bring held-out masses closer
    r["gaps_why"] = ("" if not r["judged"] or r["gaps"] or r["gaps_against"] or not r["gap_low"] > 0 else
                     "the generated masses fill more than the flips, but averages of two real masses, which add no "
                     "new mass, fill more still (interval below 0), so the measure rewards what smoothing alone "
                     "gives and its intervals, though they exclude 0, are no evidence of new masses"
                     if r["beyond_high"] < 0 else
                     "the generated masses fill more than the flips, but no more than averages of two real masses, "
                     "which add no new mass, so the measure cannot tell them from smoothing alone")
    r["outliers_less"] = r["judged"] and r["out_gen"] > r["out_gen_high"] and r["out_gen"] > r["out_flip"]
    r["outliers_more"] = r["judged"] and r["out_gen"] < r["out_gen_low"]  # nearer outliers than an exchangeable set
    return r


def saturated(table: pd.DataFrame) -> pd.Series:
    """(rows,) bool: scores whose permutation null has a range of zero width (e.g. coverage 1.000
    with a null of [1, 1]): any set would score the same, so the value is no result."""
    return table.low.notna() & table.expected.notna() & (table.low == table.high) & (table.masses != "generated - flipped")


def departures(params: dict) -> list[str]:
    """Each setting of this run's t-SNE (a resolved ``tsne`` section) that differs from the
    thesis' (:mod:`thesis_lib.reference`), as "setting: ours (the thesis: theirs)"; the reduction
    to :data:`~thesis_lib.evaluation.embedding.PCA_COMPONENTS` principal components is always one."""
    thesis = reference.reported()["tsne"]["settings"]
    return reference.departures("tsne", params) + [
        f"PCA to {PCA_COMPONENTS} components before t-SNE (the thesis: {thesis['pca']})"]


def verdicts(table: pd.DataFrame) -> list[str]:
    """One Markdown sentence per reading of the thesis, for one space's rows of
    :func:`support_table`, each computed from the numbers."""
    space = table.space.iloc[0]
    r = readings(table)
    change = ("leaves it unchanged" if abs(r["auc_gen"] - r["auc0"]) < UNCHANGED
              else "raises it" if r["auc_gen"] > r["auc0"] else "lowers it")
    gate = (f"The generated set meets the conditions for reading its distances in this space (spread "
            f"{r['spread']:.2f} x the real one, precision {r['precision']:.2f}, recall {r['recall']:.2f}; whether "
            "the generator is realistic is the quality gate's verdict)."
            if r["judged"] else
            f"The generated set is **not judged on distances**: {r['not_judged']} (a blurred, collapsed or "
            "off-manifold set can sit close to everything); neither reading can be supported.")
    gaps = (f"**{space}, gaps.** Adding the generated masses (averaged over the G_k seeds) brings held-out real "
            f"masses {r['gap_gen']:.1%} closer to their nearest neighbour on average, the flipped copies "
            f"{r['gap_flip']:.1%}; generated minus flipped {r['gap_diff']:+.1%} (95 % interval "
            f"{r['gap_low']:+.1%} to {r['gap_high']:+.1%}). "
            + (f"The smooth control (averages of two real masses) scores {r['control_diff']:+.1%} against the flips "
               f"({r['control_low']:+.1%} to {r['control_high']:+.1%})"
               + (": the measure rewards smoothness too" if r["control_fills"] else "")
               + f"; generated minus the control {r['beyond_diff']:+.1%} ({r['beyond_low']:+.1%} to "
               f"{r['beyond_high']:+.1%}). " if np.isfinite(r["control_diff"]) else "No smooth control was scored. ")
            + ("This **supports** the reading that they fill gaps." if r["gaps"] else
               "This **contradicts** the reading that they fill gaps: the flips fill more." if r["gaps_against"] else
               "This **cannot tell** whether they fill gaps" + (f": {r['gaps_why']}." if r["gaps_why"] else ".")))
    outliers = (f"**{space}, outliers.** The nearest generated mass lies {r['out_gen']:.2f} x as far from an "
                f"outlying real mass as its nearest real neighbour (median; {r['out_gen_null']:.2f} for an "
                f"exchangeable set), the nearest flipped copy {r['out_flip']:.2f} x ({r['out_flip_null']:.2f}). "
                + ("Generated masses support outliers less than flips do, **as the thesis says**."
                   if r["outliers_less"] else
                   "The generated masses come nearer the outliers than an exchangeable set: this **contradicts** the "
                   "thesis' reading." if r["outliers_more"] else
                   f"Inside the exchangeable set's 95 % range ({r['out_gen_low']:.2f}-{r['out_gen_high']:.2f}): this "
                   "**cannot tell**."))
    return [
        f"**{space}, the generated set.** {gate} {r['share']:.0%} of generated masses have a real nearest "
        f"neighbour ({r['share_null']:.0%} for an exchangeable set, 95 % range {r['share_low'] * 100:.0f}-{r['share_high'] * 100:.0f} %"
        + ("; fewer than that range: the generated masses lie nearer each other than the real ones" if r["share"] < r["share_low"]
           else "; more than that range" if r["share"] > r["share_high"] else "")
        + f"); their median distance to the nearest real mass is {r['ratio']:.2f} x the real-to-real one "
        f"({r['ratio_null']:.2f} for an exchangeable set, 95 % range {r['ratio_low']:.2f}-{r['ratio_high']:.2f}"
        + ("; below that range: the generated masses sit nearer the real ones than real masses sit to each other, "
           f"as a set drawn toward the real masses' average does (spread {r['spread']:.2f}) and as copies would "
           "(the qualitative chapter's memorisation check tests copies)" if r["ratio"] < r["ratio_low"] else
           "; above that range: the generated masses lie farther from the real ones than real masses do"
           if r["ratio"] > r["ratio_high"] else "") + ").",
        gaps, outliers,
        f"**{space}, separability.** A linear classifier trained on the training patients tells held-out "
        f"patients' masses from normal tissue with AUC {r['auc0']:.3f}; training it with the generated masses "
        f"as well {change} ({r['auc_gen']:.3f}"
        + ("" if change == "leaves it unchanged" else f", a change of {r['auc_gen'] - r['auc0']:+.3f} from one fit, "
           "without an interval: a description, not a finding") + ").",
    ]
