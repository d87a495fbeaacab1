"""What each small-data option buys: GAN recipes trained on one fold and scored alike.

Each recipe is the profile's ``gan`` section with a few settings changed (JSON); it is trained
on the fold's training masses and its kept generator scored by ``realism.score_generator``
against the fold's held-out masses (N = 100 generated; the matched real-real floor beside it).
One line of JSON per recipe is printed and appended to ``--out``. Recipes of the README's table:

    .venv/bin/python benchmarks/gan_recipes.py base600 '{"iterations": 600, "batch_size": 32, "ema_decay": 0, "evaluator": "pixel"}'
    .venv/bin/python benchmarks/gan_recipes.py ema1500_b16 '{"iterations": 1500}'

Needs the profile's patch store (make book, or the data step). Seconds are wall-clock training
time of this process (one thread unless OMP_NUM_THREADS says otherwise).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from thesis_lib import config, realism
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import training_patches
from thesis_lib.gan.train import GanConfig, fit
from thesis_lib.generate import generate
from thesis_lib.inception import InceptionFeatures, cached_features
from thesis_lib.metrics import make_evaluator


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("overrides", help="JSON: gan settings that differ from the profile's")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--n-generated", type=int, default=100)
    p.add_argument("--out", default="benchmarks/gan_recipes.jsonl")
    args = p.parse_args()
    params = {**config.resolve("gan", args.profile), "snapshot_every": 0, **json.loads(args.overrides)}
    art = Path(params["artifacts"])
    store = PatchStore(art / "patches")
    patches, _ = training_patches(store, args.fold, None, params["seed"])
    cfg = GanConfig.from_dict(params)
    evaluator = make_evaluator(params["evaluator"], patches, params["eval_samples"], cfg.seed, cache_dir=art / "cache")
    run = art / "recipes" / args.name
    start = time.perf_counter()
    result = fit(cfg, patches, run, evaluator=evaluator, resume=False, progress=False)
    seconds = time.perf_counter() - start
    extractor = InceptionFeatures()
    held_out = realism.held_out_masses(store, args.fold)
    fake = generate(run / "best.pt", args.n_generated, seed=0)
    feats = [cached_features(extractor, x, art / "cache") for x in (patches, held_out, fake)]
    score = realism.score_generator(*feats, kid_subsets=20, k=3, seed=0)
    row = {"name": args.name, "overrides": json.loads(args.overrides), "train_s": round(seconds, 1),
           "steps": result.steps, "best_epoch": result.best_epoch,
           **{k: round(float(score[k]), 3) for k in ("N generated", "N held-out", "FID", "real-real FID", "FID / floor",
                                                     "precision", "recall", "closer to training")}}
    print(json.dumps(row))
    with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
