"""Filling the tidy tables from the raw store: window rebuilds and change-following rebuilds.

Every rebuild of one source is one DuckDB transaction: delete that provider's rows (of the window,
or all of them), insert what the source's SELECT yields from the live raw records, less the values
the plausibility rules keep out (`rejections.py`: recorded in `rejected_values` in the same
transaction). Re-running it changes nothing. Which raw state a change-driven source was last
modelled from is kept in `_tidy_state` (a fingerprint of its records), so a run models a Withings
or Hevy source only when its raw records changed, and a `force` rebuild models it regardless.
"""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.settings import DEFAULT_PERSON
from health_pipeline.storage.raw_store import RawStore, StoredRecord
from health_pipeline.tidy.catalog import DECLARED, TidySource, TidyTable
from health_pipeline.tidy.summary import SUMMARY_DDL
from health_pipeline.tidy.rejections import REJECTED_DDL, STAGED_REJECTIONS, Rejected, reject_staged

DEFAULT_TOLERANCE_PCT = 5.0  # how far an API's and an archive's day may differ before `origins_agree` warns
SLICE_DAYS = 31  # a per-record source's days read and modelled at once (a month of per-minute heart rate)

STATE_DDL = """
CREATE TABLE IF NOT EXISTS _tidy_state (
    table_name   VARCHAR NOT NULL,
    person       VARCHAR NOT NULL,
    provider     VARCHAR NOT NULL,
    fingerprint  VARCHAR NOT NULL,
    modelled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, person, provider)
)
"""


@dataclass(frozen=True)
class SourceResult:
    """What rebuilding one source did."""

    provider: str
    driver: str
    rebuilt: bool  # False: a change-driven source whose raw records had not changed
    rows: int  # the provider's rows in the rebuilt scope (window or whole table) afterwards
    rejected: Rejected | None = None  # the values this rebuild kept out (None: not rebuilt)


DISAGREEMENTS_DDL = """
CREATE TABLE IF NOT EXISTS origin_disagreements (
    table_name    VARCHAR NOT NULL,
    person        VARCHAR NOT NULL,
    provider      VARCHAR NOT NULL,
    day           DATE    NOT NULL,
    measure       VARCHAR NOT NULL,
    kept_source   VARCHAR NOT NULL,
    kept_value    DOUBLE,
    other_source  VARCHAR NOT NULL,
    other_value   DOUBLE,
    found_at      TIMESTAMPTZ NOT NULL
)
"""


