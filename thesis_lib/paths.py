"""Where a profile's outputs live: the artifact layout, in one place.

Every step, chapter and the workflow name these folders through this module; what a study
writes inside its own folder (its results files) is that study's format::

    artifacts/<profile>/            config.artifacts_dir(profile); the workflow's ART
      config.yaml                   the profile as the workflow resolved it
      patches/                      the patch store (thesis_lib.data.build)
      data_report/                  what the data chapter shows (thesis_lib.data.report)
      cache/                        Inception features, image by image
      features/masses.json          the record of embedding every real mass once
      gan/fold<f>[_k<k>...]/        GAN runs (thesis_lib.training.runs.run_dir names them)
      ablation/                     the recipe ablation: its runs and results.csv
      fid/provenance.json           realism results (thesis_lib.studies.fid_results)
      aug/                          the k-sweep: k<k>/results.csv, intervals.csv, generators.csv
      tsne/                         maps.csv, support.csv
      recipes/                      benchmark runs (benchmarks/gan_recipes.py)
      figures/                      every figure, as PNG and PDF
      qualitative/                  what the qualitative chapter shows (thesis_lib.studies.qualitative)
      scorecard/                    the scorecard chapter's record
      logs/                         one log per workflow step
"""

from __future__ import annotations

from pathlib import Path


def store(artifacts: str | Path) -> Path:
    """The patch store's folder."""
    return Path(artifacts) / "patches"


def data_report(artifacts: str | Path) -> Path:
    """What the data chapter shows (:mod:`thesis_lib.data.report`)."""
    return Path(artifacts) / "data_report"


def qualitative(artifacts: str | Path) -> Path:
    """What the qualitative chapter shows (:mod:`thesis_lib.studies.qualitative`)."""
    return Path(artifacts) / "qualitative"


def cache(artifacts: str | Path) -> Path:
    """The Inception feature cache."""
    return Path(artifacts) / "cache"


def features_record(artifacts: str | Path) -> Path:
    """The record written once every real mass is in the feature cache."""
    return Path(artifacts) / "features" / "masses.json"


def gan(artifacts: str | Path) -> Path:
    """The folder of every GAN run (fold GANs and G_k)."""
    return Path(artifacts) / "gan"


def ablation(artifacts: str | Path) -> Path:
    return Path(artifacts) / "ablation"


def fid_results(artifacts: str | Path) -> Path:
    """The realism results (JSON)."""
    return Path(artifacts) / "fid" / "provenance.json"


def aug(artifacts: str | Path) -> Path:
    """The augmentation study's folder."""
    return Path(artifacts) / "aug"


def tsne(artifacts: str | Path) -> Path:
    return Path(artifacts) / "tsne"


def recipes(artifacts: str | Path) -> Path:
    """Runs of benchmarks/gan_recipes.py."""
    return Path(artifacts) / "recipes"


def figures(artifacts: str | Path) -> Path:
    return Path(artifacts) / "figures"


def chapter_record(artifacts: str | Path, chapter: str) -> Path:
    """Where a chapter that computes on its own (qualitative, scorecard) keeps its record."""
    return Path(artifacts) / chapter


def logs(artifacts: str | Path) -> Path:
    """One log per workflow step."""
    return Path(artifacts) / "logs"
