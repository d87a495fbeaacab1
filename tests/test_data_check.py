"""The data check after the data step (thesis_lib.studies.capacity.check_data): a dataset too
small for the profile stops with one line naming the setting, before any GAN trains."""

from __future__ import annotations

import json

import pytest
import yaml

from thesis_lib import config
from thesis_lib.data.datasets import scan
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data import capacity
from thesis_lib.data.store import PatchStore


@pytest.fixture
def small_store(cohort, tmp_path, monkeypatch):
    """The 6-patient cohort's store (a few training masses per fold) as the smoke profile's."""
    records, skips = scan("synthetic", cohort)
    build_patch_store(records, tmp_path / "smoke" / "patches", PatchParams(), seed=1, source="synthetic",
                      loader_skips=skips, progress=False)
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path))
    return tmp_path / "smoke" / "patches"


def _resolved(tmp_path, monkeypatch, **sections):
    """The smoke profile with ``sections`` updated, handed over as the workflow hands it."""
    profile = yaml.safe_load(config.profile_path("smoke").read_text())
    for name, values in sections.items():
        profile[name] = {**profile[name], **values}
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(profile))
    monkeypatch.setenv(config.RESOLVED_ENV, str(path))


def test_a_dataset_too_small_for_k_is_named_with_the_setting(small_store):
    with pytest.raises(capacity.CapacityError, match=r"k=100: fold 0's training pool holds \d+ mass.*lower aug\.k"):
        capacity.check_data("smoke")


def test_a_k_the_data_supports_passes_and_too_few_held_out_masses_for_precision_fail(small_store, tmp_path,
                                                                                     monkeypatch):
    counts = capacity.fold_counts(PatchStore(small_store))
    small = min(c["train_masses"] for c in counts)
    _resolved(tmp_path, monkeypatch, aug={"k": [small], "normal_per_real": 1}, tsne={"k": small}, design={"k": small})
    supports = capacity.check_data("smoke")
    assert supports["largest_k"] == small and [c["fold"] for c in supports["folds"]] == [c["fold"] for c in counts]
    held_out = min(c["held_out_masses"] for c in counts)
    _resolved(tmp_path, monkeypatch, aug={"k": [small], "normal_per_real": 1}, tsne={"k": small}, design={"k": small},
              fid={"pr_k": held_out})
    with pytest.raises(capacity.CapacityError, match=rf"precision and recall \(fid.pr_k = {held_out}\)"):
        capacity.check_data("smoke")


def test_the_command_writes_what_the_data_supports_or_one_line_and_nothing(small_store, tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="error: .*lower aug.k"):
        capacity.main(["--profile", "smoke"])
    assert not (small_store / "supports.json").exists()
    small = min(c["train_masses"] for c in capacity.fold_counts(PatchStore(small_store)))
    _resolved(tmp_path, monkeypatch, aug={"k": [small], "normal_per_real": 1}, tsne={"k": small}, design={"k": small})
    capacity.main(["--profile", "smoke"])
    assert json.loads((small_store / "supports.json").read_text())["largest_k"] == small
