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
from scipy.stats import t as student_t

from thesis_lib import paths, reference
from thesis_lib.evaluation.bootstrap import holm
from thesis_lib.evaluation.scoring import best_arm, over_folds
from thesis_lib.evaluation import power
from thesis_lib.studies import aug_results, generator_gate, primary, realism, tsne
from thesis_lib.studies.generator_gate import failed_rules, first_generator, read_gate

CHAPTERS = {"data": "00_data_prep", "gan": "01_train_dcgan", "qualitative": "02_qualitative",
            "fid": "03_fid", "aug": "04_aug_study", "tsne": "05_tsne"}
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_COMPARABLE = ("reproduced", "not reproduced", "inconclusive",
                                                           "not comparable")
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_COMPARABLE)
# The secondary differences the claims rest on, (comparison, metric), one Holm family: "GAN > ORG"
# against the like-for-like ORG x2.5 (the same class ratio) on every score; the flips claim on
# AUC (F1 at 0.5 is degenerate at small k); the thesis' Aug GAN > Aug ORG on its F1. The primary
# endpoint (thesis_lib.studies.primary) stands apart, pre-specified and not adjusted
JUDGED = (("Aug GAN - Aug ORG", "f1"), ("GAN - ORG x2.5", "auc"), ("GAN - ORG x2.5", "ap"), ("GAN - ORG x2.5", "f1"),
          ("Aug ORG - ORG", "auc"))
MAX_AT_CAP = 0.10  # the largest share of classifiers whose kept epoch is the cap that still counts as converged
POWER = 0.8  # of the smallest detectable difference
F1_RISES = "F1 rises with k (ORG)"
FLIPS = "flips help (Aug ORG > ORG)"
NO_GAN_ARM = (F1_RISES, FLIPS)  # claims the G_k quality gate does not concern
SMALLEST_K = "Aug GAN gives the best F1 at the smallest k"
GAN_ORG = "GAN masses help without flips (GAN > ORG x2.5)"
UP_TO_500 = "Aug GAN beats Aug ORG up to k = 500"
F1_CAVEAT = (" (F1 at 0.5, the thesis' score: it moves with the class ratio, which Aug GAN's generated masses raise; "
             "the primary endpoint, Aug GAN against Aug ORG x2.5, holds the ratio equal)")
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
    primary: dict | None = None  # the primary endpoint (aug/primary.json)
    caps: dict | None = None  # per k, the classifier's epoch cap of its last run

    @classmethod
    def load(cls, artifacts: str | Path) -> "Results":
        art = Path(artifacts)

        def json_or_none(path: Path) -> dict | None:
            return json.loads(path.read_text()) if path.is_file() else None

        def csv_or_none(path: Path) -> pd.DataFrame | None:
            return pd.read_csv(path) if path.is_file() else None

        aug = aug_results.current_rows(art)
        cohort = json_or_none(paths.data_report(art) / "cohort.json") or {}
        return cls(data=cohort.get("store"), fid=json_or_none(paths.fid_results(art)),
                   aug=aug if len(aug) else None, intervals=csv_or_none(aug_results.intervals_path(art)),
                   tsne=csv_or_none(paths.tsne(art) / "support.csv"), artifacts=art, gate=read_gate(art),
                   tsne_params=(json_or_none(paths.tsne(art) / "provenance.json") or {}).get("parameters"),
                   primary=primary.read_endpoint(art),
                   caps={int(k): (json_or_none(paths.aug(art) / f"k{int(k)}" / "provenance.json") or {})
                         .get("parameters", {}).get("epochs") for k in (aug.k.unique() if len(aug) else [])})


def _claim(claim: str, thesis: str, ours: str, verdict: str, why: str, chapter: str) -> dict:
    return {"claim": claim, "thesis": thesis, "this run": link(ours, chapter) if ours else "not run",
            "verdict": verdict, "rule": why, "chapter": chapter}


