"""The tidy tables and the raw resources that feed them, and the window rebuild that fills them.

Each table is a DDL file in `tables/`; each (table, provider resource) pair is a SELECT in
`sources/` that reads a relation named `raw` (provider, resource, record_id, day, payload) and
yields the table's columns. Rebuilding a window deletes the window's rows of that provider and
inserts the SELECT's rows, in one transaction: re-running it changes nothing.
"""

from dataclasses import dataclass
from datetime import date
from importlib import resources

import duckdb
import pyarrow as pa

from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.raw_store import RawStore


@dataclass(frozen=True)
class TidySource:
    """One raw resource feeding one tidy table."""

    provider: str
    resource: str

    @property
    def raw_asset(self) -> str:
        """The landing asset's name (`fitbit_heart_rate` for resource `heart-rate`)."""
        return f"{self.provider}_{self.resource.replace('-', '_')}"


@dataclass(frozen=True)
class TidyTable:
    """A tidy table: its name, grain and the raw resources it is built from."""

    name: str
    grain: tuple[str, ...]
    sources: tuple[TidySource, ...]

    def ddl(self) -> str:
        return _sql("tables", f"{self.name}.sql")

    def select(self, source: TidySource) -> str:
        return _sql("sources", f"{self.name}__{source.raw_asset}.sql")


TABLES: dict[str, TidyTable] = {
    table.name: table
    for table in (
        TidyTable("daily_activity", ("provider", "day"), (TidySource("oura", "daily_activity"),)),
        TidyTable("heart_rate", ("provider", "ts"), (TidySource("oura", "heartrate"),)),
        TidyTable("sleep_sessions", ("provider", "sleep_id"), (TidySource("oura", "sleep"), TidySource("fitbit", "sleep"))),
    )
}


def _sql(folder: str, name: str) -> str:
    return resources.files("health_pipeline.tidy").joinpath(folder, name).read_text(encoding="utf-8")


def create_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every tidy table that does not exist yet."""
    for table in TABLES.values():
        conn.execute(table.ddl())


def rebuild_window(
    conn: duckdb.DuckDBPyConnection, raw_store: RawStore, table_name: str, start: date, end: date
) -> dict[str, int]:
    """Re-model [start, end] (local days) of one table from the raw store; rows per provider."""
    table = TABLES[table_name]
    conn.execute(table.ddl())
    rows: dict[str, int] = {}
    conn.execute("BEGIN TRANSACTION")
    try:
        for source in table.sources:
            raw = _raw_relation(raw_store, source, start, end)
            conn.register("raw", raw)
            try:
                conn.execute(
                    f"DELETE FROM {table.name} WHERE provider = ? AND day BETWEEN ? AND ?",
                    [source.provider, start, end],
                )
                conn.execute(f"INSERT INTO {table.name} BY NAME {table.select(source)}")
            finally:
                conn.unregister("raw")
            count = scalar(conn, f"SELECT count(*) FROM {table.name} WHERE provider = ? AND day BETWEEN ? AND ?",
                           [source.provider, start, end])
            rows[source.provider] = rows.get(source.provider, 0) + int(count or 0)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return rows


def _raw_relation(raw_store: RawStore, source: TidySource, start: date, end: date) -> pa.Table:
    """Live raw records of one resource in the window, as an Arrow table DuckDB can scan."""
    records = raw_store.records(source.provider, source.resource, start_day=start, end_day=end)
    return pa.table(
        {
            "provider": pa.array([r.provider for r in records], pa.string()),
            "resource": pa.array([r.resource for r in records], pa.string()),
            "record_id": pa.array([r.record_id for r in records], pa.string()),
            "day": pa.array([r.day for r in records], pa.string()),
            "payload": pa.array([r.payload for r in records], pa.string()),
        }
    )
