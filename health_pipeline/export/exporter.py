"""Exact export of the tidy tables to VictoriaMetrics: one sample per series and timestamp, always.

VictoriaMetrics keeps every re-imported sample (no overwrite) and can only delete whole series,
so the ledger (`ledger.py`) records every sample written. An export:
1. decides its scopes (`scopes.py`) and records them as pending;
2. computes what VictoriaMetrics should hold in them (`desired.py`);
3. compares that with the ledger, day by day: samples after a day's newest written one are
   appended; a series with a written day that changed or vanished (or left dirty by a failure,
   or of a metric no longer exported) is deleted and re-imported whole, every day of it, from
   the tidy tables;
4. refuses, before sending anything, samples the server would silently drop (outside its
   retention, or too far in the future);
5. sends (`sender.py`), records the requests VictoriaMetrics confirmed, and clears the pending
   scopes.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import duckdb

from health_pipeline.settings import LABEL_NAME
from health_pipeline.export import desired, ledger, scopes
from health_pipeline.export.desired import ExportRefused, ExportSettings
from health_pipeline.export.ledger import ALL_PROVIDERS, FIRST_DAY, LAST_DAY, Scope
from health_pipeline.export.metrics import Metric
from health_pipeline.export.sender import send
from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.victoriametrics import VictoriaMetrics, series_selector
from health_pipeline.tidy.catalog import TidyTable
from health_pipeline.tidy.models import create_tables

SERIES_PER_DELETE = 50
FUTURE_LIMIT = timedelta(days=1)  # VictoriaMetrics drops samples from much further ahead

__all__ = ["ExportRefused", "ExportResult", "ExportSettings", "export"]


@dataclass
class ExportResult:
    """What one export did, for asset metadata."""

    samples_appended: int = 0
    samples_rewritten: int = 0
    samples_unchanged: int = 0
    series_rewritten: list[dict[str, str]] = field(default_factory=list)  # their label sets
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
    tables: Mapping[str, TidyTable],
    now: datetime | None = None,
) -> ExportResult:
    """Bring VictoriaMetrics in line with the tidy tables for `metrics` (see the module docstring);
    `tables`: the tidy tables with the sources feeding them (which are daily, which change-driven)."""
    create_tables(conn)  # a table no run has modelled yet exports nothing rather than failing
    ledger.prepare(conn)
    requests_before = vm.requests_made
    planned, tokens = scopes.plan(conn, metrics, settings.fingerprint(), start, end, tables, settings.user)
    ledger.add_pending(conn, planned, settings.user)  # first: if VictoriaMetrics is down, the next run still covers them
    vm.health()
    result = ExportResult(scopes=planned)
    scopes.register(conn, metrics)
    desired.build(conn, metrics, settings, planned)
    rewrite, append = _compare(conn, result, planned, settings.user)
    rewrite = _with_siblings(conn, rewrite, append)
    _full_series(conn, metrics, settings, rewrite)
    _refuse_lost_samples(conn, vm, append, now or datetime.now(timezone.utc))
    if rewrite:
        result.series_rewritten = ledger.selectors_of(conn, rewrite)
        result.series_removed = int(scalar(conn, "SELECT count(*) FROM _retired") or 0)
        result.samples_rewritten = _rewrite(conn, vm, rewrite, result.series_rewritten)
    result.samples_appended = send(conn, vm, append, staged=False)
    ledger.finish(conn, tokens, settings.fingerprint(), settings.user)
    result.requests = vm.requests_made - requests_before
    return result


def _compare(conn: duckdb.DuckDBPyConnection, result: ExportResult, planned: list[Scope],
             person: str) -> tuple[list[int], str]:
    """Compare the desired samples with the ledger's days in scope: which series to rewrite, and
    the table of samples to append (`_desired` itself when nothing in scope was written yet).

    A written day is intact when the desired samples up to its newest written timestamp are as many
    and have the same digest; samples after it are appended. A written day that changed, lost
    samples or vanished makes its series rewritten.
    """
    in_scope = scopes.in_any_scope(planned, "m.table_name", "s.provider", "w.day")
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _written AS
        SELECT w.* FROM _vm_days w JOIN _vm_series s USING (series_id) JOIN _metric_table m USING (metric)
        WHERE s.person = $person AND {in_scope}
    """, {"person": person})
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _retired AS
        SELECT series_id FROM _vm_series WHERE metric NOT IN (SELECT metric FROM _metric_table)
        AND person = ? AND series_id IN (SELECT series_id FROM _vm_days)
    """, [person])
    conn.execute("CREATE OR REPLACE TEMP TABLE _dirty AS SELECT series_id FROM _vm_dirty "
                 "WHERE series_id IN (SELECT series_id FROM _vm_series WHERE person = ?)", [person])
    if not scalar(conn, "SELECT EXISTS (SELECT series_id FROM _written UNION ALL SELECT series_id FROM _dirty "
                        "UNION ALL SELECT series_id FROM _retired)"):
        conn.execute("CREATE OR REPLACE TEMP TABLE _rewrite (series_id BIGINT)")
        return [], "_desired"  # nothing in scope written yet: everything is appended, nothing compared
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _desired_days AS
        SELECT d.series_id, d.day, count(*) FILTER (WHERE d.ts_ms <= w.last_ts) AS n_old,
               coalesce(bit_xor({ledger.DIGEST}) FILTER (WHERE d.ts_ms <= w.last_ts), 0) AS digest_old
        FROM _desired d LEFT JOIN _written w USING (series_id, day) GROUP BY ALL
    """)
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _rewrite AS
        SELECT w.series_id FROM _written w LEFT JOIN _desired_days d USING (series_id, day)
        WHERE d.series_id IS NULL OR d.n_old <> w.n OR d.digest_old <> w.digest
        UNION SELECT series_id FROM _dirty
        UNION SELECT series_id FROM _retired
    """)
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _append AS
        SELECT d.* FROM _desired d LEFT JOIN _written w USING (series_id, day)
        WHERE (w.last_ts IS NULL OR d.ts_ms > w.last_ts) AND d.series_id NOT IN (SELECT series_id FROM _rewrite)
    """)
    result.samples_unchanged = int(scalar(conn, """
        SELECT sum(n_old) FROM _desired_days WHERE series_id NOT IN (SELECT series_id FROM _rewrite)
    """) or 0)
    return [row[0] for row in conn.execute("SELECT series_id FROM _rewrite ORDER BY 1").fetchall()], "_append"