def curve_shape(curve: pd.DataFrame) -> str:
    """The FID curve (``curve``: epoch, FID; two snapshots or more) in words: its first, lowest and
    last values with their epochs, and whether it falls throughout, falls then rises, or rises;
    a straight-line slope (:func:`~thesis_lib.studies.realism.fid_trend`) cannot tell a curve that falls and then rises from
    noise."""
    curve = curve.sort_values("epoch")
    first, last, low = curve.iloc[0], curve.iloc[-1], curve.loc[curve.FID.idxmin()]
    words = (f"{first.FID:.0f} at epoch {first.epoch:.0f}, lowest {low.FID:.0f} at epoch {low.epoch:.0f}, "
             f"{last.FID:.0f} at the last (epoch {last.epoch:.0f})")
    if low.epoch == last.epoch:
        return words + ": it falls to its last snapshot"
    if low.epoch == first.epoch:
        return words + ": it never falls below its first snapshot"
    return words + ": it falls, then rises"


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
    fold = (res.fid.get("parameters") or {}).get("curve_fold", 0)
    ours_curve = (f"fold {fold}'s GAN, {trend['snapshots']} snapshots at N = {n_curve}: {curve_shape(curve)}; "
                  f"straight-line slope {trend['slope']:+.1f} per 100 epochs [{trend['low']:+.1f}, {trend['high']:+.1f}]"
                  if trend["falls"] is not None else f"{trend['snapshots']} snapshot(s)")
    curve_verdict = (INCONCLUSIVE if trend["falls"] is None else REPRODUCED if trend["falls"] else
                     NOT_REPRODUCED if trend["low"] > 0 else INCONCLUSIVE)
    table = pd.DataFrame(res.fid["table"])
    passed = int(table.realistic.sum())
    close = {int(row["fold"]): realism.borderline(row) for _, row in table.iterrows()}
    unsure = [f for f, c in close.items() if c]
    failing = "; ".join(f"fold {int(r['fold'])} fails" + (f": {r['fails']}" if r.get("fails") else "")
                        for _, r in table.iterrows() if not r["realistic"])
    ours_kept = (f"{pass_words(table)}" + (f" ({failing})" if failing else "") + "; means over folds: FID {table.FID.mean():.1f} against held-out masses, "
                 f"{table['FID / floor'].mean():.1f} x the matched floor (N = {table['N generated'].iloc[0]:.0f} "
                 f"generated, {_span(table['N held-out'])} held-out), precision {table.precision.mean():.2f}, "
                 f"recall {table.recall.mean():.2f}")
    kept_verdict = (REPRODUCED if passed * 2 > len(table) and not unsure else
                    NOT_REPRODUCED if passed == 0 and not unsure else INCONCLUSIVE)
    return [
        _claim(claim_curve, thesis_curve, ours_curve, curve_verdict,
               "reproduced when the 95 % bootstrap interval of FID's slope against epoch, over all snapshots, lies "
               "below 0; not reproduced when it lies above 0; inconclusive otherwise, which includes a curve that "
               "falls and then rises (a straight line fits neither part); one fold's GAN, as in the thesis"
               if trend["falls"] is not None else
               f"fewer than {realism.MIN_SNAPSHOTS} snapshots cannot show a trend", "fid"),
        _claim(claim_kept, thesis_kept, ours_kept, kept_verdict,
               f"reproduced when more than half of the folds' kept generators meet every rule, not reproduced when "
               f"none does, inconclusive in between or when a fold's precision or recall lies within its "
               f"{realism.MARGIN_LEVEL * 100:g} % binomial margin of the threshold: {realism.REALISM_RULE}. The thesis' "
               "FID is not compared with ours (its reference set was the training masses, N = 2,000, OPTIMAM), and "
               "its generator was the lowest-FID snapshot where this run keeps its profile's (`gan.evaluator`): the "
               "verdict says whether this run's kept generators are realistic, not that the thesis' were",
               "fid"),
    ]


def pass_words(table: pd.DataFrame) -> str:
    """How many kept generators of a realism table (one row per fold, with ``realistic``) meet every
    rule, naming the folds that pass only within a redraw's margin (:func:`realism.borderline`)."""
    close = {int(r["fold"]) if "fold" in r else int(f): (bool(r["realistic"]), realism.borderline(r))
             for f, r in table.iterrows()}
    clear = sum(passed and not c for passed, c in close.values())
    just = [f"fold {f} {'passes' if passed else 'fails'} only within a redraw's margin ({'; '.join(c)}: borderline)"
            for f, (passed, c) in close.items() if c]
    return (f"{clear} of {len(table)} folds meet every realism rule clear of the margins"
            + (f"; {'; '.join(just)}" if just else ""))


def _span(values: pd.Series) -> str:
    """"112" or "112-116": the range of a count over folds."""
    lo, hi = int(values.min()), int(values.max())
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def failed_ks(res: Results) -> list[int]:
    """The k at which a G_k of the study's first generator (any fold) failed the quality gate: GAN
    arms there test a generator that does not draw masses, so no claim is judged on them."""
    return [] if res.gate is None else generator_gate.failed_ks(res.gate)


def borderline_ks(res: Results) -> list[int]:
    """The k at which a G_k is borderline on the gate (and none failed): claims judged there are
    inconclusive at best, since a redraw of samples could fail that G_k."""
    return [] if res.gate is None else generator_gate.borderline_ks(res.gate)


