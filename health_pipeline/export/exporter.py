"""Exact export of tidy tables to VictoriaMetrics: one sample per series and timestamp, always.

VictoriaMetrics keeps every re-imported sample (no overwrite) and can only delete whole series.
So a ledger table in DuckDB records every sample written. A window's export compares what the
tidy tables hold with the ledger:
- samples not written yet are appended;
- a series whose written samples changed or vanished is deleted and re-imported whole
  (ledger outside the window + tidy inside it).
Each batch marks its series "dirty" before it is sent and clean after VictoriaMetrics confirms
it, so a failure mid-way is repaired by a full rewrite of those series on the next run.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import duckdb
import pyarrow as pa

from health_pipeline.export.metrics import METRICS, Metric
from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.victoriametrics import VictoriaMetrics, series_selector

SAMPLES_PER_LINE = 50_000
SAMPLES_PER_REQUEST = 200_000

_LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS _vm_ledger (
    metric  VARCHAR NOT NULL,
    series  VARCHAR NOT NULL,
    day     DATE    NOT NULL,
    ts_ms   BIGINT  NOT NULL,
    value   DOUBLE  NOT NULL
);
CREATE TABLE IF NOT EXISTS _vm_dirty (series VARCHAR NOT NULL);
"""


class ExportRefused(Exception):
    """The export would lose data silently (e.g. samples older than the server's retention)."""


@dataclass
class ExportResult:
    """What one export did, for asset metadata."""

    samples_appended: int = 0
    samples_rewritten: int = 0
    samples_unchanged: int = 0
    series_rewritten: list[str] = field(default_factory=list)
    requests: int = 0


def export_window(
    conn: duckdb.DuckDBPyConnection,
    vm: VictoriaMetrics,
    *,
    start: date,
    end: date,
    timezone_name: str,
    user: str,
    extra_labels: dict[str, str] | None = None,
    metrics: list[Metric] | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Bring VictoriaMetrics in line with the tidy tables for local days [start, end]."""
    chosen = metrics or list(METRICS.values())
    labels = {**(extra_labels or {}), "user": user}
    conn.execute(_LEDGER_DDL)
    _build_desired(conn, chosen, start, end, timezone_name, labels)
    _refuse_outside_retention(conn, vm, now or datetime.now(timezone.utc))
    result = ExportResult()
    requests_before = vm.requests_made

    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ledger_window AS
        SELECT * FROM _vm_ledger WHERE day BETWEEN ? AND ? AND metric IN (SELECT unnest(?))
        """,
        [start, end, [m.name for m in chosen]],
    )
    rewrite = [row[0] for row in conn.execute(
        """
        SELECT DISTINCT l.series FROM _ledger_window l
        LEFT JOIN _desired d ON d.series = l.series AND d.ts_ms = l.ts_ms
        WHERE d.value IS NULL OR d.value <> l.value
        UNION SELECT series FROM _vm_dirty
        ORDER BY 1
        """
    ).fetchall()]
    result.samples_unchanged = int(scalar(
        conn, "SELECT count(*) FROM _desired d JOIN _ledger_window l USING (series, ts_ms) WHERE d.value = l.value"
    ) or 0)

    for series in rewrite:
        result.samples_rewritten += _rewrite_series(conn, vm, series, start, end)
        result.series_rewritten.append(series)
    if rewrite:
        result.samples_unchanged = int(scalar(
            conn,
            "SELECT count(*) FROM _desired d JOIN _ledger_window l USING (series, ts_ms) "
            "WHERE d.value = l.value AND d.series NOT IN (SELECT unnest(?))",
            [rewrite],
        ) or 0)

    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _append AS
        SELECT d.* FROM _desired d ANTI JOIN _vm_ledger l USING (series, ts_ms)
        WHERE d.series NOT IN (SELECT unnest(?))
        """,
        [rewrite or [""]],
    )
    result.samples_appended = _send(conn, vm, "SELECT * FROM _append", [], rewrite=False)
    result.requests = vm.requests_made - requests_before
    return result


def _build_desired(
    conn: duckdb.DuckDBPyConnection, metrics: list[Metric], start: date, end: date,
    timezone_name: str, labels: dict[str, str],
) -> None:
    """`_desired(metric, series, day, ts_ms, value)`: what VictoriaMetrics should hold."""
    selects = []
    for metric in metrics:
        conn.execute(f"SELECT 1 FROM {metric.table} LIMIT 0")  # a clear error if the table is missing
        series = _series_sql(metric.name, labels)
        if metric.timestamp == "day":
            ts = f"epoch_ms(timezone('{_quote(timezone_name)}', CAST(day AS TIMESTAMP)))"
        else:
            ts = "epoch_ms(ts)"
        selects.append(
            f"SELECT '{metric.name}' AS metric, {series} AS series, day, {ts} AS ts_ms, "
            f"CAST({metric.column} AS DOUBLE) AS value FROM {metric.table} "
            f"WHERE day BETWEEN $start AND $end AND {metric.column} IS NOT NULL"
        )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _desired AS " + " UNION ALL ".join(selects),
        {"start": start, "end": end},
    )
    duplicates = conn.execute("SELECT series, ts_ms FROM _desired GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchall()
    duplicate = duplicates[0] if duplicates else None
    if duplicate:
        raise ExportRefused(
            f"two tidy rows map to one sample ({duplicate[0]} at {duplicate[1]} ms); "
            "the tidy table breaks its grain, run its asset checks"
        )


def _series_sql(name: str, labels: dict[str, str]) -> str:
    """SQL for the series' canonical JSON label set: __name__ first, then labels sorted."""
    parts = {"__name__": f"'{name}'", "provider": "provider"}
    parts.update({key: f"'{_quote(value)}'" for key, value in labels.items()})
    ordered = ["__name__", *sorted(k for k in parts if k != "__name__")]
    return "json_object(" + ", ".join(f"'{key}', {parts[key]}" for key in ordered) + ")::VARCHAR"


