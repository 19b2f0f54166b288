"""The raw store on a PostgreSQL server (`[app] raw_db = "postgresql+psycopg2://…"`): the store every
machine of a deployment writes. The same tables as the SQLite file (every text column `COLLATE "C"`,
so days, instants and ids sort and compare byte by byte as they do there); it starts at schema 2.

Payloads are `text`, the provider's JSON kept verbatim (jsonb would reorder keys and drop duplicates,
so the stored text would no longer be what was fetched nor match its sha256); the one query that looks
inside a payload casts it to jsonb.

Writers: every landed window is one transaction that first takes a transaction-scoped advisory lock
on its (person, provider, resource). Landing reads before it writes (is the record new, changed,
unchanged; which live records of the window were not fetched again), and row locks cannot lock rows
that do not exist yet; the advisory lock serialises exactly the writers that could conflict, so two
machines landing different people or resources never wait for each other, while SQLite's one file
lets one writer at a time.

Connections: kept open per process and reused (a new one costs a TCP and TLS handshake and an
authentication); autocommit, with explicit transactions, so a read holds nothing.
"""

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from health_pipeline.storage.raw_schema import SCHEMA_VERSION, RawStoreError, utc_now_text

LOCK_TIMEOUT_MS = 30_000  # as SQLite's busy timeout: a writer waits this long for another's window
_IDLE_CONNECTIONS = 4  # kept per process and server; more are opened when threads need them
_SCHEMA_LOCK = "health-pipeline raw store schema"

_TEXT = 'text COLLATE "C"'
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS schema_version (
    version     integer PRIMARY KEY,
    applied_at  {_TEXT} NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    person          {_TEXT} NOT NULL,
    provider        {_TEXT} NOT NULL,
    resource        {_TEXT} NOT NULL,
    record_id       {_TEXT} NOT NULL,
    day             {_TEXT},
    payload         text NOT NULL,
    payload_sha256  {_TEXT} NOT NULL,
    fetched_at      {_TEXT} NOT NULL,
    deleted_at      {_TEXT},
    PRIMARY KEY (person, provider, resource, record_id)
);
CREATE INDEX IF NOT EXISTS records_by_day ON records (person, provider, resource, day);
CREATE TABLE IF NOT EXISTS sync_state (
    person      {_TEXT} NOT NULL,
    provider    {_TEXT} NOT NULL,
    resource    {_TEXT} NOT NULL,
    watermark   {_TEXT},
    detail      text NOT NULL DEFAULT '{{}}',
    updated_at  {_TEXT} NOT NULL,
    PRIMARY KEY (person, provider, resource)
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    person         {_TEXT} NOT NULL,
    provider       {_TEXT} NOT NULL,
    access_token   text NOT NULL,
    refresh_token  text,
    token_type     text NOT NULL DEFAULT 'Bearer',
    scope          text,
    expires_at     {_TEXT},
    updated_at     {_TEXT} NOT NULL,
    PRIMARY KEY (person, provider)
);
CREATE TABLE IF NOT EXISTS people (
    person      {_TEXT} PRIMARY KEY,
    cohort      {_TEXT} NOT NULL,
    timezone    text,
    start_date  {_TEXT},
    sources     text,
    origin      text NOT NULL,
    added_at    {_TEXT} NOT NULL
);
"""
TABLES = ("records", "sync_state", "oauth_tokens", "people")


def libpq_url(url: str) -> str:
    """The URL as libpq takes it: SQLAlchemy's and Dagster's `postgresql+psycopg2://` without the driver."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql")) if parts.scheme.startswith("postgres") else url


