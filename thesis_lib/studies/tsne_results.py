"""The t-SNE chapter's results, computed once by a workflow step and read by the chapters.

For the profile's fold and generator (a G_k, the fold's GAN, or a ready ``tsne.generator``):
the mass sets (:func:`thesis_lib.studies.tsne.mass_sets`), their t-SNE maps in each space and the
support table with its permutation nulls. Written to ``artifacts/<profile>/tsne/``:
``maps.csv`` (space, map, set, x, y), ``support.csv`` (the scorecard reads it) and
``provenance.json``.

Command line (the workflow's ``tsne_results`` step)::

    python -m thesis_lib.studies.tsne_results --profile smoke
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.evaluation.embedding import pick_backend
from thesis_lib.evaluation.inception import InceptionFeatures
from thesis_lib.io import atomic_path
from thesis_lib.models.generate import ready_generator
from thesis_lib.provenance import Run
from thesis_lib.results import recorded, render_only
from thesis_lib.studies import tsne
from thesis_lib.training.runs import run_dir


def results_dir(artifacts: str | Path) -> Path:
    return paths.tsne(artifacts)


def _sets(params: dict) -> tuple[tsne.MassSets, str]:
    art = Path(params["artifacts"])
    store = PatchStore(paths.store(art))
    ready = ready_generator(params["generator"], store.patch_size, "tsne.generator")
    sets = tsne.mass_sets(store, art, params["fold"], params["k"], ratio=params["synthetic_ratio"],
                          n_normal=params["n_normal"], seed=params["seed"],
                          subset_seed=config.resolve("aug", params["profile"])["seed"],
                          generator=ready.checkpoint if ready else None,
                          gan_seeds=config.resolve("aug", params["profile"])["gan_seeds"])
    drawn_by = ready.describe() if ready else "its GAN" if params["k"] in (None, "all") else f"G_{params['k']}"
    return sets, drawn_by


def write(params: dict) -> dict:
    """Compute the maps and the support table for the resolved ``tsne`` parameters and write
    them with their provenance; returns the provenance record."""
    run = Run("tsne", params)
    chosen = tsne.check_spaces(params["spaces"])
    sets, drawn_by = _sets(params)
    extractor = InceptionFeatures() if "inception" in chosen else None
    art = Path(params["artifacts"])
    feats = {space: tsne.features(sets, space, extractor, paths.cache(art)) for space in chosen}
    points = pd.concat([
        pd.DataFrame({"space": space, "map": name, "set": groups, "x": xy[:, 0], "y": xy[:, 1]})
        for space in chosen
        for name, (xy, groups) in tsne.maps(feats[space], perplexity=params["perplexity"], n_iter=params["n_iter"],
                                            seed=params["seed"], backend=params["backend"]).items()])
    table = pd.concat([tsne.support_table(feats[space], space, neighbours=params["neighbours"], n_perm=params["n_perm"],
                                          seed=params["seed"], held_out_patient=sets.held_out_patient)
                       for space in chosen],
                      ignore_index=True)
    out = results_dir(art)
    with atomic_path(out / "maps.csv") as tmp:
        points.to_csv(tmp, index=False)
    with atomic_path(out / "support.csv") as tmp:
        table.to_csv(tmp, index=False)
    return run.write(out, counts=sets.counts(), drawn_by=drawn_by, backend=pick_backend(params["backend"]),
                     table=table.to_dict("records"))


def current(params: dict) -> dict:
    """The results on disk when they were computed with ``params`` after the generator was last
    written; at render time as on disk or :class:`~thesis_lib.results.ResultsMissing` naming the
    step; else :func:`write` them now."""
    out = results_dir(params["artifacts"])
    record_path = out / "provenance.json"
    if render_only():
        return recorded(record_path, params, f"python -m thesis_lib.studies.tsne_results --profile {params['profile']}")
    if record_path.is_file() and (out / "maps.csv").is_file():
        record = json.loads(record_path.read_text())
        k = None if params["k"] in (None, "all") else int(params["k"])
        store = PatchStore(paths.store(params["artifacts"]))
        ready = ready_generator(params["generator"], store.patch_size, "tsne.generator")
        generator = ready.checkpoint if ready else run_dir(params["artifacts"], params["fold"], k) / "best.pt"
        if (record.get("parameters") == json.loads(json.dumps(params, default=str)) and generator.is_file()
                and record_path.stat().st_mtime_ns >= generator.stat().st_mtime_ns):
            return record
    return write(params)


def read_maps(artifacts: str | Path) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``maps.csv`` as space -> map name -> (xy (n, 2), set name per point (n,)), in file order."""
    points = pd.read_csv(results_dir(artifacts) / "maps.csv")
    return {space: {name: (g[["x", "y"]].to_numpy(), g["set"].to_numpy())
                    for name, g in by_space.groupby("map", sort=False)}
            for space, by_space in points.groupby("space", sort=False)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="t-SNE maps and neighbourhood scores (the t-SNE chapter's results).")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--generator", default=None, help="a ready generator to map instead: label=path/to/G.pt")
    args = p.parse_args(argv)
    params = config.resolve("tsne", args.profile, generator=args.generator)
    record = write(params)
    print(f"wrote {results_dir(params['artifacts'])}: {len(record['table'])} support rows, sets {record['counts']}")


if __name__ == "__main__":
    main()
