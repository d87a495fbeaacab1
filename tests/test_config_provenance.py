import json

import pytest
import yaml

from thesis_lib import config
from thesis_lib.provenance import Run, git_commit


def test_resolve_merges_overrides_and_rejects_unknown():
    cfg = config.resolve("data_prep", "smoke", n_patients=7, dataset=None)
    profile = config.load_profile("smoke")
    assert cfg["n_patients"] == 7 and cfg["dataset"] == profile["data_prep"]["dataset"]
    assert cfg["seed"] == profile["seed"] and cfg["profile"] == "smoke"
    with pytest.raises(KeyError, match="n_patiens"):
        config.resolve("data_prep", "smoke", n_patiens=7)
    with pytest.raises(FileNotFoundError, match="known profiles"):
        config.load_profile("nonexistent")


def test_profiles_share_their_keys():
    smoke, thesis = (yaml.safe_load((config.CONFIG_DIR / f"{p}.yaml").read_text()) for p in ("smoke", "thesis"))
    for section in smoke:
        if isinstance(smoke[section], dict):
            assert set(smoke[section]) == set(thesis[section]), section


def test_artifacts_dir_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path))
    assert config.artifacts_dir("smoke") == tmp_path / "smoke"


def test_provenance_record(tmp_path):
    rec = Run("step", {"profile": "smoke", "seed": 3, "x": 1}).write(tmp_path, extra_field=5)
    on_disk = json.loads((tmp_path / "provenance.json").read_text())
    assert on_disk["seed"] == 3 and on_disk["parameters"]["x"] == 1 and on_disk["extra_field"] == 5
    assert on_disk["packages"]["numpy"] != "not installed"
    assert rec["git_commit"] == git_commit() and rec["duration_s"] >= 0