def _columns_of(conn: duckdb.DuckDBPyConnection, table: str, default: set[str]) -> set[str]:
    """A table's columns (`default` if it does not exist)."""
    found = {c for (c,) in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = current_database()", [table]).fetchall()}
    return found or default


def adopt_person(conn: duckdb.DuckDBPyConnection, person: str) -> list[str]:
    """Give the tables an older release made (before people) their leading `person` column, every row
    `person`'s (the single-person home's `[app] user`), in one transaction; returns the tables changed.
    A table is rebuilt to put the column first; rows and values are kept as they were."""
    ddls = {**{t.name: t.ddl for t in DECLARED.values()}, "daily_summary": SUMMARY_DDL,
            "rejected_values": REJECTED_DDL, "origin_disagreements": DISAGREEMENTS_DDL, "_tidy_state": STATE_DDL}
    columns: dict[str, set[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND database_name = current_database()").fetchall():
        columns.setdefault(table, set()).add(column)
    old = [t for t in ddls if t in columns and "person" not in columns[t]]
    if not old:
        return []
    conn.execute("BEGIN TRANSACTION")
    try:
        for table in old:
            conn.execute(f"ALTER TABLE {table} RENAME TO {table}_before_people")
            conn.execute(ddls[table])
            conn.execute(f"INSERT INTO {table} BY NAME SELECT ?::VARCHAR AS person, * FROM {table}_before_people",
                         [person])
            conn.execute(f"DROP TABLE {table}_before_people")
            if table in DECLARED and "_tidy_state" in columns and not set(c.name for c in DECLARED[table].columns) <= columns[table] | {"person"}:
                # columns this release added are NULL until re-modelled: the change-driven sources are next time
                conn.execute("DELETE FROM _tidy_state WHERE table_name = ?", [table])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return old


HOME_DDL = "CREATE TABLE IF NOT EXISTS _home (person VARCHAR NOT NULL)"


def follow_home(conn: duckdb.DuckDBPyConnection, person: str, single: bool) -> str | None:
    """Keep the tidy rows with the single-person home's person after `[app] user` was changed (the raw store
    renames its rows the same way, `RawStore.adopt_home`): while the home is `single` (nobody else is
    listed) and the new id owns no rows, every row of the previous home person becomes `person`'s, in one
    transaction; the export then moves their series to the new `user` label. Returns the old id, or None."""
    conn.execute(HOME_DDL)
    known = scalar(conn, "SELECT person FROM _home")
    if known == person:
        return None
    renamed = None
    conn.execute("BEGIN TRANSACTION")
    try:
        if known is not None and single:
            tables = [t for (t,) in conn.execute(
                "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'person' AND schema_name = 'main' "
                "AND database_name = current_database() AND table_name <> '_home'").fetchall()]
            owns = any(scalar(conn, f"SELECT count(*) FROM (SELECT 1 FROM {t} WHERE person = ? LIMIT 1)", [person])
                       for t in tables)
            if not owns:
                for table in tables:
                    conn.execute(f"UPDATE {table} SET person = ? WHERE person = ?", [person, known])
                if "_vm_settings" in _all_tables(conn):  # their series' labels: the next export moves them
                    conn.execute("UPDATE _vm_settings SET name = ? WHERE name = ?",
                                 [f"labels/{person}", f"labels/{known}"])
                renamed = known
        conn.execute("DELETE FROM _home")
        conn.execute("INSERT INTO _home VALUES (?)", [person])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return renamed


def _all_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                       "AND database_name = current_database()").fetchall()}


def create_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every tidy table (and the bookkeeping table) that does not exist yet."""
    for table in DECLARED.values():
        prepare_table(conn, table)
    conn.execute(SUMMARY_DDL)
    conn.execute(REJECTED_DDL)
    conn.execute(DISAGREEMENTS_DDL)


def prepare_table(conn: duckdb.DuckDBPyConnection, table: TidyTable) -> None:
    """Create the table, or bring one made by an older release up to its DDL (add the columns it lacks).

    Rows modelled before stay NULL in them until re-modelled; the change-driven sources are
    re-modelled on their next run (their state is forgotten), `health-pipeline rebuild` does the rest.
    """
    if "person" not in _columns_of(conn, table.name, default={"person"}):
        adopt_person(conn, DEFAULT_PERSON)  # a table from before people, opened outside a run's store
    conn.execute(STATE_DDL)
    conn.execute(REJECTED_DDL)
    conn.execute(table.ddl)
    present = {name: nullable for name, nullable in conn.execute(
        "SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = current_database()",
        [table.name]).fetchall()}
    missing = [c for c in table.columns if c.name not in present]
    # A column an older release declared NOT NULL that may now be NULL (sleep_sessions.is_main: unknown).
    loosened = [c for c in table.columns if c.name in present and not present[c.name] and c.nullable]
    if not missing and not loosened:
        return
    conn.execute("BEGIN TRANSACTION")
    for column in missing:
        conn.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}")
    for column in loosened:
        conn.execute(f"ALTER TABLE {table.name} ALTER COLUMN {column.name} DROP NOT NULL")
    conn.execute("DELETE FROM _tidy_state WHERE table_name = ?", [table.name])
    conn.execute("COMMIT")


def define_home_tz(conn: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """`home_tz()` in this connection's SQL: the configured time zone's name (validated: an IANA name)."""
    ZoneInfo(timezone)  # raises for an unknown zone
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", timezone):
        raise ValueError(f"not a time zone name: {timezone!r}")
    conn.execute(f"CREATE OR REPLACE TEMP MACRO home_tz() AS '{timezone}'")


def rebuild_table(
    conn: duckdb.DuckDBPyConnection, raw_store: RawStore, table: TidyTable, start: date, end: date,
    *, providers: Iterable[str] | None = None, force: bool = False, today: date | None = None,
    precedence: Mapping[str, Sequence[str]] | None = None, tolerance_pct: float = DEFAULT_TOLERANCE_PCT,
    timezone: str,
) -> list[SourceResult]:
    """Re-model `table`: window sources for local days [start, end], change sources if they changed.
    A source's SQL may call `home_tz()`: the person's configured time zone (`timezone`), for local
    times a provider sends without an offset (Polar's continuous heart rate).
    With `today`, rows dated after it are kept out (a device with a wrong clock). Sources whose rows
    carry one provider (an API and its archive) are rebuilt together: `precedence` (provider -> its
    sources' names, the winner first; default: registry order) says whose rows a day keeps."""
    wanted = set(providers) if providers is not None else None
    define_home_tz(conn, timezone)
    prepare_table(conn, table)
    results = []
    for provider, members in table.groups().items():
        if wanted is not None and provider not in wanted and not any(m.provider in wanted for m in members):
            continue  # a group is rebuilt whole: its rows are one provider's
        if len(members) > 1:
            order = ordered(members, (precedence or {}).get(provider))
            results.append(rebuild_group(conn, raw_store, table, order, start, end, today=today,
                                         tolerance_pct=tolerance_pct))
        elif members[0].driver == "window":
            results.append(rebuild_window(conn, raw_store, members[0], start, end, today=today))
        else:
            results.append(follow_changes(conn, raw_store, members[0], force=force, today=today))
    return results


def ordered(members: Sequence[TidySource], names: Sequence[str] | None) -> tuple[TidySource, ...]:
    """The group's sources in precedence order: those named first, in that order, then the rest."""
    rank = {name: i for i, name in enumerate(names or ())}
    return tuple(sorted(members, key=lambda m: rank.get(m.provider, len(rank))))


def rebuild_window(conn: duckdb.DuckDBPyConnection, raw_store: RawStore, source: TidySource,
                   start: date, end: date, *, today: date | None = None) -> SourceResult:
    """Delete the provider's rows of [start, end] and insert them again from the raw store, in one
    transaction; a per-record source is read and modelled `SLICE_DAYS` at a time (bounded memory)."""
    scope = "person = ? AND provider = ? AND day BETWEEN ? AND ?"
    params = [raw_store.person, source.tidy_provider, start, end]  # its rows carry the provider it models as
    rejected = _replace(conn, raw_store.person, source, record_slices(raw_store, source, start, end), scope, params,
                        today=today)
    rows = scalar(conn, f"SELECT count(*) FROM {source.table} WHERE {scope}", params)
    return SourceResult(source.provider, "window", True, int(rows or 0), rejected)


def rebuild_group(conn: duckdb.DuckDBPyConnection, raw_store: RawStore, table: TidyTable,
                  members: Sequence[TidySource], start: date | None, end: date | None, *,
                  today: date | None = None, tolerance_pct: float = DEFAULT_TOLERANCE_PCT) -> SourceResult:
    """Re-model the days [start, end] of a provider fed by several sources (the Fitbit API and a Takeout
    archive), in one transaction: each source's rows are staged and checked on their own, then per day
    the first source (in `members` order) that has rows for the day keeps them, and the days where two
    sources both have rows and differ by more than `tolerance_pct` in the table's `compare` measure are
    recorded in `origin_disagreements`. Without `start`/`end`: every day (for checks)."""
    provider = members[0].tidy_provider
    if any(m.driver != "window" for m in members):
        raise ValueError(f"{table.name}: only date-driven sources can share provider {provider!r}")
    conn.execute(table.ddl)
    conn.execute(STATE_DDL)
    conn.execute(DISAGREEMENTS_DDL)
    rejected = stage_group(conn, raw_store, table, members, start, end, today=today)
    scope = "person = ? AND provider = ?" + (" AND day BETWEEN ? AND ?" if start is not None else "")
    params: list[object] = [raw_store.person, provider, *([start, end] if start is not None else [])]
    try:
        conn.execute("CREATE OR REPLACE TEMP TABLE _disagreed AS SELECT * FROM origin_disagreements LIMIT 0")
        if table.compare:
            _find_disagreements(conn, table, members, tolerance_pct, raw_store.person)
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(f"DELETE FROM {table.name} WHERE {scope}", params)
            conn.execute(f"INSERT INTO {table.name} BY NAME SELECT * FROM _staged")
            conn.execute(f"DELETE FROM rejected_values WHERE table_name = ? AND {scope}", [table.name, *params])
            conn.execute(f"INSERT INTO rejected_values SELECT * FROM {STAGED_REJECTIONS}")
            conn.execute(f"DELETE FROM origin_disagreements WHERE table_name = ? AND {scope}", [table.name, *params])
            conn.execute("INSERT INTO origin_disagreements SELECT * FROM _disagreed")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        drop_group_staging(conn, len(members))
        conn.execute("DROP TABLE IF EXISTS _disagreed")
    rows = scalar(conn, f"SELECT count(*) FROM {table.name} WHERE {scope}", params)
    return SourceResult(provider, "window", True, int(rows or 0), rejected)


def stage_group(conn: duckdb.DuckDBPyConnection, raw_store: RawStore, table: TidyTable, members: Sequence[TidySource],
                start: date | None, end: date | None, *, today: date | None = None) -> Rejected:
    """Stage each member's rows of [start, end] (all days without them) in `_staged_<i>`, its rejections
    in `_rejected_<i>`, then the merged rows in `_staged` and the rejections of the days each one won
    in `_rejected`. The caller drops them (`drop_group_staging`)."""
    counts: dict[str, int] = {}
    examples: list[str] = []
    for i, member in enumerate(members):
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS SELECT * FROM {table.name} LIMIT 0")
        for records in record_slices(raw_store, member, start, end):
            conn.register("raw", raw_relation(records))
            try:
                conn.execute(f"INSERT INTO _staged BY NAME {member.sql}")
            finally:
                conn.unregister("raw")
        conn.execute("UPDATE _staged SET person = ?", [raw_store.person])
        found = reject_staged(conn, table, member, today)
        for rule, n in found.counts.items():
            counts[rule] = counts.get(rule, 0) + n
        examples += found.examples
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _staged_{i} AS SELECT * FROM _staged")
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _rejected_{i} AS SELECT * FROM {STAGED_REJECTIONS}")
    conn.execute("CREATE OR REPLACE TEMP TABLE _staged AS SELECT * FROM _staged_0")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_REJECTIONS} AS SELECT * FROM _rejected_0")
    conn.execute("CREATE OR REPLACE TEMP TABLE _won AS SELECT DISTINCT day FROM _staged_0")
    for i in range(1, len(members)):
        conn.execute(f"INSERT INTO _staged SELECT * FROM _staged_{i} WHERE day NOT IN (SELECT day FROM _won)")
        conn.execute(f"INSERT INTO {STAGED_REJECTIONS} SELECT * FROM _rejected_{i} "
                     f"WHERE day IS NULL OR day NOT IN (SELECT day FROM _won)")
        conn.execute(f"INSERT INTO _won SELECT DISTINCT day FROM _staged_{i} WHERE day NOT IN (SELECT day FROM _won)")
    return Rejected(counts, examples[:5])


def drop_group_staging(conn: duckdb.DuckDBPyConnection, members: int) -> None:
    for name in ("_staged", STAGED_REJECTIONS, "_won", *(f"_staged_{i}" for i in range(members)),
                 *(f"_rejected_{i}" for i in range(members))):
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def _find_disagreements(conn: duckdb.DuckDBPyConnection, table: TidyTable, members: Sequence[TidySource],
                        tolerance_pct: float, person: str) -> None:
    """Into `_disagreed`: each day two members both have, where the table's measure differs beyond tolerance."""
    kept = members[0]
    for i, other in enumerate(members[1:], start=1):
        conn.execute(
            f"""INSERT INTO _disagreed
                WITH a AS (SELECT day, CAST({table.compare} AS DOUBLE) AS v FROM _staged_0 GROUP BY day),
                     b AS (SELECT day, CAST({table.compare} AS DOUBLE) AS v FROM _staged_{i} GROUP BY day)
                SELECT ?, ?, ?, a.day, ?, ?, a.v, ?, b.v, now() FROM a JOIN b USING (day)
                WHERE a.v IS DISTINCT FROM b.v
                  AND (a.v IS NULL OR b.v IS NULL OR abs(a.v - b.v) > ? / 100.0 * greatest(abs(a.v), abs(b.v)))""",
            [table.name, person, kept.tidy_provider, table.compare, kept.provider, other.provider, tolerance_pct])


def follow_changes(conn: duckdb.DuckDBPyConnection, raw_store: RawStore, source: TidySource,
                   *, force: bool = False, today: date | None = None) -> SourceResult:
    """Rebuild the provider's rows from every live record, if the records changed since last time."""
    fingerprint = raw_store.fingerprint(source.provider, source.resources)
    conn.execute(STATE_DDL)
    person = raw_store.person
    known = scalar(conn, "SELECT fingerprint FROM _tidy_state WHERE table_name = ? AND person = ? AND provider = ?",
                   [source.table, person, source.provider])
    rebuilt = force or known != fingerprint
    rejected = None
    if rebuilt:
        rejected = _replace(conn, person, source, record_slices(raw_store, source), "person = ? AND provider = ?",
                            [person, source.tidy_provider], fingerprint=fingerprint, today=today)
    rows = scalar(conn, f"SELECT count(*) FROM {source.table} WHERE person = ? AND provider = ?",
                  [person, source.tidy_provider])
    return SourceResult(source.provider, "changes", rebuilt, int(rows or 0), rejected)


def record_slices(raw_store: RawStore, source: TidySource, start: date | None = None,
                  end: date | None = None) -> Iterator[list[StoredRecord]]:
    """The source's live records of local days [start, end] (default: all of them), as batches to model.

    A per-record source comes `SLICE_DAYS` at a time, so two years of per-minute heart rate never
    sit in memory at once; any other source comes whole (its rows may combine several records).
    """
    def read(first: date | None, last: date | None) -> list[StoredRecord]:
        return [r for resource in source.resources
                for r in raw_store.records(source.provider, resource, start_day=first, end_day=last)]

    if start is None or end is None:  # every live record
        start, end, undated = raw_store.day_span(source.provider, source.resources) if source.per_record \
            else (None, None, 0)
        if undated or start is None or end is None:  # whole: not per-record, or records without a day
            yield read(None, None)
            return
    step = SLICE_DAYS if source.per_record else (end - start).days + 1
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=step - 1))
        yield read(first, last)
        first = last + timedelta(days=1)