def borderline_why(which: str) -> str:
    """Why a claim resting on a borderline G_k (``which``: e.g. "a G_100") is undecided."""
    return f"{which} is borderline on the quality gate (a redraw of its samples could turn its verdict either way)"


def undecided(claim: dict, why: str) -> None:
    """Turn a decided claim (reproduced or not) into an inconclusive one, adding ``why`` to its
    rule; an inconclusive claim gets ``why`` as a further reason (a claim not judged, none)."""
    if claim["verdict"] in (REPRODUCED, NOT_REPRODUCED):
        claim.update(verdict=INCONCLUSIVE, rule=f"{claim['rule']}; {why}")
    elif claim["verdict"] == INCONCLUSIVE:
        claim.update(rule=f"{claim['rule']}; also, {why}")


def judged_intervals(res: Results) -> pd.DataFrame:
    """The rows of ``aug/intervals.csv`` that the claims rest on (:data:`JUDGED`, every k but
    those where a GAN arm's G_k failed the quality gate, :func:`failed_ks`), with
    Holm's correction over all of them at once and the verdict that follows ("better", "worse",
    "not distinguishable from 0"), the thesis' own effect (the thesis' k, or its nearest, for each
    k; NaN where the thesis gives none) and the smallest difference each could detect
    (``detectable``: with power :data:`POWER` at the Holm-Bonferroni level of the family, Student's t
    of the row's degrees of freedom)."""
    iv = res.intervals
    keys = pd.MultiIndex.from_frame(iv[["comparison", "metric"]])
    gan_failed = iv.comparison.str.contains("GAN") & iv.k.isin(failed_ks(res))
    rows = iv[keys.isin(list(JUDGED)) & ~gan_failed].copy()
    rows["p_holm_better"], rows["p_holm_worse"] = holm(rows.p_above), holm(rows.p_below)
    rows["verdict"] = [aug_results.difference_verdict(b, w) for b, w in zip(rows.p_holm_better, rows.p_holm_worse)]
    alpha = aug_results.ALPHA / len(rows)
    se = (rows.bootstrap_high - rows.bootstrap_low) / (2 * norm.ppf(0.975))  # Student's t of each row's df below
    rows["detectable"] = (student_t.ppf(1 - alpha / 2, rows.df) + student_t.ppf(POWER, rows.df)) * se
    rows["thesis"] = [thesis_effect(c, m, k) for c, m, k in zip(rows.comparison, rows.metric, rows.k)]
    rows["thesis k"] = [thesis_k(k) for k in rows.k]
    # "the difference is as large as the thesis' effect (0 where it gives none)", one-sided, by the
    # t approximation of the interval, Holm-adjusted over the same family
    p_reach = pd.Series(student_t.cdf((rows.estimate - rows.thesis.fillna(0.0)) / se.where(se > 0), rows.df),
                        index=rows.index)
    rows["p_holm_below_thesis"] = holm(p_reach.fillna(1.0))
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


def claim_verdict(rows: pd.DataFrame, reproduced: bool, refuted_share: float = 0.5) -> str:
    """A claim's verdict from its judged differences ``rows`` (of :func:`judged_intervals`):
    reproduced when its own rule holds; not reproduced when at ``refuted_share`` of its k or more
    the evidence excludes the thesis' effect (0 where the thesis gives none) after Holm's
    correction (``p_holm_below_thesis`` below ALPHA / 2), so that the claim cannot hold there;
    inconclusive otherwise: an interval that merely ends below the thesis' effect before the
    correction is not enough."""
    if reproduced:
        return REPRODUCED
    if not len(rows):
        return INCONCLUSIVE
    excluded = (rows.p_holm_below_thesis < aug_results.ALPHA / 2).groupby(level="k").any()
    return NOT_REPRODUCED if excluded.mean() >= refuted_share else INCONCLUSIVE


def at_cap_share(res: Results) -> float:
    """The share of the study's classifiers whose kept epoch is their run's epoch cap (they might
    still have been improving); NaN when the results do not record it."""
    if res.aug is None or "epochs_run" not in res.aug or not res.caps:
        return float("nan")
    cap = res.aug.k.astype(int).map(res.caps)
    known = cap.notna() & res.aug.best_epoch.notna()
    return float((res.aug.best_epoch[known] >= cap[known]).mean()) if known.any() else float("nan")


