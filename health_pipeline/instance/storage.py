"""Dagster's SQLite event log with its connections kept open.

Dagster's `SqliteEventLogStorage` builds a SQLAlchemy engine, opens a connection, and closes both
for every event it stores. A partition-range run records one materialization per partition per
asset (a two-year backfill of every provider: about 35 000 events), and that per-event set-up
(engine creation, statement compilation without a cache, the WAL checkpoint on each last close)
costs three times the write itself. This subclass keeps one engine, with one connection, per
database file for the life of the process: same files, same layout, same locking (Dagster's own
lock serialises all use within a process; SQLite's WAL and busy timeout between processes), so
an instance can switch to it and back at any time.

With `DAGSTER_EVENT_BATCH_SIZE` set (health_pipeline/dagster_settings.py), Dagster hands a step's
events over in batches; Dagster's SQLite storage then still stores them one by one, one commit
(and one fsync) each. Here a batch is stored in one transaction per database file. A batch of
one run's materializations (or observations), what a range run's step emits, is written as
Dagster's Postgres storage writes one: the rows inserted at once into the run's and the index
database, their tags at once, and each asset's entry updated from its last event (stored one by
one, each event would overwrite the entry before). Any other batch is Dagster's own
`store_event` per event. If anything fails, the whole batch is rolled back and Dagster stores the
events one by one, as it does on any batch failure.

Measured against stock storage with both settings on: bench/README.md, benchmark 2.
"""

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from health_pipeline.instance.internals import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    ConfigurableClassData,
    DagsterEventType,
    EventLogEntry,
    SqlEventLogStorageTable,
    SqliteEventLogStorage,
    SqliteStorageConfig,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

ENGINES_KEPT = 8  # the index database and the few runs being written or watched


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` keeping one open connection per database file (see the module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # before super(): it connects
        self._batch: dict[str, Connection] | None = None  # shard -> connection, while a batch is stored
        self._batch_thread: int | None = None  # the thread storing it (holding _db_lock)
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

    def _open(self, shard: str) -> Connection:
        """A connection to the shard's database, created on first use; called with `_db_lock` held."""
        engine = self._engine(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine.connect()

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        if self._batch is not None and self._batch_thread == threading.get_ident():
            conn = self._batch.get(shard)  # inside store_event_batch: its open transaction
            if conn is None:
                conn = self._batch[shard] = self._open(shard)
                conn.begin()
            yield conn
            return
        with self._db_lock:
            with self._open(shard) as conn, conn.begin():
                yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store `events` in one transaction per database file (all of them or, on any error,
        none: Dagster then stores them one by one); see the module for how."""
        with self._db_lock:
            self._batch, self._batch_thread = {}, threading.get_ident()
            try:
                if _asset_events_of_one_run(events):
                    self._store_asset_events(events)
                else:
                    for event in events:
                        self.store_event(event)
                for conn in self._batch.values():
                    conn.commit()
            except BaseException:
                for conn in self._batch.values():
                    conn.rollback()
                raise
            finally:
                for conn in self._batch.values():
                    conn.close()
                self._batch, self._batch_thread = None, None

    def _store_asset_events(self, events: Sequence[EventLogEntry]) -> None:
        """One run's materializations or observations, inserted at once (inside a batch)."""
        rows = [self._event_to_row(event) for event in events]  # each event serialized once
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        with self.index_connection() as conn:
            inserted = conn.execute(
                SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True),
                rows)
            ids = [int(row[0]) for row in inserted]
            self._store_asset_event_tags(conn, events, ids)
            last: dict[str, tuple[EventLogEntry, int]] = {}
            for event, event_id in zip(events, ids):
                last[event.get_dagster_event().asset_key.to_string()] = (event, event_id)  # type: ignore[union-attr]
            for event, event_id in last.values():
                self._store_asset_event(conn, event, event_id)

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


BATCHED_KINDS = ({DagsterEventType.ASSET_MATERIALIZATION}, {DagsterEventType.ASSET_OBSERVATION})


def _asset_events_of_one_run(events: Sequence[EventLogEntry]) -> bool:
    """Whether `events` are all materializations (or all observations) of assets, in one run."""
    if not events or len({event.run_id for event in events}) != 1:
        return False
    if not all(event.dagster_event is not None and event.dagster_event.asset_key for event in events):
        return False
    return {event.dagster_event_type for event in events} in BATCHED_KINDS
