"""A generator from anywhere where the book uses one: the thesis' own G, imported, scored by
the FID step and drawn in the t-SNE sets; a generator of another size is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_import_thesis import _thesis_state

from thesis_lib import config
from thesis_lib.data.datasets import scan
from thesis_lib.data.prep import PatchParams, build_patch_store
from thesis_lib.data.store import PatchStore
from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Generator
from thesis_lib.models.generate import generate
from thesis_lib.models.import_thesis import import_thesis
from thesis_lib.studies import fid_results, tsne


@pytest.fixture(scope="module")
def world(cohort, tmp_path_factory):
    """A 128-pixel patch store (the thesis' size) and the thesis' generator imported from a
    state_dict in its layout (random weights, ngf 4)."""
    root = tmp_path_factory.mktemp("ready")
    records, skips = scan("synthetic", cohort)
    build_patch_store(records, root / "smoke" / "patches", PatchParams(), seed=1, source="synthetic",
                      loader_skips=skips, progress=False)
    torch.save(_thesis_state(nz=200, ngf=4).state_dict(), root / "500.pt")
    import_thesis(root / "500.pt", root / "thesis_G.pt")
    return root


@pytest.mark.slow
def test_the_fid_step_scores_a_ready_generator_on_every_fold(world, monkeypatch):
    monkeypatch.setenv("THESIS_ARTIFACTS", str(world))
    params = config.resolve("fid", "smoke", n_generated=4, domain_epochs=1, generator=f"thesis G={world / 'thesis_G.pt'}")
    record = fid_results.current(params)  # no GAN of this run anywhere: only the ready one is scored
    assert [row["fold"] for row in record["table"]] == [0, 1, 2] and len(record["domain"]) == 3
    assert record["curve"] == []  # no snapshots of a generator made elsewhere
    assert record["generator"]["name"] == "thesis G" and len(record["generator"]["checkpoint_sha1"]) == 40
    assert "OPTIMAM" in record["generator"]["description"]
    assert "not trained on this run's data" in record["generator"]["description"]
    path = fid_results.results_path(world / "smoke")
    written = path.stat().st_mtime_ns
    assert json.loads(path.read_text())["table"] == json.loads(json.dumps(record["table"], default=str))
    fid_results.current(params)
    assert path.stat().st_mtime_ns == written  # same parameters, same file: read, not recomputed
    fid_results.current({**params, "n_generated": 5})
    assert path.stat().st_mtime_ns > written


def test_the_tsne_sets_draw_from_the_ready_generator(world):
    sets = tsne.mass_sets(PatchStore(world / "smoke" / "patches"), world / "smoke", 0, None, ratio=1.0, n_normal=4,
                          seed=5, generator=world / "thesis_G.pt")
    np.testing.assert_array_equal(sets.generated, generate(world / "thesis_G.pt", len(sets.real), seed=5))


def test_a_generator_of_another_size_is_refused_by_name(world, monkeypatch, tmp_path):
    monkeypatch.setenv("THESIS_ARTIFACTS", str(world))
    small = tmp_path / "g64.pt"
    checkpoint.save(small, {"config": {"nz": 8, "ngf": 2, "image_size": 64}, "generator": Generator(8, 2, 64).state_dict()})
    params = config.resolve("fid", "smoke", n_generated=4, domain_epochs=1, generator=str(small))
    with pytest.raises(ValueError, match=r"fid.generator: .*g64.pt draws 64 x 64 patches but the patch store holds "
                                         r"128 x 128 ones"):
        fid_results.compute(params)
    with pytest.raises(FileNotFoundError, match="no generator checkpoint"):
        fid_results.compute({**params, "generator": str(tmp_path / "missing.pt")})
