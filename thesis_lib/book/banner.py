"""Which run the book shows: a banner on every page and a paragraph on the front page.

As a Sphinx extension (listed in ``_config.yml`` under ``sphinx: extra_extensions``) it reads
``book/generated/run.json`` and sets the theme's ``announcement``: the profile and whether it is
the laptop build or a thesis-scale run, the sizes (patch size, widths, folds, k, seeds), the
data, the device, the commit and date of the run, and each step's wall time. Without the file
the banner says so.

``run.json`` is the run's record (:func:`thesis_lib.studies.bundle.run_record`, a bundle's manifest
without its file list); :func:`write_run_files` writes it with ``run.md``, the front page's
paragraph (which run, and how to rebuild it). The workflow's ``run_record`` rule does so for a
local build (``python -m thesis_lib.book.banner --profile smoke``), :mod:`thesis_lib.book.render`
for a bundle.
"""

from __future__ import annotations

import argparse
import html
import json
from collections import defaultdict
from pathlib import Path

from thesis_lib import config
from thesis_lib.io import atomic_path, write_json
from thesis_lib.studies.bundle import run_record

GENERATED = Path("book") / "generated"

SCALE = {"smoke": "the laptop build, not the thesis-scale run", "gpu": "a thesis-scale run on one GPU",
         "thesis": "the thesis' own sizes"}


def step_times(seconds_by_folder: dict[str, float]) -> str:
    """Each step's wall time, steps that ran once per fold or k summed: 'gan 110 s, aug 301 s'."""
    by_step: dict[str, float] = defaultdict(float)
    for folder, seconds in seconds_by_folder.items():
        by_step[folder.split("/")[0]] += float(seconds)
    return ", ".join(f"{step} {_duration(s)}" for step, s in sorted(by_step.items(), key=lambda item: -item[1]))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def banner_text(record: dict | None) -> str:
    """The banner's HTML for a run record (None: no record found)."""
    if not record:
        return "This build has no run record (book/generated/run.json): its provenance is unknown."
    sizes = record.get("sizes", {})
    scale = SCALE.get(record["profile"], "a run of a custom profile")
    what = (f"<strong>This book shows the {html.escape(record['profile'])} profile: {scale}.</strong> "
            f"{sizes.get('patch_size')} px patches, nz {sizes.get('nz')}, ngf {sizes.get('ngf')}, ndf {sizes.get('ndf')}, "
            f"{sizes.get('n_folds')} folds, k {sizes.get('k')}, classifier seeds {sizes.get('classifier_seeds')}, "
            f"GAN seeds {sizes.get('gan_seeds')}; data: {html.escape(str(sizes.get('dataset')))} "
            f"({sizes.get('n_patients')} patients); device: {html.escape(str(record.get('device')))}; "
            f"commit {str(record.get('commit', ''))[:10]}, {str(record.get('packed', ''))[:10]}. ")
    times = step_times(record.get("step_seconds") or {})
    return what + (f"Step times: {times}." if times else "")


def front_page(record: dict, site: dict | None = None) -> str:
    """The front page's paragraph (Markdown): which run the site shows, and how to rebuild it.
    ``site``: a published run's ``site.yaml`` (title, scale, rebuild); None for a local build."""
    profile = record["profile"]
    if site:
        return (f"**This site shows a published run: {site.get('title', profile)}** (profile **{profile}**, "
                f"{site.get('scale')}; device {record.get('device')}; commit `{str(record.get('commit'))[:10]}`, packed "
                f"{str(record.get('packed'))[:10]}). It was rendered from its bundle alone (`make book "
                f"BUNDLE=published/...`); the run itself is rebuilt with `{site.get('rebuild', 'the README')}`.")
    pending = "" if profile in ("gpu", "thesis") else (
        " **The thesis-scale run is pending:** no thesis-scale bundle has been published (`published/`), so the "
        "GAN claims stay unjudged at the laptop profile's sizes. The README's \"Thesis scale on one GPU\" says "
        "how to make one (`python -m thesis_lib.studies.bundle --profile gpu --out gpu-run.tar`) and how to "
        "render it (`make book BUNDLE=gpu-run.tar`).")
    return (f"**This site shows the {profile} profile's run, {SCALE.get(profile, 'a custom profile')}** (device "
            f"{record.get('device')}; commit `{str(record.get('commit'))[:10]}`, {str(record.get('packed'))[:10]}); "
            f"`make book` on a fresh clone rebuilds it." + pending)


def write_run_files(record: dict, site: dict | None = None, folder: str | Path = GENERATED) -> None:
    """``run.json`` (the banner's source) and ``run.md`` (the front page's paragraph) in ``folder``."""
    write_json(Path(folder) / "run.json", {k: v for k, v in record.items() if k != "files"})
    with atomic_path(Path(folder) / "run.md") as tmp:
        tmp.write_text(front_page(record, site) + "\n")


def _set_banner(app, sphinx_config) -> None:
    path = Path(app.srcdir) / "generated" / "run.json"
    record = json.loads(path.read_text()) if path.is_file() else None
    sphinx_config.html_theme_options = {**(sphinx_config.html_theme_options or {}), "announcement": banner_text(record)}


def setup(app) -> dict:
    app.connect("config-inited", _set_banner)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m thesis_lib.book.banner",
                                description="Write book/generated/run.json and run.md for a local build.")
    p.add_argument("--profile", default="smoke", help="the profile the workflow ran")
    p.add_argument("--folder", default=str(GENERATED))
    args = p.parse_args(argv)
    write_run_files(run_record(args.profile, config.artifacts_dir(args.profile)), folder=args.folder)


if __name__ == "__main__":
    main()
