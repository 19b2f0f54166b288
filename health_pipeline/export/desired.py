"""What VictoriaMetrics should hold in an export's scopes: `_desired(series_id, day, ts_ms, value)`.

Each catalogue entry over a table with rows is one SELECT (its row filter, value and label
expressions, its timestamp rule), restricted to the scopes. The few distinct series the entries
make get their label set (JSON) and id in Python, so the million-row side stays numeric.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

from health_pipeline.export import ledger
from health_pipeline.export.ledger import Scope
from health_pipeline.export.metrics import Metric
from health_pipeline.export.scopes import in_scope
from health_pipeline.tidy.catalog import DECLARED

SEPARATOR = "\x1f"  # between label values in one column


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


def build(conn: duckdb.DuckDBPyConnection, metrics: Sequence[Metric], settings: ExportSettings,
          scopes: Sequence[Scope], target: str = "_desired") -> None:
    """Fill `target` (series_id, day, ts_ms, value); refuse two rows that would make one sample.

    A first, light pass finds which series the entries over tables with rows make in scope (only
    their provider and label values); the entries with none are left out, and each of the others
    gets its rows with the series id, by a filter when it makes one series and else joined from a
    small inline table: the sample rows are read once.
    """
    filled = _tables_with_rows(conn, {m.table for m in metrics})
    keys_sql = "\nUNION ALL\n".join(_keys_select(i, m, scopes, settings) for i, m in enumerate(metrics)
                                     if m.table in filled)
    keys = conn.execute(f"SELECT DISTINCT * FROM ({keys_sql})").fetchall() if keys_sql else []
    wanted = {key: _series(metrics[key[0]], key[1], key[2], settings) for key in keys}
    ids = ledger.series_ids(conn, [(metrics[k[0]].name, k[1], series) for k, series in wanted.items()], settings.user)
    by_entry: dict[int, list[tuple[str, str, int]]] = {}
    for (entry, provider, labels), series in wanted.items():
        by_entry.setdefault(entry, []).append((provider, labels, ids[series]))
    selects = [_identified(_select(metrics[entry], settings, scopes), pairs)
               for entry, pairs in sorted(by_entry.items())]
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {target} (series_id BIGINT, day DATE, ts_ms BIGINT, value DOUBLE)")
    if selects:
        conn.execute(f"INSERT INTO {target} " + "\nUNION ALL\n".join(selects))
    checked = [sid for entry, pairs in by_entry.items() if not _unique_by_grain(metrics[entry]) for _, _, sid in pairs]
    if not checked:
        return
    duplicate = conn.execute(f"""
        SELECT s.series, d.ts_ms FROM (
            SELECT series_id, ts_ms FROM {target} WHERE series_id IN (SELECT unnest(?::BIGINT[]))
            GROUP BY ALL HAVING count(*) > 1 LIMIT 1
        ) d JOIN _vm_series s USING (series_id)""", [checked]).fetchone()
    if duplicate:
        at = datetime.fromtimestamp(duplicate[1] / 1000, timezone.utc).isoformat()
        raise ExportRefused(f"two tidy rows map to one sample ({duplicate[0]} at {at}); the tidy table breaks "
                            "its grain: run its asset checks. Nothing was written")


def _tables_with_rows(conn: duckdb.DuckDBPyConnection, tables: set[str]) -> set[str]:
    """The tables holding any row: the entries over the others are not planned at all (a user
    without a Withings scale or Hevy has a dozen empty tables, and planning is most of the cost)."""
    probes = " UNION ALL ".join(f"(SELECT {_literal(t)} FROM {t} LIMIT 1)" for t in sorted(tables))
    return {row[0] for row in conn.execute(probes).fetchall()} if probes else set()


def _identified(rows: str, pairs: list[tuple[str, str, int]]) -> str:
    """An entry's rows with their series id (from its few (provider, label values) pairs) in place of both."""
    if len(pairs) == 1:  # the usual case: a filter is cheaper than a join
        provider, labels, sid = pairs[0]
        return (f"SELECT CAST({sid} AS BIGINT) AS series_id, day, ts_ms, value FROM ({rows}) "
                f"WHERE provider = {_literal(provider)} AND labels = {_literal(labels)}")
    values = ", ".join(f"({_literal(provider)}, {_literal(labels)}, {sid})" for provider, labels, sid in pairs)
    return (f"SELECT k.series_id, r.day, r.ts_ms, r.value FROM ({rows}) r "
            f"JOIN (VALUES {values}) k(provider, labels, series_id) USING (provider, labels)")


