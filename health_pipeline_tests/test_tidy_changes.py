"""Tidy tables over time: re-scored sleep, Hevy deletions, DST and travel days, odd measures, blocking checks."""

import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg

from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawRecord, RawStore
from health_pipeline.registry import TABLES
from health_pipeline.tidy.models import rebuild_table
from health_pipeline_tests.conftest import TIMEZONE
from health_pipeline_tests.tidy_setup import all_providers_config, checks_of, run_range, utc


def rows(config, sql: str, params: list[object] | None = None) -> list[tuple]:  # type: ignore[no-untyped-def]
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_withings_measures_edge_cases_are_modelled_exactly(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw.sqlite")
    store.init()

    def group(grpid: int, attrib: int, category: int, measures: list[tuple[int, int, int]]) -> RawRecord:
        return RawRecord(str(grpid), "2026-11-01", {
            "grpid": grpid, "attrib": attrib, "category": category, "date": 1793520000, "timezone": "Europe/Berlin",
            "measures": [{"value": v, "type": t, "unit": u} for v, t, u in measures]})

    store.land("withings", "measures", [
        group(1, 0, 1, [(72345, 1, -3), (12, 999, 0), (3, 54, 1)]),  # kg; an unknown type; a positive exponent
        group(2, 1, 1, [(90000, 1, -3)]),  # the scale could not tell who it was
        group(3, 2, 1, [(125, 9, 0)]),  # entered by hand: kept
        group(4, 0, 2, [(70000, 1, -3)]),  # a goal, not a measurement
    ])
    with TidyStore(tmp_path / "t.duckdb").connect() as conn:
        [result] = rebuild_table(conn, store, TABLES["body_measurements"], date(2026, 11, 1), date(2026, 11, 1),
                                 providers=["withings"], timezone="Europe/Berlin")
        got = conn.execute("SELECT metric, value, unit, source_id FROM body_measurements ORDER BY source_id, metric").fetchall()
    assert got == [("spo2", 30.0, "%", "1"), ("weight", 72.345, "kg", "1"), ("withings_type_999", 12.0, "1", "1"),
                   ("diastolic_bp", 125.0, "mmHg", "3")]
    assert (result.rebuilt, result.rows) == (True, 4)
    store.tombstone("withings", "measures", ["1"])
    with TidyStore(tmp_path / "t.duckdb").connect() as conn:
        again = rebuild_table(conn, store, TABLES["body_measurements"], date(2026, 11, 1), date(2026, 11, 1),
                              providers=["withings"], timezone="Europe/Berlin")
        unchanged = rebuild_table(conn, store, TABLES["body_measurements"], date(2026, 11, 1), date(2026, 11, 1),
                                  providers=["withings"], timezone="Europe/Berlin")
        forced = rebuild_table(conn, store, TABLES["body_measurements"], date(2026, 11, 1), date(2026, 11, 1),
                               providers=["withings"], force=True, timezone="Europe/Berlin")
        left = conn.execute("SELECT source_id FROM body_measurements").fetchall()
    assert [(r.rebuilt, r.rows) for r in again + unchanged + forced] == [(True, 1), (False, 1), (True, 1)]
    assert left == [("3",)]


def test_a_rescored_oura_night_replaces_its_row(tmp_path: Path) -> None:
    clock = SandboxClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))
    world = SandboxWorld(seed=7, days=30, timezone=TIMEZONE, clock=clock)
    night = night_for(world, date(2026, 11, 10))
    assert night is not None and night.wake < clock.now() < night.rescored_at
    with sandbox_for(world) as sandbox:
        config = all_providers_config(tmp_path / "c.toml", sandbox, date(2026, 11, 1), TIMEZONE)
        keys = ["oura_sleep", "sleep_sessions", "sleep_samples"]
        day = date(2026, 11, 10)
        with dg.instance_for_test() as instance:
            assert run_range(config, instance, keys, day, day).success
            before = rows(config, "SELECT sleep_id, deep_s, light_s FROM sleep_sessions WHERE is_main")
            clock.advance(night.rescored_at - clock.now() + timedelta(minutes=1))
            assert run_range(config, instance, keys, day, day).success
        after = rows(config, "SELECT sleep_id, deep_s, light_s FROM sleep_sessions WHERE is_main")
        [doc] = [d for d in truth.oura_documents(world, "sleep", day, day) if d["type"] == "long_sleep"]
    assert doc["sleep_algorithm_version"] == "v2"
    assert after == [(doc["id"], doc["deep_sleep_duration"], doc["light_sleep_duration"])]
    assert len(before) == 1 and before[0][0] == doc["id"] and before[0][1] == after[0][1] - 300  # one slot moved to deep


