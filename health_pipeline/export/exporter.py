"""Exact export of the tidy tables to VictoriaMetrics: one sample per series and timestamp, always.

VictoriaMetrics keeps every re-imported sample (no overwrite) and can only delete whole series,
so the ledger (`ledger.py`) records every sample written. An export:
1. decides its scopes: the partition window of each daily (window-driven) source, the whole of
   each Withings/Hevy (change-driven) source modelled anew since it was last exported, the
   whole of `daily_summary`, and every scope of an export that did not finish;
2. computes what VictoriaMetrics should hold in those scopes (`_desired`) from the catalogue;
3. appends samples never written; a series with a written sample that changed or vanished (or
   a series left dirty by a failure, or one of a metric no longer exported) is deleted and
   re-imported whole: its ledger samples outside the scopes plus the desired ones inside;
4. refuses, before sending anything, samples the server would silently drop (outside its
   retention, or too far in the future).
Each batch is recorded in the ledger only once VictoriaMetrics confirmed it.
"""

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import duckdb

from health_pipeline.export import ledger
from health_pipeline.export.ledger import ALL_PROVIDERS, FIRST_DAY, LAST_DAY, Scope
from health_pipeline.export.metrics import Metric
from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.victoriametrics import VictoriaMetrics, series_selector
from health_pipeline.tidy.catalog import ALL_TABLES, TABLES

SAMPLES_PER_REQUEST = 250_000
SAMPLES_PER_LINE = 50_000
SERIES_PER_DELETE = 50
FUTURE_LIMIT = timedelta(days=1)  # VictoriaMetrics drops samples from much further ahead


class ExportRefused(Exception):
    """The export would lose or corrupt data silently; nothing was written."""


@dataclass(frozen=True)
class ExportSettings:
    """What the series' labels and daily timestamps depend on."""

    user: str
    timezone: str
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    syncbit_device: str = "charge6"

    def fingerprint(self) -> str:
        data = {"user": self.user, "tz": self.timezone, "extra": dict(sorted(self.extra_labels.items())),
                "device": self.syncbit_device}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class ExportResult:
    """What one export did, for asset metadata."""

    samples_appended: int = 0
    samples_rewritten: int = 0
    samples_unchanged: int = 0
    series_rewritten: list[str] = field(default_factory=list)  # their label sets as JSON
    series_removed: int = 0
    requests: int = 0
    scopes: list[Scope] = field(default_factory=list)


def export(
    conn: duckdb.DuckDBPyConnection,
    vm: VictoriaMetrics,
    metrics: Sequence[Metric],
    settings: ExportSettings,
    *,
    start: date,
    end: date,
    now: datetime | None = None,
) -> ExportResult:
    """Bring VictoriaMetrics in line with the tidy tables for `metrics` (see the module docstring)."""
    ledger.prepare(conn)
    requests_before = vm.requests_made
    scopes, tokens = _plan_scopes(conn, metrics, settings, start, end)
    ledger.add_pending(conn, scopes)
    result = ExportResult(scopes=scopes)
    _register_scopes(conn, scopes, metrics)
    _build_desired(conn, metrics, settings)
    rewrite = _compare(conn, result)
    _refuse_lost_samples(conn, vm, now or datetime.now(timezone.utc))
    if rewrite:
        result.samples_rewritten = _rewrite(conn, vm, rewrite)
        result.series_rewritten = rewrite
        result.series_removed = int(scalar(conn, "SELECT count(DISTINCT series) FROM _retired") or 0)
    result.samples_appended = _send(conn, vm, "_append", staged=False)
    ledger.finish(conn, tokens, settings.fingerprint())
    result.requests = vm.requests_made - requests_before
    return result


