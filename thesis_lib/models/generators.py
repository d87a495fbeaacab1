"""The generators a study samples: a recipe trained here, or a checkpoint made elsewhere.

A profile names its GAN recipes in its ``recipes`` section, each as the settings that differ
from its ``gan`` section (the default profile: ``small-data``, the gan section as it stands, and
``thesis``, the thesis' recipe at the same widths and budget). A setting that lists generators
(``aug.generators``, or one chapter's ``generator``) takes, per entry,

- a recipe name: a generator of that recipe trained on each fold's (and k's) training masses;
- ``"label=path/to/generator.pt"`` or ``{label: path}``: one ready generator checkpoint (e.g.
  the thesis' own, imported by :mod:`thesis_lib.models.import_thesis`), used as it is for every fold
  and k; its size must be the patch store's (:func:`thesis_lib.models.generate.ready`).

This module only parses (no torch: the workflow reads it when it plans).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GeneratorSource:
    """One entry of a generators setting: ``recipe`` (gan settings over the profile's) for a
    generator trained here, or ``checkpoint`` for a ready one."""

    name: str
    recipe: dict | None = None
    checkpoint: Path | None = None
    origin: str | None = None  # what an imported checkpoint records of where it came from

    @property
    def trained_here(self) -> bool:
        return self.checkpoint is None

    def describe(self) -> str:
        """One line for a chapter: the recipe's settings, or where the checkpoint came from."""
        if self.trained_here:
            changes = ", ".join(f"{k} = {v!r}" for k, v in (self.recipe or {}).items())
            return (f"**{self.name}**: trained here on each fold's k masses with the profile's gan settings"
                    + (f", changed by {changes}" if changes else ""))
        return (f"**{self.name}**: {self.checkpoint.name}, {self.origin or 'a generator checkpoint made elsewhere'}; "
                "it was **not trained on this run's data**, and the same generator serves every fold and k")


def file_sha1(path: str | Path) -> str:
    """SHA-1 of a file, in 1 MiB reads."""
    digest = hashlib.sha1()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_sources(entries, recipes: dict, setting: str) -> list[GeneratorSource]:
    """The sources of a generators setting (see the module docstring); an unknown recipe, a
    missing checkpoint or a repeated name is an error naming ``setting``."""
    entries = [entries] if isinstance(entries, (str, dict)) else list(entries or [])
    sources = []
    for entry in entries:
        pairs = list(entry.items()) if isinstance(entry, dict) else [entry.split("=", 1)] if "=" in str(entry) \
            else [(entry, None)]
        for name, path in pairs:
            name = str(name).strip()
            if path is None:
                if name not in recipes:
                    raise ValueError(f"{setting}: {name!r} is neither a recipe of the profile's recipes section "
                                     f"({sorted(recipes)}) nor label=path/to/generator.pt")
                sources.append(GeneratorSource(name, recipe=dict(recipes[name] or {})))
                continue
            path = Path(str(path).strip()).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"{setting}: {name}: no generator checkpoint at {path} (import the thesis' "
                                        "weights with python -m thesis_lib.models.import_thesis WEIGHTS --out CKPT)")
            sources.append(GeneratorSource(name, checkpoint=path.resolve()))
    if not sources:
        raise ValueError(f"{setting}: no generator; name a recipe ({sorted(recipes)}) or label=path")
    names = [s.name for s in sources]
    if len(set(names)) < len(names):
        raise ValueError(f"{setting}: generator names repeat ({names})")
    return sources


def ready_source(value, setting: str) -> GeneratorSource | None:
    """A chapter's ``generator`` setting: None (this run's own GANs), or one ready checkpoint as
    ``"label=path"``, ``{label: path}`` or a bare path (labelled by its file name)."""
    if value in (None, "", "none"):
        return None
    if isinstance(value, str) and "=" not in value:
        value = f"{Path(value).stem}={value}"
    sources = parse_sources(value, {}, setting)
    if len(sources) != 1:
        raise ValueError(f"{setting}: one ready generator expected, got {[s.name for s in sources]}")
    return sources[0]


def identity(source: GeneratorSource) -> dict:
    """What defines a source's generators, for a config hash: its recipe, or its file's hash."""
    if source.trained_here:
        return {"name": source.name, "recipe": source.recipe}
    return {"name": source.name, "checkpoint_sha1": file_sha1(source.checkpoint)}
