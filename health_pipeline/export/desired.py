"""What VictoriaMetrics should hold in an export's scopes: `_desired(series_id, day, ts_ms, value)`.

Each catalogue entry is one SELECT over its tidy table (its row filter, value and label
expressions, its timestamp rule), restricted to the scopes. Rows carry the entry, provider and
label values; the few distinct series they make get their label set (JSON) and id in Python, so
the million-row side stays numeric.
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
from health_pipeline.tidy.catalog import TABLES

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
    """Fill `target` (series_id, day, ts_ms, value); refuse two rows that would make one sample."""
    selects = [_select(index, metric, settings, scopes) for index, metric in enumerate(metrics)]
    conn.execute("CREATE OR REPLACE TEMP TABLE _desired_rows AS " + "\nUNION ALL\n".join(selects))
    keys = conn.execute("SELECT DISTINCT entry, provider, labels FROM _desired_rows").fetchall()
    wanted = {key: _series(metrics[key[0]], key[1], key[2], settings) for key in keys}
    ids = ledger.series_ids(conn, [(metrics[k[0]].name, k[1], series) for k, series in wanted.items()])
    conn.execute("CREATE OR REPLACE TEMP TABLE _keys AS SELECT unnest(?::INTEGER[]) AS entry, "
                 "unnest(?::VARCHAR[]) AS provider, unnest(?::VARCHAR[]) AS labels, unnest(?::BIGINT[]) AS series_id",
                 [[k[0] for k in wanted], [k[1] for k in wanted], [k[2] for k in wanted],
                  [ids[s] for s in wanted.values()]])
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT k.series_id, d.day, d.ts_ms, d.value "
                 "FROM _desired_rows d JOIN _keys k USING (entry, provider, labels)")
    conn.execute("DROP TABLE _desired_rows")
    checked = [index for index, metric in enumerate(metrics) if not _unique_by_grain(metric)]
    duplicate = conn.execute(f"""
        SELECT s.series, d.ts_ms FROM (
            SELECT series_id, ts_ms FROM {target}
            WHERE series_id IN (SELECT series_id FROM _keys WHERE entry IN (SELECT unnest(?::INTEGER[])))
            GROUP BY ALL HAVING count(*) > 1 LIMIT 1
        ) d JOIN _vm_series s USING (series_id)""", [checked]).fetchone()
    if duplicate:
        at = datetime.fromtimestamp(duplicate[1] / 1000, timezone.utc).isoformat()
        raise ExportRefused(f"two tidy rows map to one sample ({duplicate[0]} at {at}); the tidy table breaks "
                            "its grain: run its asset checks. Nothing was written")


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
    grain = TABLES[metric.table].grain if metric.table in TABLES else ("day",)
    return set(grain) <= covered


def _select(index: int, metric: Metric, settings: ExportSettings, scopes: Sequence[Scope]) -> str:
    """One catalogue entry's rows in scope: entry, provider, label values, day, ts_ms, value."""
    provider = metric.provider_column
    if metric.labels:
        labels = "concat_ws(chr(31), " + ", ".join(
            f"coalesce(CAST({sql} AS VARCHAR), 'unknown')" for _, sql in metric.labels) + ")"
    else:
        labels = "''"
    if metric.time == "day":
        ts = f"epoch_ms(timezone({_literal(settings.timezone)}, CAST(day AS TIMESTAMP)))"
    else:
        ts = f"epoch_ms({metric.time})"
    only = f" AND {provider} IN ({', '.join(map(_literal, metric.providers))})" if metric.providers else ""
    rows = (f"SELECT {index} AS entry, {provider} AS provider, {labels} AS labels, day, {ts} AS ts_ms, "
            f"CAST({metric.value_sql} AS DOUBLE) AS value FROM {metric.table} t "
            f"WHERE ({metric.where}) AND ({metric.value_sql}) IS NOT NULL AND {provider} IS NOT NULL{only} "
            f"AND {in_scope(scopes, metric.table, f't.{provider}', 't.day')}")
    if metric.aggregate:
        rows = (f"SELECT entry, provider, labels, day, ts_ms, sum(value) AS value FROM ({rows}) "
                "GROUP BY entry, provider, labels, day, ts_ms")
    return rows


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
