"""Check a built HTML site in headless Chromium: every page's internal links and anchors, images,
notebook error outputs, network use, JavaScript errors and tables that scroll sideways in a
1280 px window; and that the search page finds a term.

JavaScript errors are the console's uncaught exceptions and failed loads; scripts' own
console.error() messages are not counted (pydata-sphinx-theme logs one on a first visit).

    python -m thesis_lib.book.sitecheck _build/html [--search FID] [--browser PATH] [--driver PATH]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urljoin, urlsplit
from urllib.request import url2pathname

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

from thesis_lib.book.headless import file_url, open_chrome

SKIPPED_DIRS = {"_static", "_sources"}
WINDOW = (1280, 800)  # the browser window the pages are checked in, as a laptop shows them
TRACEBACK_TEXT = "Traceback (most recent call last)"
ERROR_OUTPUT = ".cell_output .output.traceback"  # myst_nb.core.render: render_error's classes
# <link rel> values a browser does not fetch; any other http(s) <link href> is network use.
UNFETCHED_RELS = {"canonical", "alternate", "author", "license", "help", "next", "prev", "index", "search", "me"}

META = re.compile(r"<meta\b[^>]*>", re.I)
REFRESH = re.compile(r"""http-equiv\s*=\s*["']?refresh""", re.I)
REFRESH_URL = re.compile(r"""content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*([^"'>]+)""", re.I)

# Waits for the page's images (lazy ones made eager), then returns what the checks need. A table is
# wide when the box that scrolls it (its nearest ancestor with overflow-x auto or scroll), or else
# the page's body, is narrower than it; a table not drawn (in a closed <details>) is not measured.
COLLECT_JS = """
const done = arguments[arguments.length - 1];
const wideTable = t => {
  const drawn = t.getBoundingClientRect().width;
  if (!drawn || t.closest('details:not([open])')) return null;
  let box = t.parentElement;
  while (box && box !== document.body && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX))
    box = box.parentElement;
  const limit = box && box !== document.body ? box.clientWidth : document.documentElement.clientWidth;
  const width = box && box !== document.body ? box.scrollWidth : drawn;
  return width > limit + 1 ? [t.rows.length, Math.max(0, ...Array.from(t.rows, r => r.cells.length)),
                              Math.round(width), limit] : null;
};
const imgs = Array.from(document.images);
imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
const settle = i => i.complete ? null
  : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); });
Promise.all(imgs.map(settle)).then(() => done({
  links: Array.from(document.querySelectorAll('a[href]'), a => [a.getAttribute('href'), a.href]),
  images: imgs.map(i => [i.getAttribute('src'), i.src, i.complete && i.naturalWidth > 0]),
  resources: [
    ...Array.from(document.querySelectorAll('script[src], img[src], iframe[src]'),
                  e => [e.tagName.toLowerCase(), e.getAttribute('src')]),
    ...Array.from(document.querySelectorAll('link[href]'),
                  e => ['link rel=' + (e.getAttribute('rel') || ''), e.getAttribute('href')]),
    ...performance.getEntriesByType('resource').map(e => ['request', e.name]),
  ],
  errors: Array.from(document.querySelectorAll(arguments[0]), e => e.innerText),
  traceback_text: document.body ? document.body.innerText.includes(arguments[1]) : false,
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
  wide_tables: Array.from(document.querySelectorAll('table'), wideTable).filter(t => t),
  location: location.href,
}));
"""


class Problem(NamedTuple):
    page: str  # path relative to the site root
    kind: str  # broken-link, broken-anchor, missing-image, error-output, network, js-error, failed-load, wide-table, search
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


class Report(NamedTuple):
    problems: list[Problem]
    pages: int
    links: int
    images: int


def site_pages(site: Path) -> list[Path]:
    """Every .html file of the site outside _static/ and _sources/, sorted."""
    site = Path(site)
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"{site} has no index.html: is it a built site? Build it with `make book`")
    return sorted(p for p in site.rglob("*.html") if not SKIPPED_DIRS & set(p.relative_to(site).parts[:-1]))


def _path(url: str) -> Path:
    """The local path of a file:// URL."""
    return Path(url2pathname(unquote(urlsplit(url).path))).resolve()


def _is_remote(url: str | None) -> bool:
    return bool(url) and url.strip().lower().startswith(("http://", "https://", "//"))