def _unique_by_grain(metric: Metric) -> bool:
    """True when the table's grain alone makes one sample per series and timestamp (no check needed).

    The grain's columns must each be the provider, the timestamp's column, a label taken straight
    from a column, or a column the row filter fixes (`metric = 'weight'`); sums are unique anyway.
    """
    if metric.aggregate:
        return True
    fixed = set(re.findall(r"\b(\w+) = '[^']*'", metric.where)) if " OR " not in metric.where.upper() else set()
    covered = {metric.provider_column, "day" if metric.time == "day" else metric.time, *fixed,
               *(sql for _, sql in metric.labels if sql.isidentifier())}
    grain = DECLARED[metric.table].grain if metric.table in DECLARED else ("day",)
    return set(grain) <= covered


def _select(metric: Metric, settings: ExportSettings, scopes: Sequence[Scope]) -> str:
    """One catalogue entry's rows in scope: provider, label values, day, ts_ms, value."""
    if metric.time == "day":
        ts = f"epoch_ms(timezone({_literal(settings.timezone)}, CAST(day AS TIMESTAMP)))"
    else:
        ts = f"epoch_ms({metric.time})"
    rows = (f"SELECT {metric.provider_column} AS provider, {_labels_sql(metric)} AS labels, day, {ts} AS ts_ms, "
            f"CAST({metric.value_sql} AS DOUBLE) AS value {_rows_in_scope(metric, scopes, settings)}")
    if metric.aggregate:
        rows = f"SELECT provider, labels, day, ts_ms, sum(value) AS value FROM ({rows}) GROUP BY ALL"
    return rows


def _keys_select(index: int, metric: Metric, scopes: Sequence[Scope], settings: ExportSettings) -> str:
    """The distinct (entry, provider, label values) of one catalogue entry's rows in scope."""
    return (f"SELECT DISTINCT {index} AS entry, {metric.provider_column} AS provider, {_labels_sql(metric)} AS labels "
            f"{_rows_in_scope(metric, scopes, settings)}")


def _rows_in_scope(metric: Metric, scopes: Sequence[Scope], settings: ExportSettings) -> str:
    """FROM and WHERE of an entry: the person's rows of its table with a value, a provider it covers,
    inside the scopes (the series are labelled `user` = the person: another's rows never enter them)."""
    provider = metric.provider_column
    only = f" AND {provider} IN ({', '.join(map(_literal, metric.providers))})" if metric.providers else ""
    return (f"FROM {metric.table} t WHERE t.person = {_literal(settings.user)} AND ({metric.where}) "
            f"AND ({metric.value_sql}) IS NOT NULL "
            f"AND {provider} IS NOT NULL{only} AND {in_scope(scopes, metric.table, f't.{provider}', 't.day')}")


def _labels_sql(metric: Metric) -> str:
    """An entry's label values in one column, joined by SEPARATOR."""
    if not metric.labels:
        return "''"
    return "concat_ws(chr(31), " + ", ".join(
        f"coalesce(CAST({sql} AS VARCHAR), 'unknown')" for _, sql in metric.labels) + ")"


def _series(metric: Metric, provider: str, values: str, settings: ExportSettings) -> str:
    """A series' label set as canonical JSON: `__name__` first, then the labels by name."""
    labels = {**settings.extra_labels, "user": settings.user}
    if metric.family == "syncbit":
        labels["device"] = settings.syncbit_device
    else:
        labels["provider"] = provider
    if metric.labels:
        labels.update(zip((name for name, _ in metric.labels), values.split(SEPARATOR)))
    ordered = {"__name__": metric.name, **dict(sorted(labels.items()))}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