def test_a_hevy_deletion_leaves_workouts_and_workout_sets(tmp_path: Path) -> None:
    clock = SandboxClock(datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc))
    world = SandboxWorld(seed=7, days=30, timezone=TIMEZONE, clock=clock)
    with sandbox_for(world) as sandbox:
        config = all_providers_config(tmp_path / "c.toml", sandbox, date(2026, 10, 12), TIMEZONE)
        keys = ["hevy_workouts", "workouts", "workout_sets"]
        today = date(2026, 11, 10)
        with dg.instance_for_test() as instance:
            assert run_range(config, instance, keys, today, today).success
            live = sandbox.hevy.live_workouts()
            victim = live[1]["id"]
            assert rows(config, "SELECT count(*) FROM workout_sets WHERE workout_id = ?", [victim])[0][0] > 0
            clock.advance(timedelta(minutes=5))
            sandbox.hevy.delete_workout(victim)
            clock.advance(timedelta(minutes=5))
            result = run_range(config, instance, keys, today, today)
        assert result.success
        assert result.asset_materializations_for_node("hevy_workouts")[-1].metadata["records_deleted"].value == 1
        assert rows(config, "SELECT count(*) FROM workouts WHERE workout_id = ?", [victim]) == [(0,)]
        assert rows(config, "SELECT count(*) FROM workout_sets WHERE workout_id = ?", [victim]) == [(0,)]
        assert rows(config, "SELECT count(*) FROM workouts WHERE provider = 'hevy'") == [(len(live) - 1,)]
        assert {k: e.passed for k, e in checks_of(result).items()}[("workouts", "rows_match_raw")]


def test_the_23_hour_day_of_spring_and_a_trip_abroad(tmp_path: Path) -> None:
    clock = SandboxClock(datetime(2026, 4, 20, 12, 0, tzinfo=timezone.utc))
    world = SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=clock)
    short = date(2026, 3, 29)
    trip = [d for d in (date(2026, 3, 28) + timedelta(days=i) for i in range(20)) if world.travelling(d)]
    assert world.day_length_s(short) == 23 * 3600 and trip  # the window has both
    start, end = min(trip[0], short) - timedelta(days=1), max(trip[-1], short) + timedelta(days=1)
    with sandbox_for(world) as sandbox:
        config = all_providers_config(tmp_path / "c.toml", sandbox, date(2026, 3, 1), TIMEZONE)
        keys = ["oura_sleep", "fitbit_heart_rate", "withings_intraday", "sleep_sessions", "heart_rate"]
        with dg.instance_for_test() as instance:
            assert run_range(config, instance, keys, start, end).success
    worn = 23 * 60 - sum(e - s for s, e in world.plan(short).nonwear_gaps)
    assert rows(config, "SELECT count(*) FROM heart_rate WHERE provider = 'fitbit' AND day = ?", [short]) == [(worn,)]
    midnight = world.local_midnight(short).astimezone(timezone.utc)
    assert rows(config, "SELECT min(ts), max(ts), count(*) FROM heart_rate WHERE provider = 'withings' AND day = ?",
                [short]) == [(midnight, midnight + timedelta(hours=23, minutes=-1), len(withings_data.intraday_minutes(
                    world, midnight, midnight + timedelta(hours=23))))]
    fitbit = [p["_t"] for p in gd.heart_rate_points(world, short, 60)]
    assert [r[0] for r in rows(config, "SELECT ts FROM heart_rate WHERE provider = 'fitbit' AND day = ? ORDER BY ts",
                               [short])] == fitbit
    expected = sorted((d["id"], date.fromisoformat(d["day"]), utc(d["bedtime_start"]), utc(d["bedtime_end"]))
                      for d in truth.oura_documents(world, "sleep", start, end) if d["type"] not in ("deleted", "rest"))
    assert rows(config, "SELECT sleep_id, day, start_ts, end_ts FROM sleep_sessions WHERE provider = 'oura' "
                        "ORDER BY sleep_id") == expected
    abroad = [d for d in truth.oura_documents(world, "sleep", trip[1], trip[1]) if d["type"] == "long_sleep"]
    assert abroad and abroad[0]["bedtime_end"].endswith("-04:00")  # New York summer time, stored as UTC


