"""The export's bookkeeping in DuckDB: what VictoriaMetrics holds, and what is still to be sent.

- `_vm_series`: every series ever written (id, metric, provider, its label set as JSON, the person
  whose it is: the `user` label).
- `_vm_days`: per series and local day, what was written and confirmed: how many samples, the
  newest timestamp, and a digest (the XOR of each sample's hash of timestamp and value). For a
  series not in `_vm_dirty`, these describe exactly what VictoriaMetrics holds; a digest is 8
  bytes where the samples of a day of per-minute heart rate are 23 kB.
- `_vm_dirty`: series whose state in VictoriaMetrics is unknown (an import was under way when
  it failed); the next export deletes and re-imports them whole.
- `_vm_pending`: the scopes (table, provider, day range) of exports that did not finish; the
  next export covers them too, whatever its own window.
- `_vm_sources`: which modelling of each change-driven tidy source was last exported.
- `_vm_settings`: a fingerprint of each person's label and time-zone settings; when they change,
  every series of theirs is exported again under its new labels.

Every export is one person's (its settings' `user`): it reads their tidy rows, compares their series,
finishes their pending scopes and tokens; another person's series are never touched.
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
    series_id BIGINT PRIMARY KEY, metric VARCHAR NOT NULL, provider VARCHAR NOT NULL, series VARCHAR NOT NULL UNIQUE,
    person VARCHAR
);
CREATE TABLE IF NOT EXISTS _vm_days (
    series_id BIGINT NOT NULL, day DATE NOT NULL, n BIGINT NOT NULL, last_ts BIGINT NOT NULL, digest UBIGINT NOT NULL,
    PRIMARY KEY (series_id, day)
);
CREATE TABLE IF NOT EXISTS _vm_dirty (series_id BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS _vm_pending (
    table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, start_day DATE NOT NULL, end_day DATE NOT NULL,
    person VARCHAR
);
CREATE TABLE IF NOT EXISTS _vm_sources (
    table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, token VARCHAR NOT NULL, person VARCHAR NOT NULL,
    PRIMARY KEY (person, table_name, provider)
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
    person: str = ""  # whose rows ("": the export's person)

    @property
    def whole(self) -> bool:
        return self.start == FIRST_DAY and self.end == LAST_DAY


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables; carry over a ledger written by the first release."""
    conn.execute(_DDL)
    old = scalar(conn, "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_vm_ledger'")
    if old:
        _migrate_first_ledger(conn)
    _adopt_people(conn)


def _adopt_people(conn: duckdb.DuckDBPyConnection) -> None:
    """A ledger from before people: each series is the person its `user` label names; pending scopes and
    exported tokens are that one person's. One transaction."""
    columns = {(t, c) for t, c in conn.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE table_name LIKE '\\_vm\\_%' ESCAPE '\\' "
        "AND database_name = current_database()").fetchall()}
    if ("_vm_series", "person") in columns and ("_vm_pending", "person") in columns \
            and ("_vm_sources", "person") in columns:
        return
    conn.execute("BEGIN TRANSACTION")
    if ("_vm_series", "person") not in columns:
        conn.execute("ALTER TABLE _vm_series ADD COLUMN person VARCHAR")
    conn.execute("UPDATE _vm_series SET person = json_extract_string(series, '$.user') WHERE person IS NULL")
    user = scalar(conn, "SELECT min(person) FROM _vm_series")
    if ("_vm_pending", "person") not in columns:
        conn.execute("ALTER TABLE _vm_pending ADD COLUMN person VARCHAR")
        conn.execute("UPDATE _vm_pending SET person = ?", [user])
    if ("_vm_sources", "person") not in columns:
        conn.execute("CREATE TABLE _vm_sources_v2 (table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, "
                     "token VARCHAR NOT NULL, person VARCHAR NOT NULL, PRIMARY KEY (person, table_name, provider))")
        if user is not None:
            conn.execute("INSERT INTO _vm_sources_v2 SELECT table_name, provider, token, ? FROM _vm_sources", [user])
        conn.execute("DROP TABLE _vm_sources")
        conn.execute("ALTER TABLE _vm_sources_v2 RENAME TO _vm_sources")
        if user is not None:
            conn.execute("UPDATE _vm_settings SET name = ? WHERE name = 'labels'", [f"labels/{user}"])
    conn.execute("COMMIT")


