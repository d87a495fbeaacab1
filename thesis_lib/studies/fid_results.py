"""The FID chapter's results, computed once by a workflow step and read by the chapters.

Per fold, the kept generator (each fold's lesion-simulation GAN, or one ready generator given
as ``fid.generator``, e.g. the thesis' own) is scored against the fold's held-out masses
(:func:`thesis_lib.studies.realism.realism_table`) and by the domain classifier
(:func:`~thesis_lib.studies.realism.domain_table`); the curve fold's snapshots give FID over epochs
(none for a ready generator). Everything goes to ``artifacts/<profile>/fid/provenance.json``
with the run's provenance; the FID, scorecard and discussion chapters read it.

Command line (the workflow's ``fid_results`` step)::

    python -m thesis_lib.studies.fid_results --profile smoke
    python -m thesis_lib.studies.fid_results --profile thesis --generator "thesis G=artifacts/thesis_G.pt"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.evaluation.inception import FID_WEIGHTS_SHA1, InceptionFeatures, cached_features
from thesis_lib.models.generate import ready_generator
from thesis_lib.models.generators import identity
from thesis_lib.provenance import Run
from thesis_lib.results import recorded, render_only
from thesis_lib.studies import realism
from thesis_lib.training.classifier import ClassifierConfig
from thesis_lib.training.runs import read_run


def results_path(artifacts: str | Path) -> Path:
    return paths.fid_results(artifacts)


def compute(params: dict) -> dict:
    """The chapter's results for the resolved ``fid`` parameters: ``table``, ``domain`` and
    ``curve`` as lists of records, and ``generator`` (None, or the ready generator's name,
    file and origin)."""
    art = Path(params["artifacts"])
    store = PatchStore(paths.store(art))
    ready = ready_generator(params["generator"], store.patch_size, "fid.generator")
    generators = realism.fold_generators(store, paths.gan(art), ready.checkpoint if ready else None)
    extractor = InceptionFeatures(resize=params["resize"])
    table = realism.realism_table(store, generators, extractor, n_generated=params["n_generated"],
                                  seed=params["seed"], kid_subsets=params["kid_subsets"], k=params["pr_k"],
                                  cache_dir=paths.cache(art))
    classifier = ClassifierConfig(epochs=params["domain_epochs"], lr=params["domain_lr"], seed=params["seed"])
    domain = realism.domain_table(store, generators, classifier, n_generated=params["n_generated"],
                                  seed=params["seed"])
    curve = pd.DataFrame(columns=["epoch", "iterations", "FID", "precision", "recall", "N generated"])
    fold = params["curve_fold"]
    if ready is None and fold in generators:
        held_out = cached_features(extractor, realism.held_out_masses(store, fold), paths.cache(art))
        run = paths.gan(art) / f"fold{fold}"
        curve = realism.fid_over_epochs(run, held_out, extractor, n_generated=params["n_generated_curve"],
                                        seed=params["seed"], k=params["pr_k"])
        summary = read_run(run)["summary"]
        curve.insert(1, "iterations", (curve.epoch * summary["steps"] / summary["epochs_done"]).round().astype(int))
    return {"table": table.reset_index().to_dict("records"), "domain": domain.reset_index().to_dict("records"),
            "curve": curve.to_dict("records"), "source": store.summary["source"],
            "inception": {"weights": extractor.weights.name, "sha1": FID_WEIGHTS_SHA1, "network": extractor.source},
            "generator": None if ready is None else {**identity(ready), "file": str(ready.checkpoint),
                                                     "description": ready.describe()}}


def write(params: dict) -> dict:
    """:func:`compute`, written with its provenance to :func:`results_path`; returns the record."""
    run = Run("fid", params)
    return run.write(results_path(params["artifacts"]).parent, **compute(params))


def current(params: dict) -> dict:
    """The results on disk when they were computed with ``params``, from the same ready
    generator file, after the generators were last written; at render time as on disk or
    :class:`~thesis_lib.results.ResultsMissing` naming the step; else :func:`write` them now."""
    path = results_path(params["artifacts"])
    if render_only():
        return recorded(path, params, f"python -m thesis_lib.studies.fid_results --profile {params['profile']}")
    if path.is_file():
        record = json.loads(path.read_text())
        store = PatchStore(paths.store(params["artifacts"]))
        ready = ready_generator(params["generator"], store.patch_size, "fid.generator")
        scored = realism.fold_generators(store, paths.gan(params["artifacts"]), ready.checkpoint if ready else None)
        same = (record.get("parameters") == json.loads(json.dumps(params, default=str))
                and (record.get("generator") or {}).get("checkpoint_sha1") == (identity(ready) if ready else {}).get(
                    "checkpoint_sha1"))
        if same and path.stat().st_mtime_ns >= max(p.stat().st_mtime_ns for p in scored.values()):
            return record
    return write(params)


def fold_verdicts(artifacts: str | Path) -> dict[int, str]:
    """Fold -> how its kept generator fares by the realism rules ("meets every realism rule" or
    "fails the realism rules on <the rules failed>", followed by "; borderline: <...>" where a
    redraw of samples could turn the verdict, :func:`~thesis_lib.studies.realism.borderline`), from
    the results on disk; empty when they are absent or score a ready generator instead of the run's GANs."""
    path = results_path(artifacts)
    record = json.loads(path.read_text()) if path.is_file() else {}
    if not record or record.get("generator"):
        return {}
    return {int(row["fold"]): ("meets every realism rule" if row["realistic"] else f"fails the realism rules on {row['fails']}")
            + ("; borderline: " + "; ".join(close) if (close := realism.borderline(row)) else "")
            for row in record["table"]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Score the kept generators of every fold (the FID chapter's results).")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--generator", default=None, help="a ready generator to score instead: label=path/to/G.pt")
    args = p.parse_args(argv)
    params = config.resolve("fid", args.profile, generator=args.generator)
    record = write(params)
    table = pd.DataFrame(record["table"])
    print(f"wrote {results_path(params['artifacts'])}: {int(table.realistic.sum())} of {len(table)} folds realistic")


if __name__ == "__main__":
    main()
