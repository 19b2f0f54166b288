"""Dagster's SQLite event log with its connections kept open.

Dagster's `SqliteEventLogStorage` builds a SQLAlchemy engine, opens a connection, and closes both
for every event it stores. A partition-range run records one materialization per partition per
asset (a two-year backfill of every provider: about 35 000 events), and that per-event set-up
(engine creation, statement compilation without a cache, the WAL checkpoint on each last close)
costs three times the write itself. This subclass keeps one engine, with one connection, per
database file for the life of the process: same files, same layout, same locking (Dagster's own
lock serialises all use within a process; SQLite's WAL and busy timeout between processes), so
an instance can switch to it and back at any time.
"""

import contextlib
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.storage.sqlite_storage import SqliteStorageConfig
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

ENGINES_KEPT = 8  # the index database and the few runs being written or watched


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` keeping one open connection per database file (see the module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # before super(): it connects
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: SqliteStorageConfig
    ) -> "PooledSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine (created on first use); called with `_db_lock` held."""
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,  # one connection, reused; use is serialised by _db_lock
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engines[shard] = engine
            while len(self._engines) > ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_all(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close_all()  # the run databases are deleted: no connection may outlive its file
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_all()
