"""Contract tests: answers shaped like the live APIs' (captured in other projects' fixtures and issue
logs, and real-payload-corrections.md), served over HTTP by the sandbox, land and model into exact
tidy rows.

The fixture files in `fixtures/real/` are our own, with our own values, in the shapes those captures
show: a Withings Body Scan group (whole-body measures repeated at position 7, segments 173-175), a
group without a time zone of its own in an answer whose zone is not the configured one, a manual
entry without a device (attrib 2, `modelid` null), an attrib 17 blood pressure; phone-app activities
without device ids (two apps on one day); a workout without a heart-rate source (`hr_* = 0`);
Google sleep with `mainSleep` (a nap has none, `false` being left out), a summary with a stage
left out, a night still `{}`; a weigh-in logged on a trip (`utcOffset` only, its civil date not
the configured zone's) at a window's edge; a roll-up whose zero sum is left out (`"steps": {}`);
Oura's documentation example of daily activity and a sleep average heart rate of 4.25, a sleep
whose `type` is null; a Hevy event page with `superset_id`, `+00:00` offsets and milliseconds.
"""

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sandbox.http import Response
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawRecord, RawStore
from health_pipeline_tests.conftest import TIMEZONE, TODAY
from health_pipeline_tests.export_oracle import assert_exact
from health_pipeline_tests.tidy_setup import all_providers_config, checks_of, run_range, utc

FIXTURES = Path(__file__).parent / "fixtures" / "real"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def serve(sandbox: Sandbox, provider: str, path: str, name: str, times: int = 1, action: str | None = None) -> None:
    """Answer the next `times` requests whose path contains `path` (and, for Withings, whose `action`
    is `action`) with the fixture, over HTTP."""
    body = json.dumps(fixture(name)).encode()
    sandbox.faults.rewrite(provider, lambda r: Response(200, body, {"Content-Type": "application/json"}), path, times,
                           params={"action": action} if action else None)


SERVED = [  # (sandbox prefix, path, fixture, Withings action)
    ("withings", "/measure", "withings_getmeas.json", "getmeas"),
    ("withings", "/v2/measure", "withings_getactivity.json", "getactivity"),
    ("withings", "/v2/measure", "withings_getworkouts.json", "getworkouts"),
    ("google-health", "/sleep/", "google_sleep_list.json", None),
    ("google-health", "/weight/", "google_weight_list.json", None),
    ("google-health", "/steps/", "google_steps_daily_rollup.json", None),
    ("oura", "/usercollection/sleep", "oura_sleep.json", None),
    ("oura", "/usercollection/daily_activity", "oura_daily_activity.json", None),
    ("hevy", "/events", "hevy_workout_events.json", None),
]


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    return all_providers_config(tmp_path / "health-pipeline.toml", sandbox, date(2026, 10, 1), TIMEZONE)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def rows(config: Config, sql: str, params: list[object] | None = None) -> list[tuple]:
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def landed_and_modelled(config: Config, instance: dg.DagsterInstance, keys: list[str], start: date, end: date,
                        sandbox: Sandbox, provider: str) -> dg.ExecuteInProcessResult:
    result = run_range(config, instance, keys, start, end)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    assert [e for e in sandbox.log.entries(provider) if e.fault == "rewrite"], "the fixture was never served"
    return result


def at(text: str) -> datetime:
    return utc(text)


