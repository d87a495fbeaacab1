"""Where added masses (generated or flipped) lie among real ones: numbers behind a t-SNE map.

Every function works on feature arrays (rows: samples) in the original feature space, never
on a 2-D map, where distances are distorted.

- :func:`neighbourhood_scores`: for added points among real ones, the share whose nearest other
  point is real, the share of real points with an added one among their k neighbours (all real
  points, and the outlying ones: the largest k-NN radius among real points), and the distance
  from added points to the nearest real one over the real-to-real distance, and, for each
  outlying real point, the distance to the nearest added point over that to its nearest other
  real point (how close the added set comes to the outliers). Each is set beside
  a **permutation null** (:func:`permutation_null`): the pooled points relabelled at random,
  keeping the set sizes, and the whole computation, outlier selection included, rerun.
- :func:`gap_filling`: a held-out question. How much do the added masses shrink the distance
  from each *held-out* real mass to its nearest training mass? Adding a set that fills gaps in
  the real distribution brings unseen masses closer; flipped copies of the training masses
  should help less.
- :func:`spread`: the added set's median pairwise distance over the real set's. A blurred,
  mean-image or collapsed generator has a small spread and can look close to everything;
  such a set is not judged on distances at all.
- :func:`separability`: a linear classifier of masses against normal tissue, trained on the
  training masses (with or without the added ones) and tested on held-out patients' patches.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from thesis_lib.evaluation.bootstrap import level_deviation

SCORES = ("nearest neighbour is real", "coverage", "outlier coverage", "distance ratio", "outlier distance ratio")

OUTLIER_PERCENTILE = 90.0  # real masses whose neighbourhood radius is at or above it are the outliers


def _rows(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1))


def pairwise(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances (n_a, n_b) between the rows of ``a`` and of ``b`` (default ``a``)."""
    ra = _rows(a)
    rb = ra if b is None else _rows(b)
    return torch.cat([torch.cdist(ra[i : i + 512], rb) for i in range(0, len(ra), 512)]).double().numpy()


