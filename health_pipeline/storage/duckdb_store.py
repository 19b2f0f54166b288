"""The DuckDB file that holds the tidy tables, opened one writer at a time.

DuckDB locks the whole file: while one process writes, another cannot even open it read-only.
So every open waits (polling, up to a deadline) and then fails with a message that says who to
stop, instead of hanging or dumping a traceback.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DEFAULT_WAIT_S = 120.0


class TidyStoreLocked(Exception):
    """Another process holds the DuckDB file."""


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
                    raise
                if time.monotonic() >= deadline:
                    raise TidyStoreLocked(
                        f"{self.path} is locked by another process (a running Dagster run, the CLI, or a "
                        f"SQL client) and stayed locked for {self.wait_s:.0f} s; close it and try again"
                    ) from None
                time.sleep(delay)  # polling a file lock; there is no notification to wait on
                delay = min(delay * 2, 1.0)
        try:
            conn.execute("SET TimeZone = 'UTC'")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, closed (and the file lock released) as soon as the block ends."""
        conn = self.open(read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> object:
    """The single value a query returns (None when it returns no row).

    Fetches every row: DuckDB refuses further work on a connection whose last result was not
    fully read, so `fetchone()` on a shared connection is a trap.
    """
    rows = conn.execute(sql, params).fetchall() if params is not None else conn.execute(sql).fetchall()
    return rows[0][0] if rows else None
