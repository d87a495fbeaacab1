"""Where added masses (generated or flipped) lie among real ones: numbers behind a t-SNE map.

Every function works on feature arrays (rows: samples) in the original feature space, never
on a 2-D map, where distances are distorted. Each score is set beside what it would be if
the added masses were drawn from the same distribution as the real ones.

- :func:`nearest_is_reference`: for each added point, is its nearest other point real?
- :func:`coverage`: the share of real points with an added point among their k neighbours,
  for all real points and for the outlying ones (those with the largest k-NN radius);
- :func:`distance_ratio`: distances from added points to the nearest real one, against the
  real-to-real nearest distances;
- :func:`separability`: a cross-validated linear classifier of masses against normal tissue,
  with and without the added masses in its training sets.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from thesis_lib.memorisation import nearest


def _rows(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1))


def knn(points: np.ndarray, k: int, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other rows of each row of ``points`` (n, d), itself excluded by index
    (an exact duplicate still counts): Euclidean distances (n, k) ascending and indices (n, k)."""
    if not 0 < k < len(points):
        raise ValueError(f"k={k}: need 0 < k < n_points = {len(points)}")
    x = _rows(points)
    dists, idx = [], []
    for start in range(0, len(x), chunk):
        d = torch.cdist(x[start : start + chunk], x)
        rows = torch.arange(len(d))
        d[rows, rows + start] = float("inf")
        best = d.topk(k, dim=1, largest=False)
        dists.append(best.values)
        idx.append(best.indices)
    return torch.cat(dists).double().numpy(), torch.cat(idx).numpy()


def _union(real: np.ndarray, added: np.ndarray) -> np.ndarray:
    real, added = np.asarray(real), np.asarray(added)
    return np.concatenate([real.reshape(len(real), -1), added.reshape(len(added), -1)])


def nearest_is_reference(real: np.ndarray, added: np.ndarray) -> tuple[float, float]:
    """Share of ``added`` points whose nearest other point of real + added is real, and the
    share expected if added and real were exchangeable: n_real / (n_real + n_added - 1)."""
    _, idx = knn(_union(real, added), 1)
    observed = float((idx[len(real) :, 0] < len(real)).mean())
    return observed, len(real) / (len(real) + len(added) - 1)


def coverage(real: np.ndarray, added: np.ndarray, k: int, outlier_percentile: float = 90.0) -> dict:
    """Share of real points with at least one ``added`` point among their ``k`` nearest others
    in real + added: over all real points (``coverage``) and over the outliers, the real points
    whose distance to their k-th nearest real neighbour is at or above ``outlier_percentile``
    (``outlier coverage``); ``expected`` is the share if added and real were exchangeable."""
    n_real, n_added = len(real), len(added)
    _, idx = knn(_union(real, added), k)
    covered = (idx[:n_real] >= n_real).any(axis=1)
    radii = knn(real, k)[0][:, -1]
    outliers = radii >= np.percentile(radii, outlier_percentile)
    none_added = np.prod([(n_real - 1 - j) / (n_real + n_added - 1 - j) for j in range(k)])
    return {"coverage": float(covered.mean()), "outlier coverage": float(covered[outliers].mean()),
            "outliers": int(outliers.sum()), "expected": float(1.0 - none_added)}


def distance_ratio(real: np.ndarray, added: np.ndarray) -> float:
    """Median distance from an added point to its nearest real point, divided by the median
    distance from a real point to its nearest other real point: 0 for copies, about 1 for
    points spread like the real ones, above 1 for points off the real manifold."""
    to_real, _ = nearest(_rows(added).numpy(), _rows(real).numpy())
    real_real, _ = nearest(_rows(real).numpy(), _rows(real).numpy(), exclude_self=True)
    return float(np.median(to_real) / np.median(real_real))


def separability(masses: np.ndarray, normals: np.ndarray, added: np.ndarray | None = None,
                 added_source: np.ndarray | None = None, n_splits: int = 5, n_components: int = 50, seed: int = 0) -> float:
    """Mean ROC AUC of a logistic regression (balanced classes, on the first ``n_components``
    principal components of the standardised features, fitted on each training fold) telling
    real masses from normals in stratified ``n_splits``-fold cross-validation.

    ``added`` masses join the training folds only, so every score is on held-out real data.
    ``added_source``: for each added mass, the index of the real mass it derives from (flips);
    it joins a training fold only with its source, so no test mass leaks in as a copy.
    """
    if added_source is not None and (added is None or len(added_source) != len(added)):
        raise ValueError("added_source needs added, with one source index per added mass")
    x = np.concatenate([_rows(masses).numpy(), _rows(normals).numpy()])
    y = np.r_[np.ones(len(masses)), np.zeros(len(normals))]
    extra = None if added is None else _rows(added).numpy()
    scores = []
    for train, test in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(x, y):
        xt, yt = x[train], y[train]
        if extra is not None:
            keep = np.ones(len(extra), bool) if added_source is None else np.isin(added_source, train)
            xt, yt = np.concatenate([xt, extra[keep]]), np.r_[yt, np.ones(keep.sum())]
        pca = PCA(min(n_components, *xt.shape), svd_solver="randomized", random_state=seed)
        model = make_pipeline(StandardScaler(), pca, LogisticRegression(class_weight="balanced", max_iter=2000))
        model.fit(xt, yt)
        scores.append(roc_auc_score(y[test], model.decision_function(x[test])))
    return float(np.mean(scores))
