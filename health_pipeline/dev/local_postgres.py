"""Start and stop a throw-away PostgreSQL server on loopback (for the Postgres instance test and
`bench/end_to_end.py --instance postgres`), from Debian's `postgresql` package.

Debian keeps the server programs out of PATH (/usr/lib/postgresql/<version>/bin); PostgreSQL
refuses to run as root, so as root the cluster belongs to the package's `postgres` user. The
cluster lives in a fresh temporary folder with trust authentication on 127.0.0.1 only, and one
database, `dagster`, owned by the user `dagster`.
"""

import glob
import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg2

from health_pipeline.dev.local_victoriametrics import free_port

SERVER_USER = "postgres"  # Debian's package creates it; used when we run as root
DATABASE = "dagster"


class LocalPostgresError(Exception):
    """The server could not be found, initialised or started."""


def server_bin_dir() -> Path:
    """The folder holding `initdb` and `postgres`: on PATH, else Debian's newest version's."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise LocalPostgresError("PostgreSQL is not installed; on Debian/Ubuntu run `sudo apt-get install -y postgresql`")
    return Path(found[-1]).parent


class LocalPostgres:
    """A `postgres` process on `host`:`port` (loopback unless a test gives the address of a bridge it
    made), in its own process group, its cluster in a temporary folder removed on stop."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.port = port or free_port()
        self.host = host
        self.root: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the `dagster` database (psycopg2, which dagster-postgres uses)."""
        return f"postgresql+psycopg2://{DATABASE}@{self.host}:{self.port}/{DATABASE}"

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "postgres.log"

    def _run_as(self) -> dict[str, str]:
        return {"user": SERVER_USER} if os.geteuid() == 0 else {}

    def start(self, timeout_s: float = 60.0) -> "LocalPostgres":
        bin_dir = server_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="health-postgres-"))
        data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER)
        as_user = self._run_as()
        init = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", DATABASE, "--auth=trust", "-E", "UTF8", "--no-locale"],
            capture_output=True, text=True, **as_user)
        if init.returncode != 0:
            raise LocalPostgresError(f"initdb failed (status {init.returncode}): {init.stderr.strip()[-500:]}")
        if self.host != "127.0.0.1":  # clients on the bridge's other hosts (network namespaces), its /24 only
            with open(data / "pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.write(f"host all all {ipaddress.ip_network(f'{self.host}/24', strict=False)} trust\n")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-c", f"listen_addresses={self.host}", "-c", f"unix_socket_directories={self.root}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, **as_user)
        self._wait_ready(timeout_s)
        self._create_database()
        return self

    def _connect(self, database: str):  # type: ignore[no-untyped-def]
        return psycopg2.connect(host=self.host, port=self.port, user=DATABASE, dbname=database, connect_timeout=2)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise LocalPostgresError(f"postgres exited at start (status {self.process.returncode}); see {self.log_path}")
            try:
                self._connect("postgres").close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.1)  # polling the server's readiness with a deadline
        self.stop()
        raise LocalPostgresError(f"postgres did not accept connections within {timeout_s:.0f} s")

    def _create_database(self) -> None:
        self.create_database(DATABASE, "postgres")

    def create_database(self, name: str, via: str = DATABASE) -> str:
        """Create the empty database `name` (lower-case letters, digits, `_`); its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum() or name.lower() != name:
            raise ValueError(f"database names here are lower-case letters, digits and _: {name!r}")
        conn = self._connect(via)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {name}")
        finally:
            conn.close()
        return f"postgresql+psycopg2://{DATABASE}@{self.host}:{self.port}/{name}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # "fast" shutdown: ends sessions, then exits
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
