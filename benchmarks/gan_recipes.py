"""What each small-data option buys: GAN recipes trained on one fold and scored alike.

Each recipe is the profile's ``gan`` section with a few settings changed (JSON); it is trained
on the fold's training masses and its kept generator (and with ``--snapshots`` every snapshot:
the budget curve) scored by ``realism.score_fold_generator`` against the fold's held-out masses
(N = 100 generated; the matched real-real floor beside it). One line of JSON per scored
generator is printed and appended to ``--out``. Recipes of the README's table:

    .venv/bin/python benchmarks/gan_recipes.py base600 '{"iterations": 600, "batch_size": 32, "ema_decay": 0, "evaluator": "pixel"}'
    .venv/bin/python benchmarks/gan_recipes.py ema1500_b16 '{"iterations": 1500}'
    .venv/bin/python benchmarks/gan_recipes.py budget '{"iterations": 8000, "snapshot_every": 143}' --snapshots
    .venv/bin/python benchmarks/gan_recipes.py gk100_budget '{"iterations": 3600, "snapshot_every": 50}' --k 100 --snapshots --n-generated 50

Needs the profile's patch store (make book, or the data step). Seconds are wall-clock training
time of this process (one thread unless OMP_NUM_THREADS says otherwise).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import training_patches
from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.evaluation.metrics import make_evaluator
from thesis_lib.models import checkpoint
from thesis_lib.models.generate import generate
from thesis_lib.provenance import git_commit
from thesis_lib.studies import realism
from thesis_lib.studies.augstudy import subset_of
from thesis_lib.training.gan import fit
from thesis_lib.training.gan_config import GanConfig

SCORES = ("N generated", "N held-out", "FID", "real-real FID", "FID / floor", "precision", "recall",
          "closer to training", "spectrum excess (dex)", *realism.RULE_COLUMNS)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("overrides", help="JSON: gan settings that differ from the profile's")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--k", type=int, default=None,
                   help="train a G_k: the augmentation study's k-mass subset of the fold (its seed), scored against "
                        "those k masses' floor as the generator gate scores it; all training masses when omitted")
    p.add_argument("--n-generated", type=int, default=100)
    p.add_argument("--snapshots", action="store_true",
                   help="also score every snapshot (set snapshot_every in the overrides): the budget curve")
    p.add_argument("--out", default="benchmarks/gan_recipes.jsonl")
    args = p.parse_args()
    params = {**config.resolve("gan", args.profile), "snapshot_every": 0, **json.loads(args.overrides)}
    art = Path(params["artifacts"])
    store = PatchStore(paths.store(art))
    if args.k:
        patches = store.read(subset_of(store, args.fold, args.k, config.resolve("aug", args.profile)).masses.index.to_numpy())
    else:
        patches, _ = training_patches(store, args.fold, None, params["seed"])
    cfg = GanConfig.from_dict(params)
    evaluator = make_evaluator(params["evaluator"], patches, params["eval_samples"], cfg.seed, cache_dir=paths.cache(art))
    run = paths.recipes(art) / args.name
    commit = git_commit()  # the code that trains (HEAD may move while it runs)
    start = time.perf_counter()
    result = fit(cfg, patches, run, evaluator=evaluator, resume=False, progress=False)
    seconds = time.perf_counter() - start
    extractor = InceptionFeatures()
    kept = sorted(run.glob("snapshots/epoch_*.pt")) if args.snapshots else []
    per_epoch = result.steps // result.epochs_done
    for ckpt in kept + [run / "best.pt"]:
        score = realism.score_patches(patches, realism.held_out_masses(store, args.fold),
                                      generate(ckpt, min(args.n_generated, len(patches)), seed=0),
                                      realism.held_out_normals(store, args.fold), extractor,
                                      paths.cache(art), kid_subsets=20, k=3, seed=0)
        score["realistic"] = realism.realism_verdict(score)[0]
        epoch = checkpoint.load(ckpt)["epoch"]
        row = {"name": args.name, "profile": args.profile, "store": store.identity, "commit": commit,
               "fold": args.fold, "k": args.k,
               "generator": ckpt.stem, "epoch": epoch, "iterations": epoch * per_epoch,
               "overrides": json.loads(args.overrides), "train_s": round(seconds, 1), "steps": result.steps,
               "best_epoch": result.best_epoch,
               **{k: round(float(score[k]), 3) for k in SCORES}, "realistic": bool(score["realistic"])}
        print(json.dumps(row))
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
