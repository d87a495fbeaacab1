"""The library files a program runs: the ``thesis_lib`` modules that its entry points import,
followed transitively, with their packages' ``__init__.py`` and the package data files they name.

The workflow takes each step's code inputs from here (``workflow/Snakefile``), so that editing a
module makes stale exactly the steps whose programs import it, and no hand-kept list can drift
from the code. The graph is read from the source (``ast``), without importing anything:

    files(["thesis_lib.studies.fid_results"])    # a step run as `python -m thesis_lib.studies.fid_results`
    files(["notebooks/03_fid.ipynb"])            # a chapter: the imports of its code cells

Every import counts, at module level or not, so the inputs err on the side of a rerun. A data
file (not ``.py``) under ``thesis_lib`` counts when a module of the closure names it in its
source (``thesis_reported.yaml`` in ``thesis_lib/reference/__init__.py``).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

LIB = Path(__file__).resolve().parent
ROOT = LIB.parent
PACKAGE = LIB.name


def module_file(dotted: str) -> Path | None:
    """The source file of a ``thesis_lib`` module or package (``thesis_lib.io`` ->
    ``thesis_lib/io.py``), or None when ``dotted`` names no module (a function, a class)."""
    base = ROOT.joinpath(*dotted.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def dotted_name(path: Path) -> str:
    """``thesis_lib/studies/tsne.py`` -> ``thesis_lib.studies.tsne``; a package's ``__init__.py``
    -> the package."""
    parts = path.resolve().relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_of(path: Path) -> str:
    """A program's Python source: a ``.py`` file as it is, a notebook's code cells joined (lines
    of IPython magics and shell escapes left out)."""
    if path.suffix != ".ipynb":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    lines = [line for cell in cells if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def imported(source: str, module: str = "", filename: str = "<source>") -> set[str]:
    """The ``thesis_lib`` modules and packages that ``source`` imports (dotted names); ``module``
    is its own dotted name, which resolves relative imports."""
    found = set()
    own = module_file(module) if module else None
    package = module if own and own.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == PACKAGE and module_file(name)}


def _with_packages(dotted: str) -> list[str]:
    """``thesis_lib.studies.tsne`` -> itself and the packages that importing it runs first."""
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@lru_cache(maxsize=None)
def _imports_of_module(name: str) -> frozenset[str]:
    """:func:`imported` of one library module's source (read and parsed once per process)."""
    path = module_file(name)
    return frozenset(imported(path.read_text(), name, str(path)))


def data_files() -> list[Path]:
    """The package's data files: everything under ``thesis_lib`` that is not Python source."""
    return sorted(p for p in LIB.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
                  and "__pycache__" not in p.parts)


def modules(entries: Iterable[str | Path]) -> set[str]:
    """Every ``thesis_lib`` module that the ``entries`` import, transitively, themselves included:
    an entry is a dotted module name or the path of a program (``.py`` or ``.ipynb``). A missing
    entry raises ``FileNotFoundError`` naming it."""
    todo, seen = [], set()
    for entry in entries:
        entry = str(entry)
        if entry.endswith((".py", ".ipynb")):
            path = Path(entry) if Path(entry).is_absolute() else ROOT / entry
            if not path.is_file():
                raise FileNotFoundError(f"{entry}: no such program to read the imports of")
            if path.resolve().is_relative_to(LIB):
                todo.append(dotted_name(path))
            else:
                todo += imported(source_of(path), filename=str(path))
        elif module_file(entry):
            todo.append(entry)
        else:
            raise FileNotFoundError(f"{entry}: no module of that name under {LIB}")
    while todo:
        for name in _with_packages(todo.pop()):
            if name not in seen:
                seen.add(name)
                todo += _imports_of_module(name)
    return seen


def files(entries: Iterable[str | Path]) -> list[str]:
    """The library files that the ``entries`` run (:func:`modules`' sources, then the data files
    that those sources name), as sorted paths relative to the repository root, the form a
    Snakemake rule lists as inputs."""
    sources = [module_file(name) for name in modules(entries)]
    texts = "\n".join(path.read_text() for path in sources)
    named = [path for path in data_files() if path.name in texts]
    return sorted(path.relative_to(ROOT).as_posix() for path in sources + named)
