"""The reproduction scorecard: each claim of the thesis beside this run's numbers, with a verdict.

Every number of this run is read from the results the chapters wrote under
``artifacts/<profile>/`` (never typed); the thesis' numbers come from :mod:`thesis_lib.reference`.
A verdict is one of

- **reproduced**: this run's numbers show what the thesis claims, by the rule in ``why``;
- **not reproduced**: they exclude it: the interval lies below the thesis' own effect (or, where
  the thesis gives none, below 0);
- **inconclusive**: neither: the interval holds both 0 and the thesis' effect (the design lacks
  the power to tell; each comparison reports the smallest difference it could detect), or the
  cell it rests on is degenerate (every classifier scored the same constant);
- **not comparable**: the numbers measure different things (other data, other N, a generator
  that failed the quality gate), or the chapter that computes them has not run.

Every difference the scorecard judges is one test of one family: Holm's correction runs over all
of them at once (every claim, metric and k), not claim by claim. The rules are stated beside each
verdict, so a reader can disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from thesis_lib import paths, reference
from thesis_lib.evaluation.bootstrap import holm
from thesis_lib.evaluation.scoring import best_arm, over_folds
from thesis_lib.studies import augstudy, generator_gate, realism, tsne
from thesis_lib.studies.generator_gate import failed_rules, first_generator, read_gate

CHAPTERS = {"data": "00_data_prep", "gan": "01_train_dcgan", "qualitative": "02_qualitative",
            "fid": "03_fid", "aug": "04_aug_study", "tsne": "05_tsne"}
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_COMPARABLE = ("reproduced", "not reproduced", "inconclusive",
                                                           "not comparable")
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_COMPARABLE)
# The differences the claims rest on, (comparison, metric): "GAN > ORG" on the threshold-free
# scores only (its arms differ in class ratio, which moves F1 at 0.5 by itself); the flips claim
# on AUC (its arms share the class ratio, and F1 at 0.5 is degenerate at small k)
JUDGED = (("Aug GAN - Aug ORG", "f1"), ("GAN - ORG", "auc"), ("GAN - ORG", "ap"), ("Aug GAN - Aug ORG x2.5", "auc"),
          ("Aug ORG - ORG", "auc"))
POWER = 0.8  # of the smallest detectable difference
FLIPS = "flips help (Aug ORG > ORG)"
NO_GAN_ARM = ("F1 rises with k (ORG)", FLIPS)  # claims the G_k quality gate does not concern
SMALLEST_K = "Aug GAN gives the best F1 at the smallest k"
F1_CAVEAT = (" (F1 at 0.5, the thesis' score: it moves with the class ratio, which Aug GAN's generated masses raise; "
             "the control claim, Aug GAN > Aug ORG x2.5 on AUC, holds the ratio equal)")
THESIS_ARMS = ["ORG", "Aug ORG", "GAN", "Aug GAN"]  # the thesis' four approaches (Aug ORG x2.5 is ours)


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
    tsne_params: dict | None = None  # the t-SNE step's parameters (which fold and generator it mapped)

    @classmethod
    def load(cls, artifacts: str | Path) -> "Results":
        art = Path(artifacts)

        def json_or_none(path: Path) -> dict | None:
            return json.loads(path.read_text()) if path.is_file() else None

        def csv_or_none(path: Path) -> pd.DataFrame | None:
            return pd.read_csv(path) if path.is_file() else None

        aug = augstudy.current_rows(art)
        cohort = json_or_none(paths.data_report(art) / "cohort.json") or {}
        return cls(data=cohort.get("store"), fid=json_or_none(paths.fid_results(art)),
                   aug=aug if len(aug) else None, intervals=csv_or_none(augstudy.intervals_path(art)),
                   tsne=csv_or_none(paths.tsne(art) / "support.csv"), artifacts=art, gate=read_gate(art),
                   tsne_params=(json_or_none(paths.tsne(art) / "provenance.json") or {}).get("parameters"))


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
    curve = pd.DataFrame(res.fid.get("curve") or [], columns=["epoch", "FID", "N generated"]).sort_values("epoch")
    trend = realism.fid_trend(curve)
    n_curve = int(curve["N generated"].iloc[-1]) if len(curve) else 0
    ours_curve = (f"slope {trend['slope']:+.1f} per 100 epochs [{trend['low']:+.1f}, {trend['high']:+.1f}] over "
                  f"{trend['snapshots']} snapshots (N = {n_curve})" if trend["falls"] is not None else
                  f"{trend['snapshots']} snapshot(s)")
    curve_verdict = (INCONCLUSIVE if trend["falls"] is None else REPRODUCED if trend["falls"] else
                     NOT_REPRODUCED if trend["low"] > 0 else INCONCLUSIVE)
    table = pd.DataFrame(res.fid["table"])
    passed = int(table.realistic.sum())
    close = {int(row["fold"]): realism.borderline(row) for _, row in table.iterrows()}
    unsure = [f for f, c in close.items() if c]
    ours_kept = (f"{passed} of {len(table)} folds pass; means over folds: FID {table.FID.mean():.1f} against held-out masses, "
                 f"{table['FID / floor'].mean():.1f} x the matched floor (N = {table['N generated'].iloc[0]:.0f} "
                 f"generated, {_span(table['N held-out'])} held-out), precision {table.precision.mean():.2f}, "
                 f"recall {table.recall.mean():.2f}"
                 + "".join(f"; fold {f} borderline ({'; '.join(close[f])})" for f in unsure))
    kept_verdict = (REPRODUCED if passed * 2 > len(table) and not unsure else
                    NOT_REPRODUCED if passed == 0 and not unsure else INCONCLUSIVE)
    return [
        _claim(claim_curve, thesis_curve, ours_curve, curve_verdict,
               "reproduced when the 95 % bootstrap interval of FID's slope against epoch, over all snapshots, lies "
               "below 0; not reproduced when it lies above 0; inconclusive otherwise"
               if trend["falls"] is not None else
               f"fewer than {realism.MIN_SNAPSHOTS} snapshots cannot show a trend", "fid"),
        _claim(claim_kept, thesis_kept, ours_kept, kept_verdict,
               f"reproduced when more than half of the folds' kept generators meet every rule, not reproduced when "
               f"none does, inconclusive in between or when a fold's precision or recall lies within its "
               f"{realism.MARGIN_LEVEL * 100:g} % binomial margin of the threshold: {realism.REALISM_RULE}. The thesis' "
               "FID is not compared with ours (its reference set was the training masses, N = 2,000, OPTIMAM)",
               "fid"),
    ]


def _span(values: pd.Series) -> str:
    """"112" or "112-116": the range of a count over folds."""
    lo, hi = int(values.min()), int(values.max())
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def failed_ks(res: Results) -> list[int]:
    """The k at which a G_k of the study's first generator (any fold) failed the quality gate: GAN
    arms there test a generator that does not draw masses, so no claim is judged on them."""
    return [] if res.gate is None else generator_gate.failed_ks(res.gate)


def judged_intervals(res: Results) -> pd.DataFrame:
    """The rows of ``aug/intervals.csv`` that the claims rest on (:data:`JUDGED`, every k but
    those where a GAN arm's G_k failed the quality gate, :func:`failed_ks`), with
    Holm's correction over all of them at once and the verdict that follows ("better", "worse",
    "not distinguishable from 0"), the thesis' own effect (the thesis' k, or its nearest, for each
    k; NaN where the thesis gives none) and the smallest difference each could detect
    (``detectable``: with power :data:`POWER` at the Holm-Bonferroni level of the family)."""
    iv = res.intervals
    keys = pd.MultiIndex.from_frame(iv[["comparison", "metric"]])
    gan_failed = iv.comparison.str.contains("GAN") & iv.k.isin(failed_ks(res))
    rows = iv[keys.isin(list(JUDGED)) & ~gan_failed].copy()
    rows["p_holm_better"], rows["p_holm_worse"] = holm(rows.p_above), holm(rows.p_below)
    rows["verdict"] = [augstudy.difference_verdict(b, w) for b, w in zip(rows.p_holm_better, rows.p_holm_worse)]
    alpha = augstudy.ALPHA / len(rows)
    se = (rows.high - rows.low) / (2 * norm.ppf(0.975))
    rows["detectable"] = (norm.ppf(1 - alpha / 2) + norm.ppf(POWER)) * se
    rows["thesis"] = [thesis_effect(c, m, k) for c, m, k in zip(rows.comparison, rows.metric, rows.k)]
    rows["thesis k"] = [thesis_k(k) for k in rows.k]
    return rows.set_index(["comparison", "metric", "k"]).sort_index()


def thesis_k(k: int) -> int:
    """The k of the thesis' nearest to ``k`` (its own effect is read there)."""
    ks = reference.reported()["augmentation"]["k"]
    return int(ks[int(np.argmin([abs(k - kk) for kk in ks]))])


