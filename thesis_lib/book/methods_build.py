"""The methods chapter's "In this build" section, written from the run's resolved profile and its
GAN runs' records (``book/generated/methods.md``, with the banner's files), so that what the
methods say a run did cannot drift from what it did: the classifier's arms, how its epoch is
kept, the bootstrap's levels, the primary endpoint, how the kept generator is chosen, how long
the GANs trained and which spaces the t-SNE maps use.
"""

from __future__ import annotations

from thesis_lib.studies.augstudy import APPROACHES

EVALUATORS = {
    "last": "none: the last average of G's weights is kept",
    "texture": "a texture Fréchet distance (block means and power spectra; not FID) on the training masses",
    "pixel": "a Fréchet distance on pixel block means (not FID) on the training masses",
    "fid": "FID on the training masses",
}


def arm_line(name: str, synthetic_per_real: float, normal_per_real: float) -> str:
    """One arm as a table row: its positives, negatives and flips."""
    arm = APPROACHES[name]
    positives = ("k real masses" + (f" + {synthetic_per_real:g} k from G_k" if arm.gan else "")
                 + (f", each shown {1 + synthetic_per_real:g} times" if arm.oversample else ""))
    return f"| {name} | {positives} | {normal_per_real:g} k normal patches | {'on the fly' if arm.flips else 'none'} |"


def gan_lengths(runs: dict[str, dict]) -> str:
    """The epochs and iterations the GAN runs trained: fold GANs and G_k apart, as ranges."""
    parts = []
    for label, pick in (("fold GANs", lambda n: "_k" not in n), ("G_k", lambda n: "_k" in n)):
        chosen = [r for n, r in runs.items() if pick(n)]
        if chosen:
            epochs = sorted(r["epochs"] for r in chosen)
            steps = sorted(r["iterations"] for r in chosen)
            span = (lambda v: f"{v[0]:,}" if v[0] == v[-1] else f"{v[0]:,}-{v[-1]:,}")
            parts.append(f"{len(chosen)} {label}: {span(epochs)} epochs ({span(steps)} iterations)")
    return "; ".join(parts) or "no GAN run recorded"


def methods_markdown(record: dict) -> str:
    """The section (Markdown) for a run record (:func:`thesis_lib.bundle.run_record`)."""
    cfg = record["config"]
    aug, gan, tsne, design = cfg["aug"], cfg["gan"], cfg["tsne"], cfg.get("design")
    gk = {**gan, **(aug.get("gan") or {})}
    rows = "\n".join(arm_line(a, aug["synthetic_per_real"], aug["normal_per_real"]) for a in aug["approaches"])
    select = {"auc": "the best validation AUC", "f1": "the best validation F1 at 0.5 (the thesis)"}[aug["select_on"]]
    lines = [
        f"**In this build** (profile **{record['profile']}**, written from its resolved configuration and its runs' "
        "records):",
        "",
        f"- **Classifier**: trained in {len(aug['approaches'])} arms (table below), each classifier keeping the epoch "
        f"with {select}, stopping after {aug['patience']} epochs without a better one or at the cap of "
        f"{aug['epochs']}; every arm takes the same optimiser steps per epoch (one pass over the ORG arm's "
        f"k + {aug['normal_per_real']:g} k patches).",
        f"- **Sizes**: {cfg['data_prep']['patch_size']} x {cfg['data_prep']['patch_size']} patches (the thesis: "
        f"128), latent z of {gan['nz']} values (200), G and D widths ngf = {gan['ngf']}, ndf = {gan['ndf']} (45)"
        + ("; at 64 pixels the networks drop their widest block at each end." if cfg["data_prep"]["patch_size"] == 64
           else "."),
        f"- **Folds**: {cfg['data_prep']['n_folds']} patient-level folds, each testing on 1/{cfg['data_prep']['n_folds']} "
        f"of the patients and validating on {cfg['data_prep']['val_fraction']:g} of the others (the thesis: 3 folds, "
        "a tenth).",
        f"- **Replication and intervals**: {len(aug['gan_seeds'])} G_k seed(s) per fold and k, "
        f"{len(aug['classifier_seeds'])} classifier seed(s) per arm, {cfg['data_prep']['n_folds']} folds; every "
        f"interval is a hierarchical bootstrap ({aug['n_boot']:,} replicates) that draws G_k seeds, classifier "
        "seeds and test patients, paired across arms.",
    ]
    if design:
        lines.append(f"- **Primary endpoint**: {design['comparison'][0]} against {design['comparison'][1]} at "
                     f"k = {design['k']}, on {', '.join(m.upper() for m in [design['metric'], *design['beside']])}, "
                     "read by two one-sided tests against margins "
                     + ", ".join(f"{m.upper()} {design['margins'][m]:g}" for m in [design['metric'], *design['beside']])
                     + "; the other claims are secondary, Holm-adjusted as one family.")
    lines += [
        f"- **Kept generator**: model selection {EVALUATORS.get(gan['evaluator'], gan['evaluator'])} (fold GANs); "
        f"G_k: {EVALUATORS.get(gk['evaluator'], gk['evaluator'])}.",
        f"- **GAN training**: {gan_lengths(record.get('gan_runs') or {})}.",
        f"- **t-SNE**: maps in {' and '.join(tsne['spaces'])} (fold {tsne['fold']}, "
        + (f"G_{tsne['k']}" if tsne["k"] not in (None, "all") else "its GAN") + f"), perplexity {tsne['perplexity']:g}.",
        "",
        "| approach | positives | negatives | flips |",
        "|---|---|---|---|",
        rows,
    ]
    return "\n".join(lines) + "\n"
