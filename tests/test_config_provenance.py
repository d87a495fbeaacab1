import json
import subprocess
import sys
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import yaml

from thesis_lib import config
from thesis_lib.provenance import Run, git_commit
from thesis_lib.sections import SECTIONS, check_profile


def test_resolve_merges_overrides_and_rejects_unknown():
    cfg = config.resolve("data_prep", "smoke", n_patients=7, dataset=None)
    profile = config.load_profile("smoke")
    assert cfg["n_patients"] == 7 and cfg["dataset"] == profile["data_prep"]["dataset"]
    assert cfg["seed"] == profile["seed"] and cfg["profile"] == "smoke"
    with pytest.raises(KeyError, match="n_patiens"):
        config.resolve("data_prep", "smoke", n_patiens=7)
    with pytest.raises(FileNotFoundError, match="known profiles"):
        config.load_profile("nonexistent")


@pytest.mark.parametrize("other", ["thesis", "gpu"])
def test_profiles_share_their_keys(other):
    smoke, profile = (yaml.safe_load((config.CONFIG_DIR / f"{p}.yaml").read_text()) for p in ("smoke", other))
    for section in smoke:
        if isinstance(smoke[section], dict):
            assert set(smoke[section]) == set(profile[section]), section


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


def _profile_file(tmp_path, **changes):
    """configs/smoke.yaml with ``changes`` ({"section.key": value}, value None: the key deleted)."""
    cfg = yaml.safe_load((config.CONFIG_DIR / "smoke.yaml").read_text())
    for dotted, value in changes.items():
        *outer, key = dotted.split(".")
        holder = cfg[outer[0]] if outer else cfg
        holder.pop(key) if value is None else holder.__setitem__(key, value)
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("changes,error,words", [
    ({"fid.n_genrated": 100}, KeyError, ["fid.n_genrated", "unknown setting"]),
    ({"tsne.backend": None}, KeyError, ["'tsne' lacks", "backend"]),
    ({"qualitative.fold": "0"}, TypeError, ["qualitative.fold = '0'", "int"]),
    ({"aug.n_boot": True}, TypeError, ["aug.n_boot = True"]),
    ({"fdi": {"resize": "bilinear"}}, KeyError, ["unknown section", "fdi"]),
])
def test_a_profile_with_a_bad_setting_is_refused_naming_file_and_key(monkeypatch, tmp_path, changes, error, words):
    monkeypatch.setenv(config.RESOLVED_ENV, str(_profile_file(tmp_path, **changes)))
    with pytest.raises(error) as caught:
        config.resolve("fid", "smoke")
    assert str(tmp_path / "smoke.yaml") in str(caught.value) and all(w in str(caught.value) for w in words)


def test_shipped_profiles_fill_every_section():
    for profile in ("smoke", "thesis", "gpu"):
        sections = check_profile(config.load_profile(profile), profile)
        assert set(sections) == set(SECTIONS) and sections["fid"].pr_k == 3
        with pytest.raises(FrozenInstanceError):
            sections["fid"].pr_k = 5


def test_list_parameters_given_as_text_read_as_lists():
    """papermill's -p hands a list over as text: `-p classifier_seeds "[0, 1, 2]"` must work."""
    assert config.resolve("aug", "smoke", classifier_seeds="[0, 1, 2]")["classifier_seeds"] == [0, 1, 2]
    assert config.resolve("aug", "smoke", k="100")["k"] == [100]
    assert config.resolve("aug", "smoke", classifier_seeds=[3])["classifier_seeds"] == [3]
    with pytest.raises(ValueError, match="classifier_seeds='{0: 1}': need a list"):
        config.resolve("aug", "smoke", classifier_seeds="{0: 1}")
