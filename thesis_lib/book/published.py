"""The published site's run: a bundle committed, unpacked, under ``published/<name>/``.

The Pages workflow renders the newest such folder as the site (``make book BUNDLE=published/<name>``)
and falls back to the laptop build when there is none. A folder holds the bundle's files
(``manifest.json``, ``artifacts/``, ``book/results/``) and ``site.yaml``, the publisher's claim::

    title: "Thesis scale on one H200"
    scale: thesis-scale        # or: laptop
    rebuild: "python -m thesis_lib.bundle --profile gpu --out gpu-run.tar --cores 16"

:func:`problems` refuses what would mislead a reader: a bundle calling itself thesis-scale whose
provenance shows the laptop profile, a CPU, or sizes overridden from its profile (a dry run),
and any file that differs from its manifest's SHA-256. ``python -m thesis_lib.book.published``
checks every folder and prints the one to render (nothing when there is none).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import yaml

from thesis_lib.config import REPO_ROOT

PUBLISHED = REPO_ROOT / "published"
THESIS_SCALE_PROFILES = ("gpu", "thesis")
SCALES = ("thesis-scale", "laptop")


def problems(folder: str | Path) -> list[str]:
    """Why ``folder`` may not be published (empty when it may)."""
    folder = Path(folder)
    manifest_path, site_path = folder / "manifest.json", folder / "site.yaml"
    if not manifest_path.is_file() or not site_path.is_file():
        return [f"{folder}: a published run needs manifest.json (the bundle's) and site.yaml (title, scale, rebuild)"]
    manifest, site = json.loads(manifest_path.read_text()), yaml.safe_load(site_path.read_text()) or {}
    found = []
    if site.get("scale") not in SCALES:
        found.append(f"{site_path}: scale {site.get('scale')!r}; expected one of {SCALES}")
    if site.get("scale") == "thesis-scale":
        if manifest.get("profile") not in THESIS_SCALE_PROFILES:
            found.append(f"{folder}: calls itself thesis-scale but ran profile {manifest.get('profile')!r} "
                         f"(thesis-scale profiles: {THESIS_SCALE_PROFILES})")
        if str(manifest.get("device", "cpu")) == "cpu":
            found.append(f"{folder}: calls itself thesis-scale but its networks trained on the CPU")
        if manifest.get("overridden"):
            found.append(f"{folder}: calls itself thesis-scale but overrides its profile "
                         f"({', '.join(manifest['overridden'])}): a dry run or a cut-down run")
    for name, entry in (manifest.get("files") or {}).items():
        path = folder / name
        if not path.is_file():
            found.append(f"{path}: listed in the manifest but missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            found.append(f"{path}: differs from the manifest (SHA-256)")
    if not manifest.get("files"):
        found.append(f"{manifest_path}: lists no files")
    return found


def runs(root: str | Path = PUBLISHED) -> list[Path]:
    """The published folders (each with a ``manifest.json``), newest packing last."""
    folders = [p.parent for p in Path(root).glob("*/manifest.json")]
    return sorted(folders, key=lambda p: json.loads((p / "manifest.json").read_text()).get("packed", ""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m thesis_lib.book.published", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=str(PUBLISHED), help="the folder of published runs (default published/)")
    args = p.parse_args(argv)
    found = runs(args.root)
    bad = [line for folder in found for line in problems(folder)]
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    if found:
        print(found[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
