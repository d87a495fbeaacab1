"""Run Snakemake so that an interrupted build simply continues.

A build killed mid-step (kill -9, an out-of-memory kill, a lost node) leaves Snakemake's lock and
its half-written outputs behind; the next run would stop with a LockException or an
IncompleteFilesException. This wrapper takes an exclusive lock of its own on
``.snakemake/build.lock`` (the operating system drops it when its holder dies), so that when it
gets the lock no other build of this folder is running: Snakemake's lock is then stale and is
cleared, and incomplete outputs are rerun. A second build started while one runs stops with a
message instead. Before anything, the profile and the overrides are checked
(:mod:`thesis_lib.studies.preflight`): a typo stops the run with one line, and no step's
outputs are touched.

    python tools/run_workflow.py .venv/bin/snakemake --cores 2 --configfile configs/smoke.yaml
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

from thesis_lib.studies.preflight import PreflightError, check_run, parse_overrides


def preflight(argv: list[str]) -> None:
    """Check the profile (``--configfile``) and the ``--config`` overrides before Snakemake starts
    (:mod:`thesis_lib.studies.preflight`); exit with one line naming what the user typed."""
    def values(flag: str) -> list[str]:
        if flag not in argv:
            return []
        rest = argv[argv.index(flag) + 1:]
        return rest[: next((i for i, a in enumerate(rest) if a.startswith("-")), len(rest))]

    if not values("--configfile"):  # a workflow of its own (make always names the profile)
        return
    try:
        check_run(values("--configfile")[0], parse_overrides(values("--config")))
    except PreflightError as exc:
        sys.exit(f"make: {exc}")


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit("usage: python tools/run_workflow.py SNAKEMAKE [ARGS...]")
    preflight(argv)
    Path(".snakemake").mkdir(exist_ok=True)
    with open(".snakemake/build.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit("make: another build of this folder is running (it holds .snakemake/build.lock); "
                     "wait for it to finish or stop it first")
        # no other build holds the folder: a Snakemake lock left here is stale
        subprocess.run([*argv, "--unlock"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return subprocess.run([*argv, "--rerun-incomplete"]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
