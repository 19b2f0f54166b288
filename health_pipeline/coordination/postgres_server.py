"""Quota counts and token locks held by a PostgreSQL server (`[app] coordination_url = "postgresql://…"`),
for machines that already share one (Dagster's storage, the raw store) and run no Redis.

Counts are rows of `health_pipeline_quota_counts`, one per window key. A change is one transaction
that locks the windows' rows (`SELECT … FOR UPDATE`, in key order, so two changes never deadlock),
reads the server's clock once it holds them, and writes the rows it changed. A token lock is a
session advisory lock on its own connection: a process that dies holding it frees it as its
connection closes.
"""

import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace

import psycopg2
import psycopg2.errors

from health_pipeline.coordination.counts import Count, CoordinationUnavailable, Edit, LockTimeout, Result

TABLE = "health_pipeline_quota_counts"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    key text PRIMARY KEY,
    start double precision NOT NULL,  -- epoch seconds (the server's clock)
    used integer NOT NULL,
    seconds integer NOT NULL,         -- 0: a row made for a key not counted yet
    told_limit integer                -- the provider's, when it said one
)"""
_SCHEMA_LOCK = 0x6865616C7468  # an advisory lock around CREATE TABLE, which races with itself


class PostgresServer:
    """One PostgreSQL server's connection for this process's counts (one change at a time)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: "psycopg2.extensions.connection | None" = None
        self._lock = threading.Lock()
        self._known: set[str] = set()  # keys whose rows exist (rows are never deleted)

    def _connect(self) -> "psycopg2.extensions.connection":
        try:
            return psycopg2.connect(self.url, connect_timeout=5, application_name="health-pipeline")
        except psycopg2.Error as err:
            raise CoordinationUnavailable(self.url, _failure(err)) from None

    def _ready(self) -> "psycopg2.extensions.connection":
        if self._connection is None or self._connection.closed:
            self._connection = self._connect()
            with self._connection, self._connection.cursor() as cursor:
                # A count lost with the server's last few milliseconds is harmless (the provider's headers
                # correct it); waiting for the WAL flush on every take tripled its latency (bench 10).
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                cursor.execute(_SCHEMA)
        return self._connection

    def change(self, keys: Sequence[str], edit: "Edit[Result]") -> Result:
        with self._lock:
            try:
                connection = self._ready()
                unknown = sorted(set(keys) - self._known)
                if unknown:
                    with connection, connection.cursor() as cursor:
                        cursor.execute(f"INSERT INTO {TABLE} SELECT unnest(%s::text[]), 0, 0, 0 ON CONFLICT DO NOTHING",
                                       (unknown,))
                    self._known.update(unknown)
                with connection, connection.cursor() as cursor:
                    cursor.execute(f"SELECT key, start, used, seconds, told_limit FROM {TABLE} WHERE key = ANY(%s) "
                                   "ORDER BY key FOR UPDATE", (list(keys),))
                    rows = cursor.fetchall()
                    cursor.execute("SELECT extract(epoch FROM clock_timestamp())::float8")  # once the rows are ours
                    now = cursor.fetchone()[0]
                    counts = {key: Count(start, used, seconds, limit)
                              for key, start, used, seconds, limit in rows if seconds > 0}
                    before = {key: replace(count) for key, count in counts.items()}
                    result = edit(now, counts)
                    changed = [(c.start, c.used, c.seconds, c.limit, key) for key, c in counts.items()
                               if before.get(key) != c]
                    if changed:
                        cursor.executemany(f"UPDATE {TABLE} SET start = %s, used = %s, seconds = %s, told_limit = %s "
                                           "WHERE key = %s", changed)
                    return result
            except psycopg2.Error as err:
                self._drop()
                raise CoordinationUnavailable(self.url, _failure(err)) from None

    def _drop(self) -> None:
        if self._connection is not None and not self._connection.closed:
            self._connection.close()
        self._connection = None

    @contextmanager
    def token_lock(self, name: str, wait_s: float) -> Iterator[None]:
        with closing(self._connect()) as connection:
            connection.autocommit = True
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = %s", (f"{max(1, int(wait_s * 1000))}ms",))
                    cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))",
                                   (f"health-pipeline token {name}",))
            except psycopg2.errors.LockNotAvailable:
                raise LockTimeout(name, wait_s) from None
            except psycopg2.Error as err:
                raise CoordinationUnavailable(self.url, _failure(err)) from None
            yield  # closing the connection releases the lock, whatever happens in the block


def _failure(err: psycopg2.Error) -> str:
    if isinstance(err, psycopg2.OperationalError):
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"could not be reached ({first[:200]})"
    return f"refused a request ({type(err).__name__}: {str(err).strip()[:200]})"
