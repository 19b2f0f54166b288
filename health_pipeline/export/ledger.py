"""The export's bookkeeping in DuckDB: what VictoriaMetrics holds, and what is still to be sent.

- `_vm_series`: every series ever written (id, metric, provider, its label set as JSON).
- `_vm_days`: per series and local day, what was written and confirmed: how many samples, the
  newest timestamp, and a digest (the XOR of each sample's hash of timestamp and value). For a
  series not in `_vm_dirty`, these describe exactly what VictoriaMetrics holds; a digest is 8
  bytes where the samples of a day of per-minute heart rate are 23 kB.
- `_vm_dirty`: series whose state in VictoriaMetrics is unknown (an import was under way when
  it failed); the next export deletes and re-imports them whole.
- `_vm_pending`: the scopes (table, provider, day range) of exports that did not finish; the
  next export covers them too, whatever its own window.
- `_vm_sources`: which modelling of each change-driven tidy source was last exported.
- `_vm_settings`: a fingerprint of the label and time-zone settings; when they change, every
  series is exported again under its new labels.
"""

import json
from dataclasses import dataclass
from datetime import date

import duckdb

from health_pipeline.export.metrics import SYNCBIT_PROVIDER
from health_pipeline.storage.duckdb_store import scalar

ALL_PROVIDERS = "*"
DIGEST = "hash(ts_ms, value)"
DAY_SUMMARY = f"count(*) AS n, max(ts_ms) AS last_ts, bit_xor({DIGEST}) AS digest"  # over a group of samples
FIRST_DAY, LAST_DAY = date(1, 1, 1), date(9999, 12, 31)

_DDL = """
CREATE TABLE IF NOT EXISTS _vm_series (
    series_id BIGINT PRIMARY KEY, metric VARCHAR NOT NULL, provider VARCHAR NOT NULL, series VARCHAR NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS _vm_days (
    series_id BIGINT NOT NULL, day DATE NOT NULL, n BIGINT NOT NULL, last_ts BIGINT NOT NULL, digest UBIGINT NOT NULL,
    PRIMARY KEY (series_id, day)
);
CREATE TABLE IF NOT EXISTS _vm_dirty (series_id BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS _vm_pending (
    table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, start_day DATE NOT NULL, end_day DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS _vm_sources (
    table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, token VARCHAR NOT NULL, PRIMARY KEY (table_name, provider)
);
CREATE TABLE IF NOT EXISTS _vm_settings (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
"""


