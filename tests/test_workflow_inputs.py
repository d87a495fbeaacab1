"""Workflow inputs read from the imports: a step depends on the library code its programs run.
With every output present, touching one module must make stale exactly the steps whose programs
import it and the steps downstream (Snakemake's dry run decides, as it would for `make book`);
which modules a program imports is found by Python itself, not by the workflow's own reading."""

from __future__ import annotations

import json
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
# What each program imports, found by Python itself: every entry imported in one process, the
# library's modules dropped from sys.modules in between (torch and the rest stay loaded), and the
# library files in sys.modules read off; a notebook's program is its code cells' import statements
IMPORTED_BY_PYTHON = """
import ast, importlib, json, sys
from thesis_lib.code_graph import source_of
from pathlib import Path
out = {}
for rule, entries in json.loads(sys.argv[1]).items():
    for name in [m for m in sys.modules if m == "thesis_lib" or m.startswith("thesis_lib.")]:
        del sys.modules[name]
    for entry in entries:
        if entry.endswith(".ipynb"):
            tree = ast.parse(source_of(Path(entry)))
            code = ast.Module([n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], [])
            exec(compile(code, entry, "exec"), {})
        else:
            importlib.import_module(entry)
    out[rule] = sorted(str(Path(m.__file__).resolve().relative_to(Path.cwd())) for n, m in sys.modules.items()
                       if (n == "thesis_lib" or n.startswith("thesis_lib.")) and getattr(m, "__file__", None))
print(json.dumps(out))
"""


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


def dry_run(root: Path, *args: str) -> str:
    return subprocess.run(SNAKEMAKE + ["-n", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def stale_after_touching(root: Path, now: float, module: str) -> set[str]:
    shutil.rmtree(root / ".snakemake", ignore_errors=True)  # no records of earlier runs: times decide
    os.utime(root / module, (now - 50, now - 50))
    try:
        dry = dry_run(root)
    finally:
        os.utime(root / module, (now - 200, now - 200))
    return set(re.findall(r"^rule (\w+):", dry, re.M)) - {"all"}


@pytest.fixture(scope="module")
def rules(built):
    """Each rule's library inputs (as the workflow declares them), the programs its command runs
    (``python -m thesis_lib...`` and the notebook papermill executes) and the library files those
    programs import according to Python: {rule: (declared, programs, imported)}."""
    root, _ = built
    jobs = {}
    for block in dry_run(root, "-p", "--forceall").split("\nrule ")[1:]:
        name = block.split(":", 1)[0]
        inputs = re.search(r"^    input: (.*)$", block, re.M)
        command = re.search(r"^Shell command: (.*)$", block, re.M)
        declared = {f for f in (inputs.group(1).split(", ") if inputs else []) if f.startswith("thesis_lib/")}
        programs = (re.findall(r"python -m (thesis_lib[\w.]*)", command.group(1)) +
                    re.findall(r"papermill --no-progress-bar (\S+\.ipynb)", command.group(1))) if command else []
        jobs[name] = (declared, programs)
    found = subprocess.run([sys.executable, "-c", IMPORTED_BY_PYTHON, json.dumps({r: p for r, (_, p) in jobs.items()})],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout
    imported = json.loads(found.splitlines()[-1])
    return {rule: (declared, programs, set(imported[rule])) for rule, (declared, programs) in jobs.items()}


@pytest.fixture(scope="module")
def downstream(built):
    """{rule: the rules that consume its outputs, directly or not}, from Snakemake's rule graph."""
    root, _ = built
    graph = subprocess.run(SNAKEMAKE + ["--rulegraph"], cwd=root, capture_output=True, text=True, check=True).stdout
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', graph, re.M))
    children = {}
    for a, b in re.findall(r"^\s*(\d+) -> (\d+)", graph, re.M):
        children.setdefault(names[a], set()).add(names[b])
    below = {}
    for rule in names.values():
        todo, seen = [rule], set()
        while todo:
            fresh = children.get(todo.pop(), set()) - seen
            seen |= fresh
            todo += fresh
        below[rule] = seen - {"all"}
    return below


@pytest.mark.slow
def test_every_step_declares_the_library_files_its_programs_import(rules):
    """The inputs are the programs' imports as Python resolves them (the package data that a
    module names rides along: thesis_reported.yaml with thesis_lib.reference)."""
    assert {r for r, (_, programs, _) in rules.items() if not programs} == {"all"}  # every step runs a program
    for rule, (declared, programs, imported) in rules.items():
        code = {f for f in declared if f.endswith(".py")}
        assert code == imported, f"rule {rule} ({programs}): declares {sorted(code - imported)} beyond its imports, " \
                                 f"misses {sorted(imported - code)}"
        reference = "thesis_lib/reference/__init__.py" in imported
        assert ("thesis_lib/reference/thesis_reported.yaml" in declared) == reference, rule


@pytest.mark.slow
def test_editing_a_module_makes_stale_exactly_the_steps_that_import_it(built, rules, downstream):
    """Every library module in turn, by Snakemake's dry run: the steps whose programs import it
    and what reads their outputs are stale, no other (a module that no step imports: none)."""
    root, now = built
    wrong = {}
    for path in sorted((REPO / "thesis_lib").rglob("*.py")):
        module = path.relative_to(REPO).as_posix()
        direct = {rule for rule, (_, _, imported) in rules.items() if module in imported}
        expected = direct.union(*(downstream[r] for r in direct))
        stale = stale_after_touching(root, now, module)
        if stale != expected:
            wrong[module] = {"stale but not run": sorted(stale - expected), "run but not stale": sorted(expected - stale)}
    assert not wrong, wrong
    # the edit that the hand-kept lists missed: the memorisation check reruns the realism verdicts
    assert {"fid_results", "aug_gate", "gan_ablation"} <= stale_after_touching(
        root, now, "thesis_lib/evaluation/memorisation.py")


@pytest.mark.slow
def test_nothing_is_stale_after_a_build(built):
    root, now = built
    shutil.rmtree(root / ".snakemake", ignore_errors=True)
    dry = subprocess.run(SNAKEMAKE + ["-n"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert "Nothing to be done" in dry


@pytest.mark.slow
def test_deleting_the_results_reruns_every_step(built):
    """Snakemake does not remake a missing file whose consumers are up to date; the chapters must
    not outlive their results, so the workflow's targets name the results too."""
    root, _ = built
    shutil.rmtree(root / ".snakemake", ignore_errors=True)
    kept = root.parent / f"{root.name}-artifacts"
    shutil.move(root / "artifacts", kept)
    try:
        stale = set(re.findall(r"^rule (\w+):", dry_run(root), re.M)) - {"all"}
    finally:
        shutil.rmtree(root / "artifacts", ignore_errors=True)
        shutil.move(kept, root / "artifacts")
    steps = {"data_prep", "data_check", "data_report", "mass_features", "train_gan", "gan_ablation", "fid_results",
             "qualitative_results", "train_gan_k", "aug_k", "aug_intervals", "aug_gate", "tsne_results"}
    assert steps <= stale and "scorecard_chapter" in stale, sorted(stale)


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
