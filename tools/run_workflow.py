"""Run Snakemake so that an interrupted build simply continues.

A build killed mid-step (kill -9, an out-of-memory kill, a lost node) leaves Snakemake's lock and
its half-written outputs behind; the next run would stop with a LockException or an
IncompleteFilesException. This wrapper takes an exclusive lock of its own on
``.snakemake/build.lock`` (the operating system drops it when its holder dies), so that when it
gets the lock no other build of this folder is running: Snakemake's lock is then stale and is
cleared, and incomplete outputs are rerun. A second build started while one runs stops with a
message instead. Before anything, the profile and the overrides are checked
(:mod:`thesis_lib.studies.preflight`): a typo stops the run with one line, and no step's
outputs are touched. While Snakemake runs, every ``WATCH_SECONDS`` the last line of each step log
written to since the last look (``artifacts/<profile>/logs/<step>.log``: a trainer's iteration
count, a progress bar) is printed on the console, so a long step shows where it is. When a step
fails, its own error (the last line of its log: the exception and its message) is printed on the
console with the step's name and log, not only Snakemake's "check log file(s)".

    python tools/run_workflow.py .venv/bin/snakemake --cores 2 --configfile configs/smoke.yaml
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from thesis_lib import config, paths
from thesis_lib.studies.preflight import PreflightError, check_run, parse_overrides

WATCH_SECONDS = 30.0
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def last_line(log: Path, width: int = 160) -> str:
    """The last non-empty line of ``log`` (a progress bar's last state after its carriage
    returns), without terminal colours, cut to ``width`` characters."""
    with log.open("rb") as handle:
        handle.seek(max(log.stat().st_size - 4096, 0))
        tail = handle.read().decode("utf-8", "replace")
    lines = [ANSI.sub("", part).strip() for part in re.split(r"[\r\n]", tail)]
    return next((line for line in reversed(lines) if line), "")[:width]


def watch(logs: Path, stop: threading.Event, every: float = WATCH_SECONDS) -> None:
    """Until ``stop``: every ``every`` seconds, one console line per log in ``logs`` written to
    since the last look."""
    looked = time.time()
    while not stop.wait(every):
        now = time.time()
        for log in sorted(logs.glob("*.log")):
            if log.stat().st_mtime > looked and (line := last_line(log)):
                print(f"  [{time.strftime('%H:%M:%S')}] {log.stem}: {line}", flush=True)
        looked = now


def failed_steps(snakemake_log: Path) -> list[tuple[str, Path | None]]:
    """(rule, its log or None) of every "Error in rule" block of one Snakemake run's log, in
    order, each rule once."""
    out = {}
    for block in re.split(r"^Error in rule ", snakemake_log.read_text(errors="replace"), flags=re.M)[1:]:
        rule = block.split(":", 1)[0].strip()
        log = re.search(r"^\s+log: (\S+)", block, re.M)
        out.setdefault(rule, Path(log.group(1)) if log else None)
    return list(out.items())


def report_failures(since: float, folder: Path = Path(".snakemake/log")) -> None:
    """Print each failed step's own error, from the newest Snakemake log written since ``since``."""
    logs = sorted((p for p in folder.glob("*.snakemake.log") if p.stat().st_mtime >= since),
                  key=lambda p: p.stat().st_mtime)
    for rule, log in failed_steps(logs[-1]) if logs else []:
        error = last_line(log, width=400) if log and log.is_file() else "(no log)"
        print(f"make: step {rule} failed: {error}" + (f"\n      (its whole log: {log})" if log else ""), flush=True)


def option(argv: list[str], flag: str) -> list[str]:
    """The values after ``flag`` in ``argv`` (up to the next option)."""
    if flag not in argv:
        return []
    rest = argv[argv.index(flag) + 1:]
    return rest[: next((i for i, a in enumerate(rest) if a.startswith("-")), len(rest))]


def preflight(argv: list[str]) -> None:
    """Check the profile (``--configfile``) and the ``--config`` overrides before Snakemake starts
    (:mod:`thesis_lib.studies.preflight`); exit with one line naming what the user typed."""
    if not option(argv, "--configfile"):  # a workflow of its own (make always names the profile)
        return
    try:
        check_run(option(argv, "--configfile")[0], parse_overrides(option(argv, "--config")))
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
        stop = threading.Event()
        if option(argv, "--configfile"):
            profile = yaml.safe_load(Path(option(argv, "--configfile")[0]).read_text())["profile"]
            logs = paths.logs(config.artifacts_dir(profile))
            print(f"make: each step's log is in {logs}/; the running ones are shown every {WATCH_SECONDS:.0f} s",
                  flush=True)
            threading.Thread(target=watch, args=(logs, stop), daemon=True).start()
        started = time.time()
        try:
            code = subprocess.run([*argv, "--rerun-incomplete"]).returncode
        finally:
            stop.set()
        if code:
            report_failures(started)
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
