"""Console entry points for the scripts that live in a clone's ``benchmarks/`` rather than in the
package (they measure the package against baselines and are not installed with it).

``thesis-device-check`` runs ``benchmarks/device_check.py`` (what the thesis and gpu profiles cost
on this machine's accelerator) with the same arguments, in a process of its own (the check
spawns worker processes, which must import the script by its path). It works where the package
is installed from a clone (``pip install -e .``, as ``make`` does); elsewhere it says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLONE = Path(__file__).resolve().parents[1]


def script(name: str) -> Path:
    """The clone's ``benchmarks/<name>``; ``SystemExit`` naming the fix when the package was not
    installed from a clone."""
    path = CLONE / "benchmarks" / name
    if not path.is_file():
        raise SystemExit(f"error: {path} not found: this command runs a script of the repository's clone "
                         f"(benchmarks/{name}); install the package from a clone with pip install -e .")
    return path


def device_check(argv: list[str] | None = None) -> None:
    """``thesis-device-check [--dry-run] --out check.json``: see ``benchmarks/device_check.py``."""
    args = sys.argv[1:] if argv is None else argv
    done = subprocess.run([sys.executable, str(script("device_check.py")), *args], check=False)
    if done.returncode:
        raise SystemExit(done.returncode)