def thesis_effect(comparison: str, metric: str, k: int) -> float:
    """The thesis' difference ``A - B`` in ``metric`` at ``k`` (at the nearest k it ran when it
    did not run ``k``); NaN when it did not report the metric or one of the arms."""
    rep = reference.reported()["augmentation"]
    a, b = comparison.split(" - ")
    if metric not in ("f1", "auc") or a not in rep[metric] or b not in rep[metric]:
        return float("nan")
    at = rep["k"].index(thesis_k(k))
    return float(rep[metric][a][at] - rep[metric][b][at])


def degenerate_ks(res: Results, metric: str, arms: tuple[str, ...] | None = None) -> list[int]:
    """The k at which every classifier of every arm (of ``arms`` only, when given) scored the same
    constant ``metric`` (e.g. F1 0.000 when no classifier calls anything a mass): no claim can
    rest on ``metric`` there for those arms."""
    table = res.aug if arms is None else res.aug[res.aug.approach.isin(arms)]
    return [int(k) for k, g in table.groupby("k") if len(g) and np.ptp(g[metric].to_numpy(float)) == 0]


def constant_cells(res: Results, metric: str) -> list[tuple[int, str, float]]:
    """(k, arm, value) of every cell in which all classifiers of one arm scored one constant
    ``metric``: no evidence for a claim that rests on that arm at that k."""
    return [(int(k), str(arm), float(g[metric].iloc[0])) for (k, arm), g in res.aug.groupby(["k", "approach"])
            if len(g) and np.ptp(g[metric].to_numpy(float)) == 0]


