"""The desired samples: exactly the tidy rows in scope, each under its series, from a real DuckDB file.

Both ways an entry's rows get their series id are covered: a filter on the one (provider, label
values) pair the entry makes in scope, and a join when it makes several.
"""

import json
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest

from health_pipeline.export import desired, ledger
from health_pipeline.export.desired import ExportSettings
from health_pipeline.export.ledger import Scope
from health_pipeline.export.metrics import metrics_for
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.tidy.models import create_tables

SETTINGS = ExportSettings("me", "UTC")
NOV_1, NOV_2, NOV_3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


@pytest.fixture
def conn(tmp_path: Path):  # type: ignore[no-untyped-def]
    with TidyStore(tmp_path / "health.duckdb").connect() as connection:
        create_tables(connection)
        ledger.prepare(connection)
        connection.execute("""
            INSERT INTO heart_rate VALUES
                ('me', 'fitbit', TIMESTAMPTZ '2026-11-01 08:00:00+00', DATE '2026-11-01', 61, 'minute_avg'),
                ('me', 'fitbit', TIMESTAMPTZ '2026-11-02 08:00:00+00', DATE '2026-11-02', 62, 'minute_avg'),
                ('me', 'fitbit', TIMESTAMPTZ '2026-11-03 08:00:00+00', DATE '2026-11-03', 63, 'minute_avg'),
                ('me', 'oura',   TIMESTAMPTZ '2026-11-02 09:00:00+00', DATE '2026-11-02', 72, 'minute_avg'),
                -- another person's rows never enter this person's series
                ('bob', 'fitbit', TIMESTAMPTZ '2026-11-02 08:00:00+00', DATE '2026-11-02', 99, 'minute_avg')
        """)
        connection.execute("INSERT INTO daily_activity (person, provider, day, steps) VALUES "
                           "('me', 'oura', DATE '2026-11-02', 7000), ('bob', 'oura', DATE '2026-11-02', 1)")
        yield connection


def ms(utc: str) -> int:
    """Milliseconds since the epoch of a UTC wall time."""
    return int(datetime.fromisoformat(utc).replace(tzinfo=timezone.utc).timestamp() * 1000)


def held(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, int, float]]]:
    """`_desired` by (metric, provider): (day, ts_ms, value) in time order."""
    rows = conn.execute("""
        SELECT s.series, CAST(d.day AS VARCHAR), d.ts_ms, d.value
        FROM _desired d JOIN _vm_series s USING (series_id) ORDER BY ALL
    """).fetchall()
    found: dict[tuple[str, str], list[tuple[str, int, float]]] = {}
    for series, day, ts_ms, value in rows:
        labels = json.loads(series)
        found.setdefault((labels["__name__"], labels["provider"]), []).append((day, ts_ms, value))
    return found


def test_one_series_per_entry_in_scope_takes_exactly_its_rows(conn: duckdb.DuckDBPyConnection) -> None:
    scopes = [Scope("heart_rate", "fitbit", NOV_2, NOV_3), Scope("daily_activity", "oura", NOV_1, NOV_3)]
    desired.build(conn, metrics_for(False), SETTINGS, scopes)
    assert held(conn) == {
        ("health_heart_rate_bpm", "fitbit"): [("2026-11-02", ms("2026-11-02 08:00"), 62.0),
                                              ("2026-11-03", ms("2026-11-03 08:00"), 63.0)],
        ("health_steps", "oura"): [("2026-11-02", ms("2026-11-02 00:00"), 7000.0)],
    }
    # only the series with samples in scope are registered: none for the empty tables' entries
    assert sorted(row[0] for row in conn.execute("SELECT metric FROM _vm_series").fetchall()) == [
        "health_heart_rate_bpm", "health_steps"]


def test_several_series_of_one_entry_each_take_their_own_rows(conn: duckdb.DuckDBPyConnection) -> None:
    desired.build(conn, metrics_for(False), SETTINGS, [Scope("heart_rate", "*", NOV_1, NOV_2)])
    assert held(conn) == {
        ("health_heart_rate_bpm", "fitbit"): [("2026-11-01", ms("2026-11-01 08:00"), 61.0),
                                              ("2026-11-02", ms("2026-11-02 08:00"), 62.0)],
        ("health_heart_rate_bpm", "oura"): [("2026-11-02", ms("2026-11-02 09:00"), 72.0)],
    }


def test_nothing_in_scope_builds_an_empty_table(conn: duckdb.DuckDBPyConnection) -> None:
    desired.build(conn, metrics_for(False), SETTINGS, [Scope("sleep_sessions", "*", NOV_1, NOV_3),
                                                       Scope("heart_rate", "withings", NOV_1, NOV_3)])
    assert conn.execute("SELECT count(*) FROM _desired").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM _vm_series").fetchone() == (0,)
