"""Start and stop a local VictoriaMetrics server (for the demo and the tests).

Debian's 1.79.5 keeps one month by default and drops older samples silently, so it is always
started with a long retention and its own data folder.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import requests

BINARY = "victoria-metrics"


class LocalVictoriaMetricsError(Exception):
    """The server could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalVictoriaMetrics:
    """A `victoria-metrics` process on loopback (or `host`), in its own process group."""

    def __init__(
        self,
        data_path: Path,
        port: int | None = None,
        retention: str = "100y",
        extra_args: list[str] | None = None,
        tls: tuple[Path, Path] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.data_path = Path(data_path)
        self.port = port or free_port()
        self.retention = retention
        self.extra_args = extra_args or []
        self.tls = tls  # (certificate, key): serve HTTPS
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_path.parent / f"victoria-metrics-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> "LocalVictoriaMetrics":
        binary = shutil.which(BINARY)
        if binary is None:
            raise LocalVictoriaMetricsError(
                "victoria-metrics is not installed; on Debian/Ubuntu run `sudo apt-get install -y victoria-metrics`"
            )
        self.data_path.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [binary, f"-storageDataPath={self.data_path}", f"-retentionPeriod={self.retention}",
             f"-httpListenAddr={self.host}:{self.port}", *self._tls_args(), *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalVictoriaMetricsError(
                    f"victoria-metrics exited at start (status {self.process.returncode}); see {self.log_path}"
                )
            try:
                verify = str(self.tls[0]) if self.tls else True
                if requests.get(f"{self.url}/health", timeout=1, verify=verify).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)  # polling the server's readiness with a deadline
        self.stop()
        raise LocalVictoriaMetricsError(f"victoria-metrics did not answer /health within {timeout_s:.0f} s")

    def _tls_args(self) -> list[str]:
        if not self.tls:
            return []
        return ["-tls", f"-tlsCertFile={self.tls[0]}", f"-tlsKeyFile={self.tls[1]}"]

    def stop(self) -> None:
        """Stop the whole process group and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "LocalVictoriaMetrics":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
