"""What the qualitative chapter shows: real beside generated, a memorisation check and a latent
walk, computed from each fold's kept generator (the workflow's ``qualitative_results`` step)::

    python -m thesis_lib.studies.qualitative --profile smoke [--generator "label=path/to/G.pt"]

It writes ``artifacts/<profile>/qualitative/`` (:func:`thesis_lib.paths.qualitative`):

- ``panels.npz``: per fold ``real_<f>`` (64 of its training masses) and ``generated_<f>`` (64
  patches of its kept generator), (n, S, S) uint8;
- ``memorisation.npz``: per space (``pixels``, ``inception``) the nearest-training distances of
  the generated patches and of the training patches to each other, the threshold, the nearest
  training index; ``shown_generated`` (the ``N_NEIGHBOURS`` generated patches nearest a training
  patch in pixel space, nearest first) and ``shown_<space>`` (their nearest training patches), uint8;
- ``interpolation.npz``: ``strip``, (steps, S, S) uint8 along a great circle of the latent space;
- ``provenance.json``: the parameters, the fold checked, the memorisation summaries and their flag
  tests against chance and the control sets (:func:`control_sets`), the ready
  generator (when one is shown instead of this run's GANs) and the training-set size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import training_patches
from thesis_lib.evaluation import memorisation
from thesis_lib.evaluation.inception import InceptionFeatures, cached_features
from thesis_lib.io import write_npz
from thesis_lib.models.generate import generate, interpolate, load_generator, ready_generator
from thesis_lib.provenance import Run
from thesis_lib.results import current_record
from thesis_lib.studies import realism
from thesis_lib.studies.tsne import mixed_copies

N_PANEL = 64  # patches per panel of the real-and-generated figure
N_NEIGHBOURS = 8  # generated patches shown with their nearest training patches
SPACES = {"pixels": "pixels", "inception": "Inception features"}  # file key -> the chapter's name


def write(params: dict) -> dict:
    """Compute the chapter's results for ``params`` (the resolved ``qualitative`` section)."""
    run = Run("qualitative", params)
    art = Path(params["artifacts"])
    store = PatchStore(paths.store(art))
    ready = ready_generator(params["generator"], store.patch_size, "qualitative.generator")
    generators = realism.fold_generators(store, paths.gan(art), ready.checkpoint if ready else None)
    rng = np.random.default_rng(params["seed"])
    panels = {}
    for f, ckpt in generators.items():
        real, _ = training_patches(store, f, None, params["seed"])
        panels[f"real_{f}"] = real[rng.choice(len(real), min(N_PANEL, len(real)), replace=False)]
        panels[f"generated_{f}"] = generate(ckpt, N_PANEL, params["seed"])
    fold = params["fold"]
    if fold not in generators:
        raise ValueError(f"qualitative.fold={fold}: no kept generator for it (folds with one: {sorted(generators)})")
    train, _ = training_patches(store, fold, None, params["seed"])
    fake = generate(generators[fold], params["n_generated"], params["seed"] + 1)
    extractor = InceptionFeatures()
    train_feats = cached_features(extractor, train, paths.cache(art))
    checks = {"pixels": memorisation.check(train, fake, SPACES["pixels"]),
              "inception": memorisation.check(train_feats, extractor(fake), SPACES["inception"])}
    controls = control_sets(store, fold, params["n_generated"], params["seed"])
    readings = []
    for key, chk in checks.items():
        checked = {name: memorisation.check(*((train, patches) if key == "pixels" else (train_feats, extractor(patches))),
                                            chk.space) for name, patches in controls.items()}
        readings.append(memorisation.reading(chk, checked))
    closest = np.argsort(checks["pixels"].generated_to_train)[:N_NEIGHBOURS]  # the likeliest copies first
    arrays = {"shown_generated": fake[closest]}
    for key, chk in checks.items():
        arrays.update({f"{key}_generated_to_train": chk.generated_to_train, f"{key}_train_to_train": chk.train_to_train,
                       f"{key}_nearest_train": chk.nearest_train, f"{key}_threshold": np.array(chk.threshold),
                       f"shown_{key}": train[chk.nearest_train[closest]]})
    strip = interpolate(load_generator(generators[fold]), params["interpolation_steps"], params["seed"])
    out = paths.qualitative(art)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in (("panels.npz", panels), ("memorisation.npz", arrays), ("interpolation.npz", {"strip": strip})):
        write_npz(out / name, content)
    return run.write(out, fold=fold, folds=sorted(generators), n_train=len(train),
                     memorisation=[c.summary() for c in checks.values()], flag_tests=readings,
                     ready=ready.describe() if ready else None)