@lru_cache(maxsize=256)
def _marks(sql: str) -> str:
    """The store's SQL (sqlite3's `?` marks) as psycopg2 takes it (`%s`; a literal `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection:
    """A psycopg2 connection that runs the store's shared SQL as a `sqlite3` connection does:
    `execute(sql, params)` with `?` marks, returning the cursor (iterable, `fetchone`, `rowcount`)."""

    __slots__ = ("raw",)

    def __init__(self, raw: "psycopg2.extensions.connection") -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> "psycopg2.extensions.cursor":
        cursor = self.raw.cursor()
        cursor.execute(_marks(sql), params)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> "psycopg2.extensions.cursor":
        cursor = self.raw.cursor()
        cursor.executemany(_marks(sql), list(rows))  # rowcount: the rows every statement changed
        return cursor


class _Idle:
    """This process's open connections to one server, not in use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: list["psycopg2.extensions.connection"] = []


_idle: dict[tuple[int, str], _Idle] = {}
_ready: set[tuple[int, str]] = set()  # servers whose schema this process has checked
_idle_lock = threading.Lock()


class PostgresDatabase:
    """The raw store's tables on the server at `url` (cheap to construct; connections are reused)."""

    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)
        parts = urlsplit(self.url)
        self._password = parts.password
        host = parts.netloc.rsplit("@", 1)[-1]
        self.location = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}")) \
            if parts.password is not None else self.url  # for messages

    # -- connections -------------------------------------------------------------------------

    def _failure(self, err: psycopg2.Error) -> RawStoreError:
        """One line naming the server (its password hidden) and what went wrong."""
        text = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        if self._password:
            text = text.replace(self._password, "***")
        if isinstance(err, psycopg2.errors.LockNotAvailable):
            return RawStoreError(f"{self.location}: another process held the raw store's rows for over "
                                 f"{LOCK_TIMEOUT_MS // 1000} s ({text}); try again when its sync has finished")
        if isinstance(err, psycopg2.OperationalError):
            return RawStoreError(f"{self.location}: cannot reach the raw store ({text}); check the host, port, "
                                 "user and password in [app] raw_db (or HEALTH_PIPELINE_APP_RAW_DB)")
        return RawStoreError(f"{self.location}: the raw store refused a request ({type(err).__name__}: {text})")

    def _pool(self) -> _Idle:
        with _idle_lock:
            return _idle.setdefault((os.getpid(), self.url), _Idle())  # a forked child opens its own

    def connect(self) -> "psycopg2.extensions.connection":
        try:
            raw = psycopg2.connect(self.url, connect_timeout=10, application_name="health-pipeline raw store")
            raw.autocommit = True
            with raw.cursor() as cursor:
                cursor.execute("SET lock_timeout = %s", (f"{LOCK_TIMEOUT_MS}ms",))
        except psycopg2.Error as err:
            raise self._failure(err) from None
        return raw

    @contextmanager
    def _borrowed(self) -> Iterator["psycopg2.extensions.connection"]:
        pool = self._pool()
        with pool.lock:
            raw = pool.connections.pop() if pool.connections else None
        if raw is None or raw.closed:
            raw = self.connect()
        try:
            yield raw
        except BaseException:
            if not raw.closed and raw.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                raw.close()  # a broken or half-done session is not handed to the next caller
            raise
        finally:
            if not raw.closed:
                with pool.lock:
                    if len(pool.connections) < _IDLE_CONNECTIONS:
                        pool.connections.append(raw)
                        raw = None
                if raw is not None:
                    raw.close()

    def exists(self) -> bool:
        with self.peek() as conn:
            return conn is not None

    def init(self, person: str) -> None:
        """Create the schema (schema 2: no store on a server predates people); safe to call again, from
        every process at once."""
        with self._borrowed() as raw:
            conn = PostgresConnection(raw)
            try:
                conn.execute("BEGIN")
                try:
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (_SCHEMA_LOCK,))
                    conn.execute(SCHEMA.split(";")[0])
                    (current,) = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                    if current is not None and current > SCHEMA_VERSION:
                        raise RawStoreError(
                            f"{self.location}: raw store schema version {current} is newer than this "
                            f"health-pipeline understands ({SCHEMA_VERSION}); upgrade health-pipeline")
                    for statement in filter(str.strip, SCHEMA.split(";")):
                        conn.execute(statement)
                    if current is None:
                        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                                     (SCHEMA_VERSION, utc_now_text()))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except psycopg2.Error as err:
                raise self._failure(err) from None
        _ready.add((os.getpid(), self.url))

    @contextmanager
    def connection(self, person: str) -> Iterator[PostgresConnection]:
        if (os.getpid(), self.url) not in _ready:
            self.init(person)
        with self._borrowed() as raw:
            try:
                yield PostgresConnection(raw)
            except psycopg2.Error as err:
                raise self._failure(err) from None

    @contextmanager
    def transaction(self, person: str, lock: str | None = None, *, whole: bool = False) -> Iterator[PostgresConnection]:
        """One transaction. `lock` names what it reads and then writes (a person's provider and resource):
        writers of the same name queue on its advisory lock; `whole` locks every table against writers
        (renaming a person's rows)."""
        with self.connection(person) as conn:
            conn.execute("BEGIN")
            try:
                if whole:
                    conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
                elif lock is not None:
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                                 (f"health-pipeline raw {lock}",))
                yield conn
            except BaseException:
                if not conn.raw.closed:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def peek(self) -> Iterator[PostgresConnection | None]:
        """A connection if the store has its tables, else None: reading never creates them."""
        with self._borrowed() as raw:
            conn = PostgresConnection(raw)
            try:
                (found,) = conn.execute("SELECT to_regclass('records') IS NOT NULL").fetchone()
                yield conn if found else None
            except psycopg2.Error as err:
                raise self._failure(err) from None

    @staticmethod
    def json_value_in(path: str, values: Iterable[str]) -> tuple[str, list[Any]]:
        """A condition: the payload's value at `path` (SQLite's `$.a.b`, `$.a[0]`) is one of `values`
        (strings), compared as JSON as SQLite's `json_extract` compares them (the number 5 is not "5")."""
        wanted = [json.dumps(v) for v in values]
        return (f"(payload::jsonb #> ?) IN ({', '.join('?::jsonb' for _ in wanted)})",
                [json_path_keys(path), *wanted])

    @staticmethod
    def json_value(path: str) -> tuple[str, list[Any]]:
        """The payload's value at `path` (`$.a.b`): a number, a string, None (absent or null), as
        SQLite's `json_extract` gives them (psycopg2 decodes the jsonb)."""
        return "(payload::jsonb #> ?)", [json_path_keys(path)]

    def reclaim(self) -> None:
        """Nothing to do at once: deleted rows are invisible at commit, and their space is reclaimed by
        (auto)vacuum (the README's raw store section says what stays on disk until then)."""

    def lock_server(self) -> str:
        return self.url  # a shared store is where the machines' token refresh locks can be held

    @property
    def scratch_dir(self) -> None:
        return None  # no folder of the store's: the system's temporary folder


def json_path_keys(path: str) -> list[str]:
    """SQLite's JSON path (`$.a.b`, `$.a[0]`, `$."a b"`) as PostgreSQL's `#>` takes it: ['a', 'b']."""
    if not path.startswith("$"):
        raise ValueError(f"{path!r} is not a JSON path (it starts with $)")
    keys: list[str] = []
    rest = path[1:]
    while rest:
        if rest.startswith("."):
            rest = rest[1:]
            if rest.startswith('"'):
                end = rest.index('"', 1)
                keys.append(rest[1:end])
                rest = rest[end + 1:]
            else:
                cut = min((i for i in (rest.find("."), rest.find("[")) if i >= 0), default=len(rest))
                keys.append(rest[:cut])
                rest = rest[cut:]
        elif rest.startswith("["):
            end = rest.index("]")
            keys.append(rest[1:end])
            rest = rest[end + 1:]
        else:
            raise ValueError(f"{path!r} is not a JSON path SQLite and PostgreSQL both read")
    return keys
