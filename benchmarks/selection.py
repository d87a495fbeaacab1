"""Which generator to keep: each fold GAN's selected ``best.pt`` against its last snapshot.

Scores both generators of every trained fold (``artifacts/<profile>/gan/fold<f>``, as the book
trains them) like the FID chapter does (``realism.score_fold_generator``: N generated, k = 3,
against the fold's held-out masses), at several sample seeds, because precision and recall at
N = 100 move by several hundredths from one draw of samples to the next. One line of JSON per
fold, generator and seed:

    .venv/bin/python benchmarks/selection.py --seeds 20190605 1 2

Needs a built book's artifacts (run folders with ``snapshots/``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.studies import realism

SCORES = ("FID / floor", "precision", "recall", "spectrum excess (dex)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="smoke")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="sample seeds")
    p.add_argument("--n-generated", type=int, default=100)
    args = p.parse_args()
    art = config.artifacts_dir(args.profile)
    store = PatchStore(paths.store(art))
    extractor = InceptionFeatures()
    for fold, kept in realism.fold_generators(store, paths.gan(art)).items():
        last = sorted(Path(kept).parent.glob("snapshots/epoch_*.pt"))[-1]
        for ckpt in (kept, last):
            for seed in args.seeds:
                score = realism.score_fold_generator(store, fold, ckpt, extractor, n_generated=args.n_generated,
                                                     seed=seed, kid_subsets=20, k=3, cache_dir=paths.cache(art))
                print(json.dumps({"fold": fold, "generator": f"{ckpt.parent.name}/{ckpt.name}", "seed": seed,
                                  **{k: round(float(score[k]), 3) for k in SCORES},
                                  "realistic": bool(score["realistic"]), "fails": score["fails"]}), flush=True)


if __name__ == "__main__":
    main()