def unconverged(res: Results) -> str | None:
    """Why the augmentation claims cannot be judged because too many classifiers stopped at the
    cap (:data:`MAX_AT_CAP`), or None."""
    share = at_cap_share(res)
    if np.isfinite(share) and share >= MAX_AT_CAP:
        return (f"{share:.0%} of the classifiers kept their last allowed epoch (at most {MAX_AT_CAP:.0%} for a "
                "verdict): they had not converged")
    return None


def smallest_judged_k(res: Results) -> int | None:
    """The k at which a claim about "the smallest k" is judged: the smallest k of this run that the
    thesis also ran (at least its smallest) whose G_k did not fail the quality gate (passed or borderline);
    None when none did."""
    thesis_smallest = min(reference.reported()["augmentation"]["k"])
    failed = failed_ks(res)
    ks = sorted(int(k) for k in res.aug.k.unique() if k >= thesis_smallest and int(k) not in failed)
    return ks[0] if ks else None


PRIMARY = "GAN masses help beyond showing the real ones as often (the primary endpoint)"
TOST_TO_VERDICT = {power.BETTER: REPRODUCED, power.WORSE: NOT_REPRODUCED, power.EQUIVALENT: NOT_REPRODUCED,
                   power.INCONCLUSIVE: INCONCLUSIVE, primary.SEED_DEPENDENT: INCONCLUSIVE}


def equivalence_excludes_thesis(p: dict) -> bool:
    """Whether "equivalent within the margins" rules out the thesis' own effect: every score the
    thesis reported at the endpoint's k has a margin no larger than that effect."""
    effects = primary.thesis_effects(p)
    margins = {r["metric"]: r["margin"] for r in p["scores"]}
    known = {m: e for m, e in effects.items() if m in margins and np.isfinite(e)}
    return bool(known) and all(margins[m] <= abs(e) for m, e in known.items())


def absent(res: Results, arms: tuple[str, str], ks=None) -> str:
    """Why a comparison of ``arms`` has no judged difference: an arm did not run, or the quality
    gate left out every k it ran at (``ks``: those of interest)."""
    ran = set(res.aug.approach)
    missing = [a for a in arms if a not in ran]
    if missing:
        return f"{' and '.join(missing)} did not run"
    ks = sorted(int(k) for k in res.aug.k.unique()) if ks is None else ks
    return f"no judged k: the G_k at k = {', '.join(map(str, ks))} failed the quality gate"


def primary_text(p: dict) -> str:
    """The primary endpoint's numbers: each score's difference, 95 % and 90 % intervals, margin,
    reading and detectable difference; the joined verdict and the seeds' agreement."""
    scores = "; ".join(f"{r['metric'].upper()} {r['estimate']:+.3f}, 95 % [{r['low']:+.3f}, {r['high']:+.3f}], "
                       f"90 % [{r['low90']:+.3f}, {r['high90']:+.3f}], margin {r['margin']:g}: **{r['reading']}**"
                       + (f" (detectable {r['detectable']:.3f})" if "detectable" in r else "")
                       for r in p["scores"])
    seeds = ", ".join(f"without G_k seed {s}: {v}" for s, v in p["left_out"].items())
    narrow = primary.narrow_equivalence(p)
    return (f"{p['comparison']} at k = {p['k']}: {scores}. One verdict from the {len(p['scores'])} scores: "
            f"**{p['verdict']}**" + (f" ({seeds})" if seeds else "") + (f". {narrow}" if narrow else ""))


def primary_claim(res: Results) -> dict:
    """The scorecard's first row: the primary endpoint (:mod:`thesis_lib.studies.primary`) as a
    verdict on the thesis' central claim: better -> reproduced; worse, or equivalent within the
    margin -> not reproduced; inconclusive or seed-dependent -> inconclusive; not comparable when
    the G_k at its k failed the quality gate or it has not been computed."""
    p = res.primary
    thesis_line = "not tested (the thesis had no such control)"
    if p is None:
        return _claim(PRIMARY, thesis_line, "", NOT_COMPARABLE, "the primary endpoint has not been computed", "aug")
    effect = p["thesis_effect"]
    thesis_line += (f"; its Aug GAN - Aug ORG: {effect['effect']:+.4f} {effect['metric'].upper()} at k = {effect['k']}"
                    if np.isfinite(effect["effect"]) else "")
    verdict = TOST_TO_VERDICT[p["verdict"]]
    rule = (f"fixed in the profile before the run: {p['comparison']} at k = {p['k']}, judged on "
            f"{', '.join(r['metric'].upper() for r in p['scores'])} together, each by two one-sided tests against "
            f"its margin ({p['margin_why'].strip()}); better on one score and worse on none: reproduced; worse on one "
            "and better on none: not reproduced; equivalent on every score: not reproduced only when the margins "
            "exclude the thesis' own effect; otherwise inconclusive, and so when fewer than "
            f"{p['stable_share']:.0%} of the verdicts with one G_k seed left out agree with it (seed-dependent; here "
            f"{p['agreement']:.0%} of them agree)")
    if p["verdict"] == power.EQUIVALENT and not equivalence_excludes_thesis(p):
        verdict = INCONCLUSIVE
        rule += ("; here equivalent within margins that hold the thesis' own effect: no benefit of the margins' size, "
                 "but the thesis' smaller one is not excluded")
    claim = _claim(PRIMARY, thesis_line, primary_text(p), verdict, rule, "aug")
    if p["k"] in failed_ks(res):
        claim.update(verdict=NOT_COMPARABLE, rule=f"{rule}; not judged: a G_{p['k']} failed the quality gate")
    if p["k"] in borderline_ks(res):
        undecided(claim, borderline_why(f"a G_{p['k']}"))
    if why_not := unconverged(res):
        undecided(claim, why_not)
    return claim


