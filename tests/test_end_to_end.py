"""End to end: the data notebook through papermill at a tiny size, then the book built from
its executed copy with warnings as errors, all in a temporary folder; and the workflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from thesis_lib import config
from thesis_lib.book import diagrams
from thesis_lib.data.store import PatchStore

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _error_outputs(path):
    """Error outputs of an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def _run(args, **kw):
    result = subprocess.run(args, capture_output=True, text=True, **kw)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


# The smoke profile at a tiny size, as the workflow would resolve it (artifacts/smoke/config.yaml,
# read through $THESIS_RESOLVED_CONFIG by every step and chapter): the toy run
TOY = {"data_prep": {"n_patients": 8}, "gan": {"epochs": 3, "iterations": 0}, "qualitative": {"n_generated": 10},
       "fid": {"n_generated": 12, "n_generated_curve": 6, "domain_epochs": 1},
       "aug": {"k": [2], "epochs": 1, "n_boot": 200,
               "gan": {"epochs": 2, "iterations": 0, "eval_every": 1, "sample_every": 1, "eval_samples": 8}},
       "tsne": {"k": "all", "perplexity": 2, "n_iter": 300, "n_normal": 12, "neighbours": 2, "n_perm": 20,
                "spaces": ["pixels", "inception"]},
       "design": {"k": 2}}
CHAPTER_ARGS = {  # each chapter in the book's order, some with the toy's values given again through papermill
    "00_data_prep": ["-p", "n_patients", "8"], "01_train_dcgan": [], "02_qualitative": ["-p", "n_generated", "10"],
    "03_fid": [], "04_aug_study": ["-p", "k", "2"], "05_tsne": ["-p", "perplexity", "2"],
    "06_scorecard": [], "07_discussion": [], "08_appendix": [],
}