def epoch_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_withings_body_scan_manual_and_blood_pressure_groups(config: Config, instance: dg.DagsterInstance,
                                                            sandbox: Sandbox) -> None:
    serve(sandbox, "withings", "/measure", "withings_getmeas.json")
    landed_and_modelled(config, instance, ["withings_measures", "body_measurements"], TODAY, TODAY, sandbox, "withings")
    # The answer's zone (New York) dates the groups, which carry none of their own: 03:30 UTC is the 7th there.
    scan, manual, pressure = epoch_utc("2026-11-08T03:30:00"), epoch_utc("2026-11-06T18:00:00"), epoch_utc("2026-11-05T19:42:10")
    whole = [("basal_metabolic_rate", 1841.0, "kcal"), ("bone_mass", 3.35, "kg"), ("extracellular_water", 19.44, "kg"),
             ("fat_free_mass", 66.98, "kg"), ("fat_mass", 17.23, "kg"), ("fat_ratio", 20.459, "%"), ("hydration", 47.12, "kg"),
             ("intracellular_water", 27.68, "kg"), ("muscle_mass", 63.61, "kg"), ("visceral_fat", 2.9, "1"),
             ("weight", 84.215, "kg")]
    segments = {"fat_free_mass": (30.8, 11.3, 11.52, 4.02, 3.95), "fat_mass": (9.05, 3.12, 3.18, 0.96, 0.94),
                "muscle_mass": (29.25, 10.71, 10.93, 3.81, 3.74)}
    parts = ("torso", "left_leg", "right_leg", "right_arm", "left_arm")
    expected = [("withings", scan, date(2026, 11, 7), metric, value, unit, "7204418801", None) for metric, value, unit in whole]
    expected += [("withings", scan, date(2026, 11, 7), f"{stem}_{part}", value, "kg", "7204418801", part)
                 for stem, values in segments.items() for part, value in zip(parts, values)]
    expected += [("withings", manual, date(2026, 11, 6), "weight", 84.0, "kg", "7204502277", None)]
    expected += [("withings", pressure, date(2026, 11, 5), metric, value, "mmHg" if metric != "heart_pulse" else "bpm",
                  "7204600913", None) for metric, value in (("diastolic_bp", 81.0), ("heart_pulse", 64.0), ("systolic_bp", 127.0))]
    got = rows(config, "SELECT * EXCLUDE (person) FROM body_measurements ORDER BY measured_at DESC, metric")
    assert got == sorted(expected, key=lambda r: (-r[1].timestamp(), r[3]))
    assert len([r for r in got if r[1] == scan]) == 11 + 15  # each whole-body value once; 3 types x 5 segments
    # the ambiguous weigh-in (attrib 1) is not the user's; nothing else was left out
    assert rows(config, "SELECT count(*) FROM rejected_values") == [(0,)]


def test_withings_phone_activities_and_a_workout_without_heart_rate(config: Config, instance: dg.DagsterInstance,
                                                                    sandbox: Sandbox) -> None:
    serve(sandbox, "withings", "/v2/measure", "withings_getactivity.json", action="getactivity")
    serve(sandbox, "withings", "/v2/measure", "withings_getworkouts.json", action="getworkouts")
    landed_and_modelled(config, instance, ["withings_activity", "withings_workouts", "daily_activity", "heart_rate_zones",
                                           "workouts"], TODAY, TODAY, sandbox, "withings")
    ids = sorted(r.record_id for r in RawStore(config.app.raw_db).records("withings", "activity"))
    assert ids == ["2026-11-05:a8f2c4e6b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0", "2026-11-05:app-1055-18",
                   "2026-11-06:app-1055-18", "2026-11-06:app-1056-18"]  # two apps on one day: two records
    assert rows(config, "SELECT * EXCLUDE (person) FROM daily_activity ORDER BY day") == [
        ("withings", date(2026, 11, 5), 10311, 8112.404, 512.77, 2398.5, 6.0, None, None, 4020, 1560, 720, None, None),
        ("withings", date(2026, 11, 6), 5102, 4130.4, 209.182, 1919.182, 0.0, None, None, 1275, 728, 0, None, None),
    ]  # the watch wins its day; a day only phones counted takes the app with the most steps
    assert rows(config, "SELECT day, zone, duration_s FROM heart_rate_zones ORDER BY day, zone") == [
        (date(2026, 11, 5), "light", 51240), (date(2026, 11, 5), "moderate", 6120), (date(2026, 11, 5), "peak", 240),
        (date(2026, 11, 5), "vigorous", 1380)]  # the phone's all-zero zones are no zones
    assert rows(config, "SELECT * EXCLUDE (person, work_kj) FROM workouts ORDER BY day") == [
        ("withings", "4120933018", date(2026, 11, 4), epoch_utc("2026-11-04T12:03:20"), epoch_utc("2026-11-04T12:31:05"),
         "walking", None, 1665, 121.0, 2388.0, None),  # hr_average 0: no heart-rate source, not 0 bpm
        ("withings", "4120933077", date(2026, 11, 5), epoch_utc("2026-11-05T16:10:00"), epoch_utc("2026-11-05T16:54:30"),
         "running", None, 2580, 466.2, 7020.5, 148.0),
    ]


