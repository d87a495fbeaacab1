"""The reproduction scorecard: each claim of the thesis beside this run's numbers, with a verdict.

Every number of this run is read from the results the chapters wrote under
``artifacts/<profile>/`` (never typed); the thesis' numbers come from :mod:`thesis_lib.reference`.
A verdict is one of

- **reproduced**: this run's numbers show what the thesis claims, by the rule in ``why``;
- **not reproduced**: they do not;
- **not comparable**: the numbers measure different things (other data, other N), or the
  chapter that computes them has not run.

The rules are deliberately simple and stated beside each verdict, so a reader can disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thesis_lib import paths, reference
from thesis_lib.evaluation.scoring import best_arm, over_folds
from thesis_lib.studies import augstudy, realism, tsne
from thesis_lib.studies.generator_gate import failed_rules, first_generator, read_gate

CHAPTERS = {"data": "00_data_prep", "gan": "01_train_dcgan", "qualitative": "02_qualitative",
            "fid": "03_fid", "aug": "04_aug_study", "tsne": "05_tsne"}
REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE = "reproduced", "not reproduced", "not comparable"


def link(text: str, chapter: str) -> str:
    """``text`` as a Markdown link to a results chapter (a page beside the scorecard)."""
    return f"[{text}]({CHAPTERS[chapter]}.ipynb)"


@dataclass
class Results:
    """What the chapters wrote; ``None`` where a chapter has not run."""

    data: dict | None
    fid: dict | None
    aug: pd.DataFrame | None
    intervals: pd.DataFrame | None
    tsne: pd.DataFrame | None
    artifacts: Path
    gate: pd.DataFrame | None = None  # the GAN arms' quality gate (one row per G_k)

    @classmethod
    def load(cls, artifacts: str | Path) -> "Results":
        art = Path(artifacts)

        def json_or_none(path: Path) -> dict | None:
            return json.loads(path.read_text()) if path.is_file() else None

        def csv_or_none(path: Path) -> pd.DataFrame | None:
            return pd.read_csv(path) if path.is_file() else None

        aug = augstudy.read_results(art)
        return cls(data=json_or_none(paths.store(art) / "summary.json"), fid=json_or_none(paths.fid_results(art)),
                   aug=aug if len(aug) else None, intervals=csv_or_none(augstudy.intervals_path(art)),
                   tsne=csv_or_none(paths.tsne(art) / "support.csv"), artifacts=art, gate=read_gate(art))


def _claim(claim: str, thesis: str, ours: str, verdict: str, why: str, chapter: str) -> dict:
    return {"claim": claim, "thesis": thesis, "this run": link(ours, chapter) if ours else "not run",
            "verdict": verdict, "rule": why, "chapter": chapter}


def fid_claims(res: Results) -> list[dict]:
    """FID during training (a trend over all snapshots) and the kept generators' realism (the
    rules of :mod:`thesis_lib.studies.realism`, against held-out masses and a matched floor)."""
    rep = reference.reported()["fid_over_epochs"]
    pts = rep["points"]
    first, last = min(pts), max(pts)
    thesis_curve = f"{pts[first]:.0f} at epoch {first} to {pts[last]:.1f} at epoch {last}"
    claim_curve = "FID falls as the DCGAN trains"
    claim_kept = "the kept generator is realistic by FID"
    thesis_kept = f"{rep['minimum']['fid']} (minimum, epoch {rep['minimum']['epoch']}, N = {rep['n_generated']})"
    if res.fid is None:
        return [_claim(claim_curve, thesis_curve, "", NOT_COMPARABLE, "the FID chapter has not run", "fid"),
                _claim(claim_kept, thesis_kept, "", NOT_COMPARABLE, "the FID chapter has not run", "fid")]
    curve = pd.DataFrame(res.fid["curve"]).sort_values("epoch")
    trend = realism.fid_trend(curve)
    n_curve = int(curve["N generated"].iloc[-1]) if len(curve) else 0
    ours_curve = (f"slope {trend['slope']:+.1f} per 100 epochs [{trend['low']:+.1f}, {trend['high']:+.1f}] over "
                  f"{trend['snapshots']} snapshots (N = {n_curve})" if trend["falls"] is not None else
                  f"{trend['snapshots']} snapshot(s)")
    curve_verdict = NOT_COMPARABLE if trend["falls"] is None else REPRODUCED if trend["falls"] else NOT_REPRODUCED
    table = pd.DataFrame(res.fid["table"])
    passed = int(table.realistic.sum())
    ours_kept = (f"{passed} of {len(table)} folds pass; FID {table.FID.mean():.1f} against held-out masses, "
                 f"{table['FID / floor'].mean():.1f} x the matched floor (N = {table['N generated'].iloc[0]:.0f} "
                 f"generated, {table['N held-out'].iloc[0]:.0f} held-out), precision {table.precision.mean():.2f}, "
                 f"recall {table.recall.mean():.2f}, {table['closer to training'].mean():.0%} nearer training")
    return [
        _claim(claim_curve, thesis_curve, ours_curve, curve_verdict,
               "the 95 % bootstrap interval of FID's slope against epoch, over all snapshots, below 0"
               if trend["falls"] is not None else "fewer than 3 snapshots show no trend", "fid"),
        _claim(claim_kept, thesis_kept, ours_kept, REPRODUCED if passed * 2 > len(table) else NOT_REPRODUCED,
               f"more than half of the folds' kept generators meet every rule: {realism.REALISM_RULE}", "fid"),
    ]


def _differences(res: Results, comparison: str, metric: str) -> pd.DataFrame:
    """The Holm-corrected intervals of ``comparison`` ("A - B") in ``metric``, indexed by k."""
    iv = res.intervals
    return iv[(iv.comparison == comparison) & (iv.metric == metric)].set_index("k").sort_index()


def _interval_text(d: pd.DataFrame) -> str:
    return ", ".join(f"k = {k}: {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], {r.verdict}" for k, r in d.iterrows())


def aug_claims(res: Results) -> list[dict]:
    """The augmentation study's claims, from the means over folds and seeds and the
    hierarchical-bootstrap intervals (seeds, then test patients; Holm across k) of
    ``aug/intervals.csv``. F1 at 0.5 is the thesis' metric; the fair control is judged by AUC,
    which no class ratio moves."""
    rep = reference.reported()["augmentation"]
    thesis_f1 = pd.DataFrame(rep["f1"], index=rep["k"])
    k_small = rep["k"][0]
    claims = {
        "F1 rises with k (ORG)": f"{thesis_f1.ORG.iloc[0]:.3f} at k = {k_small} to "
                                  f"{thesis_f1.ORG.iloc[-1]:.3f} at k = {rep['k'][-1]}",
        "Aug GAN gives the best F1 at the smallest k": f"Aug GAN best at k = {k_small} "
                                                      f"({thesis_f1['Aug GAN'].iloc[0]:.3f})",
        "GAN masses help without flips (GAN > ORG)": f"at {(thesis_f1.GAN > thesis_f1.ORG).sum()} of "
                                                     f"{len(thesis_f1)} k",
        "Aug GAN beats Aug ORG up to k = 500": ", ".join(
            f"{v:+.3f}" for v in (thesis_f1["Aug GAN"] - thesis_f1["Aug ORG"])[thesis_f1.index <= 500]),
        "GAN masses help beyond showing the real ones more often (Aug GAN > Aug ORG x2.5)":
            "not tested (the thesis had no such control)",
    }
    if res.aug is None or res.intervals is None:
        why = "the augmentation chapter has not run" if res.aug is None else "its intervals have not been computed"
        return [_claim(c, t, "", NOT_COMPARABLE, why, "aug") for c, t in claims.items()]
    f1 = over_folds(res.aug, "f1")["mean"].unstack("approach")
    k0, k1 = f1.index.min(), f1.index.max()
    out = []

    rises = f1.loc[k1, "ORG"] > f1.loc[k0, "ORG"]
    out.append(_claim("F1 rises with k (ORG)", claims["F1 rises with k (ORG)"],
                      f"{f1.loc[k0, 'ORG']:.3f} at k = {k0} to {f1.loc[k1, 'ORG']:.3f} at k = {k1}",
                      (REPRODUCED if rises else NOT_REPRODUCED) if k1 > k0 else NOT_COMPARABLE,
                      "ORG's mean F1 higher at the largest k than at the smallest" if k1 > k0 else "only one k ran",
                      "aug"))

    best = best_arm(res.aug, "f1", list(augstudy.APPROACHES)).loc[k0]  # the first generator's arms
    vs_flips = _differences(res, "Aug GAN - Aug ORG", "f1")
    sure = k0 in vs_flips.index and vs_flips.loc[k0, "verdict"] == "better"
    out.append(_claim("Aug GAN gives the best F1 at the smallest k", claims["Aug GAN gives the best F1 at the smallest k"],
                      f"{best} best at k = {k0} ({f1.loc[k0, best]:.3f})"
                      + (f"; Aug GAN - Aug ORG {_interval_text(vs_flips.loc[[k0]])}" if k0 in vs_flips.index else ""),
                      REPRODUCED if best == "Aug GAN" and sure else NOT_REPRODUCED,
                      "the highest mean F1 of the arms at the smallest k, and F1(Aug GAN) - F1(Aug ORG) there "
                      "above 0 after Holm's correction", "aug"))

    gan_org = _differences(res, "GAN - ORG", "f1")
    wins = int((gan_org.verdict == "better").sum())
    out.append(_claim("GAN masses help without flips (GAN > ORG)", claims["GAN masses help without flips (GAN > ORG)"],
                      f"above 0 after Holm at {wins} of {len(gan_org)} k ({_interval_text(gan_org)})",
                      REPRODUCED if len(gan_org) and wins * 2 > len(gan_org) else NOT_REPRODUCED,
                      "F1(GAN) - F1(ORG) above 0 after Holm's correction at more than half of the k", "aug"))

    upto = vs_flips[vs_flips.index <= 500]
    if len(upto):
        all_up, sig = bool((upto.estimate > 0).all()), int((upto.verdict == "better").sum())
        out.append(_claim("Aug GAN beats Aug ORG up to k = 500", claims["Aug GAN beats Aug ORG up to k = 500"],
                          _interval_text(upto), REPRODUCED if all_up and sig else NOT_REPRODUCED,
                          f"F1(Aug GAN) - F1(Aug ORG) above 0 at every k <= 500 and above 0 after Holm's "
                          f"correction at one k at least ({sig} here)", "aug"))
    else:
        out.append(_claim("Aug GAN beats Aug ORG up to k = 500", claims["Aug GAN beats Aug ORG up to k = 500"], "",
                          NOT_COMPARABLE, "no k <= 500 ran", "aug"))

    control = _differences(res, "Aug GAN - Aug ORG x2.5", "auc")
    name = "GAN masses help beyond showing the real ones more often (Aug GAN > Aug ORG x2.5)"
    if len(control):
        better, worse = int((control.verdict == "better").sum()), int((control.verdict == "worse").sum())
        out.append(_claim(name, claims[name], "AUC " + _interval_text(control),
                          REPRODUCED if better and not worse else NOT_REPRODUCED,
                          "AUC(Aug GAN) - AUC(Aug ORG x2.5) above 0 after Holm's correction at one k at least "
                          "and below 0 at none", "aug"))
    else:
        out.append(_claim(name, claims[name], "", NOT_COMPARABLE, "the control Aug ORG x2.5 did not run", "aug"))
    return _gated(out, res.gate)


def _gated(claims: list[dict], gate: pd.DataFrame | None) -> list[dict]:
    """The claims about GAN arms marked "not comparable", with the reason, when a G_k behind
    them failed the quality gate (:mod:`thesis_lib.studies.generator_gate`): the arm then tests a
    generator that does not draw masses, not GAN augmentation."""
    if gate is None:
        return claims
    gate = first_generator(gate)
    if gate.passed.astype(bool).all():
        return claims
    why = (f"not judged: {int((~gate.passed.astype(bool)).sum())} of {len(gate)} G_k failed the quality gate "
           f"(the realism rules; they failed on {', '.join(failed_rules(gate))})")
    for claim in claims:
        if claim["claim"] != "F1 rises with k (ORG)":
            claim.update(verdict=NOT_COMPARABLE, rule=f"{claim['rule']}; {why}")
    return claims


def tsne_claims(res: Results, space: str = "pixels") -> list[dict]:
    """The t-SNE readings, scored in ``space`` (the thesis: raw pixels) by the rules of
    :func:`thesis_lib.studies.tsne.readings`."""
    gaps, outliers = "generated masses fill gaps between real ones", "generated masses support outliers less than flips"
    thesis = "read from t-SNE maps (no numbers)"
    if res.tsne is None or space not in set(res.tsne.space):
        return [_claim(c, thesis, "", NOT_COMPARABLE, "the t-SNE chapter has not run", "tsne") for c in (gaps, outliers)]
    r = tsne.readings(res.tsne[res.tsne.space == space])
    gate = (f"judged only for a generated set with spread >= {tsne.MIN_SPREAD:g} x the real one, precision >= "
            f"{tsne.MIN_PRECISION:g} and recall >= {tsne.MIN_RECALL:g}"
            + ("" if r["judged"] else f" (here not: {r['not_judged']})"))
    return [
        _claim(gaps, thesis, f"held-out masses {r['gap_gen']:.1%} closer with generated masses, {r['gap_flip']:.1%} "
                             f"with flips; difference {r['gap_diff']:+.1%} [{r['gap_low']:+.1%}, {r['gap_high']:+.1%}]",
               REPRODUCED if r["gaps"] else NOT_REPRODUCED,
               f"in {space}: adding the generated masses brings held-out real masses closer to their nearest "
               f"neighbour than adding flips does (95 % interval above 0); {gate}", "tsne"),
        _claim(outliers, thesis, f"nearest generated mass {r['out_gen']:.2f} x an outlier's own neighbour "
                                 f"distance ({r['out_gen_null']:.2f} if exchangeable), nearest flip {r['out_flip']:.2f} x",
               REPRODUCED if r["outliers_less"] else NOT_REPRODUCED,
               f"in {space}: generated masses farther from outlying real masses than an exchangeable set "
               f"(above its permutation null's 95 % range) and than the flips; {gate}", "tsne"),
    ]


def claims_table(res: Results) -> pd.DataFrame:
    """One row per claim: claim, thesis, this run (linked to its chapter), verdict, rule, and
    the chapter key (see :data:`CHAPTERS`)."""
    return pd.DataFrame(fid_claims(res) + aug_claims(res) + tsne_claims(res))


def side_by_side(res: Results, metric: str = "f1") -> pd.DataFrame:
    """``metric`` ("f1" or "auc") per k (rows) and approach: the thesis' mean and this run's
    mean over folds and seeds with its 95 % hierarchical-bootstrap interval (linked to the
    augmentation chapter), "–" where a k or an arm did not run."""
    rep = reference.reported()["augmentation"]
    thesis = pd.DataFrame(rep[metric], index=rep["k"])
    iv = res.intervals if res.intervals is not None else pd.DataFrame(columns=["k", "comparison", "metric"])
    arms = iv[iv.metric == metric].set_index(["k", "comparison"])
    ks = sorted(set(thesis.index) | {int(k) for k, _ in arms.index})
    digits = 3 if metric == "f1" else 4
    cols = {}
    for a in augstudy.APPROACHES:
        cols[(a, "thesis")] = [f"{thesis.loc[k, a]:.{digits}f}" if k in thesis.index and a in thesis else "–"
                               for k in ks]
        cols[(a, "this run")] = [link(f"{arms.loc[(k, a), 'estimate']:.{digits}f} [{arms.loc[(k, a), 'low']:.{digits}f}, "
                                      f"{arms.loc[(k, a), 'high']:.{digits}f}]", "aug")
                                 if (k, a) in arms.index else "–" for k in ks]
    return pd.DataFrame(cols, index=pd.Index(ks, name="k"))


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many claims got each verdict."""
    return {v: int((table.verdict == v).sum()) for v in (REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE)}


def narrative(claims: pd.DataFrame) -> dict[str, str]:
    """One Markdown sentence group per topic (realism, augmentation, t-SNE), stating which of
    the thesis' claims this run reproduced, which not and which it could not compare."""
    paragraphs = {}
    for topic, chapter in (("realism", "fid"), ("augmentation", "aug"), ("t-SNE", "tsne")):
        rows = claims[claims.chapter == chapter]
        parts = []
        for verdict, lead in ((REPRODUCED, "This run reproduces"), (NOT_REPRODUCED, "It does not reproduce"),
                              (NOT_COMPARABLE, "It cannot compare")):
            names = [f"*{c}*" for c in rows[rows.verdict == verdict].claim]
            if names:
                parts.append(f"{lead} {_join(names)}.")
        paragraphs[topic] = " ".join(parts) or "No claim of this topic was scored."
    return paragraphs


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
