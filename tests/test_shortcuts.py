"""The shortcut audit: nuisance statistics that must not tell masses from normal tissue."""

import numpy as np
import pytest
from scipy import ndimage

from thesis_lib.data import shortcuts
from thesis_lib.data.datasets import scan
from thesis_lib.data.patches import resize_patch
from thesis_lib.data.prep import PatchParams, build_patch_store


def _noise(n, rng, side=128):
    return np.clip(rng.normal(120, 20, (n, side, side)), 0, 255).astype(np.uint8)


def test_statistics_see_resampling_and_noise():
    rng = np.random.default_rng(0)
    native = _noise(20, rng)
    upsampled = np.stack([resize_patch(p, 128) for p in _noise(20, rng, side=64)])
    stats_native, stats_up = shortcuts.patch_statistics(native), shortcuts.patch_statistics(upsampled)
    for name in ("laplacian_sd", "high_freq_power", "noise_sd"):  # smoothing lowers each of them
        assert stats_up[name].max() < stats_native[name].min(), name
    assert stats_native["mean"].between(115, 125).all()
    with pytest.raises(ValueError, match="uint8"):
        shortcuts.patch_statistics(native.astype(float))


def test_a_bright_blob_is_content_not_a_shortcut():
    """Statistics of sharpness barely move when a smooth mass-like blob is added to the noise."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:128, :128]
    blob = 40 * np.exp(-((yy - 64) ** 2 + (xx - 64) ** 2) / (2 * 20**2))
    plain = _noise(30, rng)
    with_blob = np.clip(_noise(30, rng) + ndimage.gaussian_filter(blob, 2), 0, 255).astype(np.uint8)
    a, b = shortcuts.patch_statistics(plain), shortcuts.patch_statistics(with_blob)
    assert b["mean"].min() > a["mean"].max()  # content separates
    assert abs(b.laplacian_sd.median() - a.laplacian_sd.median()) < 0.05 * a.laplacian_sd.median()


@pytest.fixture(scope="module")
def stores(cohort, tmp_path_factory):
    records, skips = scan("synthetic", cohort)
    out = tmp_path_factory.mktemp("audit")
    return {rule: build_patch_store(records, out / rule, PatchParams(negative_windows=rule), seed=1,
                                    source="synthetic", loader_skips=skips, progress=False)
            for rule in ("native", "matched")}


@pytest.mark.slow
def test_the_thesis_rule_fails_the_audit(stores):
    """Masses resized from their box, normals cut natively: the classes differ in resampling."""
    table = shortcuts.audit(stores["native"])
    assert table.loc[["laplacian_sd", "noise_sd", "scale"], "shortcut"].all()
    assert shortcuts.verdict(table).startswith("Shortcut found: laplacian_sd")


def test_matched_normal_windows_pass_the_audit(stores):
    table = shortcuts.audit(stores["matched"])
    nuisance = table[table.kind == "nuisance"]
    assert not nuisance.shortcut.any() and (nuisance.separability <= shortcuts.MAX_AUC).all()
    assert set(table.index) == {*shortcuts.NUISANCE, *shortcuts.CONTENT}
    assert shortcuts.verdict(table).startswith("No shortcut found")
    normal = stores["matched"].meta[stores["matched"].meta.label == "normal"]
    assert (normal.rule == "random_window_resized").all() and normal.scale.nunique() > 3


def test_audit_needs_both_classes(stores, monkeypatch):
    store = stores["matched"]
    monkeypatch.setattr(store, "meta", store.meta[store.meta.label == "normal"])
    with pytest.raises(ValueError, match="both mass and normal"):
        shortcuts.audit(store)
