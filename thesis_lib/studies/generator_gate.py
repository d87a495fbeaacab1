"""The quality gate of the augmentation study's GAN arms.

A GAN arm can only say something about GAN augmentation when its G_k draws mass-like patches.
Each G_k (every fold, k and gan seed) is scored as the FID chapter scores the fold GANs
(:mod:`thesis_lib.studies.realism`): against its fold's held-out masses, with its own k training masses
for the matched floor and the memorisation check, and its samples' high-frequency spectrum. A
G_k passes the gate when it meets every realism rule by more than the binomial margin that a
redraw of its samples could erase (:func:`~thesis_lib.studies.realism.borderline`: a precision or
recall that close to its threshold fails as "borderline", so that a redraw turns a pass into a
borderline and not into a fail); the scorecard marks a GAN-arm claim "not
comparable" when a G_k behind it failed.

Command line (the workflow's ``aug_gate`` step, after the G_k are trained)::

    python -m thesis_lib.studies.generator_gate --profile smoke
"""

from __future__ import annotations

import argparse
import json
import re
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib import config, paths
from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.io import atomic_path, write_json, write_npz
from thesis_lib.models.generate import generate
from thesis_lib.results import ResultsMissing, recorded, render_only
from thesis_lib.studies.augstudy import generator_sources, gk_dir, open_store, parse_ks, seed_list, subset_of
from thesis_lib.studies.realism import RULE_COLUMNS, borderline, clear_failures, held_out_masses, held_out_normals, realism_verdict, score_patches

N_SHOWN = 25  # samples of each G_k the augmentation chapter shows
BUDGET_FILE = config.REPO_ROOT / "benchmarks" / "results" / "gk_budget.jsonl"


def gate_path(artifacts: str | Path) -> Path:
    return paths.aug(artifacts) / "generators.csv"


def gate_table(profile: str, ks: list[int] | None = None, *, n_generated: int | None = None) -> pd.DataFrame:
    """One row per G_k of the profile's augmentation study (its k, or ``ks``; its generators in
    the study's order): generator, k, fold, gan_seed, the realism scores (``min(n_generated, k)``
    samples; default the study's ``gate_samples``), ``passed`` (every rule met by more than a
    redraw moves it), ``borderline`` (no failure a redraw could not turn) and ``fails`` (a G_k
    with too few samples to score fails, and says so). A G_k not trained yet is an error naming the step."""
    study, fid = config.resolve("aug", profile), config.resolve("fid", profile)
    n_generated = n_generated or study["gate_samples"]
    store = open_store(study["artifacts"])
    cache = paths.cache(study["artifacts"])
    extractor = InceptionFeatures(resize=fid["resize"])
    sources = generator_sources(profile, study, store)
    folds = sorted(store.folds.fold.unique())
    references = {fold: (held_out_masses(store, fold), held_out_normals(store, fold)) for fold in folds}  # read once
    rows = []
    for source, k, fold in product(sources, ks or parse_ks(study["k"]), folds):
        subset = subset_of(store, fold, k, study)
        train = store.read(subset.masses.index.to_numpy())
        held_out, normals = references[fold]
        for gan_seed in seed_list(study, "gan_seeds"):
            best = source.checkpoint or gk_dir(study["artifacts"], fold, k, gan_seed, sources, source) / "best.pt"
            if not best.is_file():
                raise FileNotFoundError(f"{best}: G_k not trained; run python -m thesis_lib.studies.augstudy --profile "
                                        f"{profile} --k {k} --fold {fold} --generator-only first")
            fake = generate(best, min(n_generated, k), seed=study["seed"])
            try:
                row = score_patches(train, held_out, fake, normals, extractor, cache, kid_subsets=fid["kid_subsets"],
                                    k=fid["pr_k"], seed=study["seed"])
            except ValueError as exc:  # too few masses to score (a tiny k or fold)
                row, failed, close, hard = {"N generated": len(fake)}, [f"not scored: {exc}"], [], [True]
            else:  # a precision or recall a redraw of samples could turn decides nothing (realism.borderline)
                failed, close, hard = realism_verdict(row)[1], borderline(row), clear_failures(row)
            rows.append({"generator": source.name, "k": k, "fold": int(fold), "gan_seed": gan_seed, **row,
                         "passed": not failed and not close, "borderline": bool(close) and not hard,
                         "fails": "; ".join(failed + [f"borderline {text}" for text in close])})
    return pd.DataFrame(rows)


