"""The Fréchet distance of small-N FIDs: the covariance route against the cross-product route.

The book's FIDs rest on 50 to 200 generated patches of 2,048 Inception features. The
covariance route (``frechet_distance`` on two 2,048 x 2,048 covariances: the eigenvalues of
their product) costs the same at every N; ``frechet_from_features`` takes the trace term
from the N1 x N2 cross-product of the centred features when N is below the dimension. Both
run here on the same random features (one thread unless OMP_NUM_THREADS says otherwise);
printed per N: seconds of each (minimum of ``--repeats``), their ratio and relative difference.

    .venv/bin/python benchmarks/bench_frechet.py [--n 50 100 200 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from thesis_lib.evaluation.metrics import frechet_distance, frechet_from_features, gaussian_stats


def _best(fn, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, nargs="+", default=[50, 100, 200, 1000])
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(args.dim, args.dim)) / np.sqrt(args.dim)
    print(f"{'N':>6} {'covariance s':>13} {'cross-product s':>16} {'ratio':>8} {'rel. difference':>16}")
    for n in args.n:
        real, fake = np.abs(rng.normal(size=(n, args.dim)) @ mix), np.abs(rng.normal(0.1, 1.0, (n, args.dim)) @ mix)
        slow, reference = _best(lambda: frechet_distance(*gaussian_stats(real), *gaussian_stats(fake)), args.repeats)
        fast, value = _best(lambda: frechet_from_features(real, fake), args.repeats)
        print(f"{n:>6} {slow:>13.3f} {fast:>16.4f} {slow / fast:>7.0f}x {abs(value - reference) / reference:>16.1e}")


if __name__ == "__main__":
    main()
