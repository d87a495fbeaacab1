"""Two-dimensional t-SNE maps of feature arrays (van der Maaten and Hinton 2008).

The features are first reduced to their first 50 principal components (seeded), then
embedded by openTSNE when it is installed (about twice as fast here, and exact for small
sets) or by scikit-learn's ``TSNE`` otherwise. ``n_iter`` counts all iterations, the 250 of
early exaggeration included, as scikit-learn counts them (the thesis: up to 4,000).
"""

from __future__ import annotations

import importlib.util

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE as SklearnTSNE

BACKENDS = ("auto", "opentsne", "sklearn")
EXAGGERATION_ITER = 250  # both libraries' default length of the early-exaggeration phase
PCA_COMPONENTS = 50  # principal components kept before t-SNE


def pick_backend(backend: str = "auto") -> str:
    """``opentsne`` or ``sklearn``; ``auto`` prefers openTSNE when it is importable."""
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r}: expected one of {BACKENDS}")
    if backend == "auto":
        return "opentsne" if importlib.util.find_spec("openTSNE") else "sklearn"
    if backend == "opentsne" and not importlib.util.find_spec("openTSNE"):
        raise ImportError("backend='opentsne', but openTSNE is not installed: pip install openTSNE")
    return backend


def reduce(features: np.ndarray, n_components: int = PCA_COMPONENTS, seed: int = 0) -> np.ndarray:
    """(n, d) -> (n, min(n_components, n, d)) principal-component scores, float64."""
    x = np.asarray(features, np.float64).reshape(len(features), -1)
    n = min(n_components, *x.shape)
    return PCA(n, svd_solver="randomized", random_state=seed).fit_transform(x)


def embed(features: np.ndarray, perplexity: float, n_iter: int, seed: int,
          backend: str = "auto") -> np.ndarray:
    """(n, d) features -> (n, 2) t-SNE coordinates; the same seed gives the same map.

    ``perplexity`` must be below n / 3 (each point's 3 x perplexity neighbours must exist);
    ``n_iter`` must exceed the 250 early-exaggeration iterations.
    """
    n = len(features)
    if not 0 < perplexity < n / 3:
        raise ValueError(f"perplexity={perplexity}: must be > 0 and below n_points / 3 = {n / 3:.1f} "
                         f"for these {n} points; lower it or embed more points")
    if n_iter <= EXAGGERATION_ITER:
        raise ValueError(f"n_iter={n_iter}: must exceed the {EXAGGERATION_ITER} early-exaggeration iterations")
    x = reduce(features, seed=seed)
    if pick_backend(backend) == "opentsne":
        from openTSNE import TSNE

        tsne = TSNE(perplexity=perplexity, n_iter=n_iter - EXAGGERATION_ITER,
                    early_exaggeration_iter=EXAGGERATION_ITER, random_state=seed, n_jobs=1)
        return np.asarray(tsne.fit(x), np.float64)
    tsne = SklearnTSNE(perplexity=perplexity, max_iter=n_iter, init="pca", learning_rate="auto",
                random_state=seed, n_jobs=1)
    return tsne.fit_transform(x).astype(np.float64)
