"""Executed chapters as the book shows them: papermill's injected-parameters cell folded away.

papermill writes the values a run was given into a cell tagged ``injected-parameters``; the
book keeps it (it says how the chapter was run) but folds it behind a click, as Jupyter Book
does for cells tagged ``hide-cell``. The notebook is rewritten atomically, as JSON only.

    python -m thesis_lib.book.executed book/results/03_fid.ipynb [...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from thesis_lib.io import atomic_path

FOLDED = "hide-cell"


def fold_injected_parameters(path: str | Path) -> int:
    """Tag the injected-parameters cells of the notebook at ``path`` ``hide-cell``; returns how
    many cells it tagged (0 when they were tagged already)."""
    path = Path(path)
    notebook = json.loads(path.read_text())
    tagged = 0
    for cell in notebook.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and FOLDED not in tags:
            tags.append(FOLDED)
            tagged += 1
    if tagged:
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return tagged


def main(argv: list[str] | None = None) -> None:
    for path in argv if argv is not None else sys.argv[1:]:
        fold_injected_parameters(path)


if __name__ == "__main__":
    main()