def _refresh_target(path: Path) -> str | None:
    """The URL a page's <meta http-equiv="refresh" content="N; url=..."> sends the reader to, or None."""
    if path.suffix != ".html":
        return None
    for tag in META.findall(path.read_text(encoding="utf-8", errors="replace")):
        if REFRESH.search(tag):
            found = REFRESH_URL.search(tag)
            return found.group(1).strip() if found else ""
    return None


class _Checker:
    """One pass over a site with one browser; page data is cached by path."""

    def __init__(self, site: Path, driver):
        self.site, self.driver = Path(site).resolve(), driver
        self.visited: dict[Path, dict] = {}
        self.logs_supported = True

    def name(self, path: Path) -> str:
        return path.relative_to(self.site).as_posix() if path.is_relative_to(self.site) else str(path)

    def visit(self, path: Path) -> dict:
        """What COLLECT_JS found on the page, with its console errors; a redirect page (meta refresh)
        gives only {"redirect": target URL}, its target being checked as a page of its own. A
        redirect is read from the file, not loaded: the browser would leave the page while the
        checks run on it."""
        if path not in self.visited:
            target = _refresh_target(path)
            if target is not None:
                self.visited[path] = {"redirect": urljoin(file_url(path), target), "ids": []}
                return self.visited[path]
            for attempt in range(4):  # loaded again when a load reports another page (a slow, busy browser)
                self.driver.get(file_url(path))
                data = self.driver.execute_async_script(COLLECT_JS, ERROR_OUTPUT, TRACEBACK_TEXT)
                if _path(data["location"]) == path:
                    break
                time.sleep(0.5 * (attempt + 1))
            if _path(data["location"]) != path:  # a script moved on: follow it
                WebDriverWait(self.driver, 5).until(lambda d: _path(d.current_url) != path)
                self._console()  # the target's messages: reported when the target is checked
                data = {"redirect": self.driver.current_url, "ids": []}
            else:
                data["console"] = self._console()
            self.visited[path] = data
        return self.visited[path]

    def _console(self) -> list[dict]:
        """SEVERE browser-console entries since the last call ([] where the driver has no logs)."""
        if not self.logs_supported:
            return []
        try:
            return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]
        except (WebDriverException, AttributeError):
            self.logs_supported = False
            return []

    def check_page(self, path: Path) -> tuple[list[Problem], int, int]:
        """Problems of one page, with the numbers of internal links and images checked."""
        data, page = self.visit(path), self.name(path)
        if "redirect" in data:
            return self._check_link(page, data["redirect"], data["redirect"]), 1, 0
        problems, links = [], 0
        for raw, resolved in data["links"]:
            if urlsplit(resolved).scheme != "file":
                continue
            links += 1
            problems += self._check_link(page, raw, resolved)
        missing = {url for _, url, ok in data["images"] if url and not ok}
        for src, _, ok in data["images"]:
            if not src:
                problems.append(Problem(page, "missing-image", "<img> without a src"))
            elif not ok:
                problems.append(Problem(page, "missing-image", f"{src} did not load (no such file, or not an image)"))
        if data["errors"]:
            first = data["errors"][0].strip().splitlines()
            problems.append(Problem(page, "error-output", f"{len(data['errors'])} notebook error output(s); "
                                    f"the first: {first[-1] if first else '(empty)'}; fix the notebook and rebuild"))
        elif data["traceback_text"]:
            problems.append(Problem(page, "error-output", f"the page shows {TRACEBACK_TEXT!r}"))
        for rows, columns, width, limit in data["wide_tables"]:
            problems.append(Problem(page, "wide-table", f"a table of {rows} rows and {columns} columns is {width} px wide "
                                    f"in {limit} px at {WINDOW[0]} px: it scrolls sideways; show at most 8 columns "
                                    "and fold the rest (plots.table_with_details)"))
        seen = set()
        for tag, url in data["resources"]:
            rel = tag.removeprefix("link rel=").lower().split()
            if _is_remote(url) and url not in seen and not (tag.startswith("link") and set(rel) <= UNFETCHED_RELS):
                seen.add(url)
                problems.append(Problem(page, "network", f"<{tag}> loads {url}: the site must work offline"))
        for entry in data["console"]:
            message, source = entry.get("message", ""), entry.get("source")
            if source == "javascript":
                problems.append(Problem(page, "js-error", message))
            elif source == "network" and not any(url in message for url in missing):
                problems.append(Problem(page, "failed-load", message))  # e.g. a missing .js or .css
        return problems, links, len(data["images"])

    def _check_link(self, page: str, raw: str, resolved: str) -> list[Problem]:
        parts = urlsplit(resolved)
        target = _path(resolved)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.site):
            return [Problem(page, "broken-link", f"{raw} points outside the site ({target})")]
        if not target.exists():
            return [Problem(page, "broken-link", f"{raw}: no such page {self.name(target)}")]
        anchor = unquote(parts.fragment)
        if anchor and target.suffix == ".html" and anchor not in self.visit(target)["ids"]:
            return [Problem(page, "broken-anchor", f"{raw}: {self.name(target)} has no element with id {anchor!r}")]
        return []