def test_withings_phone_activities_landed_under_the_old_id_are_retired(config: Config, instance: dg.DagsterInstance,
                                                                       sandbox: Sandbox) -> None:
    store = RawStore(config.app.raw_db)
    store.init()
    old = fixture("withings_getactivity.json")["body"]["activities"][2]
    store.land("withings", "activity", [RawRecord("2026-11-06:device", "2026-11-06", old)])  # an earlier release's id
    serve(sandbox, "withings", "/v2/measure", "withings_getactivity.json", action="getactivity")
    landed_and_modelled(config, instance, ["withings_activity", "daily_activity"], TODAY, TODAY, sandbox, "withings")
    live = sorted(r.record_id for r in store.records("withings", "activity"))
    assert "2026-11-06:device" not in live and len(live) == 4
    assert [r.deleted_at is not None for r in store.records("withings", "activity", include_deleted=True)
            if r.record_id == "2026-11-06:device"] == [True]
    assert rows(config, "SELECT day, steps FROM daily_activity ORDER BY day") == [(date(2026, 11, 5), 10311),
                                                                                 (date(2026, 11, 6), 5102)]


def test_google_sleep_main_sleep_naps_and_a_night_not_yet_processed(config: Config, instance: dg.DagsterInstance,
                                                                    sandbox: Sandbox) -> None:
    serve(sandbox, "google-health", "/sleep/", "google_sleep_list.json")
    landed_and_modelled(config, instance, ["fitbit_sleep", "sleep_sessions"], date(2026, 11, 5), TODAY, sandbox,
                        "google-health")
    assert rows(config, "SELECT * EXCLUDE (person) FROM sleep_sessions ORDER BY start_ts") == [
        ("fitbit", "users/me/dataTypes/sleep/dataPoints/3151875200431", date(2026, 11, 9), at("2026-11-08T22:41:00Z"),
         at("2026-11-09T06:05:00Z"), True, 26640, 24120, 4260, 14160, 5700, 2520, None, None, None),
        # no `mainSleep` (false is left out): a nap; REM without minutes is 0 in a processed summary
        ("fitbit", "users/me/dataTypes/sleep/dataPoints/3151901733512", date(2026, 11, 9), at("2026-11-09T13:10:00Z"),
         at("2026-11-09T13:52:00Z"), False, 2520, 2280, 420, 1860, 0, 240, None, None, None),
        # `"summary": {}`: still being processed, durations unknown
        ("fitbit", "users/me/dataTypes/sleep/dataPoints/3151959012008", date(2026, 11, 10), at("2026-11-09T22:58:00Z"),
         at("2026-11-10T05:50:00Z"), True, None, None, None, None, None, None, None, None, None),
    ]


