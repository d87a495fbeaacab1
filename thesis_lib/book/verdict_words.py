"""The scorecard's verdicts in words: the landing page's verdict lines, each chapter's opening
finding, the discussion's story by topic, the claims table as the scorecard chapter shows it,
and the primary endpoint's sentence. The verdicts themselves are computed in
:mod:`thesis_lib.studies.scorecard`; this module only says them."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from thesis_lib import reference
from thesis_lib.evaluation import power
from thesis_lib.evaluation.scoring import best_arm
from thesis_lib.studies import primary
from thesis_lib.studies.arms import APPROACHES
from thesis_lib.studies.scorecard import (CHAPTERS, INCONCLUSIVE, NOT_COMPARABLE, NOT_REPRODUCED, REPRODUCED, Results,
                                          aug_claims, fid_claims, link, of_the_thesis, primary_claim, standing,
                                          tsne_claims, verdict_counts)


def best_arm_texts(res: Results, results: pd.DataFrame, arms: list[str]) -> dict[int, str]:
    """Per k, the best of ``arms`` by mean F1 in ``results`` (:func:`best_arm`) as prose: its
    label, its lead over the next arm and, when it is no finding (:func:`standing`), why."""
    texts = {}
    for k, best in best_arm(results, "f1", arms).iterrows():
        why = "finding" if pd.isna(best.arm) else standing(res, best.arm, "f1", k)
        texts[k] = best.label + ("" if pd.isna(best.arm) else f" ({best.lead:.3f} above the next"
                                 + ("" if why == "finding" else f"; {why}") + ")")
    return texts


def claims_on_the_page(claims: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The claims table as a reader meets it: claim, thesis, this run and verdict, with a short
    "rule n" label in place of each rule's text; and the rules themselves, numbered, as an HTML
    <details> block folded under the table (a rule runs to hundreds of characters)."""
    shown = claims.drop(columns=["chapter", "rule"]).assign(rule=[f"rule {i}" for i in range(1, len(claims) + 1)])
    items = "".join(f"<li><b>{html.escape(c)}</b>: {html.escape(r)}</li>" for c, r in zip(claims.claim, claims.rule))
    return shown, f"<details><summary>The rule of each verdict (rule 1 to {len(claims)})</summary><ol>{items}</ol></details>"


def primary_sentence(res: Results, folder: str = "results/") -> str:
    """The landing page's first finding, in words: the primary question and this run's answer,
    linked to the chapters (``folder``: where they lie from the page that shows it; "" for a chapter)."""
    p = res.primary
    if p is None:
        return ("**The primary question** (do generated masses help beyond showing the real masses as often?) has "
                "not been answered: the augmentation study has not run at the design's k.")
    claim = primary_claim(res)
    answer = {power.BETTER: "yes: the classifier with generated masses scored higher",
              power.WORSE: "no: the classifier with generated masses scored lower",
              power.EQUIVALENT: "no benefit as large as the margins: the two arms are equivalent within them",
              power.INCONCLUSIVE: "this run cannot tell",
              primary.SEED_DEPENDENT: "this run cannot tell: the answer changes with the generator's seed"}[p["verdict"]]
    arms = p["comparison"].split(" - ")
    scores = "; ".join(f"{r['metric'].upper()} {r['estimate']:+.3f}, 95 % [{r['low']:+.3f}, {r['high']:+.3f}], "
                       f"90 % [{r['low90']:+.4f}, {r['high90']:+.4f}]: {r['reading']} (margin {r['margin']:g})"
                       for r in p["scores"])
    return (f"**The primary question: do generated masses help the classifier beyond showing the real masses as "
            f"often?** ({arms[0]} against {arms[1]} at k = {p['k']}, on "
            f"{', '.join(r['metric'].upper() for r in p['scores'])} together, fixed before the run.) "
            f"**Answer: {answer}.** {primary.readings_in_words(p)} In numbers, {arms[0]} - {arms[1]} (90 % "
            f"intervals decide equivalence, 95 % better or worse): {scores}. Scorecard verdict: "
            f"**{claim['verdict']}** ([rule and power]({folder}06_scorecard.ipynb); "
            f"[the endpoint in chapter 04]({folder}04_aug_study.ipynb))."
            + (f" {narrow}" if (narrow := primary.narrow_equivalence(p)) else ""))


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
    for a in APPROACHES:
        cols[(a, "thesis")] = [f"{thesis.loc[k, a]:.{digits}f}" if k in thesis.index and a in thesis else "–"
                               for k in ks]
        cols[(a, "this run")] = [link(f"{arms.loc[(k, a), 'estimate']:.{digits}f} [{arms.loc[(k, a), 'low']:.{digits}f}, "
                                      f"{arms.loc[(k, a), 'high']:.{digits}f}]", "aug")
                                 if (k, a) in arms.index else "–" for k in ks]
    return pd.DataFrame(cols, index=pd.Index(ks, name="k"))


