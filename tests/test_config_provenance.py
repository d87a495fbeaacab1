import json
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.slow
def test_the_workflows_resolved_profile_reaches_every_step(monkeypatch, tmp_path):
    """The workflow hands its resolved profile (with --config overrides) to the steps through
    $THESIS_RESOLVED_CONFIG; a resolved file of another profile is not used for this one."""
    profile = config.load_profile("smoke")
    profile["gan"]["ngf"] = 16
    resolved = tmp_path / "config.yaml"
    resolved.write_text(yaml.safe_dump(profile))
    monkeypatch.setenv(config.RESOLVED_ENV, str(resolved))
    assert config.resolve("gan", "smoke")["ngf"] == 16 and config.profile_path("smoke") == resolved
    assert config.profile_path("thesis") == config.CONFIG_DIR / "thesis.yaml"
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
    monkeypatch.delenv(config.RESOLVED_ENV)
    snakemake = Path(sys.executable).with_name("snakemake")
    subprocess.run([snakemake, "--list-rules", "--directory", str(tmp_path / "wd"),
                    "--snakefile", f"{root}/workflow/Snakefile", "--configfile", f"{root}/configs/smoke.yaml",
                    "--config", "gan={ngf: 16}"], check=True, capture_output=True)
    written = yaml.safe_load((tmp_path / "wd" / "artifacts" / "smoke" / "config.yaml").read_text())
    assert written["gan"]["ngf"] == 16 and written["gan"]["ndf"] == profile["gan"]["ndf"]  # typed, merged


def test_artifacts_dir_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path))
    assert config.artifacts_dir("smoke") == tmp_path / "smoke"


def test_provenance_record(tmp_path):
    rec = Run("step", {"profile": "smoke", "seed": 3, "x": 1}).write(tmp_path, extra_field=5)
    on_disk = json.loads((tmp_path / "provenance.json").read_text())
    assert on_disk["seed"] == 3 and on_disk["parameters"]["x"] == 1 and on_disk["extra_field"] == 5
    assert on_disk["packages"]["numpy"] != "not installed"
    assert rec["git_commit"] == git_commit() and rec["duration_s"] >= 0