@dataclass(frozen=True)
class Scope:
    """Rows of one tidy table to compare with what was written: a provider ('*': all) and a day range."""

    table: str
    provider: str
    start: date
    end: date

    @property
    def whole(self) -> bool:
        return self.start == FIRST_DAY and self.end == LAST_DAY


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables; carry over a ledger written by the first release."""
    conn.execute(_DDL)
    old = scalar(conn, "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_vm_ledger'")
    if old:
        _migrate_first_ledger(conn)


def _migrate_first_ledger(conn: duckdb.DuckDBPyConnection) -> None:
    """`_vm_ledger(metric, series, day, ts_ms, value)` -> `_vm_series` + `_vm_days`, in one transaction."""
    conn.execute("BEGIN TRANSACTION")

    conn.execute(f"""
        INSERT INTO _vm_series
        SELECT row_number() OVER (ORDER BY series) + coalesce((SELECT max(series_id) FROM _vm_series), 0),
               metric, coalesce(json_extract_string(series, '$.provider'), '{SYNCBIT_PROVIDER}'), series
        FROM (SELECT DISTINCT metric, series FROM _vm_ledger)
    """)
    conn.execute(f"INSERT INTO _vm_days SELECT s.series_id, l.day, {DAY_SUMMARY} FROM _vm_ledger l "
                 "JOIN _vm_series s USING (series) GROUP BY s.series_id, l.day")
    columns = {row[0] for row in conn.execute("DESCRIBE _vm_dirty").fetchall()}
    if "series" in columns:  # the first release kept dirty series by their JSON
        conn.execute("CREATE OR REPLACE TABLE _vm_dirty AS SELECT s.series_id FROM _vm_dirty d "
                     "JOIN _vm_series s USING (series)")
    conn.execute("DROP TABLE _vm_ledger")
    conn.execute("COMMIT")


def series_ids(conn: duckdb.DuckDBPyConnection, wanted: list[tuple[str, str, str]]) -> dict[str, int]:
    """The id of each (metric, provider, series JSON), registering the new ones."""
    known = {series: sid for sid, series in conn.execute(
        "SELECT series_id, series FROM _vm_series WHERE series IN (SELECT unnest(?::VARCHAR[]))",
        [[w[2] for w in wanted]]).fetchall()}
    new = [w for w in dict.fromkeys(wanted) if w[2] not in known]
    if new:
        first = int(scalar(conn, "SELECT coalesce(max(series_id), 0) FROM _vm_series") or 0) + 1
        conn.execute("BEGIN TRANSACTION")
        for offset, (metric, provider, series) in enumerate(new):
            conn.execute("INSERT INTO _vm_series VALUES (?, ?, ?, ?)", [first + offset, metric, provider, series])
            known[series] = first + offset
        conn.execute("COMMIT")
    return known


def selectors_of(conn: duckdb.DuckDBPyConnection, ids: list[int]) -> list[dict[str, str]]:
    rows = conn.execute("SELECT series FROM _vm_series WHERE series_id IN (SELECT unnest(?::BIGINT[])) ORDER BY 1",
                        [ids]).fetchall()
    return [json.loads(row[0]) for row in rows]


def pending(conn: duckdb.DuckDBPyConnection) -> list[Scope]:
    rows = conn.execute("SELECT DISTINCT table_name, provider, start_day, end_day FROM _vm_pending ORDER BY ALL")
    return [Scope(*row) for row in rows.fetchall()]


def add_pending(conn: duckdb.DuckDBPyConnection, scopes: list[Scope]) -> None:
    """Record the scopes before anything is sent: if the export fails, the next one covers them."""
    conn.execute("BEGIN TRANSACTION")
    for s in scopes:
        conn.execute("INSERT INTO _vm_pending VALUES (?, ?, ?, ?)", [s.table, s.provider, s.start, s.end])
    conn.execute("COMMIT")


def finish(conn: duckdb.DuckDBPyConnection, tokens: dict[tuple[str, str], str], settings: str) -> None:
    """Everything in scope is written: nothing is pending, the sources and settings are current."""
    conn.execute("BEGIN TRANSACTION")
    conn.execute("DELETE FROM _vm_pending")
    for (table, provider), token in tokens.items():
        conn.execute("INSERT OR REPLACE INTO _vm_sources VALUES (?, ?, ?)", [table, provider, token])
    conn.execute("INSERT OR REPLACE INTO _vm_settings VALUES ('labels', ?)", [settings])
    conn.execute("COMMIT")


def exported_tokens(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    return {(t, p): token for t, p, token in conn.execute("SELECT * FROM _vm_sources").fetchall()}


def settings_changed(conn: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    """True when series were written under other labels (or by a release that kept no fingerprint)."""
    known = scalar(conn, "SELECT value FROM _vm_settings WHERE name = 'labels'")
    if known is None:
        return bool(scalar(conn, "SELECT count(*) FROM (SELECT 1 FROM _vm_days LIMIT 1)"))
    return known != fingerprint


def add_days(conn: duckdb.DuckDBPyConnection, days_sql: str, target: str = "_vm_days") -> None:
    """Add confirmed samples, summed up per series and day (a SELECT of series_id, day, n, last_ts, digest)."""
    conn.execute(f"""
        INSERT INTO {target} {days_sql}
        ON CONFLICT (series_id, day) DO UPDATE SET n = n + excluded.n, last_ts = greatest(last_ts, excluded.last_ts),
                                                   digest = xor(digest, excluded.digest)
    """)


def mark_dirty(conn: duckdb.DuckDBPyConnection, ids: list[int]) -> None:
    conn.execute("BEGIN TRANSACTION")
    conn.execute("INSERT INTO _vm_dirty SELECT i FROM (SELECT unnest(?::BIGINT[]) AS i) "
                 "WHERE i NOT IN (SELECT series_id FROM _vm_dirty)", [ids])
    conn.execute("COMMIT")
