"""`health-pipeline worker` processes on imitated machines (dev/hosts.py), for tests and benchmarks
of runs spread over several workers: start one per machine, kill one as a power cut would."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

from health_pipeline.dev.hosts import Hosts


def worker_name(machine: str) -> str:
    """The Celery name of the worker started on `machine` (`--name w1` is `w1@%h`)."""
    return f"{machine}@{socket.gethostname()}"


class WorkerProcesses:
    """One `health-pipeline worker` per named machine, each in its own process group, logging to
    `<logs>/<machine>.log`; `env` is what every worker needs (the Dagster home, the broker, the
    config, the database URLs)."""

    def __init__(self, machines: Hosts, config: Path, env: dict[str, str], logs: Path) -> None:
        self.machines, self.config, self.env, self.logs = machines, config, env, logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def start(self, machine: str) -> None:
        log = open(self.logs / f"{machine}.log", "ab")
        self._logs.append(log)
        command = [str(Path(sys.executable).parent / "health-pipeline"), "--config", str(self.config),
                   "worker", "--name", machine]
        self.processes[machine] = subprocess.Popen(self.machines.command(machine, command),
                                                   env={**os.environ, **self.env}, stdout=log,
                                                   stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, machine: str) -> None:
        """As a power cut would: the worker and every process it started (its process group), at once."""
        process = self.processes.pop(machine)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # also when the worker itself has exited: its children
        except ProcessLookupError:
            pass
        process.wait()

    def stop(self) -> None:
        for machine in list(self.processes):
            self.kill(machine)
        for log in self._logs:
            log.close()

    def tail(self, chars: int = 3000) -> str:
        """The end of each worker's log (for a failing test's report)."""
        return "\n".join(f"--- {machine}\n" + (self.logs / f"{machine}.log").read_text(errors="replace")[-chars:]
                         for machine in self.machines.names if (self.logs / f"{machine}.log").exists())

    def __enter__(self) -> "WorkerProcesses":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
