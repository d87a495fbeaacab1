"""Captions name what is drawn, and tables fit a page: a colour, marker or line style that a
chapter's text gives an arm of the augmentation study must be the one the plotting code uses for
it (plots.APPROACH_STYLE); a wide table shows at most 8 columns and folds the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from thesis_lib.book import plots

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


def test_a_caption_that_names_another_arms_style_is_caught():
    assert plots.caption_style_errors("Aug GAN (yellow-orange triangles, dashed) lies highest") == []
    assert plots.caption_style_errors("the green control Aug ORG x2.5 (dotted), the pink ORG x2.5") == []
    assert plots.caption_style_errors("Aug GAN (orange circles)") == ["Aug GAN is not drawn as 'orange circles'"]
    assert plots.caption_style_errors("the blue GAN line") == ["GAN is not blue"]
    assert plots.caption_style_errors("GAN (solid) and Aug GAN (dotted)") == ["Aug GAN is not drawn as 'dotted'"]


def test_every_arm_has_words_for_its_look():
    for approach in plots.APPROACH_STYLE:
        words = plots.style_words(approach)
        assert words & set().union(*plots.COLOUR_WORDS.values()) and words & set().union(*plots.LINE_WORDS.values())


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_the_chapters_name_each_arms_style_as_drawn(notebook):
    assert plots.caption_style_errors(notebook.read_text()) == []


def test_a_wide_table_shows_eight_columns_and_folds_the_rest():
    import pandas as pd

    table = pd.DataFrame([range(17)], columns=[f"c{i}" for i in range(17)])
    html = plots.table_with_details(table, [f"c{i}" for i in range(8)], "every column")
    shown, folded = html.split("<details>")
    assert shown.count("<th>c") == 8 and "c8" not in shown
    assert "<summary>every column</summary>" in folded and folded.count("<th>c") == 17
    with pytest.raises(ValueError, match="at most 8"):
        plots.table_with_details(table, [f"c{i}" for i in range(9)], "x")