def _quote(value: str) -> str:
    return value.replace("'", "''")


def _refuse_outside_retention(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, now: datetime) -> None:
    oldest_ms = scalar(conn, "SELECT min(ts_ms) FROM _desired")
    if oldest_ms is None:
        return
    retention = vm.retention()
    # A day of margin: the server's own cut-off moves while we write.
    limit = now - retention + timedelta(days=1)
    oldest_at = datetime.fromtimestamp(int(oldest_ms) / 1000, timezone.utc)  # type: ignore[call-overload]
    if oldest_at < limit:
        raise ExportRefused(
            f"VictoriaMetrics at {vm.url} keeps {retention.days} days of data, so it would silently drop "
            f"samples from {oldest_at.date()}; restart it with -retentionPeriod=100y (or longer than your "
            "history) and re-run. Nothing was written"
        )


def _rewrite_series(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, series: str, start: date, end: date) -> int:
    """Delete a series in VictoriaMetrics and import it whole: ledger outside the window + tidy inside."""
    _mark_dirty(conn, [series])
    # Series imported moments ago are not in the searchable index until a flush, and
    # delete_series would silently miss them (then the re-import duplicates every sample).
    vm.force_flush()
    vm.delete_series(series_selector(json.loads(series)))
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _full_series AS
        SELECT metric, series, day, ts_ms, value FROM _vm_ledger
        WHERE series = $series AND NOT (day BETWEEN $start AND $end)
        UNION ALL SELECT metric, series, day, ts_ms, value FROM _desired WHERE series = $series
        """,
        {"series": series, "start": start, "end": end},
    )
    conn.execute("BEGIN TRANSACTION")
    conn.execute("DELETE FROM _vm_ledger WHERE series = ?", [series])
    conn.execute("COMMIT")
    return _send(conn, vm, "SELECT * FROM _full_series", [], rewrite=True)


def _send(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, query: str, params: list, *, rewrite: bool) -> int:
    """Import the query's samples in bounded batches; record each batch once it is confirmed."""
    table = conn.sql(
        f"SELECT metric, series, day, ts_ms, value FROM ({query}) ORDER BY series, ts_ms", params=params
    ).to_arrow_table()
    sent = 0
    for offset in range(0, table.num_rows, SAMPLES_PER_REQUEST):
        batch = table.slice(offset, SAMPLES_PER_REQUEST)
        series_in_batch = sorted(set(batch.column("series").to_pylist()))
        if not rewrite:
            _mark_dirty(conn, series_in_batch)
        vm.import_lines(_lines(batch))
        conn.register("_confirmed", batch)
        try:
            conn.execute("BEGIN TRANSACTION")
            conn.execute("INSERT INTO _vm_ledger SELECT metric, series, day, ts_ms, value FROM _confirmed")
            conn.execute("DELETE FROM _vm_dirty WHERE series IN (SELECT unnest(?))", [series_in_batch])
            conn.execute("COMMIT")
        finally:
            conn.unregister("_confirmed")
        sent += batch.num_rows
    return sent


def _lines(batch: pa.Table) -> Iterator[bytes]:
    """JSON lines for `/api/v1/import`: one line per series (split every SAMPLES_PER_LINE)."""
    series_col = batch.column("series").to_pylist()
    ts_col = batch.column("ts_ms").to_pylist()
    value_col = batch.column("value").to_pylist()
    start = 0
    while start < len(series_col):
        series = series_col[start]
        stop = start
        while stop < len(series_col) and series_col[stop] == series and stop - start < SAMPLES_PER_LINE:
            stop += 1
        yield json.dumps(
            {"metric": json.loads(series), "values": value_col[start:stop], "timestamps": ts_col[start:stop]},
            separators=(",", ":"),
        ).encode()
        start = stop


def _mark_dirty(conn: duckdb.DuckDBPyConnection, series: list[str]) -> None:
    conn.execute("BEGIN TRANSACTION")
    conn.executemany("INSERT INTO _vm_dirty SELECT ? WHERE NOT EXISTS (SELECT 1 FROM _vm_dirty WHERE series = ?)",
                     [(s, s) for s in series])
    conn.execute("COMMIT")