def difference_verdict(rows: pd.DataFrame, reproduced: bool, refuted_share: float = 0.5) -> str:
    """A claim's verdict from its judged differences ``rows`` (of :func:`judged_intervals`):
    reproduced when its own rule holds; not reproduced when at ``refuted_share`` of its k or more
    an interval lies below the thesis' effect (below 0 where the thesis gives none), so that the
    claim cannot hold there; inconclusive otherwise."""
    if reproduced:
        return REPRODUCED
    if not len(rows):
        return INCONCLUSIVE
    excluded = (rows.high < rows.thesis.fillna(0.0)).groupby(level="k").any()
    return NOT_REPRODUCED if excluded.mean() >= refuted_share else INCONCLUSIVE


def _judged_text(rows: pd.DataFrame) -> str:
    """Each judged difference with its interval, Holm verdict (with the smaller of its two
    Holm-adjusted one-sided p-values, which the verdict compares with ALPHA / 2), the thesis'
    effect and the smallest detectable difference."""
    return "; ".join(f"{m.upper()} k = {k}: {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], {r.verdict} "
                     f"(Holm p {min(r.p_holm_better, r.p_holm_worse):.3f})"
                     + (f", thesis {r.thesis:+.3f}" + (f" (its k = {r['thesis k']})" if r["thesis k"] != k else "")
                        if np.isfinite(r.thesis) else "")
                     + f", detectable {r.detectable:.3f}"
                     for (_, m, k), r in rows.iterrows())


