"""The profile's sections as frozen dataclasses: every setting a section may hold, with its type.

:func:`check_profile` checks a whole profile file through them when it is loaded
(``config.load_profile``), so a misspelt setting, a setting of the wrong type or an unknown
section is an error naming the file, the section and the key, never a silent default. The
``gan`` section, the ``recipes`` and the G_k settings (``aug.gan``, ``ablation.rows``) are
:class:`thesis_lib.training.gan_config.GanConfig`'s, which checks them the same way when a run
is built from them.

:data:`EXECUTION` names the settings that say where and how fast a step runs rather than what it
computes; they are left out of every run's identity (a run's hash, resuming a run).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

EXECUTION = frozenset({"device", "workers", "compile", "artifacts", "profile"})


@dataclass(frozen=True)
class DataPrepSection:
    """Which cohort, and how patches are cut from it (notebook 00, ``thesis_lib.data.build``)."""

    dataset: str  # synthetic | cbis-ddsm | inbreast | vindr-mammo | omi-db
    data_root: str | None
    n_patients: int  # 0: all
    patch_rule: str  # bbox_resize | centre_crop
    negative_windows: str  # matched | native
    bbox_margin: float  # fraction of the box added on each side
    patch_size: int  # pixels
    negatives_per_image: int
    min_grey_levels: int
    stretch_percentiles: list  # [low, high], percent
    lesion_types: list
    n_folds: int
    val_fraction: float
    synthetic: dict  # the synthetic cohort's settings (checked by data.synthetic.CohortSpec)


@dataclass(frozen=True)
class AblationSection:
    """The DCGAN chapter's ablation: one fold, one budget, rows of GAN settings."""

    fold: int
    iterations: int
    n_generated: int
    rows: dict  # row name -> gan settings added to the row above


@dataclass(frozen=True)
class FidSection:
    """Realism of the fold GANs (chapter 03, ``thesis_lib.studies.fid_results``)."""

    generator: str | None  # "label=path": a ready generator scored instead of the run's GANs
    resize: str  # bilinear | bicubic
    n_generated: int
    n_generated_curve: int
    curve_fold: int
    kid_subsets: int
    pr_k: int
    domain_epochs: int
    domain_lr: float


@dataclass(frozen=True)
class QualitativeSection:
    """Samples, memorisation and interpolation (chapter 02)."""

    generator: str | None
    fold: int
    n_generated: int
    interpolation_steps: int


@dataclass(frozen=True)
class AugSection:
    """The augmentation k-sweep (chapter 04, ``thesis_lib.studies.augstudy``) and its classifier."""

    k: list  # training sizes
    approaches: list
    normal_per_real: int
    synthetic_per_real: float
    ndf: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    step_gamma: float
    select_on: str  # the validation score that picks a classifier's epoch: auc | f1 (the thesis)
    patience: int  # epochs without a better validation score before stopping (0: all epochs)
    device: str
    workers: int
    classifier_seeds: list
    gan_seeds: list
    n_boot: int
    gate_samples: int
    generators: list  # recipes of the profile, or "label=path" checkpoints
    gan: dict  # G_k settings over the gan section (checked by GanConfig)


@dataclass(frozen=True)
class TsneSection:
    """The t-SNE maps and neighbourhood scores (chapter 05, ``thesis_lib.studies.tsne_results``)."""

    generator: str | None
    fold: int
    k: int | str  # a G_k of the augmentation study, or "all": the fold's GAN
    spaces: list  # pixels | inception
    perplexity: float
    n_iter: int
    n_normal: int
    synthetic_ratio: float
    neighbours: int
    n_perm: int
    backend: str  # auto | opentsne | sklearn


SECTIONS: dict[str, type] = {"data_prep": DataPrepSection, "ablation": AblationSection, "fid": FidSection,
                             "qualitative": QualitativeSection, "aug": AugSection, "tsne": TsneSection}
OTHER_KEYS = {"profile": str, "seed": int, "gan": dict, "recipes": dict}  # gan, recipes: GanConfig's


def _accepts(kind: Any, value: Any) -> bool:
    """Whether ``value`` fits the annotation ``kind`` (int for float allowed, bool for int not)."""
    if isinstance(kind, types.UnionType):
        return any(_accepts(k, value) for k in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def check_section(name: str, values: dict, where: str | Path) -> Any:
    """The frozen dataclass of section ``name`` built from ``values`` (a profile's section);
    an unknown, missing or mistyped setting is an error naming ``where``, the section and key."""
    schema = SECTIONS[name]
    hints = typing.get_type_hints(schema)
    known = [f.name for f in fields(schema)]
    unknown, missing = sorted(set(values) - set(known)), [k for k in known if k not in values]
    if unknown:
        raise KeyError(f"{where}: unknown setting(s) {[f'{name}.{k}' for k in unknown]}; "
                       f"section {name!r} knows {known}")
    if missing:
        raise KeyError(f"{where}: section {name!r} lacks {missing}")
    wrong = [f"{name}.{k} = {values[k]!r} (expected {hints[k]})" for k in known if not _accepts(hints[k], values[k])]
    if wrong:
        raise TypeError(f"{where}: {'; '.join(wrong)}")
    return schema(**values)


def check_profile(profile: dict, where: str | Path) -> dict[str, Any]:
    """Every section of a profile checked (:func:`check_section`); returns the frozen sections."""
    unknown = sorted(set(profile) - set(SECTIONS) - set(OTHER_KEYS))
    if unknown:
        raise KeyError(f"{where}: unknown section(s) {unknown}; a profile holds {sorted({*SECTIONS, *OTHER_KEYS})}")
    wrong = [f"{k} = {profile[k]!r} (expected {kind.__name__})" for k, kind in OTHER_KEYS.items()
             if k in profile and profile[k] is not None and not _accepts(kind, profile[k])]
    if wrong:
        raise TypeError(f"{where}: {'; '.join(wrong)}")
    return {name: check_section(name, profile[name], where) for name in SECTIONS if name in profile}