def check_site(site: Path, driver=None) -> Report:
    """Check every page of a built site; opens (and closes) a headless Chrome unless driver is given."""
    pages = site_pages(site)
    own = driver is None
    driver = open_chrome() if own else driver
    try:
        driver.set_window_size(*WINDOW)
        checker = _Checker(site, driver)
        problems, links, images = [], 0, 0
        for path in pages:
            found, n_links, n_images = checker.check_page(path.resolve())
            problems += found
            links += n_links
            images += n_images
        return Report(problems, len(pages), links, images)
    finally:
        if own:
            driver.quit()


def search_works(site: Path, term: str, driver=None, timeout: float = 10.0) -> int:
    """Number of hits that the site's search page lists for term (0 when it finds none)."""
    search = Path(site) / "search.html"
    if not search.is_file():
        raise FileNotFoundError(f"{search} does not exist: the site has no search page")
    own = driver is None
    driver = open_chrome() if own else driver
    try:
        driver.get(f"{file_url(search)}?q={quote(term)}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # Sphinx's searchtools fills .search-summary when it has finished
            hits = driver.execute_script(
                "const s = document.querySelector('#search-results .search-summary');"
                "return s && s.innerText.trim() ? document.querySelectorAll('#search-results ul.search > li').length"
                " : null;")
            if hits is not None:
                return hits
            time.sleep(0.2)
        raise TimeoutError(f"{search}?q={term}: no search results after {timeout:g} s; "
                           "is searchindex.js there and does the page load Sphinx's searchtools.js?")
    finally:
        if own:
            driver.quit()


FIRST_SCREEN_JS = """
return Array.from(document.querySelectorAll('article p, article li, article h1, article h2'))
  .filter(e => { const r = e.getBoundingClientRect(); return r.height > 0 && r.top < window.innerHeight && r.bottom > 0; })
  .map(e => e.innerText).join('\\n');
"""


def first_screen(site: Path, driver, width: int = 1280, height: int = 800) -> str:
    """The text that a reader sees on the landing page (``intro.html``) without scrolling, in a
    ``width`` x ``height`` browser window: the paragraphs, list items and headings of the page's
    article that lie, at least in part, in the first screen."""
    page = Path(site) / "intro.html"
    if not page.is_file():
        raise FileNotFoundError(f"{page} does not exist: the site has no landing page")
    driver.set_window_size(width, height)
    driver.get(file_url(page))
    return driver.execute_script(FIRST_SCREEN_JS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m thesis_lib.book.sitecheck", description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site, e.g. _build/html")
    parser.add_argument("--search", metavar="TERM", help="also check that the search page finds TERM")
    parser.add_argument("--browser", help="Chromium/Chrome binary (default: $CHROME_BIN, else chromium on PATH)")
    parser.add_argument("--driver", help="chromedriver binary (default: $CHROMEDRIVER, else chromedriver on PATH)")
    args = parser.parse_args(argv)
    try:
        site_pages(args.site)  # fails early, before a browser starts, on a wrong folder
        driver = open_chrome(args.browser, args.driver)
    except FileNotFoundError as err:
        print(f"sitecheck: {err}", file=sys.stderr)
        return 2
    try:
        report = check_site(args.site, driver)
        problems = list(report.problems)
        if args.search:
            try:
                hits = search_works(args.site, args.search, driver)
            except (FileNotFoundError, TimeoutError) as err:
                hits = None
                problems.append(Problem("search.html", "search", str(err)))
            if hits == 0:
                problems.append(Problem("search.html", "search", f"no results for {args.search!r}"))
            elif hits:
                print(f"search.html: {hits} result(s) for {args.search!r}")
    finally:
        driver.quit()
    for problem in problems:
        print(problem)
    print(f"sitecheck: {report.pages} pages visited, {report.links} internal links and {report.images} images "
          f"checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