def _plan_scopes(
    conn: duckdb.DuckDBPyConnection, metrics: Sequence[Metric], settings: ExportSettings, start: date, end: date,
) -> tuple[list[Scope], dict[tuple[str, str], str]]:
    """This export's scopes, and the modelling of each change-driven source it brings up to date."""
    whole = ledger.settings_changed(conn, settings.fingerprint())
    exported = ledger.exported_tokens(conn)
    modelled = _modelled_tokens(conn)
    scopes: list[Scope] = []
    tokens: dict[tuple[str, str], str] = {}
    for table in sorted({m.table for m in metrics}):
        if whole or table not in TABLES:  # daily_summary is small and may change on any day
            scopes.append(Scope(table, ALL_PROVIDERS, FIRST_DAY, LAST_DAY))
            tokens.update({k: v for k, v in modelled.items() if k[0] == table})
            continue
        for source in TABLES[table].sources:
            if source.driver == "window":
                scopes.append(Scope(table, source.provider, start, end))
                continue
            token = modelled.get((table, source.provider))
            if token is not None and token != exported.get((table, source.provider)):
                scopes.append(Scope(table, source.provider, FIRST_DAY, LAST_DAY))
                tokens[(table, source.provider)] = token
    return scopes + [s for s in ledger.pending(conn) if s not in scopes], tokens


