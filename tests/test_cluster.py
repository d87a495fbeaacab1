"""What every workflow step asks a cluster for, and the check of a cluster against it
(thesis_lib.cluster); the real SLURM runs are in test_slurm.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from thesis_lib import cluster, config
from thesis_lib.sections import check_profile

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = (REPO / "workflow" / "Snakefile").read_text()
RULES = re.findall(r"^rule (\w+):", SNAKEFILE, re.M)
SINFO = "cpu*|2|21000|(null)\ngpu|16|128000|gpu:4(S:0)\n"


def rule_block(name: str) -> str:
    return re.search(rf"^rule {name}:\n(.*?)(?=^rule |\Z)", SNAKEFILE, re.M | re.S).group(1)


@pytest.mark.parametrize("rule", [r for r in RULES if r != "all"])
def test_every_rule_says_what_it_needs(rule):
    """Threads and resources from the profile's resources section, by the rule's own name."""
    block = rule_block(rule)
    assert f'resources: **needs("{rule}")' in block, f"rule {rule} has no resources"
    assert re.search(rf'threads: .*cpus\("{rule}"\)', block), f"rule {rule} takes its threads from nowhere"


def test_the_test_of_resources_fails_on_a_rule_without_them(monkeypatch):
    bare = SNAKEFILE.replace('    resources: **needs("train_gan")\n', "")
    monkeypatch.setattr(__import__(__name__), "SNAKEFILE", bare)
    with pytest.raises(AssertionError, match="rule train_gan has no resources"):
        test_every_rule_says_what_it_needs("train_gan")


@pytest.mark.parametrize("profile", ["smoke", "gpu", "thesis"])
def test_every_profile_names_rules_only(profile):
    resources = config.load_profile(profile)["resources"]
    assert cluster.unknown_steps(resources, RULES) == []
    assert cluster.unknown_steps({**resources, "gpu": ["train_gans"]}, RULES) == ["train_gans"]


def test_gpu_profiles_put_their_training_on_a_gpu_and_smoke_does_not():
    for profile in ("gpu", "thesis"):
        gpu = config.load_profile(profile)["resources"]["gpu"]
        assert {"train_gan", "train_gan_k", "aug_k", "fid_results"} <= set(gpu)
    assert config.load_profile("smoke")["resources"]["gpu"] == []


def test_a_local_run_gets_no_cluster_settings_and_a_cluster_run_its_partitions():
    resources = config.load_profile("gpu")["resources"]
    assert cluster.job_resources(resources, "train_gan", {}) == {"mem_mb": 8000, "runtime": 30, "gpu": 1}
    run = {"slurm_partition": "cpu", "slurm_gpu_partition": "gpu", "slurm_account": "lab"}
    assert cluster.job_resources(resources, "train_gan", run)["slurm_partition"] == "gpu"
    assert cluster.job_resources(resources, "data_prep", run) == {"mem_mb": 16000, "runtime": 120,
                                                                  "slurm_partition": "cpu", "slurm_account": "lab"}
    assert cluster.job_resources(resources, "train_gan", {"slurm_partition": "big"})["slurm_partition"] == "big"


def test_sinfo_lines_become_partitions():
    parts = cluster.partitions(SINFO + "gpu|32|256000|gpu:a100:8(S:0-1),tmp:1\n")
    assert parts["cpu"] == cluster.Partition("cpu", True, 2, 21000, 0)
    assert parts["gpu"] == cluster.Partition("gpu", False, 32, 256000, 8)  # the largest node of the partition


def test_a_cluster_that_fits_the_profile_passes():
    resources = config.load_profile("gpu")["resources"]
    small = {**resources, "default": {"threads": 1, "mem_mb": 1000, "runtime": 10},
             "steps": {"aug_k": {"threads": 2}}}
    assert cluster.check(small, "configs/gpu.yaml", None, "gpu", SINFO) == []


@pytest.mark.parametrize("partition,gpu_partition,sinfo,expected", [
    ("nowhere", None, SINFO, "PARTITION=nowhere: no such partition (sinfo: cpu, gpu)"),
    (None, None, "cpu|2|21000|(null)\n", "no partition: give one (make book EXECUTOR=slurm PARTITION=...)"),
    ("cpu", None, SINFO, "rule train_gan needs a GPU (configs/gpu.yaml: resources.gpu), but partition cpu has no GPUs"),
    ("cpu", "gpu", SINFO, "rule data_prep asks for 8 CPUs (configs/gpu.yaml: resources.steps.data_prep.threads), "
                          "but the nodes of partition cpu have at most 2"),
    ("gpu", None, "gpu|16|4000|gpu:1\n", "rule aug_k asks for 16000 MB (configs/gpu.yaml: resources.steps.aug_k.mem_mb)"),
])
def test_a_cluster_that_cannot_run_a_step_is_named_with_the_setting(partition, gpu_partition, sinfo, expected):
    problems = cluster.check(config.load_profile("gpu")["resources"], "configs/gpu.yaml", partition, gpu_partition,
                             sinfo)
    assert any(line.startswith(expected) for line in problems), problems


@pytest.mark.parametrize("change,words", [
    ({"default": {"threads": 1, "mem_mb": 2000}}, "resources.default lacks runtime"),
    ({"steps": {"aug_k": {"threads": 0}}}, "resources.steps.aug_k.threads = 0 (expected a whole number >= 1)"),
    ({"steps": {"aug_k": {"cores": 4}}}, "resources.steps.aug_k.cores: unknown"),
    ({"steps": {"aug_k": 4}}, "resources.steps.aug_k = 4 (expected a mapping"),
])
def test_bad_resources_stop_naming_the_file_and_key(change, words):
    profile = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())
    profile["resources"] = {**profile["resources"], **change}
    with pytest.raises(ValueError, match=re.escape(words)):
        check_profile(profile, "configs/smoke.yaml")


def test_the_resources_table_has_a_row_per_named_step_and_one_for_the_rest():
    table = cluster.table(config.load_profile("smoke")["resources"])
    assert list(table.index)[-1] == "every other step" and "aug_k" in table.index
    assert cluster.markdown(table).splitlines()[0] == "| step | threads | memory (MB) | time (min) | GPUs |"


def test_the_cluster_docs_show_the_thesis_profile_s_resources():
    """docs/gpu-and-cluster.md's table (steps sharing a row joined by commas) equals the profile's."""
    text = (REPO / "docs" / "gpu-and-cluster.md").read_text().split("## Running on a cluster")[1]
    rows = [line.strip().strip("|").split("|") for line in text.splitlines() if line.strip().startswith("| ")]
    resources = config.load_profile("thesis")["resources"]
    shown = {}
    for cells in rows[2:]:  # after the header and its rule
        steps, *values = [c.strip() for c in cells]
        for step in steps.split(", "):
            shown[step] = values
    expected = cluster.table(resources)
    assert set(shown) == set(expected.index)
    for step, row in expected.iterrows():
        assert shown[step] == [str(v) for v in row], step
