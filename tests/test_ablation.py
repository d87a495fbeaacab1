"""The DCGAN chapter's ablation: cumulative rows from the thesis' recipe, trained once, scored
like the fold GANs."""

from __future__ import annotations

import json

import pytest
import yaml

from thesis_lib import config
from thesis_lib.data.datasets import scan
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.studies import ablation

TINY_GAN = {"nz": 8, "ngf": 2, "ndf": 2, "batch_size": 4, "iterations": 4, "eval_every": 1, "sample_every": 1,
            "eval_samples": 8, "snapshot_every": 0, "checkpoint_every": 2}


@pytest.fixture
def tiny(cohort, tmp_path, monkeypatch):
    """A profile 'tiny' (the smoke profile with tiny GANs and two ablation rows) over a patch
    store of the 6-patient cohort."""
    profile = yaml.safe_load((config.CONFIG_DIR / "smoke.yaml").read_text())
    profile["profile"] = "tiny"
    profile["gan"].update(TINY_GAN)
    profile["ablation"].update(iterations=4, n_generated=4, rows={"thesis' recipe": {}, "+ EMA": {"ema_decay": 0.9}})
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "tiny.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    monkeypatch.setattr(config, "CONFIG_DIR", configs)
    monkeypatch.setenv("THESIS_ARTIFACTS", str(tmp_path / "artifacts"))
    records, skips = scan("synthetic", cohort)
    build_patch_store(records, tmp_path / "artifacts" / "tiny" / "patches", PatchParams(), seed=1,
                      source="synthetic", loader_skips=skips, progress=False)
    return tmp_path / "artifacts" / "tiny"


@pytest.mark.slow
def test_rows_add_their_settings_to_the_thesis_recipe_and_are_trained_once(tiny):
    ablation.main(["--profile", "tiny", "--no-progress"])
    table = ablation.read_ablation(tiny)
    assert list(table.row) == ["thesis' recipe", "+ EMA"] and list(table.changes) == ["-", "ema_decay = 0.9"]
    assert (table.budget == "4 iterations of batch 4").all() and (table["N generated"] == 4).all()
    assert table[["FID", "real-real FID", "precision", "recall"]].notna().all().all()
    first, second = (json.loads((tiny / "ablation" / f"row{i}" / "provenance.json").read_text())["parameters"]
                     for i in (0, 1))
    assert (first["ema_decay"], first["evaluator"]) == (0.0, "pixel")  # recipes.thesis over the gan section
    assert (second["ema_decay"], second["evaluator"]) == (0.9, "pixel")  # + its own change
    assert json.loads((tiny / "ablation" / "provenance.json").read_text())["rows"] == 2
    trained = (tiny / "ablation" / "row1" / "summary.json").stat().st_mtime_ns
    again = ablation.ablation_table("tiny")
    assert (tiny / "ablation" / "row1" / "summary.json").stat().st_mtime_ns == trained  # reused, not retrained
    assert list(again.FID.round(6)) == list(table.FID.round(6))


@pytest.mark.slow
def test_a_bad_row_fails_before_anything_trains(tiny):
    profile = yaml.safe_load((config.CONFIG_DIR / "tiny.yaml").read_text())
    profile["ablation"]["rows"]["+ EMA"] = {"ema_decay": 1.5}
    (config.CONFIG_DIR / "tiny.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    with pytest.raises(ValueError, match="ema_decay=1.5"):
        ablation.ablation_table("tiny")
    assert not (tiny / "ablation").exists()
    del profile["recipes"]["thesis"]
    (config.CONFIG_DIR / "tiny.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    with pytest.raises(KeyError, match="recipes.thesis"):
        ablation.ablation_table("tiny")


def test_rows_that_do_not_separate_are_not_ranked():
    import pandas as pd
    from thesis_lib.studies.ablation import ranking

    def table(*rows):
        return pd.DataFrame(rows, columns=["row", "FID / floor", "precision", "recall", "realistic"])

    failing = table(("thesis' recipe", 3.46, 0.0, 0.0, False), ("+ EMA of G", 3.45, 0.0, 0.0, False),
                    ("+ texture-aware selection", 3.45, 0.0, 0.0, False))
    best, why = ranking(failing)
    assert best is None and "no row meets the realism rules" in why
    assert "+ EMA of G and + texture-aware selection" in why  # identical rows named
    close = table(("a", 1.50, 0.6, 0.4, True), ("b", 1.55, 0.6, 0.4, True))
    assert ranking(close)[0] is None and "within 10%" in ranking(close)[1]
    clear = table(("a", 1.20, 0.7, 0.5, True), ("b", 2.40, 0.3, 0.1, False))
    assert ranking(clear)[0] == "a"
