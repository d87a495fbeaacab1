"""Which run the book shows: a banner on every page and a paragraph on the front page.

As a Sphinx extension (listed in ``_config.yml`` under ``sphinx: extra_extensions``) it reads
``book/generated/run.json`` and sets the theme's ``announcement``: the profile and whether it is
the laptop build or a thesis-scale run, the sizes (patch size, widths, folds, k, seeds), the
data, the device, the commit and date of the run, and each step's wall time. Without the file
the banner says so.

``run.json`` is the run's record (:func:`thesis_lib.bundle.run_record`, a bundle's manifest
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
from thesis_lib.book.methods_build import methods_markdown
from thesis_lib.io import atomic_path, write_json
from thesis_lib.provenance import short_commit
from thesis_lib.bundle import run_record

GENERATED = Path("book") / "generated"

SCALE = {"smoke": "the laptop build, not the thesis-scale run",
         "gpu": "a thesis-scale run on one GPU (the thesis' networks and 128 px patches; a smaller cohort, k list "
                "and budgets, as the README's table says)",
         "thesis": "the thesis' own sizes"}


def step_times(seconds_by_folder: dict[str, float]) -> str:
    """Each step's wall time, the runs of a step that ran once per fold or k summed (they may
    have overlapped): 'aug 3 min, gan 110 s'. A record inside a recorded folder (the ablation's
    rows) is part of that folder's time, not added to it."""
    by_step: dict[str, float] = defaultdict(float)
    for folder, seconds in seconds_by_folder.items():
        parts = folder.split("/")
        if not any("/".join(parts[:i]) in seconds_by_folder for i in range(1, len(parts))):
            by_step[parts[0]] += float(seconds)
    return ", ".join(f"{step} {_duration(s)}" for step, s in sorted(by_step.items(), key=lambda item: -item[1]))


def _budget(budget) -> str:
    """A training budget as the profile gives it: iterations (a number) or 'N epochs'."""
    return f"{budget:,} iterations" if isinstance(budget, int) else str(budget)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def commits_text(record: dict) -> str:
    """"at commit abc" when every step ran at the recorded commit; else the steps' commits and the
    one the record was written at (a step not rerun after a commit keeps the commit it ran at)."""
    packed = short_commit(record.get("commit", ""))
    steps = [short_commit(c) for c in record.get("step_commits") or []]
    if not steps or steps == [packed]:
        return f"at commit {packed}"
    return f"with its steps at commit{'s' if len(steps) > 1 else ''} {', '.join(steps)} (recorded at {packed})"


def rebuilt_exactly(record: dict) -> bool:
    """Whether a fresh clone of the record's commit rebuilds it: every step ran at that commit, clean."""
    commit = str(record.get("commit", ""))
    return not commit.endswith("+dirty") and set(record.get("step_commits") or [commit]) == {commit}


def banner_text(record: dict | None) -> str:
    """The banner's HTML for a run record (None: no record found)."""
    if not record:
        return "This build has no run record (book/generated/run.json): its provenance is unknown."
    sizes, data = record.get("sizes", {}), record.get("data") or {}
    scale = SCALE.get(record["profile"], "a run of a custom profile")
    ks = ", ".join(map(str, sizes.get("k") or []))
    patients = data.get("patients", sizes.get("n_patients"))
    ran = record.get("ran") or [record.get("packed", "")]
    when = ran[0][:10] if ran[0][:10] == ran[-1][:10] else f"{ran[0][:10]} to {ran[-1][:10]}"
    cores = (record.get("hardware") or {}).get("cpu_cores")
    what = (f"<strong>This book shows the {html.escape(record['profile'])} profile: {scale}.</strong> "
            f"Patches {sizes.get('patch_size')} x {sizes.get('patch_size')} px; latent size {sizes.get('nz')}, "
            f"widths {sizes.get('ngf')} (G) and {sizes.get('ndf')} (D); fold GANs {_budget(sizes.get('gan_budget'))} of batch "
            f"{sizes.get('batch_size')}; {sizes.get('n_folds')} patient-level folds; k (real training masses) = {ks}; "
            f"{len(sizes.get('classifier_seeds') or [])} classifier seed(s) of at most {sizes.get('classifier_epochs')} "
            f"epochs. Data: {html.escape(str(data.get('source', sizes.get('dataset'))))}, {patients} patients. "
            f"Device: {html.escape(str(record.get('device')))}" + (f", {cores} CPU cores" if cores else "") +
            f". Run {when} {commits_text(record)}. ")
    times = step_times(record.get("step_seconds") or {})
    return what + (f"Wall time by step (a step's runs summed): {times}." if times else "")


def front_page(record: dict, site: dict | None = None) -> str:
    """The front page's paragraph (Markdown): which run the site shows, and how to rebuild it.
    ``site``: a published run's ``site.yaml`` (title, scale, rebuild); None for a local build."""
    profile = record["profile"]
    if site:
        return (f"**This site shows a published run: {site.get('title', profile)}** (profile **{profile}**, "
                f"{site.get('scale')}; device {record.get('device')}; commit `{short_commit(record.get('commit'))}`, packed "
                f"{str(record.get('packed'))[:10]}). It was rendered from its bundle alone (`make book "
                f"BUNDLE=published/...`); the run itself is rebuilt with `{site.get('rebuild', 'the README')}`.")
    pending = "" if profile in ("gpu", "thesis") else (
        " **The thesis-scale run is pending:** no thesis-scale bundle has been published (`published/`), so every "
        "verdict above is judged at the laptop profile's sizes; the scorecard says which claims these sizes "
        "cannot judge, and why. The README's \"Full size on a GPU or a cluster\" says how to make a thesis-scale "
        "bundle (`thesis-bundle --profile gpu --out gpu-run.tar`) and how to render it (`make book "
        "BUNDLE=gpu-run.tar`).")
    rebuild = ("`make book` on a fresh clone of that commit rebuilds it" if rebuilt_exactly(record) else
               "its steps ran at other commits or with uncommitted changes (`+dirty`), so no one commit rebuilds "
               "it exactly")
    return (f"**This site shows the {profile} profile's run, {SCALE.get(profile, 'a custom profile')}** (device "
            f"{record.get('device')}; {commits_text(record)}, {str(record.get('packed'))[:10]}); {rebuild}." + pending)


def write_run_files(record: dict, site: dict | None = None, folder: str | Path = GENERATED) -> None:
    """``run.json`` (the banner's source), ``run.md`` (the front page's paragraph) and
    ``methods.md`` (the methods chapter's "In this build", :mod:`thesis_lib.book.methods_build`) in ``folder``."""
    write_json(Path(folder) / "run.json", {k: v for k, v in record.items() if k != "files"})
    with atomic_path(Path(folder) / "run.md") as tmp:
        tmp.write_text(front_page(record, site) + "\n")
    with atomic_path(Path(folder) / "methods.md") as tmp:
        tmp.write_text(methods_markdown(record))


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