def _judged_text(rows: pd.DataFrame) -> str:
    """Each judged difference with its interval, Holm verdict (with the smaller of its two
    Holm-adjusted one-sided p-values, which the verdict compares with ALPHA / 2), the thesis'
    effect and the smallest detectable difference."""
    return "; ".join(f"{m.upper()} k = {k}: {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], {r.verdict} "
                     f"(Holm p {min(r.p_holm_better, r.p_holm_worse):.3f})"
                     + (f", thesis {r.thesis:+.3f}" + (f" (its k = {r['thesis k']})" if r["thesis k"] != k else "")
                        if np.isfinite(r.thesis) else "")
                     + f", detectable {r.detectable:.3f} (power {POWER:g} at the family's Bonferroni level)"
                     for (_, m, k), r in rows.iterrows())


def coverage_note(ran, claimed) -> str:
    """How much of a claim's range of k (``claimed``: the thesis' k it speaks of) this run judged
    (``ran``): "" when all of it, else a clause that names both. A claim about each k is judged at
    the k that ran; a claim about a trend needs two k (and is inconclusive with one)."""
    ran, claimed = sorted(int(k) for k in ran), sorted(int(k) for k in claimed)
    if set(claimed) <= set(ran):
        return ""
    return (f"; judged at k = {', '.join(map(str, ran))} only, of the thesis' k = {', '.join(map(str, claimed))}: "
            "it holds or fails there, and says nothing of the other k")


@dataclass(frozen=True)
class AugEvidence:
    """What the augmentation claims are judged on: ``res``; ``rep`` the thesis' reported numbers;
    ``f1`` the mean F1 over folds and seeds (k x arm); ``flat`` the k at which F1 at 0.5 is one
    constant for every classifier (no evidence there); ``judged`` every judged difference with
    its Holm verdict (:func:`judged_intervals`)."""

    res: Results
    rep: dict
    f1: pd.DataFrame
    flat: list[int]
    judged: pd.DataFrame

    @classmethod
    def of(cls, res: Results, rep: dict) -> "AugEvidence":
        return cls(res, rep, over_folds(res.aug, "f1")["mean"].unstack("approach"), degenerate_ks(res, "f1"),
                   judged_intervals(res))

    @property
    def flat_note(self) -> str:
        if not self.flat:
            return ""
        constant = self.res.aug[self.res.aug.k.isin(self.flat)].f1.iloc[0]
        return f"; F1 is the same constant for every classifier at k = {', '.join(map(str, self.flat))} " \
               f"({constant:.3f}): no evidence there"

    def coverage(self, up_to: int | None = None) -> str:
        """:func:`coverage_note` of the k that ran against the thesis' (those <= ``up_to`` when given)."""
        within = [k for k in self.f1.index if up_to is None or k <= up_to]
        return coverage_note(within, [k for k in self.rep["k"] if up_to is None or k <= up_to])

    def rows(self, comparison: str, metric: str, ks=None) -> pd.DataFrame:
        """The judged differences of ``comparison`` in ``metric`` (at ``ks`` when given)."""
        if (comparison, metric) not in self.judged.index.droplevel("k"):
            return self.judged.iloc[:0]
        out = self.judged.loc[(comparison, metric)]
        out = out[out.index.isin(ks)] if ks is not None else out
        return pd.concat({(comparison, metric): out}, names=["comparison", "metric"])


