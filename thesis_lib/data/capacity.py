"""What a patch store can support, checked against a profile right after the data step.

A dataset too small for the profile (your own folder of 8 masses under the smoke profile's
k = 100, say) used to fail minutes later, in two training steps at once, inside their logs. The
workflow's ``data_check`` step runs this module right after the data step:

    python -m thesis_lib.data.capacity --profile smoke     # writes patches/supports.json

It checks, for every fold, the masses of its training pool against every k of the augmentation
study (and its normal patches against ``normal_per_real`` x k), the patients with masses in its
test set (the patient bootstrap needs 2), its held-out masses against precision and recall's
k-NN (``fid.pr_k``) and the t-SNE fold's masses against ``tsne.k``; the first that fails stops
the run with one line naming the setting to change. The store is kept either way.
"""

from __future__ import annotations

import argparse
import sys

from thesis_lib import config, paths
from thesis_lib.data.store import PatchStore
from thesis_lib.data.subsets import training_rows
from thesis_lib.io import write_json

MORE_DATA = "more patients (N_PATIENTS=0 for every patient of a real dataset) or fewer folds (data_prep.n_folds)"


class CapacityError(ValueError):
    """The data cannot support a setting: the message names the setting and the fix."""


def fold_counts(store: PatchStore) -> list[dict]:
    """Per fold: masses and normal patches in its training pool, held-out masses (validation and
    test: what a generator is scored against) and patients with masses in its test set."""
    out = []
    for fold in sorted(int(f) for f in store.folds.fold.unique()):
        out.append({"fold": fold, "train_masses": len(store.rows(fold, "train", "mass")),
                    "train_normals": len(store.rows(fold, "train", "normal")),
                    "held_out_masses": len(store.rows(fold, ("val", "test"), "mass")),
                    "test_mass_patients": int(store.rows(fold, "test", "mass").patient_id.nunique())})
    return out


def check_folds(store: PatchStore, folds: list[int], ks: list[int], normal_per_real: float, seed: int) -> None:
    """Each fold of ``folds`` can supply k masses and ``normal_per_real`` x k normal patches for
    every k of ``ks``, and its test set holds masses of at least 2 patients; ``ValueError``
    naming the fold, k and setting otherwise."""
    for fold in folds:
        test = store.rows(fold, "test", "mass")
        if test.patient_id.nunique() < 2:
            raise ValueError(f"fold {fold}: its test set holds masses of {test.patient_id.nunique()} patient(s); the "
                             f"patient bootstrap needs at least 2 (more patients: n_patients, or fewer folds: n_folds)")
        for k in ks:
            training_rows(store, fold, k, seed)
            pool = len(training_rows(store, fold, None, seed, label="normal"))
            if round(normal_per_real * k) > pool:
                raise ValueError(f"k={k}: needs normal_per_real x k = {round(normal_per_real * k)} normal patches, "
                                 f"but fold {fold}'s training pool holds {pool}; lower k or normal_per_real")


def check_data(profile: str) -> dict:
    """The profile's patch store checked against the profile (see the module docstring); raises
    :class:`CapacityError` with one line naming the setting to change, ``FileNotFoundError``
    when there is no store. Returns the per-fold counts and the largest k every fold supports."""
    where = config.profile_path(profile)
    aug = config.resolve("aug", profile)
    store_dir = paths.store(aug["artifacts"])
    if not (store_dir / "patches.h5").is_file():
        raise FileNotFoundError(f"no patch store at {store_dir}: run the data step first")
    store = PatchStore(store_dir)
    counts = fold_counts(store)
    largest = min(c["train_masses"] for c in counts)
    try:
        check_folds(store, [c["fold"] for c in counts], [int(k) for k in aug["k"]], aug["normal_per_real"],
                    aug["seed"])
    except ValueError as exc:
        raise CapacityError(f"{where}: the data cannot support the augmentation study ({exc}); the smallest fold's "
                            f"training pool holds {largest} masses: lower aug.k, or use {MORE_DATA}") from None
    pr_k = config.resolve("fid", profile)["pr_k"]
    for c in counts:
        if c["held_out_masses"] <= pr_k:
            raise CapacityError(f"{where}: fold {c['fold']} holds {c['held_out_masses']} held-out masses; precision "
                                f"and recall (fid.pr_k = {pr_k}) need more than {pr_k}: use {MORE_DATA}")
    tsne = config.resolve("tsne", profile)
    if isinstance(tsne["k"], int) and tsne["k"] > counts[tsne["fold"]]["train_masses"]:
        raise CapacityError(f"{where}: tsne.k = {tsne['k']}, but fold {tsne['fold']}'s training pool holds "
                            f"{counts[tsne['fold']]['train_masses']} masses: lower tsne.k, or use {MORE_DATA}")
    return {"profile": profile, "folds": counts, "largest_k": largest}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Check what the profile's patch store supports (after the data step).")
    p.add_argument("--profile", default="smoke")
    args = p.parse_args(argv)
    try:
        supports = check_data(args.profile)
    except (CapacityError, FileNotFoundError) as exc:
        sys.exit(f"error: {exc}")
    write_json(paths.store(config.artifacts_dir(args.profile)) / "supports.json", supports)
    print(f"the data supports k up to {supports['largest_k']} in every fold", flush=True)


if __name__ == "__main__":
    main()