VERDICT_PAGE = Path("book") / "generated" / "verdict.md"  # included at the top of the book's landing page


def verdict_markdown(claims: pd.DataFrame, profile: str, source: str, res: Results | None = None) -> str:
    """The landing page's opening: the primary question's answer (:func:`primary_sentence`, when
    ``res`` is given), then this build's verdict counts, each linked to the scorecard."""
    counts = verdict_counts(claims)
    parts = ", ".join(f"**{n}** {v}" for v, n in counts.items())
    controls = int((~of_the_thesis(claims)).sum())
    scope = (f"of the thesis' {len(claims)} claims" if not controls else
             f"of {len(claims)} claims ({len(claims) - controls} of the thesis', {controls} a control it did not run)")
    lead = "" if res is None else primary_sentence(res) + "\n\n"
    topics = "".join(f"- **{HEADINGS[topic]}** "
                     f"([chapter {CHAPTERS[chapter][:2]}](results/{CHAPTERS[chapter]}.ipynb)): "
                     f"{topic_sentence(claims[claims.chapter == chapter])}\n" for chapter, topic in TOPICS.items())
    return (lead + f"**The verdict of this build** (profile **{profile}**, data: {source}): {scope}, {parts}; each with "
            f"its rule and numbers on the [scorecard](results/06_scorecard.ipynb).\n\n" + topics)


def overall_word(claims: pd.DataFrame) -> str:
    """How a build stands to the claims ``claims`` in a phrase, from its verdict counts: "reproduces
    most of" (more than half reproduced), "reproduces some of", "does not reproduce" (none
    reproduced, at least half excluded), "cannot decide any of" (none decided either way), "cannot
    decide most of" otherwise."""
    counts = verdict_counts(claims)
    if counts[REPRODUCED] * 2 > len(claims):
        return "reproduces most of"
    if counts[REPRODUCED]:
        return "reproduces some of"
    if counts[NOT_REPRODUCED] * 2 >= len(claims):
        return "does not reproduce"
    return "cannot decide any of" if not counts[NOT_REPRODUCED] else "cannot decide most of"


TOPICS = {"fid": "realism", "aug": "augmentation", "tsne": "t-SNE"}  # chapter key -> the claims' topic


HEADINGS = {"realism": "Realism", "augmentation": "Augmentation", "t-SNE": "t-SNE"}


CLAIMS_OF = {"fid": fid_claims, "aug": aug_claims, "tsne": tsne_claims}  # a chapter's claims, the primary apart


def topic_sentence(rows: pd.DataFrame) -> str:
    """Which of the claims ``rows`` this run reproduced, which not, which it could not decide or
    compare, in one or a few sentences."""
    parts = []
    for verdict, lead in ((REPRODUCED, "Reproduced"), (NOT_REPRODUCED, "Not reproduced"),
                          (INCONCLUSIVE, "Inconclusive (this run cannot tell)"), (NOT_COMPARABLE, "Not comparable")):
        names = [f"*{c}*" for c in rows[rows.verdict == verdict].claim]
        if names:
            parts.append(f"{lead}: {_join(names)}.")
    return " ".join(parts) or "No claim of this topic was scored."


def narrative(claims: pd.DataFrame) -> dict[str, str]:
    """One Markdown sentence group per topic (realism, augmentation, t-SNE), stating which of
    the thesis' claims this run reproduced, which not and which it could not compare."""
    return {topic: topic_sentence(claims[claims.chapter == chapter]) for chapter, topic in TOPICS.items()}


def chapter_findings(res: Results, chapter: str) -> str:
    """What a results chapter (``chapter``: "fid", "aug" or "tsne") finds, for the top of its
    page: its claims' verdicts in words (for "aug", the primary question's answer first), computed
    from the same results as the scorecard, which gives each claim's rule and numbers."""
    if chapter not in CLAIMS_OF:
        raise ValueError(f"chapter={chapter!r}: the chapters with claims are {sorted(CLAIMS_OF)}")
    lead = primary_sentence(res, folder="") + "\n\n" if chapter == "aug" else ""
    rows = pd.DataFrame(CLAIMS_OF[chapter](res))
    return (f"{lead}**What this chapter finds** about the thesis' {TOPICS[chapter]} claims: {topic_sentence(rows)} "
            f"Each verdict's rule and numbers are on the [scorecard](06_scorecard.ipynb).")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
