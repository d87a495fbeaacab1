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


@dataclass(frozen=True)
class DesignSection:
    """The study's primary question, fixed before a run (``thesis_lib.studies.primary``): one
    comparison "A better than B" of the augmentation study at one k, read by two one-sided tests
    against an equivalence margin per score, with the power it is planned for."""

    comparison: list  # [A, B]: two arms of aug.approaches
    metric: str  # the primary score: auc | ap | f1
    beside: list  # further scores joined into the comparison's one verdict
    k: int  # the training size it is judged at: one of aug.k
    margins: dict  # score -> equivalence margin, in the score's units (0, 0.5)
    margin_why: str  # why those margins: shown with the verdict
    alpha: float  # two-sided level (TOST: each one-sided test at alpha)
    power: float  # of the smallest detectable difference
    stable_share: float  # share of leave-one-G_k-seed-out verdicts that must agree, else "seed-dependent"


@dataclass(frozen=True)
class ResourcesSection:
    """What each workflow step asks a cluster for (``thesis_lib.cluster``; a local run uses the
    threads alone, capped by ``--cores``)."""

    default: dict  # threads, mem_mb (MB), runtime (minutes): every step's unless ``steps`` says otherwise
    steps: dict  # step (a rule of workflow/Snakefile) -> the settings where it needs more
    gpu: list  # the steps that ask for one GPU


SCORES = ("auc", "ap", "f1")
RESOURCE_KEYS = ("threads", "mem_mb", "runtime")  # per step: CPUs, memory in MB, wall time in minutes
SECTIONS: dict[str, type] = {"data_prep": DataPrepSection, "ablation": AblationSection, "fid": FidSection,
                             "qualitative": QualitativeSection, "aug": AugSection, "tsne": TsneSection,
                             "design": DesignSection, "resources": ResourcesSection}
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
    sections = {name: check_section(name, profile[name], where) for name in SECTIONS if name in profile}
    if "resources" in sections:
        check_resources(sections["resources"], where)
    if "aug" in sections:
        if "design" not in sections:
            raise KeyError(f"{where}: section 'design' missing: the augmentation study needs its primary question "
                           "(comparison, metric, k, margins) fixed before it runs; see configs/smoke.yaml")
        check_design(sections["design"], sections["aug"], where)
    return sections


def check_resources(resources: ResourcesSection, where: str | Path) -> None:
    """Each step's settings: ``default`` names threads, mem_mb and runtime, each a whole number
    >= 1, and a step names no other; an error names ``where`` and the key."""
    keys = RESOURCE_KEYS
    wrong = [f"resources.default lacks {k}" for k in keys if k not in resources.default]
    for name, values in [("default", resources.default),
                         *((f"steps.{step}", v) for step, v in resources.steps.items())]:
        if not isinstance(values, dict):
            wrong.append(f"resources.{name} = {values!r} (expected a mapping of {', '.join(keys)})")
            continue
        wrong += [f"resources.{name}.{k}: unknown (known: {', '.join(keys)})" for k in values if k not in keys]
        wrong += [f"resources.{name}.{k} = {v!r} (expected a whole number >= 1)" for k, v in values.items()
                  if k in keys and not (isinstance(v, int) and not isinstance(v, bool) and v >= 1)]
    wrong += [f"resources.gpu: {step!r} is not a step name" for step in resources.gpu if not isinstance(step, str)]
    if wrong:
        raise ValueError(f"{where}: {'; '.join(wrong)}")


def check_design(design: DesignSection, aug: AugSection, where: str | Path) -> None:
    """The primary question against the study that answers it: an error naming ``where`` and the
    key when the comparison, a score, a margin, the k, a level or the seeds cannot work."""
    wrong = []
    arms = design.comparison
    if len(arms) != 2 or len(set(arms)) != 2 or not set(arms) <= set(aug.approaches):
        wrong.append(f"design.comparison = {arms!r}: need two different arms of aug.approaches {aug.approaches}")
    scores = [design.metric, *design.beside]
    if not set(scores) <= set(SCORES) or len(set(scores)) != len(scores):
        wrong.append(f"design.metric and design.beside = {scores!r}: need distinct scores of {list(SCORES)}")
    for score in scores:
        margin = design.margins.get(score) if isinstance(design.margins, dict) else None
        if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not 0 < margin < 0.5:
            wrong.append(f"design.margins.{score} = {margin!r}: need a margin in (0, 0.5), in the score's units")
    if not design.margin_why.strip():
        wrong.append("design.margin_why is empty: say why the margins are what they are")
    if design.k not in aug.k:
        wrong.append(f"design.k = {design.k}: not one of aug.k {aug.k}")
    if not 0 < design.alpha < 0.5:
        wrong.append(f"design.alpha = {design.alpha}: need a level in (0, 0.5)")
    if not 0.5 <= design.power < 1:
        wrong.append(f"design.power = {design.power}: need a power in [0.5, 1)")
    if not 0.5 < design.stable_share <= 1:
        wrong.append(f"design.stable_share = {design.stable_share}: need a share in (0.5, 1]")
    for name in ("gan_seeds", "classifier_seeds"):
        seeds = getattr(aug, name)
        if not isinstance(seeds, list) or len(set(seeds)) < 2:
            wrong.append(f"aug.{name} = {seeds!r}: need at least 2 distinct seeds, so that the intervals sample "
                         "their variance")
    if wrong:
        raise ValueError(f"{where}: " + "; ".join(wrong))