def knn(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other rows of each row of ``points`` (n, d), itself excluded by index
    (an exact duplicate still counts): Euclidean distances (n, k) ascending and indices (n, k)."""
    if not 0 < k < len(points):
        raise ValueError(f"k={k}: need 0 < k < n_points = {len(points)}")
    d = pairwise(points)
    np.fill_diagonal(d, np.inf)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


def neighbourhood_scores(dist: np.ndarray, is_real: np.ndarray, k: int,
                        outlier_percentile: float = OUTLIER_PERCENTILE) -> dict:
    """:data:`SCORES` of the added points (``~is_real``) among the real ones, from the pooled
    points' distance matrix ``dist`` (n, n)."""
    d = np.array(dist, float)
    np.fill_diagonal(d, np.inf)
    real, added = np.flatnonzero(is_real), np.flatnonzero(~is_real)
    if not 0 < k < len(real):
        raise ValueError(f"k={k}: need 0 < k < n_real = {len(real)}")
    nearest = d[added].argmin(axis=1)
    neighbours = np.argsort(d[real], axis=1, kind="stable")[:, :k]
    covered = (~is_real[neighbours]).any(axis=1)
    real_real = d[np.ix_(real, real)]
    radii = np.sort(real_real, axis=1)[:, k - 1]
    outliers = radii >= np.percentile(radii, outlier_percentile)
    to_real, real_to_real = np.median(d[np.ix_(added, real)].min(axis=1)), np.median(real_real.min(axis=1))
    ratio = to_real / real_to_real if real_to_real > 0 else np.nan  # duplicated real points: undefined
    own = real_real.min(axis=1)[outliers]  # each outlier's distance to its nearest other real point
    to_added = d[np.ix_(real[outliers], added)].min(axis=1)
    outlier_ratio = np.median(np.divide(to_added, own, out=np.full(len(own), np.inf), where=own > 0))
    return {"nearest neighbour is real": float(is_real[nearest].mean()), "coverage": float(covered.mean()),
            "outlier coverage": float(covered[outliers].mean()), "distance ratio": float(ratio),
            "outlier distance ratio": float(outlier_ratio)}


def permutation_null(dist: np.ndarray, n_real: int, k: int, n_perm: int = 200, seed: int = 0,
                     level: float = 0.95) -> dict[str, tuple[float, float, float]]:
    """Score -> (mean, low, high) of :func:`neighbourhood_scores` when which of the pooled points
    are "real" is drawn at random (``n_real`` of them): what exchangeable sets would score."""
    rng = np.random.default_rng(seed)
    n = len(dist)
    draws = []
    for _ in range(n_perm):
        is_real = np.zeros(n, bool)
        is_real[rng.choice(n, n_real, replace=False)] = True
        draws.append(neighbourhood_scores(dist, is_real, k))
    out = {}
    for name in SCORES:
        values = np.array([d[name] for d in draws])
        low, high = np.nanquantile(values, [(1 - level) / 2, (1 + level) / 2])
        out[name] = (float(np.nanmean(values)), float(low), float(high))
    return out


def gap_filling(train: np.ndarray, held_out: np.ndarray, added: np.ndarray) -> np.ndarray:
    """For each held-out real mass, the relative shrinkage of its distance to the nearest
    training mass when ``added`` joins the training masses: (before - after) / before, in [0, 1]."""
    before = pairwise(held_out, train).min(axis=1)
    after = np.minimum(before, pairwise(held_out, added).min(axis=1))
    return np.divide(before - after, before, out=np.zeros_like(before), where=before > 0)


def clustered_difference(diff: np.ndarray, patients: np.ndarray, n_boot: int = 2000, seed: int = 0,
                         level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``diff`` (S, n): a paired difference per held-out mass (n) for each of S generator
    seeds, and its bootstrap interval drawing the masses' ``patients`` (n,) with replacement (a
    patient's CC and MLO masses together) and the seeds with replacement, the seeds' deviation
    widened to its unbiased size (:func:`thesis_lib.evaluation.bootstrap.level_deviation`)."""
    diff = np.atleast_2d(np.asarray(diff, float))
    codes, inverse = np.unique(np.asarray(patients), return_inverse=True)
    if diff.shape[1] != len(inverse) or len(codes) < 2:
        raise ValueError(f"need one patient per held-out mass and at least 2 patients, got {diff.shape} and "
                         f"{len(codes)} patients")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(codes), (n_boot, len(codes)))
    counts = np.stack([np.bincount(d, minlength=len(codes)) for d in draws])[:, inverse].astype(float)  # (B, n)
    per_seed = (counts @ diff.T / counts.sum(axis=1, keepdims=True)).T  # (S, B)
    centre = per_seed.mean(axis=0)
    means = centre + level_deviation(per_seed, centre, rng)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(diff.mean()), float(low), float(high)


def spread(real: np.ndarray, added: np.ndarray) -> float:
    """Median pairwise distance within ``added`` over that within ``real``: about 1 for a set as
    varied as the real one, near 0 for a collapsed or blurred one."""
    def median_pairwise(x):
        d = pairwise(x)
        return np.median(d[np.triu_indices(len(d), 1)])
    return float(median_pairwise(added) / median_pairwise(real))


def separability(train_masses: np.ndarray, train_normals: np.ndarray, test_masses: np.ndarray,
                 test_normals: np.ndarray, added: np.ndarray | None = None, n_components: int = 50,
                 seed: int = 0) -> float:
    """ROC AUC on held-out patients' masses and normals of a logistic regression (balanced
    classes, on the first ``n_components`` principal components of the standardised features)
    trained on the training masses, plus ``added`` masses when given, and training normals. No
    test mass, nor anything derived from one, reaches the training set."""
    parts = [train_masses] + ([added] if added is not None else [])
    xt = np.concatenate([_rows(p).numpy() for p in parts] + [_rows(train_normals).numpy()])
    yt = np.r_[np.ones(len(xt) - len(train_normals)), np.zeros(len(train_normals))]
    x = np.concatenate([_rows(test_masses).numpy(), _rows(test_normals).numpy()])
    y = np.r_[np.ones(len(test_masses)), np.zeros(len(test_normals))]
    pca = PCA(min(n_components, *xt.shape), svd_solver="randomized", random_state=seed)
    model = make_pipeline(StandardScaler(), pca, LogisticRegression(class_weight="balanced", max_iter=2000))
    model.fit(xt, yt)
    return float(roc_auc_score(y, model.decision_function(x)))