def aug_claims(res: Results) -> list[dict]:
    """The augmentation study's claims, from the means over folds and seeds and the
    hierarchical-bootstrap intervals (seeds, then test patients) of ``aug/intervals.csv``, Holm
    over every judged difference (:func:`judged_intervals`). F1 at 0.5 is the thesis' metric;
    comparisons of arms with other class ratios are judged on AUC and AP, which no class ratio
    moves."""
    rep = reference.reported()["augmentation"]
    thesis_f1 = pd.DataFrame(rep["f1"], index=rep["k"])
    thesis_auc = pd.DataFrame(rep["auc"], index=rep["k"])
    k_small = rep["k"][0]
    control = "GAN masses help beyond showing the real ones more often (Aug GAN > Aug ORG x2.5)"
    claims = {
        "F1 rises with k (ORG)": f"{thesis_f1.ORG.iloc[0]:.3f} at k = {k_small} to "
                                  f"{thesis_f1.ORG.iloc[-1]:.3f} at k = {rep['k'][-1]}",
        FLIPS: f"AUC above ORG at {(thesis_auc['Aug ORG'] > thesis_auc.ORG).sum()} of {len(thesis_auc)} k "
               f"({(thesis_auc['Aug ORG'] - thesis_auc.ORG).min():+.4f} to "
               f"{(thesis_auc['Aug ORG'] - thesis_auc.ORG).max():+.4f})",
        "Aug GAN gives the best F1 at the smallest k": f"Aug GAN best at k = {k_small} "
                                                      f"({thesis_f1['Aug GAN'].iloc[0]:.3f})",
        "GAN masses help without flips (GAN > ORG)": f"F1 above ORG at {(thesis_f1.GAN > thesis_f1.ORG).sum()} of "
                                                     f"{len(thesis_f1)} k; AUC at "
                                                     f"{(thesis_auc.GAN > thesis_auc.ORG).sum()}",
        "Aug GAN beats Aug ORG up to k = 500": ", ".join(
            f"{v:+.3f}" for v in (thesis_f1["Aug GAN"] - thesis_f1["Aug ORG"])[thesis_f1.index <= 500]),
        control: "not tested (the thesis had no such control)",
    }
    if res.aug is None or res.intervals is None:
        why = "the augmentation chapter has not run" if res.aug is None else "its intervals have not been computed"
        return [_claim(c, t, "", NOT_COMPARABLE, why, "aug") for c, t in claims.items()]
    f1 = over_folds(res.aug, "f1")["mean"].unstack("approach")
    k0, k1 = f1.index.min(), f1.index.max()
    flat = degenerate_ks(res, "f1")
    flat_note = (f"; F1 is the same constant for every classifier at k = {', '.join(map(str, flat))} "
                 f"({res.aug[res.aug.k.isin(flat)].f1.iloc[0]:.3f}): no evidence there" if flat else "")
    judged = judged_intervals(res)

    def rows(comparison: str, metric: str, ks=None) -> pd.DataFrame:
        if (comparison, metric) not in judged.index.droplevel("k"):
            return judged.iloc[:0]
        out = judged.loc[(comparison, metric)]
        out = out[out.index.isin(ks)] if ks is not None else out
        return pd.concat({(comparison, metric): out}, names=["comparison", "metric"])

    out = []
    rises = f1.loc[k1, "ORG"] > f1.loc[k0, "ORG"]
    flat_org = degenerate_ks(res, "f1", ("ORG",))
    verdict = (NOT_COMPARABLE if k1 == k0 else INCONCLUSIVE if {k0, k1} & set(flat_org) else
               REPRODUCED if rises else NOT_REPRODUCED)
    org_note = (f"; every ORG classifier scores the same F1 at k = {', '.join(map(str, flat_org))} "
                f"({res.aug[res.aug.k.isin(flat_org) & (res.aug.approach == 'ORG')].f1.iloc[0]:.3f}): no evidence there"
                if flat_org else "")
    out.append(_claim("F1 rises with k (ORG)", claims["F1 rises with k (ORG)"],
                      f"{f1.loc[k0, 'ORG']:.3f} at k = {k0} to {f1.loc[k1, 'ORG']:.3f} at k = {k1}", verdict,
                      ("ORG's mean F1 higher at the largest k than at the smallest" if k1 > k0 else "only one k ran")
                      + org_note, "aug"))

    flips = rows("Aug ORG - ORG", "auc")
    if len(flips):
        better, worse = int((flips.verdict == "better").sum()), int((flips.verdict == "worse").sum())
        out.append(_claim(FLIPS, claims[FLIPS], _judged_text(flips),
                          difference_verdict(flips, better * 2 > len(flips) and not worse),
                          "AUC(Aug ORG) - AUC(ORG) above 0 after Holm's correction at more than half of the k and "
                          "below 0 at none", "aug"))
    else:
        out.append(_claim(FLIPS, claims[FLIPS], "", NOT_COMPARABLE, "Aug ORG or ORG did not run", "aug"))

    best = best_arm(res.aug, "f1", THESIS_ARMS).loc[k0]  # the thesis' four arms (its claim is about them)
    at_k0 = rows("Aug GAN - Aug ORG", "f1", [k0])
    sure = len(at_k0) and (at_k0.verdict == "better").all()
    name = SMALLEST_K
    tied = pd.isna(best.arm)
    lucky = not tied and not best.supported
    out.append(_claim(name, claims[name], (f"{best.label} at k = {k0}" if tied else
                                           f"{best.label} best at k = {k0} ({f1.loc[k0, best.arm]:.3f})")
                      + (f"; Aug GAN - Aug ORG {_judged_text(at_k0)}" if len(at_k0) else ""),
                      INCONCLUSIVE if k0 in flat or lucky else
                      difference_verdict(at_k0, best.arm == "Aug GAN" and bool(sure)),
                      f"the highest mean F1 of the thesis' {len(THESIS_ARMS)} arms at the smallest k, carried by at least half of that arm's "
                      "classifiers, and F1(Aug GAN) - F1(Aug ORG) there above 0 after Holm's correction" + F1_CAVEAT + flat_note
                      + (f"; the lead rests on {best.carried} of {best.n} classifiers: no evidence" if lucky else ""),
                      "aug"))

    gan_org = pd.concat([rows("GAN - ORG", "auc"), rows("GAN - ORG", "ap")])
    name = "GAN masses help without flips (GAN > ORG)"
    if len(gan_org):
        wins = gan_org.verdict.eq("better").groupby(level="k").all()
        out.append(_claim(name, claims[name], f"AUC and AP above 0 after Holm at {int(wins.sum())} of {len(wins)} k "
                          f"({_judged_text(gan_org)})", difference_verdict(gan_org, wins.sum() * 2 > len(wins)),
                          "AUC(GAN) - AUC(ORG) and AP(GAN) - AP(ORG) both above 0 after Holm's correction at more "
                          "than half of the k (F1 at 0.5 is not judged: GAN's class ratio differs from ORG's)", "aug"))
    else:
        out.append(_claim(name, claims[name], "", NOT_COMPARABLE, "GAN or ORG did not run", "aug"))

    name = "Aug GAN beats Aug ORG up to k = 500"
    upto = rows("Aug GAN - Aug ORG", "f1", [k for k in f1.index if k <= 500 and k not in flat])
    if len(upto):
        all_up, sig = bool((upto.estimate > 0).all()), int((upto.verdict == "better").sum())
        out.append(_claim(name, claims[name], _judged_text(upto),
                          difference_verdict(upto, all_up and sig > 0, refuted_share=1e-9),  # one k refutes "every k"
                          "F1(Aug GAN) - F1(Aug ORG) above 0 at every k <= 500 and above 0 after Holm's correction "
                          f"at one k at least ({sig} here)" + F1_CAVEAT + flat_note, "aug"))
    else:
        out.append(_claim(name, claims[name], "", INCONCLUSIVE if flat else NOT_COMPARABLE,
                          "no k <= 500 ran" + flat_note, "aug"))

    fair = rows("Aug GAN - Aug ORG x2.5", "auc")
    if len(fair):
        better, worse = int((fair.verdict == "better").sum()), int((fair.verdict == "worse").sum())
        out.append(_claim(control, claims[control], _judged_text(fair), difference_verdict(fair, better > 0 and not worse),
                          "AUC(Aug GAN) - AUC(Aug ORG x2.5) above 0 after Holm's correction at one k at least "
                          "and below 0 at none", "aug"))
    else:
        out.append(_claim(control, claims[control], "", NOT_COMPARABLE, "the control Aug ORG x2.5 did not run", "aug"))
    return _gated(out, res, k0)


