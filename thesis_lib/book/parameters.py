"""A papermill run given a parameter its notebook does not have stops, naming it.

papermill injects ``-p name value`` as a cell of assignments that starts with ``# Parameters``,
right after the notebook's cell tagged ``parameters``; a misspelt name (``-p perplexty 50``)
becomes a variable nobody reads, and the run would go on with the defaults. Each chapter calls
:func:`check_parameters` first: it reads the two cells from the kernel's input history
(``In``), and raises when the injected cell assigns a name the parameters cell does not.
"""

from __future__ import annotations

import ast


def assigned_names(source: str) -> set[str]:
    """Names a cell assigns at its top level (``x = ...`` and ``x: int = ...``)."""
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def check_parameters(namespace: dict) -> None:
    """Raise ``NameError`` when papermill injected a parameter the notebook's parameters cell
    does not declare (``namespace``: the notebook's ``globals()``); nothing without papermill."""
    history = namespace.get("In") or []
    for i, source in enumerate(history):
        if i and source.lstrip().startswith("# Parameters"):
            declared = assigned_names(history[i - 1])
            unknown = sorted(assigned_names(source) - declared)
            if unknown:
                raise NameError(f"unknown parameter(s) {unknown}; this notebook takes {sorted(declared)} "
                                "(papermill --help-notebook lists them)")
