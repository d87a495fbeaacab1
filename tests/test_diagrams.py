"""The training-iteration diagram: drawn by code, written as PNG, PDF and SVG, atomically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from thesis_lib.book import diagrams

matplotlib.use("Agg")
SUFFIXES = ("png", "pdf", "svg")
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "svg": b"<?xml"}


def _files(folder: Path) -> dict[str, Path]:
    return {ext: folder / f"{diagrams.NAME}.{ext}" for ext in SUFFIXES}


def test_the_diagram_numbers_seven_steps():
    fig = diagrams.training_iteration()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {str(i) for i in range(1, 8)} <= texts
    assert "8" not in texts
    plt.close(fig)


@pytest.mark.slow
def test_main_writes_png_pdf_and_svg(tmp_path):
    out = tmp_path / "generated"  # created by main
    paths = diagrams.main(out)
    assert sorted(paths) == sorted(_files(out).values())
    for ext, path in _files(out).items():
        data = path.read_bytes()
        assert len(data) > 1000, path
        assert data.startswith(MAGIC[ext]), path
    assert list(out.glob(".*.tmp")) == []


@pytest.mark.slow
def test_a_second_call_overwrites_and_a_failed_one_leaves_the_old_files(tmp_path, monkeypatch):
    diagrams.main(tmp_path)
    before = {ext: p.stat().st_mtime_ns for ext, p in _files(tmp_path).items()}
    diagrams.main(tmp_path)
    after = {ext: p.stat().st_mtime_ns for ext, p in _files(tmp_path).items()}
    assert all(after[ext] >= before[ext] for ext in SUFFIXES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in _files(tmp_path).values())

    old = {ext: p.read_bytes() for ext, p in _files(tmp_path).items()}
    real_savefig = Figure.savefig

    def broken_svg(self, fname, *args, **kwargs):
        if kwargs.get("format") == "svg":
            Path(fname).write_bytes(b"<?xml half a file")
            raise OSError("disk full")
        return real_savefig(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", broken_svg)
    with pytest.raises(OSError, match="disk full"):
        diagrams.main(tmp_path)
    assert _files(tmp_path)["svg"].read_bytes() == old["svg"]
    assert list(tmp_path.glob(".*.tmp")) == []


@pytest.mark.slow
def test_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "thesis_lib.book.diagrams", str(tmp_path)], capture_output=True,
                          text=True, check=True)
    assert f"{diagrams.NAME}.svg" in done.stdout
    assert all(p.stat().st_size > 0 for p in _files(tmp_path).values())