def test_a_traveller_weigh_in_lands_on_its_own_civil_date_even_at_a_window_edge(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    # 01:24 UTC on the 9th is 02:24 in Berlin, but 20:24 on the 8th where it was logged (UTC-5).
    serve(sandbox, "google-health", "/weight/", "google_weight_list.json", times=2)
    landed_and_modelled(config, instance, ["fitbit_weight", "body_measurements"], date(2026, 11, 1), date(2026, 11, 8),
                        sandbox, "google-health")
    asked = [e.params["filter"] for e in sandbox.log.entries("google-health", "/weight/")]
    assert asked == ['weight.sample_time.physical_time >= "2026-10-30T23:00:00Z" AND '
                     'weight.sample_time.physical_time < "2026-11-09T23:00:00Z"']  # a day of padding each side
    expected = [("fitbit", at("2026-11-09T01:24:00Z"), date(2026, 11, 8), "weight", 81.35, "kg",
                 "users/me/dataTypes/weight/dataPoints/1794191040000", None)]
    assert rows(config, "SELECT * EXCLUDE (person) FROM body_measurements") == expected
    # The next window holds the instant but not the civil date: the weigh-in is neither lost nor landed twice.
    result = run_range(config, instance, ["fitbit_weight", "body_measurements"], date(2026, 11, 9), TODAY)
    assert result.success
    assert [(r.record_id, r.day, r.deleted_at) for r in RawStore(config.app.raw_db).records("fitbit", "weight", include_deleted=True)] \
        == [("users/me/dataTypes/weight/dataPoints/1794191040000", "2026-11-08", None)]
    assert rows(config, "SELECT * EXCLUDE (person) FROM body_measurements") == expected


@pytest.mark.parametrize("empty", ["omit", "empty_list"])
def test_google_answers_with_no_data_are_no_data_not_errors(config: Config, instance: dg.DagsterInstance,
                                                            sandbox: Sandbox, empty: str) -> None:
    """`{}` (the live answer: proto3 leaves the empty list out) and `{"dataPoints": []}` both mean nothing there:
    a user without a smart scale lands no weight, and the next window that has one lands it."""
    sandbox.google_health.settings.empty_answer = empty
    week = (date(2026, 11, 2), date(2026, 11, 7))  # Monday to Saturday: the sandbox logs weight on Sundays
    result = run_range(config, instance, ["fitbit_weight", "fitbit_body_fat", "body_measurements"], *week)
    assert result.success
    answers = [e for e in sandbox.log.entries("google-health", "/weight/")]
    assert [e.status for e in answers] == [200]
    assert RawStore(config.app.raw_db).records("fitbit", "weight") == []
    meta = result.asset_materializations_for_node("fitbit_weight")[-1].metadata
    assert meta["records_new"].value == 0 and meta["chunks"].value == 1
    assert run_range(config, instance, ["fitbit_weight", "body_measurements"], date(2026, 11, 8), date(2026, 11, 8)).success
    assert rows(config, "SELECT day, metric FROM body_measurements") == [(date(2026, 11, 8), "weight")]


def test_a_roll_up_whose_zero_sum_is_left_out_is_zero(config: Config, instance: dg.DagsterInstance,
                                                      sandbox: Sandbox) -> None:
    serve(sandbox, "google-health", "/steps/", "google_steps_daily_rollup.json")
    landed_and_modelled(config, instance, ["fitbit_steps", "daily_activity"], date(2026, 11, 3), date(2026, 11, 4),
                        sandbox, "google-health")
    nulls = (None,) * 10
    assert rows(config, "SELECT * EXCLUDE (person) FROM daily_activity ORDER BY day") == [
        ("fitbit", date(2026, 11, 3), 0, *nulls, None), ("fitbit", date(2026, 11, 4), 8412, *nulls, None)]


def test_oura_sleep_of_unknown_type_is_kept_and_an_impossible_heart_rate_is_kept_out(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    serve(sandbox, "oura", "/sleep", "oura_sleep.json")
    result = landed_and_modelled(config, instance, ["oura_sleep", "sleep_sessions", "sleep_samples"],
                                 date(2026, 11, 5), date(2026, 11, 8), sandbox, "oura")
    night, doze = "6b1e0c4a-7f2d-4e9b-a3c8-2d5f91e07b46", "0d7a93e5-1c4b-4f60-8e2a-b95c3d7f1a08"
    assert rows(config, "SELECT * EXCLUDE (person) FROM sleep_sessions ORDER BY start_ts") == [
        ("oura", night, date(2026, 11, 7), at("2026-11-06T22:12:04Z"), at("2026-11-07T05:30:34Z"), True, 26310, 24000,
         4470, 13290, 6240, 2310, None, 48.0, 41.0),  # 4.25 bpm: kept out
        ("oura", doze, date(2026, 11, 7), at("2026-11-07T20:05:00Z"), at("2026-11-07T20:41:00Z"), None, 2160, 1800,
         300, 1500, 0, 360, 58.5, 54.0, 36.0),  # `type` null: kept, kind unknown; the deleted one is not
    ]
    assert rows(config, "SELECT provider, table_name, day, key, column_name, value, rule, raw_record, action "
                        "FROM rejected_values") == [
        ("oura", "sleep_sessions", date(2026, 11, 7), f"sleep_id={night}", "avg_hr_bpm", "4.25", "avg_hr_bpm 25-250 bpm",
         f"sleep/{night}", "nulled")]
    check = checks_of(result)[("sleep_sessions", "plausible_values")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == ("1 implausible value kept out of sleep_sessions (NULL, or the row left out) and "
                                 "recorded in rejected_values: oura: avg_hr_bpm 25-250 bpm (1)")
    t0 = at("2026-11-06T22:12:04Z")
    assert rows(config, "SELECT ts, hr_bpm, hrv_ms FROM sleep_samples ORDER BY ts") == [
        (t0, 57.0, 38.0), (t0 + timedelta(minutes=5), None, 44.0), (t0 + timedelta(minutes=10), 54.0, None)]


def test_oura_equivalent_walking_distance_is_not_distance(config: Config, instance: dg.DagsterInstance,
                                                          sandbox: Sandbox) -> None:
    serve(sandbox, "oura", "daily_activity", "oura_daily_activity.json")
    landed_and_modelled(config, instance, ["oura_daily_activity", "daily_activity"], date(2026, 11, 5),
                        date(2026, 11, 5), sandbox, "oura")
    assert rows(config, "SELECT * EXCLUDE (person) FROM daily_activity") == [
        ("oura", date(2026, 11, 5), 18430, None, 1222.0, 3446.0, None, None, 21000, 10020, 6060, 3000, None, 20122.0)]


def test_hevy_live_event_page(config: Config, instance: dg.DagsterInstance, sandbox: Sandbox) -> None:
    serve(sandbox, "hevy", "/events", "hevy_workout_events.json")
    landed_and_modelled(config, instance, ["hevy_workouts", "workouts", "workout_sets"], TODAY, TODAY, sandbox, "hevy")
    workout = "c27d4a90-5e1b-4f3c-9a86-0b7e2d5f8c13"
    assert rows(config, "SELECT * EXCLUDE (person, work_kj) FROM workouts") == [
        ("hevy", workout, date(2026, 11, 7), at("2026-11-07T17:05:12Z"), at("2026-11-07T18:01:40Z"), "strength_training",
         "Upper A", 3388, None, None, None)]
    day = date(2026, 11, 7)
    assert rows(config, "SELECT * EXCLUDE (person) FROM workout_sets ORDER BY exercise_index, set_index") == [
        ("hevy", workout, 0, 0, day, "Bench Press (Barbell)", "79D0BB3A", None, "warmup", 40.0, 10, None, None, None),
        ("hevy", workout, 0, 1, day, "Bench Press (Barbell)", "79D0BB3A", None, "normal", 82.5, 6, None, None, 8.0),
        ("hevy", workout, 0, 2, day, "Bench Press (Barbell)", "79D0BB3A", None, "normal", 82.5, 5, None, None, 9.0),
        ("hevy", workout, 1, 0, day, "Pull Up", "1B2B1E7C", 0, "normal", None, 9, None, None, 8.5),
        ("hevy", workout, 2, 0, day, "Lateral Raise (Dumbbell)", "724CDE60", 0, "normal", 10.0, 14, None, None, None),
        ("hevy", workout, 2, 1, day, "Lateral Raise (Dumbbell)", "724CDE60", 0, "dropset", 6.0, 12, None, None, None),
    ]  # `superset_id`, as live answers spell it
    # the cursor keeps the milliseconds of the newest event (the deletion)
    assert RawStore(config.app.raw_db).sync_state("hevy", "workouts")[0] == "2026-11-08T19:02:11.204000+00:00"


def test_every_real_shape_lands_models_and_exports_in_one_run(tmp_path: Path, sandbox: Sandbox,
                                                               victoriametrics: LocalVictoriaMetrics) -> None:
    """All the fixtures at once, beside the sandbox's own answers for everything else: one run of every
    asset, export included, with no failed step, and VictoriaMetrics exactly the tidy tables."""
    config = write_sandbox_config(tmp_path / "health-pipeline.toml", sandbox_config_text(
        sandbox, date(2026, 11, 1), TIMEZONE, "me", vm_url=victoriametrics.url))
    for provider, path, name, action in SERVED:
        serve(sandbox, provider, path, name, action=action)
    defs = build_definitions(config)
    with dg.instance_for_test() as instance:
        result = dg.materialize(list(defs.assets or []), instance=instance, resources=dict(defs.resources or {}),
                                raise_on_error=False, tags={"dagster/asset_partition_range_start": "2026-11-01",
                                                            "dagster/asset_partition_range_end": TODAY.isoformat()})
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    served = [e for e in sandbox.log.entries() if e.fault == "rewrite"]
    assert len(served) == len(SERVED)  # each fixture answered exactly one request
    assert rows(config, "SELECT provider, table_name, column_name, value FROM rejected_values") == [
        ("oura", "sleep_sessions", "avg_hr_bpm", "4.25")]
    assert rows(config, "SELECT count(*) FROM body_measurements WHERE segment IS NOT NULL") == [(15,)]
    assert_exact(config)