def test_an_implausible_value_is_kept_out_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    clock = SandboxClock(datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc))
    world = SandboxWorld(seed=7, days=30, timezone=TIMEZONE, clock=clock)
    with sandbox_for(world) as sandbox:
        config = all_providers_config(tmp_path / "c.toml", sandbox, date(2026, 10, 12), TIMEZONE)
        day = date(2026, 11, 8)
        keys = ["fitbit_weight", "body_measurements", "daily_summary"]
        with dg.instance_for_test() as instance:
            first = run_range(config, instance, keys, date(2026, 11, 2), day)
            assert first.success
            with sqlite3.connect(config.app.raw_db) as raw:  # a unit bug: weight stored in grams as kilograms
                changed = raw.execute("UPDATE records SET payload = json_set(payload, '$.weight.weightGrams', 81000000), "
                                      "payload_sha256 = 'tampered' WHERE resource = 'weight'").rowcount
                [name] = [r[0] for r in raw.execute("SELECT record_id FROM records WHERE resource = 'weight'")]
            assert changed == 1
            bad = run_range(config, instance, keys[1:], date(2026, 11, 2), day)
            assert bad.success  # a provider's impossible value never stops the run
            evaluation = checks_of(bad)[("body_measurements", "plausible_values")]
            assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
            assert evaluation.description == ("1 implausible value kept out of body_measurements (NULL, or the row left "
                                              "out) and recorded in rejected_values: fitbit: weight 20-300 kg (1)")
            assert bad.asset_materializations_for_node("daily_summary")  # downstream went on
            assert rows(config, "SELECT count(*) FROM body_measurements WHERE provider = 'fitbit'") == [(0,)]
            assert rows(config, "SELECT weight_kg FROM daily_summary WHERE day = ?", [day]) in ([], [(None,)])
            assert rows(config, "SELECT value, rule, raw_record, action FROM rejected_values") == [
                ("81000.0", "weight 20-300 kg", f"weight/{name}", "dropped")]
            with sqlite3.connect(config.app.raw_db) as raw:  # the provider corrects it
                raw.execute("UPDATE records SET payload = json_set(payload, '$.weight.weightGrams', 81000), "
                            "payload_sha256 = 'fixed' WHERE resource = 'weight'")
            fixed = run_range(config, instance, keys[1:], date(2026, 11, 2), day)
    assert fixed.success and checks_of(fixed)[("body_measurements", "plausible_values")].passed
    assert rows(config, "SELECT metric, value FROM body_measurements WHERE provider = 'fitbit'") == [("weight", 81.0)]
    assert rows(config, "SELECT count(*) FROM rejected_values") == [(0,)]  # the window's rejections are replaced too


def test_a_table_made_by_an_older_release_gains_the_new_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    from health_pipeline.tidy.models import create_tables

    with TidyStore(tmp_path / "health.duckdb").connect() as conn:
        old_ddl = "\n".join(line for line in TABLES["daily_activity"].ddl.splitlines()
                            if "elevation_gain_m" not in line and "person " not in line)
        conn.execute(old_ddl)
        conn.execute("INSERT INTO daily_activity (provider, day, steps) VALUES ('withings', DATE '2026-11-01', 4321)")
        conn.execute("CREATE TABLE _tidy_state (table_name VARCHAR, provider VARCHAR, fingerprint VARCHAR, "
                     "modelled_at TIMESTAMPTZ DEFAULT now(), PRIMARY KEY (table_name, provider))")
        conn.execute("INSERT INTO _tidy_state VALUES ('daily_activity', 'withings', 'abc', now()), "
                     "('workouts', 'hevy', 'def', now())")
        create_tables(conn)
        # the rows of a home from before people are its one person's, the column first
        assert conn.execute("SELECT * FROM daily_activity").fetchall()[0][:4] == \
            ("me", "withings", date(2026, 11, 1), 4321)
        assert conn.execute("SELECT provider, steps, elevation_gain_m FROM daily_activity").fetchall() == \
            [("withings", 4321, None)]
        # the change-driven sources of the table are re-modelled next time; other tables' state is kept
        assert conn.execute("SELECT table_name, person FROM _tidy_state").fetchall() == [("workouts", "me")]
        create_tables(conn)  # a second time changes nothing
        assert conn.execute("SELECT count(*) FROM daily_activity").fetchall() == [(1,)]


def test_an_older_release_s_not_null_is_main_becomes_nullable_and_its_rows_stay(tmp_path: Path) -> None:
    """is_main was NOT NULL before sleeps of unknown kind (Oura `type` null) were kept: an upgrade loosens it."""
    from health_pipeline.tidy.models import create_tables

    with TidyStore(tmp_path / "health.duckdb").connect() as conn:
        conn.execute("\n".join(line for line in TABLES["sleep_sessions"].ddl.splitlines() if "person " not in line)
                     .replace("is_main        BOOLEAN,", "is_main        BOOLEAN NOT NULL,"))
        assert conn.execute("SELECT is_nullable FROM duckdb_columns() WHERE table_name = 'sleep_sessions' "
                            "AND column_name = 'is_main'").fetchall() == [(False,)]
        conn.execute("INSERT INTO sleep_sessions (provider, sleep_id, day, start_ts, end_ts, is_main) VALUES "
                     "('oura', 'a', DATE '2026-11-01', TIMESTAMPTZ '2026-10-31 22:00:00+00', "
                     "TIMESTAMPTZ '2026-11-01 06:00:00+00', true)")
        create_tables(conn)
        conn.execute("INSERT INTO sleep_sessions (person, provider, sleep_id, day, start_ts, end_ts, is_main) VALUES "
                     "('me', 'oura', 'b', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01 20:00:00+00', "
                     "TIMESTAMPTZ '2026-11-01 20:30:00+00', NULL)")
        assert conn.execute("SELECT sleep_id, is_main FROM sleep_sessions ORDER BY sleep_id").fetchall() == \
            [("a", True), ("b", None)]
