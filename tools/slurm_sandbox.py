"""A single-node SLURM cluster in one folder, from Debian's packages, for testing the cluster route.

    python tools/slurm_sandbox.py start /tmp/slurm   # prints the SLURM_CONF to export
    python tools/slurm_sandbox.py stop /tmp/slurm

It starts, as root and without systemd: munged (as the munge user), MariaDB with its own data
folder on 127.0.0.1, slurmdbd (job accounting: Snakemake's SLURM executor polls ``sacct``, and
without accounting it waits forever on a finished job), slurmctld and slurmd. Every daemon runs
in the foreground under this process's control; ``stop`` ends them by the process ids recorded
in ``<folder>/run/pids.json``. The ports are not SLURM's defaults, so a real cluster's daemons
on the same machine are left alone.

Needs: ``apt-get install slurmctld slurmd slurmdbd slurm-client munge mariadb-server``. The node
is this machine (``hostname -s``) with its CPUs and memory as ``slurmd -C`` reports them; two
partitions, ``cpu`` (the default) and ``gpu``, on a node with one pretend GPU unless ``--no-gpu`` (a
GRES on /dev/null: jobs that ask for a GPU are accepted and recorded, and run on the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd", "sbatch", "sacct",
           "sinfo", "sacctmgr")
PORTS = {"mariadb": 13306, "slurmctld": 16817, "slurmd": 16818, "slurmdbd": 16819}
DB_PASSWORD = "sandbox"


class Unavailable(RuntimeError):
    """SLURM cannot start here; the message says why."""


def missing_programs() -> list[str]:
    return [name for name in DAEMONS if shutil.which(name) is None
            and not Path("/usr/sbin", name).exists() and not Path("/usr/bin", name).exists()]


def _which(name: str) -> str:
    return shutil.which(name) or next(str(p) for p in (Path("/usr/sbin", name), Path("/usr/bin", name)) if p.exists())


def _node() -> dict[str, str]:
    """This machine as ``slurmd -C`` describes it: NodeName, CPUs, RealMemory, ..."""
    out = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
    return dict(item.split("=", 1) for item in out.split("\n")[0].split() if "=" in item)


def slurm_conf(folder: Path, gpu: bool) -> str:
    node = _node()
    memory = int(node["RealMemory"]) * 9 // 10
    gres = " Gres=gpu:1" if gpu else ""
    return "\n".join([
        "ClusterName=sandbox", f"SlurmctldHost={socket.gethostname().split('.')[0]}", "SlurmUser=root",
        "AuthType=auth/munge", "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "SchedulerType=sched/backfill", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory",
        f"SlurmctldPort={PORTS['slurmctld']}", f"SlurmdPort={PORTS['slurmd']}",
        f"StateSaveLocation={folder}/state", f"SlurmdSpoolDir={folder}/spool",
        f"SlurmctldPidFile={folder}/run/slurmctld.pid", f"SlurmdPidFile={folder}/run/slurmd.pid",
        f"SlurmctldLogFile={folder}/log/slurmctld.log", f"SlurmdLogFile={folder}/log/slurmd.log",
        "AccountingStorageType=accounting_storage/slurmdbd", "AccountingStorageHost=127.0.0.1",
        f"AccountingStoragePort={PORTS['slurmdbd']}", "AccountingStorageTRES=gres/gpu",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStoreFlags=job_comment",  # Snakemake's comment: the rule
        "DefMemPerCPU=1000",  # else a job that asks for no memory takes the whole node
        "MinJobAge=300", "ReturnToService=2", "GresTypes=gpu",
        # slurmd fetches this file from slurmctld and serves it in /run/slurm/conf, where clients
        # inside a job find it: Snakemake's job step drops SLURM_CONF from the environment of srun
        "SlurmctldParameters=enable_configless",
        f"NodeName={node['NodeName']} CPUs={node['CPUs']} RealMemory={memory}{gres} State=UNKNOWN",
        "PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP", ""])


def slurmdbd_conf(folder: Path) -> str:
    return "\n".join([
        "AuthType=auth/munge", "DbdHost=localhost", f"DbdPort={PORTS['slurmdbd']}", "SlurmUser=root",
        "StorageType=accounting_storage/mysql", "StorageHost=127.0.0.1", f"StoragePort={PORTS['mariadb']}",
        "StorageUser=slurm", f"StoragePass={DB_PASSWORD}", "StorageLoc=slurm_acct_db",
        f"LogFile={folder}/log/slurmdbd.log", f"PidFile={folder}/run/slurmdbd.pid", ""])


def _wait(what: str, check, seconds: float, log: Path | None = None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.5)
    tail = "".join(log.read_text().splitlines(keepends=True)[-15:]) if log and log.is_file() else ""
    raise Unavailable(f"{what} did not come up within {seconds:.0f} s" + (f"; {log}:\n{tail}" if tail else ""))


def _ok(*command: str, env=None) -> bool:
    return subprocess.run(list(command), capture_output=True, env=env).returncode == 0


def start(folder: str | Path, gpu: bool = True) -> dict[str, str]:
    """Start the cluster in ``folder`` (emptied first); returns the environment its clients need
    (``SLURM_CONF``). Raises :class:`Unavailable` with the reason when it cannot start."""
    if os.geteuid() != 0:
        raise Unavailable("the sandbox starts daemons as other users: it needs root")
    if missing := missing_programs():
        raise Unavailable(f"not installed: {', '.join(missing)} (apt-get install slurmctld slurmd slurmdbd "
                          "slurm-client munge mariadb-server)")
    folder = Path(folder).resolve()
    stop(folder)
    shutil.rmtree(folder, ignore_errors=True)
    for sub in ("etc", "state", "spool", "log", "run", "db", "dbtmp"):
        (folder / sub).mkdir(parents=True)
    env = {**os.environ, "SLURM_CONF": str(folder / "etc" / "slurm.conf")}
    (folder / "etc" / "slurm.conf").write_text(slurm_conf(folder, gpu))
    if gpu:
        (folder / "etc" / "gres.conf").write_text("Name=gpu File=/dev/null\n")  # no device: the job runs on the CPU
    dbd = folder / "etc" / "slurmdbd.conf"
    dbd.write_text(slurmdbd_conf(folder))
    dbd.chmod(0o600)
    pids: dict[str, int] = {}

    def launch(name: str, command: list[str], **kw) -> None:
        log = open(folder / "log" / f"{name}.out", "w")
        pids[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True, **kw).pid
        (folder / "run" / "pids.json").write_text(json.dumps(pids))

    try:
        if not (shutil.which("munge") and _ok("munge", "-n")):  # else a munged already answers: use it
            Path("/run/munge").mkdir(exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            launch("munged", ["setpriv", "--reuid=munge", "--regid=munge", "--init-groups", _which("munged"), "-F"])
            _wait("munged", lambda: Path("/run/munge/munge.socket.2").exists(), 20, folder / "log" / "munged.out")
        for sub in ("db", "dbtmp"):  # MariaDB's data and temporary files (not $TMPDIR: often private to root)
            shutil.chown(folder / sub, "mysql", "mysql")
        install = subprocess.run([_which("mariadb-install-db"), "--user=mysql", f"--datadir={folder}/db",
                                  "--auth-root-authentication-method=normal", "--skip-test-db"],
                                 capture_output=True, text=True, env={**env, "TMPDIR": str(folder / "dbtmp")})
        if install.returncode:
            raise Unavailable(f"mariadb-install-db failed in {folder}/db (the mysql user must reach it: a folder "
                              f"under /tmp, not under a private one): {install.stderr.strip()[-500:]}")
        sock = folder / "run" / "mysqld.sock"
        shutil.chown(folder / "run", "mysql", "mysql")
        launch("mariadbd", [_which("mariadbd"), "--no-defaults", "--user=mysql", f"--datadir={folder}/db",
                            f"--tmpdir={folder}/dbtmp",
                            f"--socket={sock}", f"--port={PORTS['mariadb']}", "--bind-address=127.0.0.1",
                            f"--pid-file={folder}/run/mariadbd.pid", "--skip-name-resolve"])
        client = [shutil.which("mariadb") or "mysql", f"--socket={sock}", "-uroot"]
        _wait("MariaDB", lambda: _ok(*client, "-e", "SELECT 1"), 60, folder / "log" / "mariadbd.out")
        users = " ".join(f"CREATE USER 'slurm'@'{h}' IDENTIFIED BY '{DB_PASSWORD}'; "
                         f"GRANT ALL ON slurm_acct_db.* TO 'slurm'@'{h}';" for h in ("127.0.0.1", "localhost"))
        subprocess.run([*client, "-e", users], check=True, capture_output=True)
        launch("slurmdbd", [_which("slurmdbd"), "-D"])
        _wait("slurmdbd", lambda: _port_open(PORTS["slurmdbd"]), 30, folder / "log" / "slurmdbd.log")
        launch("slurmctld", [_which("slurmctld"), "-D", "-i"])
        launch("slurmd", [_which("slurmd"), "-D", "--conf-server", f"127.0.0.1:{PORTS['slurmctld']}"])
        _wait("the node", lambda: subprocess.run([_which("sinfo"), "-h", "-o", "%t"], capture_output=True, text=True,
                                                 env=env).stdout.strip().startswith("idle"),
              60, folder / "log" / "slurmctld.log")
        _wait("job accounting", lambda: "sandbox" in subprocess.run(
            [_which("sacctmgr"), "-n", "-P", "list", "cluster", "format=cluster"], capture_output=True, text=True,
            env=env).stdout, 30, folder / "log" / "slurmdbd.log")
    except (Unavailable, subprocess.CalledProcessError, OSError) as e:
        stop(folder)
        raise e if isinstance(e, Unavailable) else Unavailable(f"{type(e).__name__}: {e}") from e
    return {"SLURM_CONF": env["SLURM_CONF"]}


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(folder: str | Path) -> None:
    """End the daemons that :func:`start` recorded in ``folder``, newest first (SIGTERM, then
    SIGKILL after 10 s)."""
    record = Path(folder) / "run" / "pids.json"
    if not record.is_file():
        return
    pids = json.loads(record.read_text())
    for name, pid in reversed(list(pids.items())):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        end = time.monotonic() + 10
        while time.monotonic() < end and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    record.unlink()


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").is_dir() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("action", choices=["start", "stop"])
    p.add_argument("folder")
    p.add_argument("--no-gpu", action="store_true", help="a cluster without GPUs (default: one pretend GPU)")
    args = p.parse_args(argv)
    if args.action == "stop":
        stop(args.folder)
        return
    try:
        env = start(args.folder, not args.no_gpu)
    except Unavailable as e:
        sys.exit(f"slurm_sandbox: {e}")
    print(f"export SLURM_CONF={env['SLURM_CONF']}")
    print(f"# stop it with: python {sys.argv[0]} stop {args.folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
