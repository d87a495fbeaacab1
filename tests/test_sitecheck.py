"""The site checker on small handmade sites, in one headless Chromium session."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from thesis_lib.book import sitecheck
from thesis_lib.book.headless import INSTALL_HINT, find_chrome, open_chrome

# An error output as myst-nb renders it (render_error: a highlighted block with classes output, traceback).
ERROR_CELL = """<div class="cell docutils container"><div class="cell_output docutils container">
<div class="output traceback highlight-ipythontb notranslate"><div class="highlight"><pre>
<span class="ne">ZeroDivisionError</span>    Traceback (most recent call last)
<span class="ne">ZeroDivisionError</span>: division by zero
</pre></div></div></div></div>"""


@pytest.fixture(scope="module")
def driver(chrome):
    browser = open_chrome(*chrome)
    yield browser
    browser.quit()


def _page(body: str, title: str = "page") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def _site(root, pages: dict[str, str]):
    """A site of the given pages (path: body) and one image, pixel.png."""
    root.mkdir()
    Image.fromarray(np.full((4, 4), 128, np.uint8)).save(root / "pixel.png")
    for name, body in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(_page(body), encoding="utf-8")
    return root


CLEAN = {
    "index.html": '<meta http-equiv="Refresh" content="0; url=intro.html" />',  # as Jupyter Book writes it
    "intro.html": '<h1 id="top">Intro</h1><a href="results/chapter.html#fid">FID</a> <img src="pixel.png" alt="">'
                  '<a href="https://doi.org/10.1117/12.2549262">the paper</a> <a href="#top">top</a>',
    "results/chapter.html": '<section id="fid"><h2>FID</h2><img src="../pixel.png"></section>'
                            '<a href="../intro.html">back</a> <a href="../">home</a>',
    "_static/ignored.html": '<a href="nowhere.html">not a page of the book</a>',
}


def _check(tmp_path, driver, **changes):
    pages = {**CLEAN, **changes}
    return sitecheck.check_site(_site(tmp_path / "site", pages), driver)


def _kinds(report):
    return {(p.page, p.kind) for p in report.problems}


@pytest.mark.slow
def test_clean_site_passes(tmp_path, driver):
    report = _check(tmp_path, driver)
    assert report.problems == []
    assert (report.pages, report.links, report.images) == (3, 5, 2)  # the redirect counts as one link


def test_broken_page_link(tmp_path, driver):
    report = _check(tmp_path, driver,
                    **{"results/chapter.html": '<h2 id="fid">FID</h2><a href="../missing.html">gone</a>'})
    assert _kinds(report) == {("results/chapter.html", "broken-link")}
    assert "no such page missing.html" in report.problems[0].detail


def test_broken_anchor(tmp_path, driver):
    report = _check(tmp_path, driver, **{"intro.html": '<a href="results/chapter.html#kid">KID</a>'})
    assert _kinds(report) == {("intro.html", "broken-anchor")}
    assert "results/chapter.html has no element with id 'kid'" in report.problems[0].detail


def test_missing_images(tmp_path, driver):
    report = _check(tmp_path, driver, **{"intro.html": '<img src="_images/fold0.png"> <img alt="no source">'})
    assert [(p.page, p.kind) for p in report.problems] == [("intro.html", "missing-image")] * 2
    assert "_images/fold0.png did not load" in report.problems[0].detail
    assert "without a src" in report.problems[1].detail


def test_error_output_cell(tmp_path, driver):
    report = _check(tmp_path, driver, **{"results/chapter.html": '<h2 id="fid">FID</h2>' + ERROR_CELL})
    assert _kinds(report) == {("results/chapter.html", "error-output")}
    assert "ZeroDivisionError: division by zero" in report.problems[0].detail


def test_traceback_text_outside_an_output_cell(tmp_path, driver):
    report = _check(tmp_path, driver, **{
        "results/chapter.html": '<h2 id="fid">FID</h2><pre>Traceback (most recent call last):\n  boom</pre>'})
    assert _kinds(report) == {("results/chapter.html", "error-output")}


def test_external_resources_and_js_error(tmp_path, driver):
    report = _check(tmp_path, driver, **{"intro.html": (
        '<script src="https://cdn.invalid/mathjax.js"></script>'
        '<link rel="stylesheet" href="//fonts.invalid/font.css"><link rel="canonical" href="https://example.org/">'
        '<script>notDefinedAnywhere();</script><script src="_static/gone.js"></script>')})
    network = sorted(p.detail for p in report.problems if p.kind == "network")
    assert [d.split(" loads ")[1] for d in network] == ["//fonts.invalid/font.css: the site must work offline",
                                                        "https://cdn.invalid/mathjax.js: the site must work offline"]
    assert any(p.kind == "js-error" and "notDefinedAnywhere" in p.detail for p in report.problems)
    assert any(p.kind == "failed-load" and "_static/gone.js" in p.detail for p in report.problems)
    assert {p.page for p in report.problems} == {"intro.html"}


@pytest.mark.slow
def test_a_table_that_scrolls_sideways_at_1280_px_is_named(tmp_path, driver):
    row = "<tr>" + "".join(f"<td>column {i} holds a long label</td>" for i in range(30)) + "</tr>"
    narrow = "<tr>" + "".join(f"<td>{i}</td>" for i in range(8)) + "</tr>"
    report = _check(tmp_path, driver, **{
        "results/chapter.html": CLEAN["results/chapter.html"]
        + f'<div style="overflow-x:auto"><table>{row}{row}</table></div><table>{narrow}</table>'
        + f"<details><summary>more</summary><table>{row}</table></details>"})
    assert [p.kind for p in report.problems] == ["wide-table"], report.problems
    [problem] = report.problems
    assert problem.page == "results/chapter.html" and problem.detail.startswith("a table of 2 rows and 30 columns is ")
    assert "in 12" in problem.detail


@pytest.mark.slow
def test_search_waits_for_results(tmp_path, driver):
    fill = """<div id="search-results"></div><script>setTimeout(() => {
      const out = document.getElementById('search-results'), q = new URLSearchParams(location.search).get('q');
      out.innerHTML = '<p class="search-summary">done</p><ul class="search">'
        + (q === 'FID' ? '<li>a</li><li>b</li>' : '') + '</ul>'; }, 300);</script>"""
    site = _site(tmp_path / "site", {"index.html": "", "search.html": fill})
    assert sitecheck.search_works(site, "FID", driver) == 2
    assert sitecheck.search_works(site, "GAN", driver) == 0
    (site / "search.html").write_text(_page('<div id="search-results"></div>'))
    with pytest.raises(TimeoutError, match="no search results after 1 s"):
        sitecheck.search_works(site, "FID", driver, timeout=1)


@pytest.mark.slow
def test_cli_exit_codes(tmp_path, chrome, capsys):
    clean = _site(tmp_path / "clean", CLEAN)
    broken = _site(tmp_path / "broken", {**CLEAN, "intro.html": '<a href="gone.html">x</a>'})
    browser = ["--browser", chrome[0], "--driver", chrome[1]]
    assert sitecheck.main([str(clean), *browser]) == 0
    assert "3 pages visited, 5 internal links and 2 images checked, 0 problem(s)" in capsys.readouterr().out
    assert sitecheck.main([str(broken), *browser]) == 1
    assert "intro.html: broken-link: gone.html: no such page gone.html" in capsys.readouterr().out
    assert sitecheck.main([str(clean), "--search", "FID", *browser]) == 1  # the clean site has no search page
    assert "search.html: search: " in capsys.readouterr().out
    assert sitecheck.main([str(tmp_path / "nowhere"), *browser]) == 2
    assert "has no index.html" in capsys.readouterr().err


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install chromium chromium-driver"):
        find_chrome(browser=str(tmp_path / "no-chrome"))
    assert "CHROMEDRIVER" in INSTALL_HINT
    with pytest.raises(FileNotFoundError, match="has no index.html.*make book"):
        sitecheck.site_pages(tmp_path)