def _replace(conn: duckdb.DuckDBPyConnection, person: str, source: TidySource, batches: Iterable[list[StoredRecord]],
             scope: str, params: list[object], fingerprint: str | None = None, today: date | None = None) -> Rejected:
    """Model each batch of raw records into a staging table and keep the implausible values out of it,
    then in one transaction: delete the scope's rows and rejections, insert the staged rows and the
    new rejections, record the fingerprint. Any failure changes nothing.

    Staging first keeps memory bounded: many inserts inside one open transaction pile up in
    DuckDB's transaction-local storage (two years of per-minute heart rate: +140 MiB), one
    INSERT ... SELECT of the staged rows does not.
    """
    table = DECLARED[source.table]
    conn.execute(table.ddl)
    conn.execute(STATE_DDL)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS SELECT * FROM {source.table} LIMIT 0")
    try:
        for records in batches:
            conn.register("raw", raw_relation(records))
            try:
                conn.execute(f"INSERT INTO _staged BY NAME {source.sql}")
            finally:
                conn.unregister("raw")
        conn.execute("UPDATE _staged SET person = ?", [person])  # the source's SQL knows no person
        rejected = reject_staged(conn, table, source, today)
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(f"DELETE FROM {source.table} WHERE {scope}", params)
            conn.execute(f"INSERT INTO {source.table} BY NAME SELECT * FROM _staged")
            conn.execute(f"DELETE FROM rejected_values WHERE table_name = ? AND {scope}", [source.table, *params])
            conn.execute(f"INSERT INTO rejected_values SELECT * FROM {STAGED_REJECTIONS}")
            if fingerprint is not None:
                conn.execute("INSERT OR REPLACE INTO _tidy_state (table_name, person, provider, fingerprint, "
                             "modelled_at) VALUES (?, ?, ?, ?, now())", [source.table, person, source.provider,
                                                                        fingerprint])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("DROP TABLE IF EXISTS _staged")
        conn.execute(f"DROP TABLE IF EXISTS {STAGED_REJECTIONS}")
    return rejected


def raw_relation(records: list[StoredRecord]) -> pa.Table:
    """Raw records as the Arrow table the source SQL reads as `raw`."""
    return pa.table({
        "provider": pa.array([r.provider for r in records], pa.string()),
        "resource": pa.array([r.resource for r in records], pa.string()),
        "record_id": pa.array([r.record_id for r in records], pa.string()),
        "day": pa.array([r.day for r in records], pa.string()),
        "payload": pa.array([r.payload for r in records], pa.string()),
    })
