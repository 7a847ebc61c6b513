"""A throwaway one-node SLURM cluster for the tests of hpc/ (tests/test_hpc_slurm.py).

:class:`SlurmCluster` writes a munge key and a ``slurm.conf`` into a temporary folder and starts
``munged``, ``slurmctld`` and ``slurmd`` in the foreground as children of the test process (one
node named after ``hostname -s``, 2 CPUs, one partition, ``proctrack/linuxproc``, ``task/none``,
``select/cons_tres``; state, spool, logs, pid files and the munge socket all in that folder; free
TCP ports, so a cluster already on the machine is never touched). :meth:`SlurmCluster.stop` ends
them by their process ids. There is no accounting database (no ``sacct``): job states come from
``scontrol show job``.

:func:`cannot_start` says in one line why the daemons cannot run here (not root, not Debian, a
program missing); the fixture skips with that line. Debian's ``slurm-wlm`` and ``munge`` are what
``make test`` installs (root and apt only).
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

#: the programs the cluster and its clients need (Debian packages slurm-wlm, munge)
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "scancel")
#: jobs that end in one of these states are done (``scontrol show job``'s JobState)
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
                "BOOT_FAIL", "DEADLINE"}
#: the environment variable that marks every process of one cluster (daemons, clients, jobs)
MARK = "CAM2SEG_SLURM_TEST"


def cannot_start() -> str | None:
    """Why a one-node cluster cannot be started here, in one line; ``None`` when it can."""
    if os.name != "posix" or os.geteuid() != 0:
        return "the SLURM tests start munged/slurmctld/slurmd, which needs root"
    if not Path("/etc/debian_version").is_file():
        return "the SLURM tests use Debian's slurm-wlm and munge packages (not a Debian system)"
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing:
        return (f"SLURM not installed ({', '.join(missing)} missing): `make test` installs Debian's "
                f"slurm-wlm and munge as root")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_records(text: str) -> list[dict[str, str]]:
    """``scontrol show -o`` output (one record a line, ``Key=Value`` fields) -> dicts."""
    records = []
    for line in text.splitlines():
        if "=" in line:
            records.append({k: v.strip() for k, v in re.findall(r"(\w[\w:/()]*)=(.*?)(?= \w[\w:/()]*=|$)", line)})
    return records


class SlurmCluster:
    """One node, one partition (``debug``), daemons as child processes; see the module docstring."""

    def __init__(self, root: Path, cpus: int = 2, memory_mb: int = 4000):
        self.root = Path(root)
        self.node = socket.gethostname().split(".")[0]
        self.cpus, self.memory_mb = cpus, memory_mb
        self.procs: dict[str, subprocess.Popen] = {}
        self.conf = self.root / "etc" / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket.2"
        self.logs = self.root / "log"
        self.partition = "debug"

    # ------------------------------------------------------------------ environment
    @property
    def env(self) -> dict[str, str]:
        """The environment of a SLURM client of this cluster (``sbatch`` reads ``SLURM_CONF``);
        jobs inherit it (``sbatch`` exports the whole environment by default)."""
        return {**os.environ, "SLURM_CONF": str(self.conf), MARK: str(self.root)}

    def _write(self) -> None:
        for sub in ("etc", "munge", "state", "spool", "log", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "munge", 0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        os.chmod(key, 0o400)
        run = self.root / "run"
        self.conf.write_text("\n".join([
            "# written by tests/slurm_cluster.py: a throwaway one-node cluster",
            "ClusterName=cam2seg-test",
            f"SlurmctldHost={self.node}",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={self.root / 'state'}",
            f"SlurmdSpoolDir={self.root / 'spool'}",
            f"SlurmctldPidFile={run / 'slurmctld.pid'}",
            f"SlurmdPidFile={run / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.logs / 'slurmctld.log'}",
            f"SlurmdLogFile={self.logs / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "SchedulerType=sched/builtin",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "ReturnToService=2",
            "SlurmdParameters=config_overrides",   # the node as written here, whatever the machine has
            "MinJobAge=3600",                       # finished jobs stay visible to scontrol
            "KillWait=2",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            f"NodeName={self.node} CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN",
            f"PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]))

    # ------------------------------------------------------------------ start / stop
    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.logs / f"{name}.stdout", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=self.env, start_new_session=True)
        log.close()

    def start(self, timeout: float = 60.0) -> None:
        """Write the files, start the three daemons, wait until the node is ``idle``."""
        self._write()
        munge = self.root / "munge"
        self._spawn("munged", ["munged", "--foreground", "--force", f"--socket={self.munge_socket}",
                               f"--key-file={munge / 'munge.key'}", f"--pid-file={munge / 'munged.pid'}",
                               f"--log-file={self.logs / 'munged.log'}", f"--seed-file={munge / 'munged.seed'}"])
        self._wait(lambda: self.munge_socket.exists(), timeout, "munged did not open its socket")
        self._spawn("slurmctld", ["slurmctld", "-D", "-c", "-f", str(self.conf)])
        self._wait(lambda: self.scontrol("ping").returncode == 0 and "UP" in self.scontrol("ping").stdout,
                   timeout, "slurmctld did not answer `scontrol ping`")
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.node])
        self._wait(lambda: self.node_state().lower().startswith("idle"), timeout, "the node did not come up idle")

    def _wait(self, ready, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited during start-up ({what}); logs: {self.log_tail()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what} within {timeout:.0f} s; logs: {self.log_tail()}")

    def log_tail(self, chars: int = 1500) -> str:
        parts = []
        for path in sorted(self.logs.glob("*")):
            text = path.read_text(errors="replace")
            if text.strip():
                parts.append(f"--- {path.name}\n{text[-chars:]}")
        return "\n".join(parts)

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items()}

    def stop(self, timeout: float = 20.0) -> None:
        """Cancel every job, then end slurmd, slurmctld and munged by their process ids (SIGTERM,
        SIGKILL after ``timeout``)."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            subprocess.run(["scancel", "--full", f"--partition={self.partition}"], env=self.env,
                           capture_output=True, timeout=30)
            end = time.monotonic() + timeout
            while time.monotonic() < end and self.squeue():
                time.sleep(0.3)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def leftovers(self) -> list[str]:
        """Processes still running that belong to this cluster: its daemons' ids, and any process
        whose environment carries this cluster's mark (job scripts, slurmstepd, clients)."""
        left = [f"{name} (pid {p.pid})" for name, p in self.procs.items() if p.poll() is None]
        mark = f"{MARK}={self.root}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                if mark in (proc / "environ").read_bytes().split(b"\0"):
                    cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                    left.append(f"pid {proc.name}: {cmd}")
            except OSError:
                continue
        return left

    # ------------------------------------------------------------------ clients
    def run(self, *cmd: str, check: bool = True, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        res = subprocess.run(list(cmd), env={**self.env, **(env or {})}, cwd=cwd, capture_output=True, text=True,
                             timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr.strip()}")
        return res

    def scontrol(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("scontrol", *args, check=False, timeout=30)

    def node_state(self) -> str:
        recs = parse_records(self.scontrol("show", "node", "-o", self.node).stdout)
        return recs[0].get("State", "") if recs else ""

    def squeue(self) -> list[str]:
        """Job ids (array tasks as ``<job>_<task>``) still pending or running."""
        res = self.run("squeue", "-h", "-o", "%i", check=False, timeout=30)
        return res.stdout.split() if res.returncode == 0 else ["?"]

    def jobs(self, job_id: str | int) -> list[dict[str, str]]:
        """``scontrol show job`` of one job: one record, or one per task of an array job."""
        return parse_records(self.scontrol("show", "job", "-o", str(job_id)).stdout)

    def wait(self, job_ids, timeout: float) -> dict[str, list[dict[str, str]]]:
        """Wait until every job (and array task) of ``job_ids`` is in a final state; returns
        ``{job id: records}``."""
        job_ids = [str(j) for j in job_ids]
        end = time.monotonic() + timeout
        while True:
            found = {j: self.jobs(j) for j in job_ids}
            states = [r.get("JobState") for recs in found.values() for r in recs]
            if states and all(recs for recs in found.values()) and all(s in FINAL_STATES for s in states):
                return found
            if time.monotonic() > end:
                raise TimeoutError(f"jobs {job_ids} not done within {timeout:.0f} s: "
                                   + "; ".join(f"{r.get('JobId')}_{r.get('ArrayTaskId', '')}={r.get('JobState')} "
                                               f"{r.get('Reason', '')}" for recs in found.values() for r in recs)
                                   + f"\n{self.log_tail()}")
            time.sleep(0.5)