def _modelled_tokens(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """When each change-driven source was last modelled (`_tidy_state`), as an opaque token."""
    exists = scalar(conn, "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_tidy_state'")
    if not exists:
        return {}
    rows = conn.execute("SELECT table_name, provider, fingerprint || '@' || CAST(modelled_at AS VARCHAR) "
                        "FROM _tidy_state").fetchall()
    return {(table, provider): token for table, provider, token in rows}


def _register_scopes(conn: duckdb.DuckDBPyConnection, scopes: list[Scope], metrics: Sequence[Metric]) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE _scope (table_name VARCHAR, provider VARCHAR, "
                 "start_day DATE, end_day DATE)")
    for s in scopes:
        conn.execute("INSERT INTO _scope VALUES (?, ?, ?, ?)", [s.table, s.provider, s.start, s.end])
    pairs = sorted({(m.name, m.table) for m in metrics})
    conn.execute("CREATE OR REPLACE TEMP TABLE _metric_table AS SELECT unnest(?::VARCHAR[]) AS metric, "
                 "unnest(?::VARCHAR[]) AS table_name", [[p[0] for p in pairs], [p[1] for p in pairs]])


def _in_scope(table_sql: str, provider_sql: str, day_sql: str) -> str:
    return (f"EXISTS (SELECT 1 FROM _scope s WHERE s.table_name = {table_sql} "
            f"AND (s.provider = '{ALL_PROVIDERS}' OR s.provider = {provider_sql}) "
            f"AND {day_sql} BETWEEN s.start_day AND s.end_day)")


def _build_desired(conn: duckdb.DuckDBPyConnection, metrics: Sequence[Metric], settings: ExportSettings) -> None:
    """`_desired(metric, provider, series, day, ts_ms, value)`: what VictoriaMetrics should hold in scope."""
    for table in {m.table for m in metrics}:
        if table not in ALL_TABLES:
            raise ExportRefused(f"the metric catalogue names an unknown tidy table {table!r}")
        if not scalar(conn, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]):
            conn.execute(ALL_TABLES[table].ddl if table in TABLES else _summary_ddl())
    selects = [_metric_select(m, settings) for m in metrics]
    conn.execute("CREATE OR REPLACE TEMP TABLE _desired AS " + "\nUNION ALL\n".join(selects))
    duplicate = conn.execute("SELECT series, ts_ms FROM _desired GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchone()
    if duplicate:
        at = datetime.fromtimestamp(duplicate[1] / 1000, timezone.utc).isoformat()
        raise ExportRefused(f"two tidy rows map to one sample ({duplicate[0]} at {at}); the tidy table breaks "
                            "its grain: run its asset checks. Nothing was written")


def _summary_ddl() -> str:
    from health_pipeline.tidy.summary import SUMMARY_DDL

    return SUMMARY_DDL


def _metric_select(metric: Metric, settings: ExportSettings) -> str:
    """SELECT of one catalogue entry's samples in scope."""
    provider = metric.provider_column
    labels: dict[str, str] = {key: _literal(value) for key, value in settings.extra_labels.items()}
    labels["user"] = _literal(settings.user)
    if metric.family == "syncbit":
        labels["device"] = _literal(settings.syncbit_device)
    else:
        labels["provider"] = provider
    labels.update({label: f"coalesce(CAST({sql} AS VARCHAR), 'unknown')" for label, sql in metric.labels})
    series = ("json_object('__name__', " + _literal(metric.name) + ", "
              + ", ".join(f"'{key}', {labels[key]}" for key in sorted(labels)) + ")::VARCHAR")
    if metric.time == "day":
        ts = f"epoch_ms(timezone({_literal(settings.timezone)}, CAST(day AS TIMESTAMP)))"
    else:
        ts = f"epoch_ms({metric.time})"
    only = f" AND {provider} IN ({', '.join(map(_literal, metric.providers))})" if metric.providers else ""
    rows = (f"SELECT {_literal(metric.name)} AS metric, {provider} AS provider, {series} AS series, day, "
            f"{ts} AS ts_ms, CAST({metric.value_sql} AS DOUBLE) AS value FROM {metric.table} t "
            f"WHERE ({metric.where}) AND ({metric.value_sql}) IS NOT NULL AND {provider} IS NOT NULL{only} "
            f"AND {_in_scope(_literal(metric.table), f't.{provider}', 't.day')}")
    if metric.aggregate:
        rows = (f"SELECT metric, provider, series, day, ts_ms, sum(value) AS value FROM ({rows}) "
                "GROUP BY metric, provider, series, day, ts_ms")
    return rows


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _compare(conn: duckdb.DuckDBPyConnection, result: ExportResult) -> list[str]:
    """Compare the desired samples with the ledger in scope: what to append, which series to rewrite."""
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _written AS
        SELECT l.* FROM _vm_ledger l JOIN _metric_table m USING (metric)
        WHERE {_in_scope('m.table_name', 'l.provider', 'l.day')}
    """)
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _retired AS
        SELECT DISTINCT series FROM _vm_ledger WHERE metric NOT IN (SELECT metric FROM _metric_table)
    """)
    rewrite = [row[0] for row in conn.execute("""
        SELECT w.series FROM _written w LEFT JOIN _desired d USING (series, ts_ms)
        WHERE d.value IS NULL OR d.value <> w.value
        UNION SELECT series FROM _vm_dirty
        UNION SELECT series FROM _retired
        ORDER BY 1
    """).fetchall()]
    conn.execute("CREATE OR REPLACE TEMP TABLE _rewrite AS SELECT unnest(?::VARCHAR[]) AS series", [rewrite])
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _append AS
        SELECT d.* FROM _desired d ANTI JOIN _written w USING (series, ts_ms)
        WHERE d.series NOT IN (SELECT series FROM _rewrite)
    """)
    result.samples_unchanged = int(scalar(conn, """
        SELECT count(*) FROM _desired d JOIN _written w USING (series, ts_ms)
        WHERE d.value = w.value AND d.series NOT IN (SELECT series FROM _rewrite)
    """) or 0)
    if rewrite:
        # A rewritten series is imported whole: its samples outside the scopes, then the desired ones.
        conn.execute(f"""
            CREATE OR REPLACE TEMP TABLE _full AS
            SELECT l.metric, l.provider, l.series, l.day, l.ts_ms, l.value
            FROM _vm_ledger l JOIN _metric_table m USING (metric)
            WHERE l.series IN (SELECT series FROM _rewrite) AND NOT {_in_scope('m.table_name', 'l.provider', 'l.day')}
            UNION ALL
            SELECT * FROM _desired WHERE series IN (SELECT series FROM _rewrite)
        """)
    else:
        conn.execute("CREATE OR REPLACE TEMP TABLE _full AS SELECT * FROM _desired LIMIT 0")
    return rewrite


def _refuse_lost_samples(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, now: datetime) -> None:
    """Refuse, before anything is sent, samples VictoriaMetrics would accept with 204 and drop."""
    oldest, newest = conn.execute(
        "SELECT min(ts_ms), max(ts_ms) FROM (SELECT ts_ms FROM _append UNION ALL SELECT ts_ms FROM _full)"
    ).fetchone() or (None, None)
    if oldest is None:
        return
    retention = vm.retention()
    limit = now - retention + timedelta(days=1)  # a day of margin: the server's cut-off moves while we write
    oldest_at = datetime.fromtimestamp(oldest / 1000, timezone.utc)
    if oldest_at < limit:
        raise ExportRefused(
            f"VictoriaMetrics at {vm.url} keeps {_days(retention)} of data, so it would silently drop the samples "
            f"from {oldest_at.date()} to {limit.date()}; restart it with -retentionPeriod=100y (longer than your "
            "history) and run the export again. Nothing was written"
        )
    newest_at = datetime.fromtimestamp(newest / 1000, timezone.utc)
    if newest_at > now + FUTURE_LIMIT:
        raise ExportRefused(
            f"a sample is stamped {newest_at.isoformat()}, in the future: VictoriaMetrics would drop it. "
            "Check the machine's clock and the [app] timezone. Nothing was written"
        )


def _days(retention: timedelta) -> str:
    return f"{retention.days} days" if retention.days else f"{retention.total_seconds() / 3600:g} hours"


def _rewrite(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, rewrite: list[str]) -> int:
    """Delete the series in VictoriaMetrics and import them whole; the ledger follows once all is sent."""
    ledger.mark_dirty(conn, rewrite)
    # Series imported moments ago are not in the searchable index until a flush, and
    # delete_series would silently miss them (then the re-import duplicates every sample).
    vm.force_flush()
    for i in range(0, len(rewrite), SERIES_PER_DELETE):
        vm.delete_series([series_selector(json.loads(s)) for s in rewrite[i:i + SERIES_PER_DELETE]])
    conn.execute("CREATE OR REPLACE TEMP TABLE _staged AS SELECT * FROM _full LIMIT 0")
    sent = _send(conn, vm, "_full", staged=True)
    conn.execute("BEGIN TRANSACTION")
    conn.execute("DELETE FROM _vm_ledger WHERE series IN (SELECT series FROM _rewrite)")
    conn.execute("INSERT INTO _vm_ledger BY NAME SELECT * FROM _staged")
    conn.execute("DELETE FROM _vm_dirty WHERE series IN (SELECT series FROM _rewrite)")
    conn.execute("COMMIT")
    return sent


def _send(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, table: str, *, staged: bool) -> int:
    """Import a table's samples in bounded batches, each recorded once VictoriaMetrics confirmed it.

    Appended samples go straight to the ledger (their series marked dirty while a batch is in
    flight); a rewrite's samples are staged and enter the ledger when every batch is through.
    """
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _outbox AS
        SELECT *, row_number() OVER (ORDER BY series, ts_ms) AS rn FROM {table} ORDER BY rn
    """)
    total = int(scalar(conn, "SELECT count(*) FROM _outbox") or 0)
    for low in range(0, total, SAMPLES_PER_REQUEST):
        high = low + SAMPLES_PER_REQUEST
        batch = f"rn > {low} AND rn <= {high}"
        lines = conn.execute(f"""
            SELECT '{{"metric":' || series || ',"values":' || to_json(list(value ORDER BY ts_ms))
                   || ',"timestamps":' || to_json(list(ts_ms ORDER BY ts_ms)) || '}}'
            FROM _outbox WHERE {batch}
            GROUP BY series, (rn - 1) // {SAMPLES_PER_LINE} ORDER BY min(rn)
        """).fetchall()
        series = [row[0] for row in conn.execute(f"SELECT DISTINCT series FROM _outbox WHERE {batch}").fetchall()]
        if not staged:
            ledger.mark_dirty(conn, series)
        vm.import_lines(_encoded(lines))
        columns = "metric, provider, series, day, ts_ms, value"
        conn.execute("BEGIN TRANSACTION")
        if staged:
            conn.execute(f"INSERT INTO _staged SELECT {columns} FROM _outbox WHERE {batch}")
        else:
            conn.execute(f"INSERT INTO _vm_ledger BY NAME SELECT {columns} FROM _outbox WHERE {batch}")
            conn.execute("DELETE FROM _vm_dirty WHERE series IN (SELECT unnest(?::VARCHAR[]))", [series])
        conn.execute("COMMIT")
    return total


def _encoded(lines: list[tuple[str]]) -> Iterator[bytes]:
    for (line,) in lines:
        yield line.encode()
