"""The package layout is the architecture (see ``thesis_lib/__init__.py``): each module imports
from its own package and the floors below it, never above, and at module level, where a cycle
cannot hide (optional dependencies excepted)."""
import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "thesis_lib"
FLOORS = {"": 1, "data": 2, "models": 3, "evaluation": 4, "training": 5, "studies": 6, "book": 7}
OPTIONAL = ("omidb", "openTSNE", "torch.utils.tensorboard")  # optional: imported where they are used


def package(dotted: str) -> str:
    """The package of a module: 'thesis_lib.studies.tsne' -> 'studies', 'thesis_lib.io' -> ''."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else ""


def library_imports(tree: ast.AST):
    """(imported thesis_lib module, line) for every import of the library in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("thesis_lib"):
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "thesis_lib" else [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("thesis_lib")]
        else:
            continue
        yield from ((name, node.lineno) for name in names)


MODULES = {".".join(p.relative_to(LIB.parent).with_suffix("").parts).removesuffix(".__init__"):
           ast.parse(p.read_text(), filename=str(p)) for p in sorted(LIB.rglob("*.py"))}


def test_every_package_has_a_floor():
    data_only = {"reference"}  # the thesis' reported numbers, no code
    assert {p.name for p in LIB.iterdir() if (p / "__init__.py").exists()} == set(FLOORS) - {""} | data_only


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    own = package(name)
    upward = [f"line {line}: {target}" for target, line in library_imports(MODULES[name])
              if package(target) != own and FLOORS[package(target)] > FLOORS[own]]
    assert not upward, f"{name} (floor {FLOORS[own]}) imports from a floor above it: {upward}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_are_at_module_level(name):
    local = [f"line {node.lineno}" for fn in ast.walk(MODULES[name])
             if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
             for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))
             and not ((node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name).startswith(OPTIONAL)]
    assert not local, f"{name} imports inside functions ({local}); import at the top of the module"


def test_the_check_sees_upward_and_local_imports():
    tree = ast.parse("from thesis_lib import config\nfrom thesis_lib.studies import realism\n"
                     "def f():\n    import thesis_lib.book.plots\n")
    assert [(package(t), line) for t, line in library_imports(tree)] == [("", 1), ("studies", 2), ("book", 4)]