def standing(res: Results, comparison: str, metric: str, k: int) -> str:
    """What a difference "A - B" in ``metric`` at ``k`` can stand for: "finding"; "no evidence"
    when an arm of it scored one constant there (:func:`constant_cells`: the difference is then
    the other arm's own score); "a description" when an arm is a GAN arm and a G_k failed the
    quality gate (it tests a generator that does not draw masses, not GAN augmentation)."""
    arms = comparison.split(" - ")
    constant = [(arm, v) for k_, arm, v in constant_cells(res, metric) if k_ == k and arm in arms]
    if constant:
        return "no evidence: " + ", ".join(f"every {arm} classifier scores {metric} {v:.3f}" for arm, v in constant)
    if any("GAN" in arm for arm in arms) and k in failed_ks(res):
        return f"a description: a G_k at k = {k} failed the quality gate"
    return "finding"


def best_arm_texts(res: Results, results: pd.DataFrame, arms: list[str]) -> dict[int, str]:
    """Per k, the best of ``arms`` by mean F1 in ``results`` (:func:`best_arm`) as prose: its
    label, its lead over the next arm and, when it is no finding (:func:`standing`), why."""
    texts = {}
    for k, best in best_arm(results, "f1", arms).iterrows():
        why = "finding" if pd.isna(best.arm) else standing(res, best.arm, "f1", k)
        texts[k] = best.label + ("" if pd.isna(best.arm) else f" ({best.lead:.3f} above the next"
                                 + ("" if why == "finding" else f"; {why}") + ")")
    return texts


