"""The DCGAN chapter's ablation: the thesis' recipe, then one small-data option added per row.

Every row trains a generator on one fold's training masses with the same budget (the profile's
``ablation`` section) and scores its kept generator as the FID chapter scores the fold GANs
(:func:`thesis_lib.studies.realism.score_fold_generator`: FID against the fold's held-out masses beside
the matched real-real floor, precision, recall, memorisation, spectrum). Rows are cumulative:
each adds its settings to the row above, the first to the profile's ``recipes.thesis``.

Command line (the workflow's ``gan_ablation`` step)::

    python -m thesis_lib.studies.ablation --profile smoke      # artifacts/<profile>/ablation/results.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.io import atomic_path
from thesis_lib.provenance import Run
from thesis_lib.studies.realism import score_fold_generator
from thesis_lib.training.gan import train_run
from thesis_lib.training.gan_config import GanConfig

COLUMNS = ["row", "changes", "budget", "N generated", "N held-out", "FID", "real-real FID", "FID / floor", "precision",
           "recall", "closer to training", "spectrum excess (dex)", "realistic", "fails", "train_s", "best_epoch"]


def results_path(artifacts: str | Path) -> Path:
    return paths.ablation(artifacts) / "results.csv"


def row_params(profile: str, **overrides) -> list[tuple[str, dict, dict]]:
    """``(name, changes, gan parameters)`` of every row: the gan section with ``recipes.thesis``,
    the ablation's budget, then each row's changes added to those of the rows above
    (``overrides``: settings of the ablation section, e.g. ``iterations``)."""
    section = config.resolve("ablation", profile, **overrides)
    recipes = config.load_profile(profile).get("recipes") or {}
    if "thesis" not in recipes:
        raise KeyError(f"{config.profile_path(profile)}: the ablation starts from recipes.thesis, which is missing")
    rows = section["rows"]
    if not isinstance(rows, dict) or not rows:
        raise ValueError(f"ablation.rows={rows!r}: need a mapping of row names to settings, the first {{}}")
    params = {**config.resolve("gan", profile), **recipes["thesis"], "snapshot_every": 0}
    if section["iterations"]:
        params["iterations"] = int(section["iterations"])
    out = []
    for name, changes in rows.items():
        params = {**params, **(changes or {})}
        GanConfig.from_dict(params)  # a bad setting fails before anything trains
        out.append((str(name), dict(changes or {}), params))
    return out


def ablation_table(profile: str, *, progress: bool = False, **overrides) -> pd.DataFrame:
    """Train (or reuse, when finished with the same settings) and score every row; one row of
    :data:`COLUMNS` each, in the profile's order (``overrides``: ablation settings)."""
    section, fid = config.resolve("ablation", profile, **overrides), config.resolve("fid", profile)
    art = Path(section["artifacts"])
    store = PatchStore(paths.store(art))
    fold = int(section["fold"])
    extractor = InceptionFeatures(resize=fid["resize"])
    rows = []
    for i, (name, changes, params) in enumerate(row_params(profile, **overrides)):
        result = train_run(params, fold, out=paths.ablation(art) / f"row{i}", resume="auto", progress=progress)
        score = score_fold_generator(store, fold, result.out_dir / "best.pt", extractor,
                                     n_generated=section["n_generated"], seed=section["seed"],
                                     kid_subsets=fid["kid_subsets"], k=fid["pr_k"], cache_dir=paths.cache(art))
        rows.append({"row": name, "changes": ", ".join(f"{k} = {v!r}" for k, v in changes.items()) or "-",
                     "budget": GanConfig.from_dict(params).budget, **score, "train_s": round(result.seconds, 1),
                     "best_epoch": result.best_epoch})
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def read_ablation(artifacts: str | Path) -> pd.DataFrame:
    """The ablation's table, or an error naming the step that writes it."""
    path = results_path(artifacts)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no ablation yet; run python -m thesis_lib.studies.ablation --profile <profile> "
                                "(the workflow's gan_ablation step)")
    return pd.read_csv(path, keep_default_na=False)


SEPARATION = 0.10  # a row leads only when its FID / floor is this share below every other row's


def ranking(rows: pd.DataFrame) -> tuple[str | None, str]:
    """The row that leads the ablation and why, or ``None`` and why the rows do not separate:
    no row meets the realism rules (every row fails: ranking failures is no finding), or the
    lowest FID / floor is not :data:`SEPARATION` below the next. Rows with the same scores are
    named: their added option changed nothing measurable."""
    scores = ["FID / floor", "precision", "recall"]
    same = [r for r, group in rows.groupby(scores, sort=False).row if len(group) > 1 for r in [" and ".join(group)]]
    note = f" Rows with identical scores: {'; '.join(same)} (the added option changed nothing measurable)." if same else ""
    realistic = rows[rows.realistic.astype(str).isin(["True", "true", "1"])]
    if realistic.empty:
        return None, ("The rows do not separate: no row meets the realism rules at this budget, so their order "
                      "ranks failures." + note)
    ordered = realistic.sort_values("FID / floor")
    best, others = ordered.iloc[0], rows[rows.row != ordered.iloc[0]["row"]]
    if len(others) and not best["FID / floor"] < (1 - SEPARATION) * others["FID / floor"].min():
        return None, (f"The rows do not separate: the lowest FID / floor ({best['FID / floor']:.2f}, {best['row']}) "
                      f"is within {SEPARATION:.0%} of the next." + note)
    return str(best["row"]), (f"**{best['row']}** leads: it meets the realism rules at {best['FID / floor']:.2f} x "
                              f"the floor, more than {SEPARATION:.0%} below every other row." + note)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Train and score the DCGAN chapter's ablation rows.")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--iterations", type=int, default=None, help="every row's budget (default: the profile's)")
    p.add_argument("--n-generated", type=int, default=None, help="samples scored per row (default: the profile's)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    overrides = {"iterations": args.iterations, "n_generated": args.n_generated}
    section = config.resolve("ablation", args.profile, **overrides)
    run = Run("gan_ablation", section)
    table = ablation_table(args.profile, progress=not args.no_progress, **overrides)
    path = results_path(section["artifacts"])
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    run.write(path.parent, rows=len(table))
    print(table[["row", "FID / floor", "precision", "recall", "train_s"]].to_string(index=False))


if __name__ == "__main__":
    main()
