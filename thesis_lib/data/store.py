"""The patch store: all patches of a dataset in one chunked HDF5 file, with tables beside it.

Layout of a store folder::

    patches.h5     dataset "patches": (N, 128, 128) uint8, chunked, readable a batch at a time
    patches.csv    one row per patch, row i describes patches[i] (patient, image, label, bbox...)
    folds.csv      patient-level folds: patient_id, fold, partition
    skips.csv      every file left out and why
    summary.json   counts, settings, and the windowing used
    provenance.json

:class:`PatchStoreWriter` builds a store in a temporary folder and swaps it in only when it is
complete, so an interrupted run never leaves a half-written store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np
import pandas as pd

from thesis_lib.data.records import Skip
from thesis_lib.data.splits import partition_of
from thesis_lib.io import atomic_dir
from thesis_lib.results import refuse_at_render

CHUNK = 16  # patches per HDF5 chunk


class PatchStoreWriter:
    """Appends patches to an open HDF5 file in a temporary folder (bounded memory)."""

    def __init__(self, folder: Path, size: int):
        self.folder = folder
        self.size = size
        self._h5 = h5py.File(folder / "patches.h5", "w")
        self._data = self._h5.create_dataset(
            "patches", shape=(0, size, size), maxshape=(None, size, size), dtype=np.uint8,
            chunks=(CHUNK, size, size), compression="lzf")
        self.rows: list[dict] = []
        self.skips: list[Skip] = []

    def add(self, patch: np.ndarray, **meta) -> None:
        if patch.shape != (self.size, self.size) or patch.dtype != np.uint8:
            raise ValueError(f"patch {patch.dtype}{patch.shape}: expected uint8 ({self.size}, {self.size})")
        n = self._data.shape[0]
        self._data.resize(n + 1, axis=0)
        self._data[n] = patch
        self.rows.append(meta)

    def skip(self, file: str | Path, reason: str) -> None:
        self.skips.append(Skip(str(file), reason))

    def close(self, folds: pd.DataFrame, summary: dict) -> None:
        self._h5.attrs["patch_size"] = self.size
        self._h5.close()
        pd.DataFrame(self.rows).to_csv(self.folder / "patches.csv", index_label="index")
        folds.to_csv(self.folder / "folds.csv", index=False)
        pd.DataFrame(self.skips, columns=["file", "reason"]).to_csv(self.folder / "skips.csv", index=False)
        (self.folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")


@contextlib.contextmanager
def write_store(path: str | Path, size: int = 128) -> Iterator[PatchStoreWriter]:
    """Open a writer; the store appears at ``path`` only if the block completes and the
    writer was closed with :meth:`PatchStoreWriter.close`."""
    with atomic_dir(path) as tmp:
        writer = PatchStoreWriter(Path(tmp), size)
        try:
            yield writer
        finally:
            if writer._h5.id.valid:
                writer._h5.close()
        if not (Path(tmp) / "summary.json").exists():
            raise RuntimeError("patch store not closed: call writer.close(folds, summary)")


class PatchStore:
    """Read access to a store. ``meta`` and ``folds`` are DataFrames; ``read(index)`` returns
    ``(n, 128, 128)`` uint8 patches for the given rows, loading only those."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        refuse_at_render(f"open the patch store {self.path}")
        if not (self.path / "patches.h5").is_file():
            raise FileNotFoundError(f"{self.path}: no patch store here (patches.h5 missing); "
                                    "run notebook 00_data_prep first (make book, or snakemake data_prep)")
        self.meta = pd.read_csv(self.path / "patches.csv", index_col="index")
        self.folds = pd.read_csv(self.path / "folds.csv", dtype={"patient_id": str})
        self.meta["patient_id"] = self.meta.patient_id.astype(str)
        self.skips = pd.read_csv(self.path / "skips.csv")
        self.summary = json.loads((self.path / "summary.json").read_text())

    def __len__(self) -> int:
        return len(self.meta)

    @property
    def identity(self) -> str:
        """12 hex digits naming the store's data: its summary (source, seed, settings, counts)
        and its patient folds, so results measured on another build can be told apart."""
        text = json.dumps(self.summary, sort_keys=True, default=str) + (self.path / "folds.csv").read_text()
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    @property
    def patch_size(self) -> int:
        """Side of every patch, in pixels."""
        with h5py.File(self.path / "patches.h5", "r") as f:
            return int(f["patches"].shape[1])

    def rows(self, fold: int, partitions: str | tuple[str, ...],
             labels: str | tuple[str, ...] = ("mass", "normal")) -> pd.DataFrame:
        """Rows of ``meta`` in ``fold``'s partition(s) ("train", "val", "test"; several as a
        tuple) whose label is one of ``labels``, in the store's order."""
        parts = (partitions,) if isinstance(partitions, str) else partitions
        labels = (labels,) if isinstance(labels, str) else labels
        return self.meta[partition_of(self.meta, self.folds, fold).isin(parts) & self.meta.label.isin(labels)]

    def sample(self, label: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """Row indices of up to ``n`` patches with ``label``, drawn without replacement."""
        rows = np.flatnonzero(self.meta.label.to_numpy() == label)
        return np.sort(rng.choice(rows, min(n, rows.size), replace=False))

    def read(self, index) -> np.ndarray:
        """Patches of rows ``index`` (any order, repeats allowed), as (n, size, size) uint8."""
        index = np.asarray(index, dtype=np.int64).ravel()
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise IndexError(f"patch index out of range 0..{len(self) - 1}")
        unique, inverse = np.unique(index, return_inverse=True)
        with h5py.File(self.path / "patches.h5", "r") as f:
            data = f["patches"][unique] if unique.size else np.empty((0, *f["patches"].shape[1:]), np.uint8)
        return data[inverse]