def _gated(claims: list[dict], res: Results, smallest_k: int) -> list[dict]:
    """The claims about GAN arms judged only at the k whose G_k passed the quality gate
    (:mod:`thesis_lib.studies.generator_gate`; elsewhere the arm tests a generator that does not
    draw masses, not GAN augmentation): "not comparable", with the reason, when no k passed, or
    for the claim about the smallest k when its G_k failed; else the rule says which k were left out."""
    failed = failed_ks(res)
    if not failed:
        return claims
    gate = first_generator(res.gate)
    ks = sorted(int(k) for k in res.aug.k.unique())
    passed = [k for k in ks if k not in failed]
    why = (f"{int((~gate.passed.astype(bool)).sum())} of {len(gate)} G_k failed the quality gate, at k = "
           f"{', '.join(map(str, failed))} (the realism rules; they failed on {', '.join(failed_rules(gate))})")
    for claim in claims:
        if claim["claim"] in NO_GAN_ARM:
            continue
        if not passed or (claim["claim"] == SMALLEST_K and smallest_k in failed):
            claim.update(verdict=NOT_COMPARABLE, rule=f"{claim['rule']}; not judged: {why}")
        else:
            claim.update(rule=f"{claim['rule']}; judged at k = {', '.join(map(str, passed))} only: {why}")
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
    failed = tsne_generator_failed(res)  # the numbers are shown; a generator that is not realistic judges nothing
    claims = [
        _claim(gaps, thesis, f"held-out masses {r['gap_gen']:.1%} closer with generated masses, {r['gap_flip']:.1%} "
                             f"with flips; difference {r['gap_diff']:+.1%} [{r['gap_low']:+.1%}, {r['gap_high']:+.1%}]",
               REPRODUCED if r["gaps"] else NOT_REPRODUCED if r["gaps_against"] else INCONCLUSIVE,
               f"in {space}: adding the generated masses brings held-out real masses closer to their nearest "
               f"neighbour than adding flips does (95 % interval above 0; not reproduced when it lies below 0, "
               f"inconclusive when it holds 0 or the set is not judged); {gate}", "tsne"),
        _claim(outliers, thesis, f"nearest generated mass {r['out_gen']:.2f} x an outlier's own neighbour "
                                 f"distance ({r['out_gen_null']:.2f} if exchangeable), nearest flip {r['out_flip']:.2f} x",
               REPRODUCED if r["outliers_less"] else NOT_REPRODUCED if r["outliers_more"] else INCONCLUSIVE,
               f"in {space}: generated masses farther from outlying real masses than an exchangeable set "
               f"(above its permutation null's 95 % range) and than the flips; not reproduced when nearer than that "
               f"range, inconclusive inside it or when the set is not judged; {gate}", "tsne"),
    ]
    for claim in claims if failed else []:
        claim.update(verdict=NOT_COMPARABLE, rule=f"{claim['rule']}; {failed}")
    return claims


