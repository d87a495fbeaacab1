"""Render-only mode, the banner and the published run's checks (thesis_lib.results,
thesis_lib.book.banner, thesis_lib.book.published)."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from thesis_lib.book import banner, published
from thesis_lib.results import RENDER_ONLY_ENV, ComputeAtRenderTime, ResultsMissing, recorded, refuse_at_render


@pytest.fixture
def rendering(monkeypatch):
    monkeypatch.setenv(RENDER_ONLY_ENV, "1")


def test_at_render_time_the_store_checkpoints_and_inception_are_refused(rendering, tmp_path):
    from thesis_lib.data.store import PatchStore
    from thesis_lib.evaluation.inception import InceptionFeatures
    from thesis_lib.models import checkpoint
    with pytest.raises(ComputeAtRenderTime, match="open the patch store"):
        PatchStore(tmp_path)
    with pytest.raises(ComputeAtRenderTime, match="load the checkpoint"):
        checkpoint.load(tmp_path / "best.pt")
    with pytest.raises(ComputeAtRenderTime, match="run the FID Inception network"):
        InceptionFeatures()


def test_outside_render_time_nothing_is_refused(monkeypatch):
    monkeypatch.delenv(RENDER_ONLY_ENV, raising=False)
    refuse_at_render("anything")
    monkeypatch.setenv(RENDER_ONLY_ENV, "0")
    refuse_at_render("anything")


def test_missing_results_name_the_step(tmp_path):
    with pytest.raises(ResultsMissing, match=r"fid/provenance.json: missing; .* run `python -m thesis_lib.studies.fid_results`"):
        recorded(tmp_path / "fid" / "provenance.json", {"n_generated": 64}, "python -m thesis_lib.studies.fid_results")


def test_results_of_other_parameters_are_refused_but_not_another_location(tmp_path):
    path = tmp_path / "provenance.json"
    path.write_text(json.dumps({"parameters": {"n_generated": 12, "seed": 1, "artifacts": "/elsewhere/smoke"}}))
    assert recorded(path, {"n_generated": 12, "seed": 1, "artifacts": str(tmp_path)}, "step")["parameters"]["seed"] == 1
    with pytest.raises(ResultsMissing, match=r"other parameters \(n_generated differ\); run `step`"):
        recorded(path, {"n_generated": 64, "seed": 1}, "step")


RECORD = {"profile": "smoke", "device": "cpu", "commit": "abcdef1234567", "packed": "2026-12-04T22:00:00+00:00",
          "sizes": {"patch_size": 64, "nz": 100, "ngf": 8, "ndf": 8, "n_folds": 2, "k": [50, 100],
                    "classifier_seeds": [0, 1], "gan_seeds": [0], "dataset": "synthetic", "n_patients": 120},
          "step_seconds": {"gan/fold0": 50.0, "gan/fold1": 60.0, "aug/k50": 200.0, "ablation": 30.0,
                           "ablation/row0": 10.0, "ablation/row1": 12.0}}


def test_the_banner_says_the_scale_sizes_device_commit_and_step_times():
    text = banner.banner_text(RECORD)
    assert "the smoke profile: the laptop build, not the thesis-scale run" in text
    assert "Patches 64 x 64 px" in text and "2 patient-level folds; k (real training masses) = 50, 100" in text
    assert "Device: cpu" in text and "120 patients" in text
    assert "abcdef123456" in text and "2026-12-04" in text and "aug 3 min, gan 110 s, ablation 30 s" in text
    assert "a thesis-scale run on one GPU" in banner.banner_text({**RECORD, "profile": "gpu"})
    assert "no run record" in banner.banner_text(None)
    dirty = banner.front_page({**RECORD, "commit": "abcdef1234567+dirty"})
    assert "at commit abcdef123456+dirty" in dirty and "no one commit rebuilds it exactly" in dirty
    clean = banner.front_page({**RECORD, "step_commits": ["abcdef1234567"]})
    assert "at commit abcdef123456" in clean and "a fresh clone of that commit rebuilds it" in clean
    older = {**RECORD, "step_commits": ["0123456789ab", "abcdef1234567"]}  # a step not rerun after a commit
    assert "with its steps at commits 0123456789ab, abcdef123456 (recorded at abcdef123456)" in banner.banner_text(older)
    assert "no one commit rebuilds it exactly" in banner.front_page(older)


def test_the_front_page_says_a_laptop_build_leaves_the_thesis_scale_run_pending():
    assert "The thesis-scale run is pending" in banner.front_page(RECORD)
    gpu = banner.front_page({**RECORD, "profile": "gpu", "device": "NVIDIA H200"},
                            {"title": "H200 run", "scale": "thesis-scale", "rebuild": "thesis-bundle --profile gpu"})
    assert "pending" not in gpu and "H200 run" in gpu and "thesis-bundle --profile gpu" in gpu


def _published(tmp_path, scale, **manifest):
    folder = tmp_path / "run"
    (folder / "artifacts").mkdir(parents=True, exist_ok=True)
    (folder / "artifacts" / "results.csv").write_text("k,auc\n100,0.9\n")
    files = {"artifacts/results.csv": {"bytes": 14, "sha256": hashlib.sha256(b"k,auc\n100,0.9\n").hexdigest()}}
    (folder / "manifest.json").write_text(json.dumps({**RECORD, "overridden": [], "files": files, **manifest}))
    (folder / "site.yaml").write_text(yaml.safe_dump({"title": "a run", "scale": scale, "rebuild": "make book"}))
    return folder


def test_a_laptop_or_dry_run_that_calls_itself_thesis_scale_is_refused(tmp_path):
    assert published.problems(_published(tmp_path, "laptop")) == []
    found = published.problems(_published(tmp_path, "thesis-scale"))
    assert any("ran profile 'smoke'" in p for p in found) and any("on the CPU" in p for p in found)
    dry = published.problems(_published(tmp_path, "thesis-scale", profile="gpu", device="NVIDIA H200",
                                        overridden=["data_prep.n_patients"]))
    assert dry == [f"{tmp_path / 'run'}: calls itself thesis-scale but overrides its profile (data_prep.n_patients): "
                   "a dry run or a cut-down run"]
    assert published.problems(_published(tmp_path, "thesis-scale", profile="gpu", device="NVIDIA H200")) == []


def test_a_published_file_that_differs_from_its_manifest_is_refused(tmp_path):
    folder = _published(tmp_path, "laptop")
    (folder / "artifacts" / "results.csv").write_text("k,auc\n100,0.99\n")
    assert published.problems(folder) == [f"{folder / 'artifacts' / 'results.csv'}: differs from the manifest (SHA-256)"]


def test_every_run_in_published_is_what_it_claims():
    for folder in published.runs():
        assert published.problems(folder) == []


def test_what_is_not_a_bundle_is_refused_before_anything_is_written(tmp_path):
    from thesis_lib.book import render
    (tmp_path / "folder").mkdir()
    with pytest.raises(FileNotFoundError, match=r"folder: not a bundle \(no manifest.json\)"):
        render.unpack(tmp_path / "folder", tmp_path / "work")
    (tmp_path / "notes.txt").write_text("not a tar")
    with pytest.raises(FileNotFoundError, match="notes.txt: neither a bundle folder nor a tar"):
        render.unpack(tmp_path / "notes.txt", tmp_path / "work")
    assert not (tmp_path / "work").exists()