def read_gate(artifacts: str | Path) -> pd.DataFrame | None:
    """The gate's table, or None when the gate has not run."""
    path = gate_path(artifacts)
    return pd.read_csv(path, keep_default_na=False, dtype={"commit": str}) if path.is_file() else None


def first_generator(gate: pd.DataFrame) -> pd.DataFrame:
    """The rows of the study's first generator (the one behind the arms GAN and Aug GAN)."""
    return gate[gate.generator == gate.generator.iloc[0]] if "generator" in gate and len(gate) else gate


def status(gate: pd.DataFrame) -> pd.Series:
    """Each G_k's standing: "pass" (every rule met by more than a redraw moves it), "borderline"
    (no rule failed that a redraw could not turn) or "fail"; a table without the ``borderline``
    column (written before it existed) has none."""
    close = gate["borderline"].astype(bool) if "borderline" in gate else pd.Series(False, index=gate.index)
    return pd.Series(np.where(gate.passed.astype(bool), "pass", np.where(close, "borderline", "fail")), index=gate.index)


def failed_ks(gate: pd.DataFrame) -> list[int]:
    """The k at which a G_k of the study's first generator (any fold or seed) failed the gate
    (:func:`status` "fail"), sorted."""
    first = first_generator(gate)
    return sorted(int(k) for k, rows in first.groupby("k") if (status(rows) == "fail").any())


def borderline_ks(gate: pd.DataFrame) -> list[int]:
    """The k at which no G_k of the first generator failed but one is borderline, sorted: claims
    judged there cannot be decided (a redraw of samples could fail the G_k)."""
    first = first_generator(gate)
    return sorted(int(k) for k, rows in first.groupby("k")
                  if int(k) not in failed_ks(gate) and (status(rows) == "borderline").any())


def failed_rules(gate: pd.DataFrame) -> list[str]:
    """The rules that some G_k did not pass, named without their numbers ("recall 0.12 (< 0.3)" ->
    "recall", "borderline recall 0.36 within 0.09 of 0.3 (N = 100)" -> "borderline recall"), sorted."""
    return sorted({" ".join(re.sub(r"\(.*?\)|[-+]?\d[\d.]*%?", "", re.sub(r" within .*", "", reason)).split())
                   for text in gate.fails[~gate.passed.astype(bool)] for reason in str(text).split("; ") if reason})


def measured_budget(profile: str, store: str, path: str | Path = BUDGET_FILE) -> pd.DataFrame:
    """The G_k budget curves measured outside the book, where a longer training does not fit
    (``benchmarks/gan_recipes.py NAME SETTINGS --k K --snapshots``, lines of JSON in ``path``):
    one row per snapshot of a G_k of ``profile`` on the patch store ``store`` (its
    ``PatchStore.identity``: the same data as this build), with k, fold, iterations, the gate's
    scores, ``realistic``, ``fails`` (the rules failed) and the commit measured at; sorted by k and
    iterations. Rows without the scores of every rule (:data:`~thesis_lib.studies.realism.RULE_COLUMNS`:
    measured before the class-aware and copy rules existed) are left out: the gate would not have
    judged them alike. Empty when none."""
    columns = ["k", "fold", "iterations", "N generated", "FID / floor", "precision", "recall", "too close to training",
               "called masses", "spectrum excess (dex)", "realistic", "fails", "commit"]
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    try:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not lines of JSON ({exc}); rerun benchmarks/gan_recipes.py") from None
    table = pd.DataFrame([{**r, "fails": "; ".join(realism_verdict(r)[1])} for r in rows
                          if r.get("profile") == profile and r.get("store") == store and r.get("k")
                          and str(r.get("generator", "")).startswith("epoch_")
                          and all(c in r for c in RULE_COLUMNS)], columns=columns)
    return table.sort_values(["k", "iterations"]).reset_index(drop=True)


