"""The library files a program runs (thesis_lib.code_graph), which the workflow's rules take as
their code inputs; tests/test_workflow_inputs.py checks the rules against Python's own imports."""

from __future__ import annotations

import json

import pytest

from thesis_lib import code_graph


def test_a_module_brings_what_it_imports_transitively_and_its_packages():
    files = code_graph.files(["thesis_lib.studies.fid_results"])
    assert "thesis_lib/studies/fid_results.py" in files and "thesis_lib/studies/__init__.py" in files
    assert "thesis_lib/studies/realism.py" in files  # imported by fid_results
    assert "thesis_lib/evaluation/memorisation.py" in files  # imported by realism: the edit once missed
    assert "thesis_lib/__init__.py" in files and "thesis_lib/book/plots.py" not in files
    assert files == sorted(set(files))


def test_package_data_rides_with_the_module_that_names_it():
    assert "thesis_lib/reference/thesis_reported.yaml" in code_graph.files(["thesis_lib.reference"])
    assert "thesis_lib/reference/thesis_reported.yaml" not in code_graph.files(["thesis_lib.io"])


def test_a_notebook_is_read_from_its_code_cells_without_magics(tmp_path):
    notebook = tmp_path / "chapter.ipynb"
    cells = [{"cell_type": "markdown", "source": ["from thesis_lib.studies import tsne\n"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "!ls\n", "from thesis_lib.book import plots\n"]}]
    notebook.write_text(json.dumps({"cells": cells}))
    files = code_graph.files([notebook])
    assert "thesis_lib/book/plots.py" in files and "thesis_lib/studies/tsne.py" not in files


def test_relative_imports_resolve_against_their_package():
    assert code_graph.imported("from . import io\nfrom .data import store\n", "thesis_lib.paths") == \
        {"thesis_lib", "thesis_lib.io", "thesis_lib.data", "thesis_lib.data.store"}
    assert code_graph.imported("from .. import io\n", "thesis_lib.data.store") == {"thesis_lib", "thesis_lib.io"}
    assert code_graph.imported("import numpy\nfrom thesis_lib.io import write_json\n", "x") == {"thesis_lib.io"}


def test_an_unknown_entry_is_named():
    with pytest.raises(FileNotFoundError, match="thesis_lib.nowhere"):
        code_graph.files(["thesis_lib.nowhere"])
    with pytest.raises(FileNotFoundError, match="notebooks/missing.ipynb"):
        code_graph.files(["notebooks/missing.ipynb"])
