"""The export's bookkeeping in DuckDB: what VictoriaMetrics holds, and what is still to be sent.

- `_vm_ledger`: every sample written and confirmed (metric, provider, series, day, ts_ms, value).
  For a series not in `_vm_dirty`, the ledger is exactly what VictoriaMetrics holds.
- `_vm_dirty`: series whose state in VictoriaMetrics is unknown (an import was under way when
  it failed); the next export deletes and re-imports them whole.
- `_vm_pending`: the scopes (table, provider, day range) of exports that did not finish; the
  next export covers them too, whatever its own window.
- `_vm_sources`: which modelling of each change-driven tidy source was last exported.
- `_vm_settings`: a fingerprint of the label and time-zone settings; when they change, every
  series is exported again under its new labels.
"""

from dataclasses import dataclass
from datetime import date

import duckdb

from health_pipeline.storage.duckdb_store import scalar

ALL_PROVIDERS = "*"
FIRST_DAY, LAST_DAY = date(1, 1, 1), date(9999, 12, 31)

_DDL = """
CREATE TABLE IF NOT EXISTS _vm_ledger (
    metric    VARCHAR NOT NULL,
    series    VARCHAR NOT NULL,
    day       DATE    NOT NULL,
    ts_ms     BIGINT  NOT NULL,
    value     DOUBLE  NOT NULL,
    provider  VARCHAR
);
CREATE TABLE IF NOT EXISTS _vm_dirty (series VARCHAR NOT NULL);
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
    """Create the bookkeeping tables; a ledger from the first release gains its `provider` column."""
    conn.execute(_DDL)
    columns = {row[0] for row in conn.execute("DESCRIBE _vm_ledger").fetchall()}
    if "provider" not in columns:  # a ledger written by the first release
        conn.execute("ALTER TABLE _vm_ledger ADD COLUMN provider VARCHAR")
    conn.execute("UPDATE _vm_ledger SET provider = json_extract_string(series, '$.provider') WHERE provider IS NULL")


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
        return bool(scalar(conn, "SELECT count(*) FROM (SELECT 1 FROM _vm_ledger LIMIT 1)"))
    return known != fingerprint


def mark_dirty(conn: duckdb.DuckDBPyConnection, series: list[str]) -> None:
    conn.execute("BEGIN TRANSACTION")
    conn.execute("INSERT INTO _vm_dirty SELECT s FROM (SELECT unnest(?) AS s) WHERE s NOT IN (SELECT series FROM _vm_dirty)",
                 [series])
    conn.execute("COMMIT")


def dirty(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT DISTINCT series FROM _vm_dirty ORDER BY 1").fetchall()]
