"""A bundle rendered as the HTML book, on any machine: no patch store, checkpoint, Inception
network or GPU needed (``make book BUNDLE=path``)::

    python -m thesis_lib.book.render gpu-run.tar            # a bundle tar (thesis_lib.bundle)
    python -m thesis_lib.book.render published/gpu-2027-01  # or the same, unpacked into a folder

The bundle (tar or folder) is unpacked into ``_bundle/<name>/`` (its ``artifacts/`` becoming
``artifacts/<profile>/`` there). Every chapter then runs through papermill in render-only mode
(:mod:`thesis_lib.results`): with ``THESIS_ARTIFACTS`` and ``THESIS_RESOLVED_CONFIG`` pointing at
the bundle, it reads the results files its steps wrote and stops, naming the step, if one is
missing. The run's provenance goes to ``book/generated/run.json`` for the banner on every page
(:mod:`thesis_lib.book.banner`), and ``jupyter-book build book`` compiles the executed chapters.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from thesis_lib.book import diagrams
from thesis_lib.book.banner import write_run_files
from thesis_lib.config import REPO_ROOT, RESOLVED_ENV
from thesis_lib.results import RENDER_ONLY_ENV

NOTEBOOKS = REPO_ROOT / "notebooks"
LAST = "08_appendix"  # gathers every step's record: rendered after the others
KERNEL_DID_NOT_START = re.compile(r"Kernel didn't respond|Kernel died before replying")


def unpack(bundle: str | Path, into: str | Path) -> tuple[Path, dict]:
    """The bundle's results (a tar, or a folder holding ``manifest.json``, which stays untouched)
    laid out under ``into`` as ``artifacts/<profile>/``; returns the artifacts root and the
    manifest. Raises ``FileNotFoundError`` naming the bundle when it has no manifest."""
    bundle, into = Path(bundle), Path(into)
    if bundle.is_dir():
        if not (bundle / "manifest.json").is_file():
            raise FileNotFoundError(f"{bundle}: not a bundle (no manifest.json); make one with "
                                    "python -m thesis_lib.bundle --profile PROFILE --out run.tar")
        manifest = json.loads((bundle / "manifest.json").read_text())
        source = bundle
    elif tarfile.is_tarfile(bundle):
        source = into / "unpacked"
        shutil.rmtree(source, ignore_errors=True)
        with tarfile.open(bundle) as tar:
            if "manifest.json" not in tar.getnames():
                raise FileNotFoundError(f"{bundle}: not a bundle (no manifest.json in the tar)")
            tar.extractall(source, filter="data")
        manifest = json.loads((source / "manifest.json").read_text())
    else:
        raise FileNotFoundError(f"{bundle}: neither a bundle folder nor a tar")
    root = into / "artifacts"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # a tar's files were extracted for this render: moved; a folder's are copied
    (shutil.move if source != bundle else shutil.copytree)(source / "artifacts", root / manifest["profile"])
    return root, manifest


def chapters() -> list[str]:
    """The chapter notebooks' names, in the book's order."""
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def run_chapter(name: str, profile: str, env: dict, results: Path, tries: int = 3) -> tuple[str, float, str]:
    """One chapter through papermill; returns its name, seconds and the error text (empty when
    it ran). A kernel that does not start (two kernels started at once can race for the same
    ports) is started again, up to ``tries`` times; a chapter's own error is not retried."""
    start = time.perf_counter()
    out = results / f"{name}.ipynb"
    for _ in range(tries):
        done = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", str(NOTEBOOKS / f"{name}.ipynb"),
                               str(out), "-p", "profile", profile], env=env, capture_output=True, text=True)
        if done.returncode == 0 or not KERNEL_DID_NOT_START.search(done.stderr):
            break
    if done.returncode == 0:
        subprocess.run([sys.executable, "-m", "thesis_lib.book.executed", str(out)], env=env, check=True,
                       capture_output=True)
    error = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]
    return name, time.perf_counter() - start, error


def render(bundle: str | Path, workdir: str | Path = "_bundle", workers: int = 2, build: bool = True) -> dict:
    """Render ``bundle`` as the book: its chapters into ``book/results/`` (executed beside the
    unpacked bundle first, and copied there only when every one ran: a failed render leaves the
    book's previous chapters as they were), the banner's record and
    the front page's paragraph into ``book/generated/`` (:func:`~thesis_lib.book.banner.write_run_files`;
    with the bundle's ``site.yaml`` when it is a published run), then (``build``) ``jupyter-book
    build book``. Returns the manifest. Raises ``RuntimeError`` listing the chapters that failed and why."""
    workdir = Path(workdir) / Path(bundle).name.removesuffix(".tar")
    root, manifest = unpack(bundle, workdir)
    profile = manifest["profile"]
    env = {**os.environ, RENDER_ONLY_ENV: "1", "THESIS_ARTIFACTS": str(root.resolve()),
           RESOLVED_ENV: str((root / profile / "config.yaml").resolve()), "OMP_NUM_THREADS": "1"}
    results = workdir / "results"
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    names = chapters()
    with ThreadPoolExecutor(workers) as pool:
        ran = list(pool.map(lambda n: run_chapter(n, profile, env, results), [n for n in names if n != LAST]))
    ran.append(run_chapter(LAST, profile, env, results))
    for name, seconds, error in ran:
        print(f"  {name}: {seconds:.0f} s" + (f"  FAILED: {error}" if error else ""), flush=True)
    failed = [f"{name}: {error}" for name, _, error in ran if error]
    if failed:
        raise RuntimeError("chapters that could not render from the bundle:\n  " + "\n  ".join(failed))
    book_results = Path("book") / "results"
    book_results.mkdir(parents=True, exist_ok=True)
    for page in results.glob("*.ipynb"):
        shutil.copy2(page, book_results / page.name)
    site = Path(bundle) / "site.yaml"
    write_run_files(manifest, yaml.safe_load(site.read_text()) if site.is_file() else None)
    diagrams.main(Path("book") / "generated")
    if build:
        subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", "book", "-W", "-n",
                        "--keep-going"], check=True)
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="thesis-render", description=__doc__.split("\n\n")[0])
    p.add_argument("bundle", help="a bundle tar or folder (python -m thesis_lib.bundle)")
    p.add_argument("--workdir", default="_bundle", help="where the bundle is unpacked (default _bundle/)")
    p.add_argument("--workers", type=int, default=2, help="chapters rendered at once")
    p.add_argument("--no-build", action="store_true", help="run the chapters, not jupyter-book")
    args = p.parse_args(argv)
    start = time.perf_counter()
    manifest = render(args.bundle, args.workdir, args.workers, build=not args.no_build)
    print(f"rendered the {manifest['profile']} run of {manifest['packed']} (commit {manifest['commit'][:10]}, "
          f"device {manifest['device']}) in {time.perf_counter() - start:.0f} s; open _build/html/index.html")


if __name__ == "__main__":
    main()