def _migrate_first_ledger(conn: duckdb.DuckDBPyConnection) -> None:
    """`_vm_ledger(metric, series, day, ts_ms, value)` -> `_vm_series` + `_vm_days`, in one transaction."""
    conn.execute("BEGIN TRANSACTION")

    conn.execute(f"""
        INSERT INTO _vm_series
        SELECT row_number() OVER (ORDER BY series) + coalesce((SELECT max(series_id) FROM _vm_series), 0),
               metric, coalesce(json_extract_string(series, '$.provider'), '{SYNCBIT_PROVIDER}'), series,
               json_extract_string(series, '$.user')
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


def series_ids(conn: duckdb.DuckDBPyConnection, wanted: list[tuple[str, str, str]], person: str) -> dict[str, int]:
    """The id of each (metric, provider, series JSON) of `person`, registering the new ones."""
    known = {series: sid for sid, series in conn.execute(
        "SELECT series_id, series FROM _vm_series WHERE series IN (SELECT unnest(?::VARCHAR[]))",
        [[w[2] for w in wanted]]).fetchall()}
    new = [w for w in dict.fromkeys(wanted) if w[2] not in known]
    if new:
        first = int(scalar(conn, "SELECT coalesce(max(series_id), 0) FROM _vm_series") or 0) + 1
        conn.execute("BEGIN TRANSACTION")
        for offset, (metric, provider, series) in enumerate(new):
            conn.execute("INSERT INTO _vm_series VALUES (?, ?, ?, ?, ?)",
                         [first + offset, metric, provider, series, person])
            known[series] = first + offset
        conn.execute("COMMIT")
    return known


def selectors_of(conn: duckdb.DuckDBPyConnection, ids: list[int]) -> list[dict[str, str]]:
    rows = conn.execute("SELECT series FROM _vm_series WHERE series_id IN (SELECT unnest(?::BIGINT[])) ORDER BY 1",
                        [ids]).fetchall()
    return [json.loads(row[0]) for row in rows]


def pending(conn: duckdb.DuckDBPyConnection, person: str) -> list[Scope]:
    rows = conn.execute("SELECT DISTINCT table_name, provider, start_day, end_day FROM _vm_pending WHERE person = ? "
                        "ORDER BY ALL", [person])
    return [Scope(*row, person=person) for row in rows.fetchall()]


def add_pending(conn: duckdb.DuckDBPyConnection, scopes: list[Scope], person: str) -> None:
    """Record the scopes before anything is sent: if the export fails, the next one covers them."""
    conn.execute("BEGIN TRANSACTION")
    for s in scopes:
        conn.execute("INSERT INTO _vm_pending VALUES (?, ?, ?, ?, ?)", [s.table, s.provider, s.start, s.end, person])
    conn.execute("COMMIT")


def finish(conn: duckdb.DuckDBPyConnection, tokens: dict[tuple[str, str], str], settings: str, person: str) -> None:
    """Everything of `person` in scope is written: nothing of theirs is pending, their sources and settings
    are current."""
    conn.execute("BEGIN TRANSACTION")
    conn.execute("DELETE FROM _vm_pending WHERE person = ?", [person])
    for (table, provider), token in tokens.items():
        conn.execute("INSERT OR REPLACE INTO _vm_sources VALUES (?, ?, ?, ?)", [table, provider, token, person])
    conn.execute("INSERT OR REPLACE INTO _vm_settings VALUES (?, ?)", [f"labels/{person}", settings])
    conn.execute("COMMIT")


def exported_tokens(conn: duckdb.DuckDBPyConnection, person: str) -> dict[tuple[str, str], str]:
    return {(t, p): token for t, p, token in conn.execute(
        "SELECT table_name, provider, token FROM _vm_sources WHERE person = ?", [person]).fetchall()}


def settings_changed(conn: duckdb.DuckDBPyConnection, fingerprint: str, person: str) -> bool:
    """True when `person`'s series were written under other labels (or by a release that kept no fingerprint)."""
    known = scalar(conn, "SELECT value FROM _vm_settings WHERE name = ?", [f"labels/{person}"])
    if known is None:
        return bool(scalar(conn, "SELECT count(*) FROM (SELECT 1 FROM _vm_days JOIN _vm_series USING (series_id) "
                                 "WHERE person = ? LIMIT 1)", [person]))
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


def forget_person(conn: duckdb.DuckDBPyConnection, person: str) -> None:
    """Drop every record of `person`'s series (their series deleted from VictoriaMetrics by the caller);
    inside the caller's transaction."""
    mine = "SELECT series_id FROM _vm_series WHERE person = ?"
    conn.execute(f"DELETE FROM _vm_days WHERE series_id IN ({mine})", [person])
    conn.execute(f"DELETE FROM _vm_dirty WHERE series_id IN ({mine})", [person])
    conn.execute("DELETE FROM _vm_series WHERE person = ?", [person])
    conn.execute("DELETE FROM _vm_pending WHERE person = ?", [person])
    conn.execute("DELETE FROM _vm_sources WHERE person = ?", [person])
    conn.execute("DELETE FROM _vm_settings WHERE name = ?", [f"labels/{person}"])
