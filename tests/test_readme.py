"""The README is a door: short, its links lead somewhere, its profile table is the profiles'
own settings, and every command in it and in the pages it links (docs/*.md) names a make
target, a module option or a notebook parameter that exists."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]


def commands(page: Path) -> list[str]:
    """The command lines of a page: the lines of its bash blocks (comments cut, continuation
    lines joined) and inline code that starts like a command."""
    text = page.read_text()
    lines = [line.split(" #")[0].strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)
             for line in block.replace("\\\n", " ").splitlines() if line.strip() and not line.lstrip().startswith("#")]
    inline = re.findall(r"`((?:make|papermill|\.venv/bin/papermill|\.venv/bin/python -m|python -m) [^`]+)`", text)
    return lines + inline


def of_kind(pattern: str) -> list[tuple[str, str]]:
    return [(page.relative_to(REPO).as_posix(), line) for page in PAGES for line in commands(page)
            if re.match(pattern, line)]


def test_the_readme_is_a_door_whose_links_exist():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    links = [t for t in re.findall(r"\]\(([^)#]+)\)", text) if not t.startswith(("http", "../"))]
    assert {"docs/data.md", "docs/gpu-and-cluster.md", "docs/steps.md", "CONTRIBUTING.md"} <= set(links)
    assert not [t for t in links if not (REPO / t).exists()]
    for page in PAGES[1:]:
        local = [t for t in re.findall(r"\]\(([^)#]+)\)", page.read_text()) if not t.startswith(("http", "../"))]
        assert not [t for t in local if not (page.parent / t).exists()], page.name


def test_the_profile_table_holds_each_profiles_settings():
    rows = re.findall(r"^\| `(\w+)`(?: \(default\))? \|([^\n]*)$", README.read_text(), re.M)
    assert {name for name, _ in rows} == {"smoke", "gpu", "thesis"}
    for name, row in rows:
        cells = [c.strip() for c in row.split("|")][:-1]  # for, patch, cohort, folds, k, seeds
        profile = yaml.safe_load((REPO / "configs" / f"{name}.yaml").read_text())
        data, aug = profile["data_prep"], profile["aug"]
        assert cells[1:] == [str(data["patch_size"]), f"{data['n_patients']} patients", str(data["n_folds"]),
                             ", ".join(str(k) for k in aug["k"]),
                             f"{len(aug['gan_seeds'])} x {len(aug['classifier_seeds'])}"], name


def test_make_commands_name_targets_and_variables_the_makefile_has():
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    found = of_kind(r"make ")
    assert found
    for page, line in found:
        words = shlex.split(line)[1:]
        assert [w for w in words if "=" not in w][0] in targets, (page, line)
        for variable in (w.split("=")[0] for w in words if "=" in w):
            assert re.search(rf"\b{variable}\b", makefile), (page, line, variable)


@pytest.mark.slow
def test_module_commands_exist_and_take_the_options_they_are_given():
    """`python -m thesis_lib...` lines: the module's --help runs, and lists every option used."""
    found = of_kind(r"(\.venv/bin/)?python -m thesis_lib")
    assert found
    helps = {}
    for page, line in found:
        words = shlex.split(line)
        module = words[words.index("-m") + 1]
        if module not in helps:
            run = subprocess.run([sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True)
            assert run.returncode == 0, (page, line, run.stderr[-500:])
            helps[module] = run.stdout
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in helps[module], (page, line, option)


@pytest.mark.slow
def test_notebook_commands_name_notebooks_and_parameters_that_exist():
    """papermill lines: the notebook exists and declares every `-p` parameter it is given."""
    found = of_kind(r"(\.venv/bin/)?papermill ")
    assert found
    papermill = str(Path(sys.executable).with_name("papermill"))
    declared = {}
    for page, line in found:
        words = shlex.split(line)
        notebook = next(w for w in words if w.endswith(".ipynb"))
        assert (REPO / notebook).is_file(), (page, line)
        if notebook not in declared:
            listing = subprocess.run([papermill, "--help-notebook", notebook], cwd=REPO, capture_output=True,
                                     text=True, check=True).stdout
            declared[notebook] = set(re.findall(r"^  (\w+): ", listing, re.M))
        given = {words[i + 1] for i, w in enumerate(words) if w in ("-p", "--parameters")}
        given |= {k for i, w in enumerate(words) if w == "-y" for k in yaml.safe_load(words[i + 1])}
        assert given <= declared[notebook], (page, line, given - declared[notebook])
