"""A build killed mid-step continues on the next run (tools/run_workflow.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
# two steps; the second writes half its output, then waits: a kill leaves it incomplete
SNAKEFILE = """
rule all:
    input: "b.txt"

rule a:
    output: "a.txt"
    shell: "echo a > {output}"

rule b:
    input: "a.txt"
    output: "b.txt"
    shell: "echo half > {output}; touch started; while [ ! -f release ]; do sleep 0.1; done; cat {input} > {output}; echo b >> {output}"
"""


def _build(folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO / "tools" / "run_workflow.py"), str(SNAKEMAKE), "--cores", "1"],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_killed_build_continues_and_a_second_build_is_refused(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    first = _build(tmp_path)
    _wait_for(tmp_path / "started")
    second = _build(tmp_path)  # while the first runs
    assert second.wait(timeout=60) != 0 and "another build of this folder is running" in second.stdout.read()
    os.killpg(first.pid, signal.SIGKILL)  # the wrapper, Snakemake and the step's shell at once
    first.wait()
    assert (tmp_path / "b.txt").read_text() == "half\n"  # left half-written
    assert list((tmp_path / ".snakemake" / "locks").glob("*")), "Snakemake's lock should be left behind"
    (tmp_path / "started").unlink()
    (tmp_path / "release").touch()
    rerun = _build(tmp_path)
    assert rerun.wait(timeout=120) == 0, rerun.stdout.read()[-2000:]
    assert (tmp_path / "b.txt").read_text() == "a\nb\n"  # the step ran again to the end


def test_the_console_shows_the_last_line_of_each_running_steps_log(tmp_path, capsys):
    """While a build runs, each step log written to since the last look is shown by its last line
    (a progress bar's last state, without colours); a log left alone is not repeated."""
    import threading
    sys.path.insert(0, str(REPO / "tools"))
    import run_workflow
    (tmp_path / "train_gan_fold0.log").write_text("device: cpu\niteration 240/2400 (10%), 5 s\n")
    (tmp_path / "aug_k50.log").write_text("k=50: classifiers:  10%|#  | 2/20\rk=50: classifiers:  \x1b[32m50%\x1b[0m| 10/20\r")
    old = tmp_path / "data_prep.log"
    old.write_text("done\n")
    os.utime(old, (0, 0))
    assert run_workflow.last_line(tmp_path / "aug_k50.log") == "k=50: classifiers:  50%| 10/20"
    stop = threading.Event()
    thread = threading.Thread(target=run_workflow.watch, args=(tmp_path, stop, 0.5))
    for path in (tmp_path / "train_gan_fold0.log", tmp_path / "aug_k50.log"):  # written just after the watch starts
        os.utime(path, (time.time() + 0.3, time.time() + 0.3))
    thread.start()
    time.sleep(1.3)  # two looks
    stop.set()
    thread.join()
    out = capsys.readouterr().out
    assert out.count("train_gan_fold0: iteration 240/2400 (10%), 5 s") == 1 and out.count("aug_k50: k=50") == 1
    assert "data_prep" not in out


@pytest.mark.slow
def test_a_failed_steps_own_error_is_printed_on_the_console(tmp_path):
    """Not only Snakemake's "check log file(s)": the step, its error line and its log."""
    (tmp_path / "Snakefile").write_text(
        'rule all:\n    input: "out.txt"\n\n'
        'rule data_check:\n    output: "out.txt"\n    log: "logs/data_check.log"\n'
        '    shell: "(echo working; echo \'error: the data cannot support k=100\'; exit 1) > {log} 2>&1"\n')
    build = _build(tmp_path)
    assert build.wait(timeout=120) != 0
    console = build.stdout.read()
    assert "make: step data_check failed: error: the data cannot support k=100" in console, console[-2000:]
    assert "logs/data_check.log" in console