def budget_reached(curve: pd.DataFrame) -> dict[int, int | None]:
    """k -> the fewest iterations from which every measured snapshot of that G_k meets every
    rule (None: the last snapshot does not)."""
    reached = {}
    for k, rows in curve.groupby("k"):
        failing = rows.iterations[~rows.realistic.astype(bool)]
        later = rows.iterations[rows.iterations > failing.max()] if len(failing) else rows.iterations
        reached[int(k)] = int(later.min()) if len(later) else None
    return reached


def current_gate(profile: str, ks: list[int]) -> pd.DataFrame:
    """The workflow's gate table when it covers ``ks``; at render time else
    :class:`~thesis_lib.results.ResultsMissing` naming the step; else the gate of ``ks`` computed
    now and written beside the rows of the other k."""
    path = gate_path(config.artifacts_dir(profile))
    gate = read_gate(config.artifacts_dir(profile))
    if gate is not None and set(ks) <= set(gate.k):
        return gate[gate.k.isin(ks)].reset_index(drop=True)
    if render_only():
        raise ResultsMissing(f"{path}: no gate rows for k = {ks}; run "
                             f"`python -m thesis_lib.studies.generator_gate --profile {profile}`")
    table = gate_table(profile, ks)
    kept = gate[~gate.k.isin(ks)] if gate is not None else table.iloc[:0]
    with atomic_path(path) as tmp:
        pd.concat([kept, table], ignore_index=True).to_csv(tmp, index=False)
    return table


def write_shown(profile: str, ks: list[int] | None = None, n: int = N_SHOWN) -> dict:
    """What the augmentation chapter shows of the generators, beside the gate table:
    ``gk_samples.npz`` (``n`` samples of fold 0's first G_k per k, keyed ``k<k>``), ``gk_budget.csv``
    (the budget rows measured on this build's data, :func:`measured_budget`) and
    ``generators.json`` (each source's one-line description). Returns the descriptions."""
    study = config.resolve("aug", profile)
    art = Path(study["artifacts"])
    store = open_store(art)
    sources = generator_sources(profile, study, store)
    first_seed = seed_list(study, "gan_seeds")[0]
    samples = {}
    for k in ks or parse_ks(study["k"]):
        best = sources[0].checkpoint or gk_dir(art, 0, k, first_seed, sources, sources[0]) / "best.pt"
        if best.is_file():
            samples[f"k{k}"] = generate(best, n, seed=study["seed"])
    write_npz(paths.aug(art) / "gk_samples.npz", samples)
    with atomic_path(paths.aug(art) / "gk_budget.csv") as tmp:
        measured_budget(profile, store.identity).to_csv(tmp, index=False)
    described = {"generators": [s.describe() for s in sources]}
    write_json(paths.aug(art) / "generators.json", described)
    return described


def current_shown(profile: str, ks: list[int]) -> tuple[dict[int, np.ndarray], pd.DataFrame, list[str]]:
    """:func:`read_shown` at render time; else written now for ``ks`` (:func:`write_shown`), then read."""
    if not render_only():
        write_shown(profile, ks)
    return read_shown(config.artifacts_dir(profile))


def read_shown(artifacts: str | Path) -> tuple[dict[int, np.ndarray], pd.DataFrame, list[str]]:
    """:func:`write_shown`'s files back: samples by k, the budget rows, the sources' descriptions;
    :class:`~thesis_lib.results.ResultsMissing` naming the step when they are absent."""
    folder = paths.aug(artifacts)
    described = recorded(folder / "generators.json", None, "python -m thesis_lib.studies.generator_gate")
    with np.load(folder / "gk_samples.npz") as data:
        samples = {int(name[1:]): data[name] for name in sorted(data.files, key=lambda n: int(n[1:]))}
    budget = pd.read_csv(folder / "gk_budget.csv", keep_default_na=False, na_values=[""])
    return samples, budget, described["generators"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Score every G_k of the augmentation study by the realism rules.")
    p.add_argument("--profile", default="smoke")
    args = p.parse_args(argv)
    table = gate_table(args.profile)
    path = gate_path(config.artifacts_dir(args.profile))
    write_shown(args.profile)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    print(f"{int(table.passed.sum())} of {len(table)} G_k pass the gate; wrote {path}")


if __name__ == "__main__":
    main()
