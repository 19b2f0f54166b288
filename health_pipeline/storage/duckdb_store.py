"""The DuckDB file that holds the tidy tables, opened one writer at a time.

DuckDB locks the whole file: while one process writes, another cannot even open it read-only.
So every open waits (polling, up to a deadline) and then fails with a message that says who to
stop, instead of hanging or dumping a traceback. The file holds health data, so it is kept
private (mode 0600), like the raw store, whatever the umask made of it.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DEFAULT_WAIT_S = 120.0


class TidyStoreLocked(Exception):
    """Another process holds the DuckDB file."""


class TidyStoreError(Exception):
    """The DuckDB file cannot be used (not a DuckDB database, unreadable)."""


class TidyStore:
    """Opens the tidy DuckDB file with the session settings every query here assumes (UTC)."""

    def __init__(self, path: Path | str, wait_s: float = DEFAULT_WAIT_S) -> None:
        self.path = Path(path)
        self.wait_s = wait_s

    def open(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection (the caller closes it), waiting up to `wait_s` while another process holds the file."""
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"{self.path}: the tidy database does not exist yet; run `health-pipeline init`")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_s
        delay = 0.05
        while True:
            try:
                conn = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as err:
                if "lock" not in str(err).lower():
                    raise TidyStoreError(f"{self.path}: cannot open the tidy database: {_first_line(err)}") from None
                if time.monotonic() >= deadline:
                    raise TidyStoreLocked(
                        f"{self.path} is locked by another process (a running Dagster run, the CLI, or a "
                        f"SQL client) and stayed locked for {self.wait_s:.0f} s; close it and try again"
                    ) from None
                time.sleep(delay)  # polling a file lock; there is no notification to wait on
                delay = min(delay * 2, 1.0)
        try:
            conn.execute("SET TimeZone = 'UTC'")
            if not read_only:
                private(self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def wait_until_free(self) -> None:
        """Wait (up to `wait_s`) until no other process holds the file, then let go of it (a missing
        file is created): what a writer that opens the file itself waits for first."""
        self.open().close()

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, closed (and the file lock released) as soon as the block ends."""
        conn = self.open(read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


def private(path: Path) -> None:
    """Mode 0600 for a store file and its write-ahead log, where this process owns them."""
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
                os.chmod(file, 0o600)
        except OSError:
            pass  # another user's file, or gone meanwhile: nothing of ours to change


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> object:
    """The single value a query returns (None when it returns no row).

    Fetches every row: DuckDB refuses further work on a connection whose last result was not
    fully read, so `fetchone()` on a shared connection is a trap.
    """
    rows = conn.execute(sql, params).fetchall() if params is not None else conn.execute(sql).fetchall()
    return rows[0][0] if rows else None
