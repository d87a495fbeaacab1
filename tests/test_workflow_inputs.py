"""Narrow workflow inputs: a step depends on the code it runs. With every output present,
touching one module must make stale exactly the steps that run it and the steps downstream
(Snakemake's dry run decides, as it would for `make book`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [str(Path(sys.executable).with_name("snakemake")), "--cores", "1"]
# the appendix reads every chapter's executed notebook, and the banner's run record follows it
CHAPTERS_DOWNSTREAM = {"appendix_chapter", "run_record"}
STALE = {
    # a figure: only the chapters that draw (and the diagram), never data, training or results
    "thesis_lib/book/plots.py": {"data_chapter", "gan_chapter", "qualitative_chapter", "fid_chapter", "aug_chapter",
                            "tsne_chapter", "diagrams"} | CHAPTERS_DOWNSTREAM,
    # the shortcut audit is part of the data report, which the data, augmentation and summary chapters
    # read; the store does not depend on it
    "thesis_lib/data/shortcuts.py": {"data_report", "data_chapter", "aug_chapter", "scorecard_chapter",
                                     "discussion_chapter"} | CHAPTERS_DOWNSTREAM,
    # the bootstrap: the intervals and what reads them, and the t-SNE gap interval (patients and seeds)
    "thesis_lib/evaluation/bootstrap.py": {"aug_intervals", "aug_chapter", "scorecard_chapter",
                                "discussion_chapter", "tsne_results", "tsne_chapter"} | CHAPTERS_DOWNSTREAM,
    # the t-SNE study: its results, its chapter and the claims scored from them; and the
    # memorisation check's smooth control (tsne.mixed_copies)
    "thesis_lib/studies/tsne.py": {"tsne_results", "tsne_chapter", "scorecard_chapter", "discussion_chapter",
                                   "qualitative_results", "qualitative_chapter"} | CHAPTERS_DOWNSTREAM,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the repository's files in which every workflow output exists and is newer
    than every source, as after a finished `make book`."""
    root = tmp_path_factory.mktemp("workflow")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        if not name.startswith(("artifacts/", "book/results/")) and (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    summary = subprocess.run(SNAKEMAKE + ["--summary"], cwd=root, capture_output=True, text=True, check=True).stdout
    now = time.time()
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (now - 200, now - 200))
    for line in summary.splitlines()[1:]:
        output = root / line.split("\t")[0]
        output.parent.mkdir(parents=True, exist_ok=True)
        output.touch()
        os.utime(output, (now - 100, now - 100))
    shutil.rmtree(root / ".snakemake", ignore_errors=True)
    return root, now


def stale_after_touching(root: Path, now: float, module: str) -> set[str]:
    shutil.rmtree(root / ".snakemake", ignore_errors=True)  # no records of earlier runs: times decide
    os.utime(root / module, (now - 50, now - 50))
    try:
        dry = subprocess.run(SNAKEMAKE + ["-n"], cwd=root, capture_output=True, text=True, check=True).stdout
    finally:
        os.utime(root / module, (now - 200, now - 200))
    return set(re.findall(r"^rule (\w+):", dry, re.M)) - {"all"}


@pytest.mark.slow
def test_nothing_is_stale_after_a_build(built):
    root, now = built
    shutil.rmtree(root / ".snakemake", ignore_errors=True)
    dry = subprocess.run(SNAKEMAKE + ["-n"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert "Nothing to be done" in dry


@pytest.mark.parametrize("module", sorted(STALE))
@pytest.mark.slow
def test_a_touched_module_makes_only_its_steps_stale(built, module):
    root, now = built
    assert stale_after_touching(root, now, module) == STALE[module]


@pytest.mark.slow
def test_commands_hold_no_absolute_path_so_a_moved_clone_reruns_nothing(built):
    """Snakemake reruns a job whose command changed; a command holding the clone's absolute
    path changes when the clone moves (laptop to cluster), so none may hold it."""
    root, _ = built
    shutil.rmtree(root / ".snakemake", ignore_errors=True)
    dry = subprocess.run(SNAKEMAKE + ["-n", "-p", "--forceall"], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    commands = [line for line in dry.splitlines() if "python -m" in line or "papermill" in line]
    assert commands and not [c for c in commands if str(root) in c or str(REPO) in c]
