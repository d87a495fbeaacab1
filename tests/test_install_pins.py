"""The install files resolve on any machine: registry pins only, and conda lists every dependency.

A pin such as `pkg @ file:///tmp/x.whl` installs only where that file exists (the machine that
froze it); a fresh clone elsewhere then stops at pip before anything runs.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
# A local path, a direct URL or a VCS reference where a registry name and version should be.
NOT_FROM_REGISTRY = re.compile(r"@|://|^file:|^git\+|^(\.{0,2}/|~)|\.whl\b|\.tar\.gz\b|\.zip\b")
# pyproject name -> conda-forge name, where they differ.
CONDA_NAMES = {"torch": "pytorch"}


def bad_constraint_lines(text: str) -> list[str]:
    """Lines of a constraints file that are not `name==version`, as 'line N: text'."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if line and not PIN.match(line):
            bad.append(f"line {number}: {line}")
    return bad


def _strings(node):
    """Every string in a parsed YAML tree, depth first."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def bad_environment_entries(text: str) -> list[str]:
    """Dependencies of a conda environment file that name a path or URL instead of a package."""
    deps = yaml.safe_load(text).get("dependencies", [])
    return [f"dependency: {s}" for s in _strings(deps) if NOT_FROM_REGISTRY.search(s.split("#")[0].strip())]


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string ('openTSNE>=1.0' -> 'opentsne')."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_dependencies() -> set[str]:
    """Normalised names of every dependency of pyproject.toml, extras included (not the project itself)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {_name(r) for r in reqs} - {_name(project["name"])}


def environment_dependencies(text: str) -> set[str]:
    return {_name(s) for s in _strings(yaml.safe_load(text)["dependencies"]) if _name(s) != "pip"}


def test_constraints_pin_registry_releases_only():
    bad = bad_constraint_lines((ROOT / "constraints.txt").read_text())
    assert not bad, "constraints.txt must pin name==version from the registries:\n" + "\n".join(bad)


def test_environment_names_packages_not_paths():
    bad = bad_environment_entries((ROOT / "environment.yml").read_text())
    assert not bad, "environment.yml must name packages from the registries:\n" + "\n".join(bad)


def test_environment_lists_every_pyproject_dependency():
    listed = environment_dependencies((ROOT / "environment.yml").read_text())
    missing = sorted(d for d in pyproject_dependencies() if CONDA_NAMES.get(d, d) not in listed)
    assert not missing, f"environment.yml lacks these dependencies of pyproject.toml: {missing}"


def test_environment_uses_no_retired_channels():
    channels = yaml.safe_load((ROOT / "environment.yml").read_text())["channels"]
    assert not {"pytorch", "nvidia"} & set(channels), "pytorch/nvidia channels stopped at PyTorch 2.5; use conda-forge"


@pytest.mark.parametrize(
    "line",
    [
        "sphinx-mathjax-offline @ file:///tmp/smo/sphinx_mathjax_offline-0.0.2-py3-none-any.whl",
        "thesis_lib @ git+https://github.com/x/y@main",
        "./wheels/foo-1.0-py3-none-any.whl",
        "-e /home/me/src/foo",
        "numpy>=1.24",
    ],
)
def test_guards_catch_paths_urls_and_ranges(line):
    assert bad_constraint_lines(f"# header\nnumpy==2.4.6\n{line}\n") == [f"line 3: {line}"]


@pytest.mark.parametrize("entry", ["https://example.org/x.whl", "file:///tmp/x.whl", "git+https://g/x", "./local"])
def test_environment_guard_catches_paths_and_urls(entry):
    text = f"dependencies:\n  - numpy>=1.24\n  - pip:\n      - {entry}\n"
    assert bad_environment_entries(text) == [f"dependency: {entry}"]
    assert not bad_environment_entries("dependencies:\n  - numpy>=1.24\n  - pip:\n      - omidb>=0.13\n")


def test_license_and_citation_match_the_project():
    import tomllib

    import yaml
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and (root / "LICENSE").read_text().startswith("MIT License")
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT" and cff["version"] == project["version"]
    assert cff["preferred-citation"]["title"].startswith("DCGANs for realistic breast mass augmentation")
    assert cff["preferred-citation"]["year"] == 2020 and cff["references"][0]["type"] == "thesis"


def test_console_entry_points_name_importable_mains():
    import importlib
    import tomllib
    root = Path(__file__).resolve().parents[1]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert {"thesis-train", "thesis-generate", "thesis-fid", "thesis-import-generator", "thesis-bundle",
            "thesis-render", "thesis-device-check"} <= set(scripts)
    for target in scripts.values():
        module, func = target.split(":")
        main = getattr(importlib.import_module(module), func)
        # the console script exits with main's return value: anything but None or an int is an exit status of 1
        assert main.__annotations__.get("return") in ("None", "int", None, int), f"{target} returns {main.__annotations__}"
        assert callable(getattr(importlib.import_module(module), func)), target


def test_ci_runs_the_unit_tests_on_every_push():
    import yaml
    root = Path(__file__).resolve().parents[1]
    workflow = yaml.safe_load((root / ".github" / "workflows" / "tests.yml").read_text())
    triggers = workflow[True]  # YAML reads the key "on" as True
    assert "push" in triggers and "pull_request" in triggers
    steps = [s.get("run", "") for s in workflow["jobs"]["test-fast"]["steps"]]
    assert any(run.strip() == "make test-fast" for run in steps)


def test_nothing_points_outside_the_repository():
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("configs/*.yaml"), root / "README.md", *root.glob("notebooks/*.py"), *root.glob("book/*.md")]
    assert not [f.name for f in files if "../shared" in f.read_text()]


def test_the_readme_badges_name_workflows_and_files_that_exist():
    """The badges link relatively (../../actions/workflows/<file>/badge.svg, resolved by GitHub
    against the repository the README is read in): each must name a workflow of this repository,
    and each local target (LICENSE, CITATION.cff) must exist."""
    import re
    root = Path(__file__).resolve().parents[1]
    head = root.joinpath("README.md").read_text().split("## ", 1)[0]
    badges = re.findall(r"\[!\[[^\]]*\]\(([^)]+)\)\]\(([^)]+)\)", head)
    workflows = {m for image, _ in badges for m in re.findall(r"actions/workflows/([^/]+)/badge\.svg", image)}
    assert workflows == {"tests.yml", "book.yml"}
    assert all((root / ".github" / "workflows" / w).is_file() for w in workflows)
    local = [target for _, target in badges if not target.startswith(("../", "http"))]
    assert local and all((root / target).is_file() for target in local), local
    assert any(target == "../../deployments/github-pages" for _, target in badges)  # the site's address,
    assert "name: github-pages" in (root / ".github" / "workflows" / "book.yml").read_text()  # as the deploy names it
