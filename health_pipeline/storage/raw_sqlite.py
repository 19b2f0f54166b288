"""The raw store in a SQLite file (one machine; the default): the file, its schema, its migration from
before people, how a write transaction is taken and how erased rows leave the file.

The SQL every backend shares lives in health_pipeline/storage/raw_store.py; this module hands it plain
`sqlite3` connections, so landing millions of rows costs what it did before there was another backend.
The file is created with mode 0600 because it holds OAuth tokens.
"""

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from health_pipeline.storage.raw_schema import RECORD_COLUMNS, SCHEMA_VERSION, RawStoreError, utc_now_text

BUSY_TIMEOUT_MS = 30_000

# Schema 1, as releases before people wrote it: what the migration to schema 2 upgrades in place.
# Kept for the tests and the migration benchmark, which build such old stores from it.
SCHEMA_1 = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00Z');
CREATE TABLE records (provider TEXT NOT NULL, resource TEXT NOT NULL, record_id TEXT NOT NULL, day TEXT,
    payload TEXT NOT NULL, payload_sha256 TEXT NOT NULL, fetched_at TEXT NOT NULL, deleted_at TEXT,
    PRIMARY KEY (provider, resource, record_id)) WITHOUT ROWID;
CREATE INDEX records_by_day ON records (provider, resource, day);
CREATE TABLE sync_state (provider TEXT NOT NULL, resource TEXT NOT NULL, watermark TEXT,
    detail TEXT NOT NULL DEFAULT '{}', updated_at TEXT NOT NULL, PRIMARY KEY (provider, resource));
CREATE TABLE oauth_tokens (provider TEXT PRIMARY KEY, access_token TEXT NOT NULL, refresh_token TEXT,
    token_type TEXT NOT NULL DEFAULT 'Bearer', scope TEXT, expires_at TEXT, updated_at TEXT NOT NULL);
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    person          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    resource        TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    day             TEXT,
    payload         TEXT NOT NULL,
    payload_sha256  TEXT NOT NULL,
    fetched_at      TEXT NOT NULL,
    deleted_at      TEXT,
    PRIMARY KEY (person, provider, resource, record_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_day ON records (person, provider, resource, day);
CREATE TABLE IF NOT EXISTS sync_state (
    person      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    resource    TEXT NOT NULL,
    watermark   TEXT,
    detail      TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (person, provider, resource)
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    person         TEXT NOT NULL,
    provider       TEXT NOT NULL,
    access_token   TEXT NOT NULL,
    refresh_token  TEXT,
    token_type     TEXT NOT NULL DEFAULT 'Bearer',
    scope          TEXT,
    expires_at     TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (person, provider)
);
CREATE TABLE IF NOT EXISTS people (
    person      TEXT PRIMARY KEY,
    cohort      TEXT NOT NULL,
    timezone    TEXT,
    start_date  TEXT,
    sources     TEXT,
    origin      TEXT NOT NULL,
    added_at    TEXT NOT NULL
);
"""

# Schema 1 (before people): the same tables without the person. Migrated by copying each row under
# the person the store is opened for; the copy and the drop are one transaction.
_MIGRATE_1_TO_2 = """
ALTER TABLE records RENAME TO records_v1;
ALTER TABLE sync_state RENAME TO sync_state_v1;
ALTER TABLE oauth_tokens RENAME TO oauth_tokens_v1;
DROP INDEX IF EXISTS records_by_day;
"""


class SqliteDatabase:
    """The SQLite file at `path` (cheap to construct; a connection per use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def init(self, person: str) -> None:
        """Create the file (mode 0600) and the schema, or migrate a schema-1 file to `person`; safe to call again."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        with closing(self.connect()) as conn:  # sqlite3's own context manager commits but never closes
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                         "applied_at TEXT NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0]
            if current == 1:
                self._migrate_from_1(conn, person)
            elif current is None:
                conn.executescript(SCHEMA)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (SCHEMA_VERSION, utc_now_text()),
                )
            elif current > SCHEMA_VERSION:
                raise RawStoreError(
                    f"{self.path}: raw store schema version {current} is newer than this "
                    f"health-pipeline understands ({SCHEMA_VERSION}); upgrade health-pipeline"
                )
            else:
                conn.executescript(SCHEMA)  # a table a release added since (none yet), created
            conn.commit()

    @staticmethod
    def _migrate_from_1(conn: sqlite3.Connection, person: str) -> None:
        """Bring a schema-1 store (one person, no person column) to schema 2: every row becomes `person`'s,
        and the person is listed in `people` (origin "migrated"). One transaction."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] != 1:
                conn.execute("ROLLBACK")  # another process migrated it while this one waited
                return
            for statement in filter(str.strip, _MIGRATE_1_TO_2.split(";")):
                conn.execute(statement)
            for statement in filter(str.strip, SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute(f"INSERT INTO records (person, {RECORD_COLUMNS}) SELECT ?, {RECORD_COLUMNS} "
                         "FROM records_v1", (person,))
            conn.execute("INSERT INTO sync_state (person, provider, resource, watermark, detail, updated_at) "
                         "SELECT ?, provider, resource, watermark, detail, updated_at FROM sync_state_v1",
                         (person,))
            conn.execute("INSERT INTO oauth_tokens (person, provider, access_token, refresh_token, token_type, "
                         "scope, expires_at, updated_at) SELECT ?, provider, access_token, refresh_token, "
                         "token_type, scope, expires_at, updated_at FROM oauth_tokens_v1", (person,))
            now = utc_now_text()
            conn.execute("INSERT INTO people (person, cohort, origin, added_at) VALUES (?, ?, 'migrated', ?)",
                         (person, person, now))
            for table in ("records_v1", "sync_state_v1", "oauth_tokens_v1"):
                conn.execute(f"DROP TABLE {table}")
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (SCHEMA_VERSION, now))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as err:  # not a database, a folder, a file it may not read
            raise RawStoreError(f"{self.path}: cannot open the raw store: {err}") from None
        return conn

    @contextmanager
    def connection(self, person: str) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self.init(person)
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self, person: str, lock: str | None = None, *, whole: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (`BEGIN IMMEDIATE`): the file has one writer at a time, so
        writers queue (up to the busy timeout) instead of deadlocking; `lock` and `whole` are implied."""
        with self.connection(person) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def peek(self) -> Iterator[sqlite3.Connection | None]:
        """A connection if the store has its tables, else None: reading never creates a file."""
        if not self.path.exists():
            yield None
            return
        with closing(self.connect()) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone()
            yield conn if found else None

    @staticmethod
    def json_value_in(path: str, values: Iterable[str]) -> tuple[str, list[Any]]:
        """A condition: the payload's value at `path` (`$.a.b`) is one of `values` (strings)."""
        wanted = list(values)
        return f"json_extract(payload, ?) IN ({', '.join('?' for _ in wanted)})", [path, *wanted]

    @staticmethod
    def json_value(path: str) -> tuple[str, list[Any]]:
        """The payload's value at `path` (`$.a.b`): a number, a string, None (absent or null)."""
        return "json_extract(payload, ?)", [path]

    def reclaim(self) -> None:
        """Rewrite the file without its freed pages: they still hold deleted text until overwritten."""
        with closing(self.connect()) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")

    def lock_server(self) -> str:
        return ""  # one machine: a lock file beside the store does

    @property
    def scratch_dir(self) -> Path:
        return self.path.parent
