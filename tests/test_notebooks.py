"""The notebooks are jupytext pairs in sync, with a tagged parameters cell and no outputs."""

import ast
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_name.py found"


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_in_sync(script):
    ipynb = script.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} missing: run make sync"
    text = jupytext.read(script)
    paired = nbformat.read(ipynb, as_version=4)
    src = [(c.cell_type, c.source.strip(), c.metadata.get("mystnb")) for c in text.cells]
    dst = [(c.cell_type, c.source.strip(), c.metadata.get("mystnb")) for c in paired.cells]  # figure captions too
    assert src == dst, f"{script.name} and {ipynb.name} differ: run make sync"
    assert paired.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_tagged_and_first_code_cell(script):
    nb = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{script.name}: exactly one cell must be tagged 'parameters'"
    assert code[0] is tagged[0], f"{script.name}: the parameters cell must be the first code cell"
    assert "profile" in tagged[0].source


DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def definitions(source: str) -> list[str]:
    """The functions, classes and lambdas that ``source`` (Python) defines, by name and line."""
    return [f"{type(node).__name__} {getattr(node, 'name', '')} at line {node.lineno}"
            for node in ast.walk(ast.parse(source)) if isinstance(node, DEFINITIONS)]


def narrative_and_code_lines(script: Path) -> tuple[int, int]:
    """Non-blank lines of a chapter's markdown cells and of its code cells (all of them, the
    parameters cell included)."""
    nb = jupytext.read(script)
    count = {"markdown": 0, "code": 0}
    for cell in nb.cells:
        count[cell.cell_type] += sum(1 for line in cell.source.splitlines() if line.strip())
    return count["markdown"], count["code"]


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_without_definitions(script):
    nb = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{script.name}: clear outputs"
            assert not definitions(cell.source), f"{script.name}: define functions in thesis_lib (book/pages)"


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_chapter_narrates_more_than_it_codes(script):
    """A chapter's code calls its page (thesis_lib.book.pages); the sentences are the chapter's."""
    prose, code = narrative_and_code_lines(script)
    assert code < prose, f"{script.name}: {code} code lines against {prose} of prose: move code to thesis_lib/book/pages"


def test_the_narration_checks_can_fail(tmp_path):
    assert sorted(definitions("x = 1\nf = lambda y: y\ndef g():\n    pass\n")) == ["FunctionDef g at line 3",
                                                                                     "Lambda  at line 2"]
    script = tmp_path / "99_x.py"
    script.write_text("# %% [markdown]\n# One line.\n\n# %%\na = 1\nb = 2\n")
    assert narrative_and_code_lines(script) == (1, 2)


def test_the_book_folds_code_behind_a_click_and_keeps_the_chapters_own_tags(tmp_path):
    from thesis_lib.book.executed import fold_code

    cells = [nbformat.v4.new_code_cell("profile = 'smoke'"), nbformat.v4.new_code_cell("k = 100"),
             nbformat.v4.new_markdown_cell("# x"), nbformat.v4.new_code_cell("import numpy"),
             nbformat.v4.new_code_cell("print(k)", outputs=[nbformat.v4.new_output("stream", text="100\n")]),
             nbformat.v4.new_code_cell("show(table)", outputs=[nbformat.v4.new_output("stream", text="t\n")])]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells[1].metadata["tags"] = ["injected-parameters"]
    nb.cells[5].metadata["tags"] = ["remove-input"]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert fold_code(path) == 4 and fold_code(path) == 0  # once
    tags = [c.metadata.get("tags") for c in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters", "hide-cell"], ["injected-parameters", "hide-cell"], None, ["hide-cell"],
                    ["hide-input"], ["remove-input"]]


def test_every_figure_has_alt_text_that_describes_it():
    """A figure's image gets alt text (the caption's first sentence), not its hashed file name."""
    import json
    import re
    figures = 0
    for path in sorted(Path(__file__).resolve().parents[1].glob("notebooks/*.py")):
        for line in path.read_text().splitlines():
            match = re.match(r"^# %% .*mystnb=(\{.*\})", line)
            if match and "figure" in (meta := json.loads(match.group(1))):
                figures += 1
                alt = meta.get("image", {}).get("alt", "")
                assert len(alt.split()) >= 4 and meta["figure"]["caption"].startswith(alt), (path.name, alt)
    assert figures >= 16


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermills_own_parser_reads_every_parameter_with_its_type(script, caplog):
    import papermill

    from thesis_lib.book.parameters import assigned_names
    nb = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    declared = assigned_names(next(c for c in nb.cells if "parameters" in c.metadata.get("tags", [])).source)
    with caplog.at_level("WARNING"):
        parsed = papermill.inspect_notebook(str(script.with_suffix(".ipynb")))
    assert not [r.message for r in caplog.records if "Unable to parse" in r.message]
    assert set(parsed) == declared  # every parameter, none lost to a comment holding "="
    assert {p["inferred_type_name"] for p in parsed.values()} <= {"str", "int", "float", "bool", "list", "dict"}


def test_a_misspelt_parameter_stops_the_run_with_its_name(tmp_path):
    from thesis_lib.book.parameters import check_parameters
    params = 'profile: str = "smoke"\nk: int = None  # a training size'
    check_parameters({"In": ["", params, "# Parameters\nk = 100\n", ""]})  # a declared name: fine
    check_parameters({"In": ["", params, "x = 1"]})  # no papermill: nothing to check
    with pytest.raises(NameError, match=r"unknown parameter\(s\) \['perplexty'\]; this notebook takes \['k', 'profile'\]"):
        check_parameters({"In": ["", params, "# Parameters\nperplexty = 50\n", ""]})


@pytest.mark.slow
def test_papermill_with_a_misspelt_parameter_fails(tmp_path):
    import papermill
    notebook = Path(__file__).parents[1] / "notebooks" / "08_appendix.ipynb"
    with pytest.raises(papermill.PapermillExecutionError, match=r"unknown parameter\(s\) \['profil'\]"):
        papermill.execute_notebook(str(notebook), str(tmp_path / "out.ipynb"), parameters={"profil": "smoke"},
                                   progress_bar=False, kernel_name="python3")