def control_sets(store: PatchStore, fold: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """Sets that cannot copy the fold's training masses, ``n`` patches each at most: its real
    unseen (held-out) masses, and averages of two of them (smooth patches, which sit near
    everything in pixel space)."""
    held_out = realism.held_out_masses(store, fold)
    rng = np.random.default_rng([seed, fold, 3])
    unseen = held_out[rng.choice(len(held_out), min(n, len(held_out)), replace=False)]
    return {"held-out masses": unseen,
            "averages of two held-out masses": mixed_copies(held_out, min(n, len(held_out)) / len(held_out), seed)}


def current(params: dict) -> dict:
    """The record of the results on disk when computed with ``params`` after every kept generator
    was last written; at render time as on disk or :class:`~thesis_lib.results.ResultsMissing`;
    else computed now (:func:`write`)."""
    return current_record(paths.qualitative(params["artifacts"]) / "provenance.json", params,
                          f"python -m thesis_lib.studies.qualitative --profile {params['profile']}",
                          lambda: write(params), inputs=paths.gan(params["artifacts"]).glob("fold[0-9]*/best.pt"))


def read_panels(artifacts: str | Path) -> dict[str, np.ndarray]:
    """The real-and-generated panels, titled as the chapter shows them ("fold 0: 64 real"), fold by fold."""
    with np.load(paths.qualitative(artifacts) / "panels.npz") as data:
        folds = sorted({int(name.split("_")[1]) for name in data.files})
        return {f"fold {f}: {len(data[f'{kind}_{f}'])} {kind}": data[f"{kind}_{f}"]
                for f in folds for kind in ("real", "generated")}


def read_checks(artifacts: str | Path) -> tuple[list[memorisation.MemorisationCheck], np.ndarray, dict[str, np.ndarray]]:
    """The memorisation checks back (pixels, then Inception features), the shown generated patches
    and, per space name, their nearest training patches."""
    with np.load(paths.qualitative(artifacts) / "memorisation.npz") as data:
        checks = [memorisation.MemorisationCheck(space=name, generated_to_train=data[f"{key}_generated_to_train"],
                                                 nearest_train=data[f"{key}_nearest_train"],
                                                 train_to_train=data[f"{key}_train_to_train"],
                                                 threshold=float(data[f"{key}_threshold"]))
                  for key, name in SPACES.items()]
        return checks, data["shown_generated"], {name: data[f"shown_{key}"] for key, name in SPACES.items()}


def read_interpolation(artifacts: str | Path) -> np.ndarray:
    """(steps, S, S) uint8 patches along the latent walk."""
    with np.load(paths.qualitative(artifacts) / "interpolation.npz") as data:
        return data["strip"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m thesis_lib.studies.qualitative",
                                description="Real beside generated patches, the memorisation check and a latent walk "
                                            "(the qualitative chapter's results).")
    p.add_argument("--profile", default="smoke", help="configs/<profile>.yaml (default: smoke)")
    p.add_argument("--generator", default=None, help="a ready generator to show instead: label=path/to/G.pt")
    args = p.parse_args(argv)
    record = write(config.resolve("qualitative", args.profile, generator=args.generator))
    print(f"wrote {paths.qualitative(config.artifacts_dir(args.profile))}: "
          + ", ".join(f"{m['flagged']} of {m['generated']} flagged in {m['space']}" for m in record["memorisation"]))


if __name__ == "__main__":
    main()