def _with_siblings(conn: duckdb.DuckDBPyConnection, rewrite: list[int], append: str) -> list[int]:
    """`rewrite` and, for a series with a label PromQL cannot spell (written by a release that did not
    check `extra_labels`), every written series its delete selector also matches: that selector
    leaves the label out (`series_selector`), so those series are deleted with it and must be
    rewritten too (and not appended), or VictoriaMetrics would lose them."""
    if not rewrite:
        return rewrite
    broad = {series_selector(labels) for labels in ledger.selectors_of(conn, rewrite)
             if any(not LABEL_NAME.fullmatch(k) for k in labels if k != "__name__")}
    if not broad:
        return rewrite
    siblings = [sid for sid, series in conn.execute("SELECT series_id, series FROM _vm_series").fetchall()
                if sid not in set(rewrite) and series_selector(json.loads(series)) in broad]
    if siblings:
        conn.execute("INSERT INTO _rewrite SELECT unnest(?::BIGINT[])", [siblings])
        if append != "_desired":
            conn.execute(f"DELETE FROM {append} WHERE series_id IN (SELECT unnest(?::BIGINT[]))", [siblings])
    return sorted([*rewrite, *siblings])


def _refuse_lost_samples(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, append: str, now: datetime) -> None:
    """Refuse, before anything is sent, samples VictoriaMetrics would accept with 204 and drop."""
    oldest, newest = conn.execute(
        f"SELECT min(ts_ms), max(ts_ms) FROM (SELECT ts_ms FROM {append} UNION ALL SELECT ts_ms FROM _full)"
    ).fetchone() or (None, None)
    if oldest is None:
        return
    retention = vm.retention()
    limit = now - retention + timedelta(days=1)  # a day of margin: the server's cut-off moves while we write
    oldest_at = datetime.fromtimestamp(oldest / 1000, timezone.utc)
    if oldest_at < limit:
        raise ExportRefused(
            f"VictoriaMetrics at {vm.shown} keeps {_days(retention)} of data, so it would silently drop the samples "
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


def _full_series(conn: duckdb.DuckDBPyConnection, metrics: Sequence[Metric], settings: ExportSettings,
                 rewrite: list[int]) -> None:
    """`_full`: every sample the rewritten series should hold, over all days, from the tidy tables."""
    names = {row[0] for row in conn.execute(
        "SELECT DISTINCT metric FROM _vm_series WHERE series_id IN (SELECT unnest(?::BIGINT[]))", [rewrite]).fetchall()}
    chosen = [m for m in metrics if m.name in names]
    everything = [Scope(table, ALL_PROVIDERS, FIRST_DAY, LAST_DAY) for table in sorted({m.table for m in chosen})]
    if chosen:
        desired.build(conn, chosen, settings, everything, target="_full")
        conn.execute("DELETE FROM _full WHERE series_id NOT IN (SELECT unnest(?::BIGINT[]))", [rewrite])
    else:  # nothing to rewrite, or only series of metrics no longer exported (they go)
        conn.execute("CREATE OR REPLACE TEMP TABLE _full AS SELECT * FROM _desired LIMIT 0")


def _rewrite(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, rewrite: list[int],
             labels: list[dict[str, str]]) -> int:
    """Delete the series in VictoriaMetrics and import them whole; the ledger follows once all is sent."""
    ledger.mark_dirty(conn, rewrite)
    # Series imported moments ago are not in the searchable index until a flush, and
    # delete_series would silently miss them (then the re-import duplicates every sample).
    vm.force_flush()
    for i in range(0, len(labels), SERIES_PER_DELETE):
        vm.delete_series([series_selector(s) for s in labels[i:i + SERIES_PER_DELETE]])
    conn.execute("CREATE OR REPLACE TEMP TABLE _staged_days AS SELECT * FROM _vm_days LIMIT 0")
    conn.execute("ALTER TABLE _staged_days ADD PRIMARY KEY (series_id, day)")
    sent = send(conn, vm, "_full", staged=True)
    conn.execute("BEGIN TRANSACTION")
    conn.execute("DELETE FROM _vm_days WHERE series_id IN (SELECT series_id FROM _rewrite)")
    conn.execute("INSERT INTO _vm_days SELECT * FROM _staged_days")
    conn.execute("DELETE FROM _vm_dirty WHERE series_id IN (SELECT series_id FROM _rewrite)")
    conn.execute("COMMIT")
    return sent