def tsne_generator_failed(res: Results) -> str | None:
    """Why the generator the t-SNE maps show is not comparable (one definition of realism in the
    whole book): its G_k failed the quality gate, or its fold GAN failed the FID chapter's
    realism rules; None when it passed or was not judged (a ready generator, or the judging
    chapter has not run)."""
    params = res.tsne_params or {}
    if params.get("generator"):
        return None
    fold, k = params.get("fold"), params.get("k")
    if k in (None, "all"):
        table = pd.DataFrame(res.fid["table"]) if res.fid else pd.DataFrame()
        row = table[table.fold == fold] if len(table) else table
        if len(row) and not bool(row.realistic.iloc[0]):
            why = row.fails.iloc[0] if "fails" in row else "see the FID chapter"
            return f"not judged: the fold {fold} GAN these maps show failed the realism rules ({why})"
        return None
    if res.gate is None:
        return None
    gate = first_generator(res.gate)
    row = gate[(gate.k == int(k)) & (gate.fold == fold) & (gate.gan_seed == 0)]
    if len(row) and not bool(row.passed.iloc[0]):
        return f"not judged: G_{k} of fold {fold}, which these maps show, failed the quality gate ({row.fails.iloc[0]})"
    return None


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
    return {v: int((table.verdict == v).sum()) for v in VERDICTS}


VERDICT_PAGE = Path("book") / "generated" / "verdict.md"  # included at the top of the book's landing page


def of_the_thesis(claims: pd.DataFrame) -> pd.Series:
    """(rows,) bool: the claims the thesis made, not the controls it did not test."""
    return ~claims.thesis.astype(str).str.startswith("not tested")


def verdict_markdown(claims: pd.DataFrame, profile: str, source: str) -> str:
    """The landing page's opening: this build's verdict counts, each linked to the scorecard."""
    counts = verdict_counts(claims)
    parts = ", ".join(f"**{n}** {v}" for v, n in counts.items())
    controls = int((~of_the_thesis(claims)).sum())
    scope = (f"of the thesis' {len(claims)} claims" if not controls else
             f"of {len(claims)} claims ({len(claims) - controls} of the thesis', {controls} a control it did not run)")
    return (f"**The verdict of this build** (profile **{profile}**, data: {source}): {scope}, {parts}; each with its "
            f"rule and numbers on the [scorecard](results/06_scorecard.ipynb).\n")


def narrative(claims: pd.DataFrame) -> dict[str, str]:
    """One Markdown sentence group per topic (realism, augmentation, t-SNE), stating which of
    the thesis' claims this run reproduced, which not and which it could not compare."""
    paragraphs = {}
    for topic, chapter in (("realism", "fid"), ("augmentation", "aug"), ("t-SNE", "tsne")):
        rows = claims[claims.chapter == chapter]
        parts = []
        for verdict, lead in ((REPRODUCED, "This run reproduces"), (NOT_REPRODUCED, "It does not reproduce"),
                              (INCONCLUSIVE, "It cannot decide on"), (NOT_COMPARABLE, "It cannot compare")):
            names = [f"*{c}*" for c in rows[rows.verdict == verdict].claim]
            if names:
                parts.append(f"{lead} {_join(names)}.")
        paragraphs[topic] = " ".join(parts) or "No claim of this topic was scored."
    return paragraphs


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