def _thesis_frames(rep: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(rep["f1"], index=rep["k"]), pd.DataFrame(rep["auc"], index=rep["k"])


def _f1_rises_thesis(rep: dict) -> str:
    f1, _ = _thesis_frames(rep)
    return f"{f1.ORG.iloc[0]:.3f} at k = {rep['k'][0]} to {f1.ORG.iloc[-1]:.3f} at k = {rep['k'][-1]}"


def _f1_rises(name: str, thesis: str, ev: AugEvidence) -> dict:
    """ORG's mean F1 higher at the largest k than at the smallest (a trend: two k or more)."""
    f1, res = ev.f1, ev.res
    k0, k1 = f1.index.min(), f1.index.max()
    flat_org = degenerate_ks(res, "f1", ("ORG",))
    verdict = (INCONCLUSIVE if k1 == k0 or {k0, k1} & set(flat_org) else  # one k: the design cannot tell a trend
               REPRODUCED if f1.loc[k1, "ORG"] > f1.loc[k0, "ORG"] else NOT_REPRODUCED)
    org_note = (f"; every ORG classifier scores the same F1 at k = {', '.join(map(str, flat_org))} "
                f"({res.aug[res.aug.k.isin(flat_org) & (res.aug.approach == 'ORG')].f1.iloc[0]:.3f}): no evidence there"
                if flat_org else "")
    return _claim(name, thesis,
                  f"{f1.loc[k0, 'ORG']:.3f} at k = {k0} to {f1.loc[k1, 'ORG']:.3f} at k = {k1}" if k1 > k0 else
                  f"{f1.loc[k0, 'ORG']:.3f} at k = {k0}, the only k that ran", verdict,
                  ("ORG's mean F1 higher at the largest k than at the smallest" if k1 > k0 else
                   f"a trend needs two k or more; only k = {k0} ran") + org_note, "aug")


def _flips_thesis(rep: dict) -> str:
    _, auc = _thesis_frames(rep)
    gain = auc["Aug ORG"] - auc.ORG
    return f"AUC above ORG at {(gain > 0).sum()} of {len(auc)} k ({gain.min():+.4f} to {gain.max():+.4f})"


def _flips(name: str, thesis: str, ev: AugEvidence) -> dict:
    """AUC(Aug ORG) - AUC(ORG) above 0 after Holm's correction at more than half of the k, below at none."""
    flips = ev.rows("Aug ORG - ORG", "auc")
    if not len(flips):
        return _claim(name, thesis, "", NOT_COMPARABLE, "Aug ORG or ORG did not run", "aug")
    better, worse = int((flips.verdict == "better").sum()), int((flips.verdict == "worse").sum())
    return _claim(name, thesis, _judged_text(flips), claim_verdict(flips, better * 2 > len(flips) and not worse),
                  "AUC(Aug ORG) - AUC(ORG) above 0 after Holm's correction at more than half of the k and below 0 at "
                  "none" + ev.coverage(), "aug")


def _smallest_k_thesis(rep: dict) -> str:
    f1, _ = _thesis_frames(rep)
    return f"Aug GAN best at k = {rep['k'][0]} ({f1['Aug GAN'].iloc[0]:.3f})"


def _smallest_k(name: str, thesis: str, ev: AugEvidence) -> dict:
    """At the smallest judged k: Aug GAN the best of the thesis' arms, carried by half its
    classifiers, and F1(Aug GAN) - F1(Aug ORG) above 0 after Holm's correction."""
    res, k_small = ev.res, ev.rep["k"][0]
    k_s = smallest_judged_k(res)
    rule = (f"judged at the smallest k that the thesis also ran (k >= {k_small}) whose G_k did not fail the quality "
            f"gate: the highest mean F1 of the thesis' {len(THESIS_ARMS)} arms there, carried by at least half of that "
            "arm's classifiers, and F1(Aug GAN) - F1(Aug ORG) there above 0 after Holm's correction" + F1_CAVEAT)
    if k_s is None:
        return _claim(name, thesis, "", NOT_COMPARABLE, rule + f"; no k >= {k_small} with a G_k that passed the gate ran",
                      "aug")
    best = best_arm(res.aug, "f1", THESIS_ARMS).loc[k_s]  # the thesis' four arms (its claim is about them)
    at_ks = ev.rows("Aug GAN - Aug ORG", "f1", [k_s])
    sure = len(at_ks) and (at_ks.verdict == "better").all()
    tied = pd.isna(best.arm)
    lucky = not tied and not best.supported
    return _claim(name, thesis, (f"{best.label} at k = {k_s}" if tied else
                                 f"{best.label} best at k = {k_s} ({ev.f1.loc[k_s, best.arm]:.3f})")
                  + (f"; Aug GAN - Aug ORG {_judged_text(at_ks)}" if len(at_ks) else ""),
                  INCONCLUSIVE if k_s in ev.flat or lucky else claim_verdict(at_ks, best.arm == "Aug GAN" and bool(sure)),
                  rule + f" (here k = {k_s})" + ev.flat_note
                  + (f"; the lead rests on {best.carried} of {best.n} classifiers: no evidence" if lucky else ""), "aug")


def _gan_org_thesis(rep: dict) -> str:
    f1, auc = _thesis_frames(rep)
    return (f"GAN above ORG: F1 at {(f1.GAN > f1.ORG).sum()} of {len(f1)} k; AUC at {(auc.GAN > auc.ORG).sum()} "
            "(the thesis had no ORG x2.5)")


def _gan_org(name: str, thesis: str, ev: AugEvidence) -> dict:
    """GAN against ORG x2.5: better on one of AUC, AP and F1 at 0.5 and worse on none, at more than half of the k."""
    gan_org = pd.concat([ev.rows("GAN - ORG x2.5", m) for m in ("auc", "ap", "f1")])
    if not len(gan_org):
        return _claim(name, thesis, "", NOT_COMPARABLE, absent(ev.res, ("GAN", "ORG x2.5")), "aug")
    readings = gan_org.verdict.map({"better": power.BETTER, "worse": power.WORSE}).fillna(power.INCONCLUSIVE)
    joined = readings.groupby(level="k").agg(lambda r: power.joined(list(r)))
    wins = joined.eq(power.BETTER)
    return _claim(name, thesis, f"one verdict per k from AUC, AP and F1 at 0.5 (the arms share their class ratio): "
                  f"{', '.join(f'k = {k}: {v}' for k, v in joined.items())} ({_judged_text(gan_org)})",
                  claim_verdict(gan_org, wins.sum() * 2 > len(wins)),
                  "GAN against ORG x2.5 (the real masses shown as often, no flips: the like-for-like control; against "
                  "ORG the class ratio alone moves AUC and AP): better on one of AUC, AP and F1 at 0.5 after Holm's "
                  "correction and worse on none, at more than half of the k; not reproduced when the evidence excludes "
                  "a benefit after the correction" + ev.coverage(), "aug")


def _up_to_500_thesis(rep: dict) -> str:
    f1, _ = _thesis_frames(rep)
    return ", ".join(f"{v:+.3f}" for v in (f1["Aug GAN"] - f1["Aug ORG"])[f1.index <= 500])


def _up_to_500(name: str, thesis: str, ev: AugEvidence) -> dict:
    """F1(Aug GAN) - F1(Aug ORG) above 0 at every k <= 500, and after Holm's correction at one k at least."""
    upto = ev.rows("Aug GAN - Aug ORG", "f1", [k for k in ev.f1.index if k <= 500 and k not in ev.flat])
    if not len(upto):
        return _claim(name, thesis, "", INCONCLUSIVE if ev.flat else NOT_COMPARABLE,
                      (absent(ev.res, ("Aug GAN", "Aug ORG"), [k for k in ev.f1.index if k <= 500])
                       if any(k <= 500 for k in ev.f1.index) else "no k <= 500 ran") + ev.flat_note, "aug")
    all_up, sig = bool((upto.estimate > 0).all()), int((upto.verdict == "better").sum())
    return _claim(name, thesis, _judged_text(upto),
                  claim_verdict(upto, all_up and sig > 0, refuted_share=1e-9),  # one k refutes "every k"
                  "F1(Aug GAN) - F1(Aug ORG) above 0 at every k <= 500 and above 0 after Holm's correction at one k at "
                  f"least ({sig} here)" + F1_CAVEAT + ev.flat_note + ev.coverage(up_to=500), "aug")


# The augmentation claims, each once: its name, what the thesis reported (from its numbers), and
# the rule that judges this run's evidence
AUG_CLAIMS = ((F1_RISES, _f1_rises_thesis, _f1_rises), (FLIPS, _flips_thesis, _flips),
              (SMALLEST_K, _smallest_k_thesis, _smallest_k), (GAN_ORG, _gan_org_thesis, _gan_org),
              (UP_TO_500, _up_to_500_thesis, _up_to_500))


def aug_claims(res: Results) -> list[dict]:
    """The augmentation study's claims (:data:`AUG_CLAIMS`), from the means over folds and seeds
    and the hierarchical-bootstrap intervals (seeds, then test patients) of ``aug/intervals.csv``,
    Holm over every judged difference (:func:`judged_intervals`). F1 at 0.5 is the thesis' metric;
    comparisons of arms with other class ratios are judged on AUC and AP, which no class ratio
    moves."""
    rep = reference.reported()["augmentation"]
    if res.aug is None or res.intervals is None:
        why = "the augmentation chapter has not run" if res.aug is None else "its intervals have not been computed"
        return [_claim(name, thesis(rep), "", NOT_COMPARABLE, why, "aug") for name, thesis, _ in AUG_CLAIMS]
    evidence = AugEvidence.of(res, rep)
    out = [judge(name, thesis(rep), evidence) for name, thesis, judge in AUG_CLAIMS]
    why_not = unconverged(res)
    for claim in out if why_not else []:
        undecided(claim, why_not)
    return _gated(out, res)


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


def _gated(claims: list[dict], res: Results) -> list[dict]:
    """The claims about GAN arms judged only at the k whose G_k passed the quality gate
    (:mod:`thesis_lib.studies.generator_gate`; elsewhere the arm tests a generator that does not
    draw masses, not GAN augmentation): "not comparable", with the reason, when no k passed;
    else the rule says which k were left out (the smallest-k claim picks its k itself)."""
    failed, unsure = failed_ks(res), borderline_ks(res)
    for claim in claims if unsure else []:
        if claim["claim"] not in NO_GAN_ARM:
            undecided(claim, borderline_why(f"a G_k at k = {', '.join(map(str, unsure))}"))
    if not failed:
        return claims
    gate = first_generator(res.gate)
    ks = sorted(int(k) for k in res.aug.k.unique())
    passed = [k for k in ks if k not in failed]
    why = (f"{int((generator_gate.status(gate) == 'fail').sum())} of {len(gate)} G_k failed the quality gate, at k = "
           f"{', '.join(map(str, failed))} (the realism rules; they failed on {', '.join(failed_rules(gate))})")
    for claim in claims:
        if claim["claim"] in NO_GAN_ARM:
            continue
        if not passed:
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
                             f"with flips; difference {r['gap_diff']:+.1%} [{r['gap_low']:+.1%}, {r['gap_high']:+.1%}]"
                             + (f"; generated minus the smooth control {r['beyond_diff']:+.1%} [{r['beyond_low']:+.1%}, "
                                f"{r['beyond_high']:+.1%}]" if np.isfinite(r["beyond_diff"]) else ""),
               REPRODUCED if r["gaps"] else NOT_REPRODUCED if r["gaps_against"] else INCONCLUSIVE,
               f"in {space}: adding the generated masses brings held-out real masses closer to their nearest "
               f"neighbour than adding flips does, and than adding as many averages of two real masses (the smooth "
               f"control, which the measure can reward for smoothness) does: both 95 % intervals, over held-out "
               f"patients and G_k seeds, above 0; not reproduced when the first lies below 0, inconclusive otherwise "
               f"or when the set is not judged; {gate}" + (f"; here: {r['gaps_why']}" if r["gaps_why"] else ""),
               "tsne"),
        _claim(outliers, thesis, f"nearest generated mass {r['out_gen']:.2f} x an outlier's own neighbour "
                                 f"distance ({r['out_gen_null']:.2f} if exchangeable), nearest flip {r['out_flip']:.2f} x",
               REPRODUCED if r["outliers_less"] else NOT_REPRODUCED if r["outliers_more"] else INCONCLUSIVE,
               f"in {space}: generated masses farther from outlying real masses than an exchangeable set "
               f"(above its permutation null's 95 % range) and than the flips; not reproduced when nearer than that "
               f"range, inconclusive inside it or when the set is not judged; {gate}", "tsne"),
    ]
    for claim in claims if failed else []:
        claim.update(verdict=NOT_COMPARABLE, rule=f"{claim['rule']}; {failed}")
    k = (res.tsne_params or {}).get("k")
    for claim in claims if not failed and k not in (None, "all") and int(k) in borderline_ks(res) else []:
        undecided(claim, borderline_why(f"a G_{k}"))
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
    if len(row) and generator_gate.status(row).iloc[0] == "fail":
        return f"not judged: G_{k} of fold {fold}, which these maps show, failed the quality gate ({row.fails.iloc[0]})"
    return None


def claims_table(res: Results) -> pd.DataFrame:
    """One row per claim, the primary endpoint first: claim, thesis, this run (linked to its
    chapter), verdict, rule, and the chapter key (see :data:`CHAPTERS`)."""
    return pd.DataFrame([primary_claim(res)] + fid_claims(res) + aug_claims(res) + tsne_claims(res))


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many claims got each verdict."""
    return {v: int((table.verdict == v).sum()) for v in VERDICTS}


def of_the_thesis(claims: pd.DataFrame) -> pd.Series:
    """(rows,) bool: the claims the thesis made, not the controls it did not test."""
    return ~claims.thesis.astype(str).str.startswith("not tested")