def toy_profile() -> dict:
    """configs/smoke.yaml with :data:`TOY`'s values."""
    profile = yaml.safe_load(config.profile_path("smoke").read_text())
    for section, values in TOY.items():
        profile[section] = {**profile[section], **values}
    return profile


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every chapter run by papermill at a tiny size into a copy of the book sources (the DCGAN
    chapter after its ablation step, at 4 iterations a row). A chapter that fails is recorded,
    not raised: its own test reports it, and the others still run."""
    tmp = tmp_path_factory.mktemp("e2e")
    shutil.copy(REPO / "_config.yml", tmp)
    shutil.copy(REPO / "_toc.yml", tmp)
    shutil.copytree(REPO / "book", tmp / "book", symlinks=True, ignore=shutil.ignore_patterns("results", "generated"))
    out = tmp / "book" / "results" / "00_data_prep.ipynb"
    out.parent.mkdir()
    diagrams.main(tmp / "book" / "generated")
    resolved = tmp / "artifacts" / "smoke" / "config.yaml"
    resolved.parent.mkdir(parents=True)
    resolved.write_text(yaml.safe_dump(toy_profile(), sort_keys=False))
    env = {**os.environ, "THESIS_ARTIFACTS": str(tmp / "artifacts"), config.RESOLVED_ENV: str(resolved)}
    runs = {}
    for name, args in CHAPTER_ARGS.items():
        if name == "01_train_dcgan":
            runs["ablation"] = subprocess.run([sys.executable, "-m", "thesis_lib.studies.ablation", "--iterations", "4",
                                               "--n-generated", "6", "--no-progress"], cwd=tmp, env=env,
                                              capture_output=True, text=True)
        runs[name] = subprocess.run([BIN / "papermill", "--no-progress-bar", REPO / "notebooks" / f"{name}.ipynb",
                                     out.with_name(f"{name}.ipynb"), *args], cwd=tmp, env=env, capture_output=True,
                                    text=True)
    runs["run_record"] = subprocess.run([sys.executable, "-m", "thesis_lib.book.banner", "--profile", "smoke"], cwd=tmp,
                                        env=env, capture_output=True, text=True)  # the banner's and front page's source
    return tmp, out, runs


def _ran(executed, name):
    """The paths of ``executed`` after checking that chapter ``name`` ran without error."""
    tmp, out, runs = executed
    result = runs[name]
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    path = out.with_name(f"{name}.ipynb")
    assert not _error_outputs(path), name
    return tmp, path


@pytest.mark.slow
def test_notebook_runs_and_writes_its_outputs(executed):
    tmp, out = _ran(executed, "00_data_prep")
    nb = nbformat.read(out, as_version=4)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # mammograms, spectra, two montages, histograms
    art = tmp / "artifacts" / "smoke"
    store = PatchStore(art / "patches")
    assert store.summary["n_patients"] == 8 and (art / "patches" / "provenance.json").is_file()
    for name in ("data_example_mammograms", "data_power_spectrum", "data_mass_patches"):
        assert (art / "figures" / f"{name}.png").is_file() and (art / "figures" / f"{name}.pdf").is_file()
    assert (REPO / "notebooks" / "00_data_prep.ipynb").read_text().count('"outputs": []') > 0  # untouched


@pytest.mark.slow
def test_gan_notebook_trains_and_keeps_a_generator(executed):
    tmp, out = _ran(executed, "01_train_dcgan")
    assert "What each option buys" in out.read_text() and "+ DiffAugment" in out.read_text()
    run = tmp / "artifacts" / "smoke" / "gan" / "fold0"
    assert (run / "best.pt").is_file() and (run / "provenance.json").is_file()
    from thesis_lib.models.generate import generate
    size = config.load_profile("smoke")["data_prep"]["patch_size"]
    assert generate(run / "best.pt", 2).shape == (2, size, size)


@pytest.mark.slow
def test_qualitative_notebook_checks_memorisation(executed):
    tmp, out = _ran(executed, "02_qualitative")
    prov = json.loads((tmp / "artifacts" / "smoke" / "qualitative" / "provenance.json").read_text())
    assert [m["space"] for m in prov["memorisation"]] == ["pixels", "Inception features"]
    assert all(m["generated"] == 10 for m in prov["memorisation"])
    figs = tmp / "artifacts" / "smoke" / "figures"
    assert (figs / "real_and_generated.png").is_file() and (figs / "latent_interpolation_fold0.pdf").is_file()


@pytest.mark.slow
def test_fid_notebook_scores_the_generator(executed):
    tmp, out = _ran(executed, "03_fid")
    prov = json.loads((tmp / "artifacts" / "smoke" / "fid" / "provenance.json").read_text())
    row = prov["table"][0]
    assert row["fold"] == 0 and row["N generated"] == min(12, row["N train"]) and row["FID"] > 0
    assert 0 <= row["precision"] <= 1 and row["N held-out"] >= 2 and isinstance(row["realistic"], bool)
    domain = prov["domain"][0]  # generated and training masses against as many held-out ones
    assert domain["N generated"] == domain["N held-out"] == domain["N training"] <= 12 and domain["domain FD"] >= 0
    assert (tmp / "artifacts" / "smoke" / "figures" / "fid_over_epochs.pdf").is_file()
    assert prov["curve"] and {"iterations", "FID", "precision", "recall"} <= set(prov["curve"][-1])
    assert prov["curve"][-1]["iterations"] == json.loads((tmp / "artifacts" / "smoke" / "gan" / "fold0" /
                                                          "summary.json").read_text())["steps"]
    assert "How long must it train?" in out.read_text()


@pytest.mark.slow
def test_aug_notebook_runs_the_study_for_the_given_k(executed):
    tmp, out = _ran(executed, "04_aug_study")
    table = pd.read_csv(tmp / "artifacts" / "smoke" / "aug" / "results.csv")
    folds = config.load_profile("smoke")["data_prep"]["n_folds"]
    # 4 controls x 2 classifier seeds + 2 GAN arms x 2 classifier x 2 G_k seeds, per fold
    assert set(table.k) == {2} and len(table) == (4 * 2 + 2 * 2 * 2) * folds and (table.n_normal == 20).all()
    assert (tmp / "artifacts" / "smoke" / "gan" / "fold1_k2" / "best.pt").is_file()
    assert (tmp / "artifacts" / "smoke" / "gan" / "fold1_k2_g1" / "best.pt").is_file()  # the second G_k seed
    endpoint = json.loads((tmp / "artifacts" / "smoke" / "aug" / "primary.json").read_text())
    assert endpoint["k"] == 2 and endpoint["comparison"] == "Aug GAN - Aug ORG x2.5" and endpoint["left_out"]
    for name in ("aug_f1_against_k", "aug_auc_against_k"):
        assert (tmp / "artifacts" / "smoke" / "figures" / f"{name}.pdf").is_file()
    intervals = pd.read_csv(tmp / "artifacts" / "smoke" / "aug" / "intervals.csv")
    assert "Aug GAN - Aug ORG x2.5" in set(intervals.comparison)
    text = out.read_text()
    assert "shortcut found" in text.lower() and "survives the correction" in text


@pytest.mark.slow
def test_tsne_notebook_maps_and_scores_the_masses(executed):
    tmp, out = _ran(executed, "05_tsne")
    art = tmp / "artifacts" / "smoke"
    prov = json.loads((art / "tsne" / "provenance.json").read_text())
    counts = prov["counts"]
    assert counts["normal"] == 12 and counts["generated"] == counts["flipped"] == round(1.5 * counts["real"])
    table = pd.read_csv(art / "tsne" / "support.csv")
    assert set(table.space) == {"pixels", "inception"} and len(table) == 48  # 24 rows per space, the smooth control's 2 included
    assert table[table.metric.isin(["precision", "recall", "spread"])].value.between(0, 10).all()
    points = pd.read_csv(art / "tsne" / "maps.csv")
    assert len(points[(points.space == "pixels") & (points["map"] == "real_flipped_normal")]) == (
        counts["real"] + counts["flipped"] + counts["normal"])
    for space in ("pixels", "inception"):
        for name in ("real_generated", "real_generated_normal", "real_flipped_normal"):
            assert (art / "figures" / f"tsne_{space}_{name}.pdf").is_file()
    text = out.read_text()
    assert "of generated masses have a real nearest neighbour" in text and "held-out real masses" in text


@pytest.mark.slow
def test_summary_chapters_read_the_results(executed):
    for name in ("06_scorecard", "07_discussion", "08_appendix"):
        tmp, out = _ran(executed, name)
    prov = json.loads((tmp / "artifacts" / "smoke" / "scorecard" / "provenance.json").read_text())
    assert len(prov["claims"]) == 10 and sum(prov["verdicts"].values()) == 10
    landing = (tmp / "book" / "generated" / "verdict.md").read_text()
    assert landing.startswith("**The primary question") and "**The verdict of this build**" in landing
    assert {c["chapter"] for c in prov["claims"]} == {"fid", "aug", "tsne"}
    appendix = out.with_name("08_appendix.ipynb").read_text()
    assert "train_gan" in appendix and "aug_study" in appendix and "tsne" in appendix


@pytest.fixture(scope="module")
def built(executed):
    """The book built from the executed notebooks, with warnings as errors: its HTML folder."""
    tmp, _, runs = executed
    assert all(run.returncode == 0 for run in runs.values()), "a chapter failed: see its own test"
    _run([BIN / "jupyter-book", "build", tmp / "book", "-W", "-n", "--keep-going"], cwd=tmp)
    return tmp / "_build" / "html"


@pytest.mark.slow
def test_a_toy_run_packs_into_a_bundle_without_store_or_checkpoints(executed, tmp_path):
    import tarfile

    from thesis_lib import bundle
    root, out, _ = executed
    artifacts = root / "artifacts" / "smoke"
    assert list(artifacts.rglob("*.pt")) and (artifacts / "patches").is_dir()  # the run has them ...
    bundle.main(["--profile", "smoke", "--no-run", "--artifacts", str(artifacts),
                 "--book-results", str(out.parent), "--out", str(tmp_path / "run.tar")])
    with tarfile.open(tmp_path / "run.tar") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert not [n for n in names if n.endswith((".pt", ".h5", ".dcm")) or "/cache/" in n]  # ... the bundle not
    assert "artifacts/patches/summary.json" in names and "artifacts/data_report/cohort.json" in names
    assert "book/results/04_aug_study.ipynb" in names and any(n.endswith("results.csv") for n in names)
    assert any(n.startswith("artifacts/gan/") and n.endswith(".png") for n in names)  # sample grids as PNG
    assert manifest["profile"] == "smoke" and manifest["device"] == "cpu" and manifest["sizes"]["patch_size"] == 64
    assert set(manifest["files"]) == set(names) - {"manifest.json"} and manifest["step_seconds"]
    assert (tmp_path / "run.tar").stat().st_size < 60 * 2**20
    with pytest.raises(ValueError, match=r"over --max-mib 0.001; largest: "):
        bundle.pack("smoke", artifacts, tmp_path / "small.tar", max_mib=0.001)
    assert not (tmp_path / "small.tar").exists()  # refused before anything was written


@pytest.fixture(scope="module")
def toy_bundle(executed, tmp_path_factory):
    """The toy run packed after its patch store, feature cache and every checkpoint were deleted
    (from a copy, so that the other tests keep them)."""
    from thesis_lib import bundle
    root, out, runs = executed
    assert all(run.returncode == 0 for run in runs.values()), "a chapter failed: see its own test"
    tmp = tmp_path_factory.mktemp("bundle")
    artifacts = tmp / "artifacts" / "smoke"
    shutil.copytree(root / "artifacts" / "smoke", artifacts)
    for path in [*artifacts.rglob("*.pt"), *artifacts.rglob("*.h5"), *artifacts.rglob("*.dcm")]:
        path.unlink()
    shutil.rmtree(artifacts / "cache")
    bundle.pack("smoke", artifacts, tmp / "toy.tar", out.parent)
    return tmp / "toy.tar"


@pytest.mark.slow
def test_a_bundle_renders_as_the_book_from_its_results_files_alone(executed, toy_bundle, tmp_path):
    """Every chapter renders from the bundle in render-only mode (nothing computed: the store,
    checkpoints and Inception network are refused), gives the toy run's verdict, and every page
    carries the banner; the front page says the thesis-scale run is pending."""
    root, _, _ = executed
    shutil.copy(REPO / "_config.yml", tmp_path)
    shutil.copy(REPO / "_toc.yml", tmp_path)
    shutil.copytree(REPO / "book", tmp_path / "book", symlinks=True, ignore=shutil.ignore_patterns("results", "generated"))
    result = _run([sys.executable, "-m", "thesis_lib.book.render", str(toy_bundle), "--workers", "2"], cwd=tmp_path,
                  env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert "rendered the smoke run" in result.stdout
    for page in (tmp_path / "book" / "results").glob("*.ipynb"):
        assert not _error_outputs(page), page.name
    assert (tmp_path / "book" / "generated" / "verdict.md").read_text() == \
        (root / "book" / "generated" / "verdict.md").read_text()  # the same judgement as where it ran
    html = tmp_path / "_build" / "html"
    for page in ("intro.html", "results/00_data_prep.html", "results/04_aug_study.html"):
        text = (html / page).read_text()
        assert "This book shows the smoke profile: the laptop build, not the thesis-scale run." in text
        assert "Patches 64 x 64 px" in text and "Device: cpu" in text and "8 patients" in text
    assert "The thesis-scale run is pending" in (html / "intro.html").read_text()


@pytest.mark.slow
def test_a_chapter_whose_results_are_missing_names_the_step_to_run(toy_bundle, tmp_path):
    from thesis_lib.book import render
    from thesis_lib.results import RENDER_ONLY_ENV
    root, _ = render.unpack(toy_bundle, tmp_path / "unpacked")
    shutil.rmtree(root / "smoke" / "tsne")
    env = {**os.environ, RENDER_ONLY_ENV: "1", "THESIS_ARTIFACTS": str(root),
           config.RESOLVED_ENV: str(root / "smoke" / "config.yaml")}
    name, _, error = render.run_chapter("05_tsne", "smoke", env, tmp_path)
    assert "ResultsMissing" in error and "run `python -m thesis_lib.studies.tsne_results --profile smoke`" in error


@pytest.mark.slow
def test_book_builds_with_warnings_as_errors(built):
    html = built
    page = (html / "results" / "00_data_prep.html").read_text()
    assert "Patient-level folds" in page and page.count("<img") >= 5
    assert (html / "index.html").is_file() and (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    gan_page = (html / "results" / "01_train_dcgan.html").read_text()
    assert "The training procedure" in gan_page and gan_page.count("<img") >= 2  # curves, samples
    assert "this run keeps its last generator" in gan_page  # the profile's evaluator: last
    for name, heading in (("02_qualitative", "Memorisation"), ("03_fid", "Per fold"),
                          ("04_aug_study", "Which differences survive?"), ("05_tsne", "t-SNE"),
                          ("06_scorecard", "The claims"), ("07_discussion", "Limits of this reproduction"),
                          ("08_appendix", "Steps, seeds and run times")):
        assert heading in (html / "results" / f"{name}.html").read_text()
    assert 'src="http' not in page and 'href="http' not in page.split("<body")[0]  # offline
    methods = (html / "methods.html").read_text()
    assert "dcgan_training_steps.png" in methods and "Fig. 1" in methods
    assert "Fig. " in page  # numbered figures in the chapters


@pytest.mark.slow
def test_every_page_opens_in_a_browser_without_problems(built, chrome):
    """Headless Chromium visits every page: no broken internal link, missing image, error cell,
    network resource or JavaScript error; the search page finds FID."""
    from thesis_lib.book.headless import open_chrome
    from thesis_lib.book.sitecheck import check_site, search_works

    driver = open_chrome(*chrome)
    try:
        report = check_site(built, driver)
        hits = search_works(built, "FID", driver)
    finally:
        driver.quit()
    assert not report.problems, "\n".join(map(str, report.problems))
    assert report.pages >= 13 and hits >= 1


@pytest.mark.slow
def test_the_landing_page_answers_the_primary_question_on_its_first_screen(built, chrome):
    """A reader finds the answer without scrolling: at 1280 x 800 the first screen of the landing
    page holds the primary question and this run's answer."""
    from thesis_lib.book.headless import open_chrome
    from thesis_lib.book.sitecheck import first_screen

    driver = open_chrome(*chrome)
    try:
        seen = first_screen(built, driver)
        tall = first_screen(built, driver, height=6000)  # the whole landing page, or near it
    finally:
        driver.quit()
    assert "The primary question" in seen and ("Answer:" in seen or "has not been answered" in seen), seen[:2000]
    assert len(seen) < len(tall)  # the check sees only the first screen


