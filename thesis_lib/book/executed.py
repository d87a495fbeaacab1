"""Executed chapters as the book shows them: narration and results, the code one click away.

Every code cell that its chapter has not tagged already is folded with Jupyter Book's tags: a
cell with outputs shows them and hides its code behind a click (``hide-input``), a cell without
outputs (imports, loading, the parameters' defaults) folds whole (``hide-cell``), and so does
papermill's ``injected-parameters`` cell, which says how the chapter was run. The notebook is rewritten
atomically, as JSON only.

    python -m thesis_lib.book.executed book/results/03_fid.ipynb [...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from thesis_lib.io import atomic_path

FOLDED = "hide-cell"
CODE_FOLDED = "hide-input"
# tags by which a chapter already says how a cell shows: it is left as it is
SHOWN_AS_TAGGED = {"hide-cell", "hide-input", "hide-output", "remove-cell", "remove-input", "remove-output"}


def fold_code(path: str | Path) -> int:
    """Fold every code cell of the notebook at ``path`` not tagged already (see the module
    docstring); returns how many cells it tagged (0 when run twice)."""
    path = Path(path)
    notebook = json.loads(path.read_text())
    tagged = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if SHOWN_AS_TAGGED & set(tags):
            continue
        tags.append(CODE_FOLDED if cell.get("outputs") and "injected-parameters" not in tags else FOLDED)
        tagged += 1
    if tagged:
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return tagged


def main(argv: list[str] | None = None) -> None:
    for path in argv if argv is not None else sys.argv[1:]:
        fold_code(path)


if __name__ == "__main__":
    main()
