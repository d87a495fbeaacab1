"""The chapters' pages (thesis_lib.book.pages): the sentences the chapters show, built from
results, on small tables made here (the end-to-end test runs every page on a toy run)."""

from __future__ import annotations

import pandas as pd
import pytest

from thesis_lib.book.pages import show
from thesis_lib.book.pages.aug import AugPage
from thesis_lib.book.pages.fid import CURVE_COLUMNS, FidPage
from thesis_lib.book.pages.gan import GanPage
from thesis_lib.book.pages.qualitative import QualitativePage
from thesis_lib.evaluation import memorisation
from thesis_lib.studies import realism
from thesis_lib.training.gan_config import GanConfig


def page_of(cls, **attributes):
    """A page with the given results, without reading a run."""
    page = object.__new__(cls)
    page.__dict__.update(attributes)
    return page


def test_show_displays_text_as_markdown_and_skips_nothing_else(monkeypatch):
    from thesis_lib.book import pages
    shown = []
    monkeypatch.setattr(pages, "display", shown.append)
    frame = pd.DataFrame({"a": [1]})
    show("words", "", None, [frame, ("more", None)])
    assert [type(s).__name__ for s in shown] == ["Markdown", "DataFrame", "Markdown"]
    assert shown[0].data == "words" and shown[2].data == "more"


def gate(rows):
    return pd.DataFrame(rows, columns=["generator", "k", "fold", "gan_seed", "passed", "borderline", "fails"])


def test_the_gate_sentence_counts_each_standing_and_names_the_k_it_leaves_out():
    table = gate([["small-data", 100, 0, 0, True, False, ""],
                  ["small-data", 100, 1, 0, False, True, "borderline recall 0.33 within 0.09 of 0.3 (N = 100)"],
                  ["small-data", 50, 0, 0, False, False, "recall 0.12 (< 0.3)"]])
    words = page_of(AugPage, gate=table).gate_words()
    assert "Here **1** of 3 G_k pass, **1** are borderline and **1** fail" in words
    assert "(rules not met by a clear margin: borderline recall, recall)" in words
    assert "At k = 50 a G_k failed" in words and "At k = 100 a G_k is borderline" in words
    every = page_of(AugPage, gate=gate([["small-data", 100, 0, 0, True, False, ""]])).gate_words()
    assert "**1** of 1 G_k pass" in every and "fail." in every and "At k" not in every


def test_the_procedure_says_when_the_recipe_is_not_the_thesis():
    thesis = GanConfig()
    same = page_of(GanPage, cfg=thesis, thesis=thesis, thesis_gan={"eval_samples": 2000}).procedure()
    assert "they differ" not in same and f"learning rates {thesis.lr_g:g} (G)" in same
    other = GanConfig(lr_g=thesis.lr_g * 2)
    assert "**they differ from the thesis profile's**" in page_of(GanPage, cfg=other, thesis=thesis,
                                                                   thesis_gan={"eval_samples": 2000}).procedure()


def test_the_curve_sentence_says_when_the_rules_were_first_met_or_how_close_it_came(monkeypatch):
    met = pd.DataFrame([[10, 100, 90.0, 0.3, 0.1, 50], [20, 200, 60.0, 0.6, 0.4, 50]], columns=CURVE_COLUMNS)
    page = page_of(FidPage, curve=met, params={"curve_fold": 1, "n_generated": 200}, art=None)
    assert page.first_met() == (f"Fold 1's GAN first met precision >= {realism.MIN_PRECISION:g} and recall >= "
                                f"{realism.MIN_RECALL:g} at epoch 20, after about 200 iterations of its 200.")
    from thesis_lib.studies import fid_results
    monkeypatch.setattr(fid_results, "fold_verdicts", lambda art: {1: "is realistic"})
    never = page_of(FidPage, curve=met.iloc[:1], params={"curve_fold": 1, "n_generated": 200}, art=None).first_met()
    assert "No snapshot of fold 1's GAN met" in never and "highest precision 0.30, at 100 iterations" in never
    assert "The kept generator, scored above with 200 samples, is realistic" in never
    assert page_of(FidPage, curve=met.iloc[:0], params={"curve_fold": 1}).first_met().startswith("No snapshot of a")


@pytest.mark.parametrize("n_generated", [64, 200])
def test_the_flags_sentence_gives_the_count_expected_by_chance(n_generated):
    record = {"memorisation": [{"space": "pixels", "flagged": 5}, {"space": "Inception features", "flagged": 0}],
              "n_train": 140, "flag_tests": [{"space": "pixels", "text": "5 of 64 flagged"}]}
    words, tests = page_of(QualitativePage, record=record, fold=0, params={"n_generated": n_generated}).flags()
    chance = n_generated * memorisation.FLAG_PERCENTILE / 100
    assert f"{5} of {n_generated} in pixel space" in words and f"about {chance:.1f} of {n_generated}" in words
    assert tests.endswith("- pixels: 5 of 64 flagged")