@pytest.mark.slow
def test_workflow_plans_one_rule_per_notebook(tmp_path):
    result = _run([BIN / "snakemake", "-n", "--forceall", "--cores", "1", "--quiet", "rules"], cwd=REPO,
                  env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert all(rule in result.stdout + result.stderr
               for rule in ("data_prep", "train_gan", "gan_chapter", "qualitative_chapter", "fid_chapter",
                            "train_gan_k", "aug_k", "aug_intervals", "aug_chapter", "tsne_chapter", "scorecard_chapter",
                            "discussion_chapter", "appendix_chapter", "diagrams"))


@pytest.mark.slow
def test_notebook_on_a_real_format_dataset(cohort_copy, tmp_path):
    """CBIS-DDSM as it comes: no lesion-free images, no PixelSpacing tag."""
    import pydicom

    for name in ("normal_case_description.csv", "ground_truth.csv", "manifest.json"):
        (cohort_copy / name).unlink()
    for case in cohort_copy.glob("Normal-*"):
        shutil.rmtree(case)
    cc_views = sorted(cohort_copy.glob("Mass-*_CC/*/*/1-1.dcm"))
    for dcm in cc_views:
        ds = pydicom.dcmread(dcm)
        del ds.PixelSpacing, ds.ImagerPixelSpacing
        ds.save_as(dcm)
    truncated = cc_views[0]  # the first patient's CC view: an unreadable file among the mammograms
    truncated.write_bytes(truncated.read_bytes()[:2000])
    out = tmp_path / "out.ipynb"
    env = {**os.environ, "THESIS_ARTIFACTS": str(tmp_path / "artifacts")}
    _run([BIN / "papermill", "--no-progress-bar", REPO / "notebooks" / "00_data_prep.ipynb", out,
          "-p", "dataset", "cbis-ddsm", "-p", "data_root", str(cohort_copy), "-p", "n_patients", "0"],
         cwd=tmp_path, env=env)
    text = out.read_text()
    assert "No image could be measured" in text  # the CC views have no pixel spacing
    assert "not measured, by reason" in text and "unreadable" in text and "no PixelSpacing" in text
    store = PatchStore(tmp_path / "artifacts" / "smoke" / "patches")
    assert str(truncated) in set(store.skips.file)  # skipped by name, and every section went on
    assert store.summary["source"] == "cbis-ddsm" and store.summary["n_patients"] == 6
    assert not store.meta.image_id.str.startswith("Normal").any()
