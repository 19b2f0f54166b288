"""Start and stop a throw-away Redis server on loopback (for the coordination tests and
`bench/shared_limiter.py`), from Debian's `redis-server` package: no persistence, its working
folder a fresh temporary one removed on stop."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

from health_pipeline.dev.local_victoriametrics import free_port


class LocalRedisError(Exception):
    """The server could not be found or started."""


class LocalRedis:
    """A `redis-server` process on `host`:`port` (loopback by default), in its own process group."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.port = port or free_port()
        self.host = host
        self.root: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout_s: float = 30.0) -> "LocalRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise LocalRedisError("redis-server is not installed; on Debian/Ubuntu run `sudo apt-get install -y "
                                  "redis-server` (./test.sh does, through scripts/bootstrap.sh ensure_test_tools)")
        self.root = Path(tempfile.mkdtemp(prefix="health-redis-"))
        with open(self.root / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", self.host, "--dir", str(self.root), "--save", "",
                 "--appendonly", "no", "--daemonize", "no",
                 # bound to loopback or to a test's private bridge only: the bridge's hosts may connect
                 "--protected-mode", "yes" if self.host == "127.0.0.1" else "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise LocalRedisError(f"redis-server exited at start (status {self.process.returncode}); "
                                          f"see {self.root / 'redis.log'}")
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    time.sleep(0.05)  # polling the server's readiness with a deadline
        finally:
            client.close()
        self.stop()
        raise LocalRedisError(f"redis-server did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "LocalRedis":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
