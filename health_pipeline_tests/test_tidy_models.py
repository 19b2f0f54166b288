"""Every tidy table from every provider, exactly as the sandbox knows the data, after one Dagster run.

One module-wide world (seed 7, Europe/Berlin, clock frozen on 2026-11-10 12:00 UTC): the window
2026-10-20 .. 2026-11-09 holds the 25-hour day of 25 October and a trip to New York.
"""

import math
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from health_pipeline.config import Config
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.tidy import checks, models
from health_pipeline.registry import ALL_TABLES, REGISTRY, TABLES, TidyTable
from health_pipeline.tidy.summary import METRIC_NAMES
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY
from health_pipeline_tests.tidy_setup import all_providers_config, checks_of, days, run_range, utc

START, END = date(2026, 10, 20), date(2026, 11, 9)
FIRST = TODAY - timedelta(days=59)  # every provider's start_date


class Landed:
    def __init__(self, world: SandboxWorld, sandbox: Sandbox, config: Config, result: dg.ExecuteInProcessResult):
        self.world, self.sandbox, self.config, self.result = world, sandbox, config, result

    def rows(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        with TidyStore(self.config.app.duckdb).connect(read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    world = SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    with sandbox_for(world) as sandbox:
        config = all_providers_config(tmp_path_factory.mktemp("tidy") / "health-pipeline.toml", sandbox, FIRST, TIMEZONE)
        with dg.instance_for_test() as instance:
            result = run_range(config, instance, None, START, END)
            assert result.success
            yield Landed(world, sandbox, config, result)


def window_days() -> list[date]:
    return days(START, END)


def test_the_window_has_a_25_hour_day(landed: Landed) -> None:
    assert landed.world.day_length_s(date(2026, 10, 25)) == 25 * 3600


def test_every_check_passes_and_every_table_has_rows_from_each_provider(landed: Landed) -> None:
    evaluations = checks_of(landed.result)
    failed = {k: e for k, e in evaluations.items() if not e.passed}
    # The sandbox's clock is frozen on 10 November, the wall clock is later: the data is stale.
    assert set(failed) == {(t, "fresh") for t, table in TABLES.items() if table.fresh_within_days is not None}
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in failed.values())
    assert failed[("heart_rate", "fresh")].description.startswith("oura: newest day 2026-11-09, fitbit: newest day 2026-11-09")
    expected_checks = {(t, c) for t in ALL_TABLES for c in ("unique_grain", "plausible_values", "no_future_days")}
    assert expected_checks <= set(evaluations)
    assert ("heart_rate", "fresh") in evaluations and ("workouts", "rows_match_raw") in evaluations
    per_provider = {(t, p): n for t in TABLES for p, n in landed.rows(f"SELECT provider, count(*) FROM {t} GROUP BY 1")}
    # every API source's tables (no import ran; an option switched off lands nothing: Strava's streams)
    assert {k for k, n in per_provider.items() if n} == {
        (t.name, s.tidy_provider) for t in TABLES.values() for s in t.sources
        if s.provider in REGISTRY.api_names()
        and (s.option is None or getattr(landed.config.provider(s.provider), s.option, False))}
    # No export imported: the Fitbit tables' `origins_agree` passes (no day both have).
    assert all(e.passed for (t, c), e in evaluations.items() if c == "origins_agree")
    assert ("heart_rate", "origins_agree") in evaluations


def test_daily_activity_oura_is_exact(landed: Landed) -> None:
    # `equivalent_walking_distance` is energy expressed as walking, not distance: its own column
    expected = [("oura", date.fromisoformat(d["day"]), d["steps"], None,
                 float(d["active_calories"]), float(d["total_calories"]), None, None, d["sedentary_time"],
                 d["low_activity_time"], d["medium_activity_time"], d["high_activity_time"], None,
                 float(d["equivalent_walking_distance"]))
                for d in truth.oura_daily_activity(landed.world, START, END)]
    assert landed.rows("SELECT * EXCLUDE (person) FROM daily_activity WHERE provider = 'oura' ORDER BY day") == expected


def test_daily_activity_fitbit_sums_the_minutes_and_maps_active_levels(landed: Landed) -> None:
    world = landed.world
    expected = []
    for day in window_days():
        minutes = gd.minutes(world, day)
        steps = sum(m.steps or 0 for m in minutes)
        floors = sum(m.floors for m in minutes)
        gain_m = floors * 3048 / 1000  # the sandbox climbs 3.048 m a floor
        levels = {lvl: sum(1 for m in minutes if m.level == lvl) * 60 for lvl in ("LIGHT", "MODERATE", "VIGOROUS")}
        active = [m.active_kcal for m in minutes if m.level != "SEDENTARY"]
        night = night_for(world, day)
        resting = float(night.resting_hr) if night and night.wake + timedelta(minutes=30) <= world.clock.now() else None
        if not minutes and resting is None:
            continue
        expected.append((
            "fitbit", day, steps if any(m.steps is not None for m in minutes) else None,
            steps * 762 / 1000 if steps else None, round(sum(active), 3) if active else None,
            round(sum(m.total_kcal for m in minutes), 3) if minutes else None, float(floors) if floors else None,
            gain_m if floors else None, None, *((levels["LIGHT"], levels["MODERATE"], levels["VIGOROUS"]) if active else (None, None, None)), resting,
            None))
    assert landed.rows("SELECT * EXCLUDE (person) FROM daily_activity WHERE provider = 'fitbit' ORDER BY day") == expected


def chosen_activity(world: SandboxWorld, day: date) -> dict | None:
    """The day's Withings summary the tidy row takes: the watch's, else the phone app with the most steps."""
    candidates = withings_data.activities(world, day)
    return max(candidates, key=lambda a: (a["is_tracker"], a["steps"]), default=None)


def test_daily_activity_withings_takes_floors_from_elevation(landed: Landed) -> None:
    expected = []
    phone_days = 0
    for day in days(FIRST + timedelta(days=1), TODAY):
        a = chosen_activity(landed.world, day)
        if a:
            phone_days += a["deviceid"] is None
            expected.append(("withings", day, a["steps"], float(a["distance"]), float(a["calories"]),
                             float(a["totalcalories"]), float(a["elevation"]), None, None, a["soft"], a["moderate"],
                             a["intense"], None, None))
    assert phone_days >= 1  # a day only the phone counted (no device id) has its row too
    got = landed.rows("SELECT * EXCLUDE (person) FROM daily_activity WHERE provider = 'withings' AND day > ? ORDER BY day", [FIRST])
    assert got == expected


def test_heart_rate_zones_fitbit_and_withings_are_exact(landed: Landed) -> None:
    zone_of = {"FAT_BURN": "moderate", "CARDIO": "vigorous", "PEAK": "peak", None: "light"}
    expected = []
    for day in window_days():
        active = [m for m in gd.minutes(landed.world, day) if m.level != "SEDENTARY"]
        for zone in ("light", "moderate", "peak", "vigorous"):  # the table's order: by name
            inside = [m for m in active if zone_of[m.zone] == zone]
            if inside:
                expected.append(("fitbit", day, zone, 60 * len(inside), round(sum(m.active_kcal for m in inside), 3)))
    got = landed.rows("SELECT provider, day, zone, duration_s, round(kcal, 3) FROM heart_rate_zones "
                      "WHERE provider = 'fitbit' ORDER BY day, zone")
    assert got == expected
    withings = []
    for day in days(FIRST + timedelta(days=1), TODAY):
        a = chosen_activity(landed.world, day)
        if a and a["hr_average"]:  # a phone's summary has no heart-rate source: no zones
            withings += [("withings", day, zone, a[f"hr_zone_{i}"], None)
                         for i, zone in sorted(enumerate(("light", "moderate", "vigorous", "peak")), key=lambda z: z[1])]
    assert landed.rows("SELECT * EXCLUDE (person) FROM heart_rate_zones WHERE provider = 'withings' AND day > ? ORDER BY day, zone",
                       [FIRST]) == withings


def test_heart_rate_oura_and_fitbit_are_exact_across_the_25_hour_day(landed: Landed) -> None:
    world = landed.world
    tz = world.tz
    start = world.local_midnight(START).astimezone(timezone.utc)
    end = world.local_midnight(END + timedelta(days=1)).astimezone(timezone.utc)
    oura_rows = [("oura", utc(r["timestamp"]), utc(r["timestamp"]).astimezone(tz).date(), float(r["bpm"]), r["source"])
                 for r in truth.oura_heartrate(world, start, end)]
    assert landed.rows("SELECT * EXCLUDE (person) FROM heart_rate WHERE provider = 'oura' ORDER BY ts") == oura_rows
    fitbit_rows = [("fitbit", p["_t"], day, float(p["heartRate"]["beatsPerMinute"]), "minute_avg")
                   for day in window_days() for p in gd.heart_rate_points(world, day, 60)]
    assert landed.rows("SELECT * EXCLUDE (person) FROM heart_rate WHERE provider = 'fitbit' ORDER BY ts") == fitbit_rows
    long_day = date(2026, 10, 25)
    worn_minutes = 25 * 60 - sum(e - s for s, e in world.plan(long_day).nonwear_gaps)
    assert landed.rows("SELECT count(*) FROM heart_rate WHERE provider = 'fitbit' AND day = ?", [long_day]) == [(worn_minutes,)]
    span = landed.rows("SELECT min(ts), max(ts) FROM heart_rate WHERE provider = 'withings' AND day = ?", [long_day])
    assert span == [(world.local_midnight(long_day).astimezone(timezone.utc),
                     world.local_midnight(long_day + timedelta(days=1)).astimezone(timezone.utc) - timedelta(minutes=1))]


def test_heart_rate_withings_intraday_is_exact(landed: Landed) -> None:
    world = landed.world
    start = world.local_midnight(START).astimezone(timezone.utc)
    end = world.local_midnight(END + timedelta(days=1)).astimezone(timezone.utc)
    samples = withings_data.intraday_minutes(world, start, end)
    expected = [("withings", datetime.fromtimestamp(int(k), timezone.utc),
                 datetime.fromtimestamp(int(k), timezone.utc).astimezone(world.tz).date(), float(v["heart_rate"]), "intraday")
                for k, v in sorted(samples.items(), key=lambda kv: int(kv[0]))]
    assert landed.rows("SELECT * EXCLUDE (person) FROM heart_rate WHERE provider = 'withings' ORDER BY ts") == expected


def test_sleep_samples_expand_arrays_keeping_the_slots_of_null_items(landed: Landed) -> None:
    expected = []
    nulls = 0
    for doc in truth.oura_documents(landed.world, "sleep", START, END):
        if doc["type"] in ("deleted", "rest"):
            continue
        hr, hrv = doc["heart_rate"], doc["hrv"]
        t0 = utc(hr["timestamp"])
        for i, (h, v) in enumerate(zip(hr["items"], hrv["items"])):
            nulls += (h is None) + (v is None)
            if h is not None or v is not None:
                expected.append(("oura", doc["id"], t0 + timedelta(seconds=i * hr["interval"]), date.fromisoformat(doc["day"]),
                                 None if h is None else float(h), None if v is None else float(v)))
    assert nulls > 20  # the ring lost contact now and then
    got = landed.rows("SELECT * EXCLUDE (person) FROM sleep_samples ORDER BY sleep_id, ts")
    assert got == sorted(expected, key=lambda r: (r[1], r[2]))


def test_sleep_sessions_withings_main_sleep_and_stages(landed: Landed) -> None:
    expected = []
    for day in days(FIRST + timedelta(days=1), TODAY):
        s = withings_data.sleep_summary(landed.world, day, None)
        if s:
            full = withings_data.sleep_summary(landed.world, day, ["total_timeinbed", "total_sleep_time", "deepsleepduration",
                                                                    "lightsleepduration", "remsleepduration", "wakeupduration",
                                                                    "hr_average", "hr_min"])["data"]
            expected.append(("withings", str(s["id"]), day, datetime.fromtimestamp(s["startdate"], timezone.utc),
                             datetime.fromtimestamp(s["enddate"], timezone.utc), True, full["total_timeinbed"],
                             full["total_sleep_time"], full["deepsleepduration"], full["lightsleepduration"],
                             full["remsleepduration"], full["wakeupduration"], float(full["hr_average"]),
                             float(full["hr_min"]), None))
    got = landed.rows("SELECT * EXCLUDE (person) FROM sleep_sessions WHERE provider = 'withings' AND day > ? ORDER BY day", [FIRST])
    assert got == expected


def _scaled(value: int, unit: int) -> float:
    return float(Decimal(value).scaleb(unit))


def test_body_measurements_keep_whole_body_values_once_and_segments_apart(landed: Landed) -> None:
    names = {1: ("weight", "kg"), 5: ("fat_free_mass", "kg"), 6: ("fat_ratio", "%"), 8: ("fat_mass", "kg"),
             9: ("diastolic_bp", "mmHg"), 10: ("systolic_bp", "mmHg"), 11: ("heart_pulse", "bpm"),
             76: ("muscle_mass", "kg"), 77: ("hydration", "kg"), 88: ("bone_mass", "kg"),
             168: ("extracellular_water", "kg"), 169: ("intracellular_water", "kg"), 170: ("visceral_fat", "1"),
             173: ("fat_free_mass", "kg"), 174: ("fat_mass", "kg"), 175: ("muscle_mass", "kg")}
    segment = {12: "torso", 2: "right_arm", 3: "left_arm", 10: "left_leg", 11: "right_leg"}
    expected = {}
    for day in days(FIRST + timedelta(days=1), TODAY - timedelta(days=1)):
        for item in withings_data.measure_groups(landed.world, day):
            g = item.group
            if g["attrib"] == 1:
                continue
            for m in g["measures"]:
                metric, unit = names[m["type"]]
                part = segment[m["position"]] if m["type"] in (173, 174, 175) else None
                row = ("withings", datetime.fromtimestamp(g["date"], timezone.utc), day,
                       f"{metric}_{part}" if part else metric, _scaled(m["value"], m["unit"]), unit, str(g["grpid"]), part)
                expected.setdefault(row[1:4], row)  # Body Scan's repeated whole-body values: kept once
    got = landed.rows("SELECT provider, measured_at, day, metric, value, unit, source_id, segment FROM body_measurements "
                      "WHERE provider = 'withings' AND day > ? AND day < ? ORDER BY measured_at, metric",
                      [FIRST, TODAY])
    assert got == sorted(expected.values(), key=lambda r: (r[1], r[3]))
    weigh_in = max((r for r in got if r[3] == "weight"), key=lambda r: r[1])
    group = [r for r in got if r[6] == weigh_in[6]]
    whole = ["bone_mass", "extracellular_water", "fat_free_mass", "fat_mass", "fat_ratio", "heart_pulse", "hydration",
             "intracellular_water", "muscle_mass", "visceral_fat", "weight"]
    assert sorted(r[3] for r in group if r[7] is None) == whole  # one group, each whole-body type once
    assert sorted(r[3] for r in group if r[7] == "left_arm") == ["fat_free_mass_left_arm", "fat_mass_left_arm",
                                                                 "muscle_mass_left_arm"]
    assert len([r for r in group if r[7] is not None]) == 15  # three types, five segments
    fitbit = [("fitbit", p["_t"], day, "weight", p["weight"]["weightGrams"] / 1000, "kg")
              for day in window_days() for p in gd.body_points(landed.world, gd.DATA_TYPES["weight"], day)]
    assert landed.rows("SELECT provider, measured_at, day, metric, value, unit FROM body_measurements "
                       "WHERE provider = 'fitbit' AND metric = 'weight' ORDER BY measured_at") == fitbit


def test_workouts_from_oura_fitbit_withings_and_hevy(landed: Landed) -> None:
    world = landed.world
    oura = [("oura", d["id"], date.fromisoformat(d["day"]), utc(d["start_datetime"]), utc(d["end_datetime"]),
             {"strengthTraining": "strength_training"}.get(d["activity"], d["activity"]), None,
             int((utc(d["end_datetime"]) - utc(d["start_datetime"])).total_seconds()), d["calories"], d["distance"], None)
            for d in truth.oura_documents(world, "workout", START, END)]
    assert landed.rows("SELECT * EXCLUDE (person, work_kj) FROM workouts WHERE provider = 'oura' ORDER BY day") == oura
    fitbit = []
    for day in window_days():
        for p in gd.exercise_points(world, day):
            e = p["exercise"]
            fitbit.append(("fitbit", p["name"], day, utc(e["interval"]["startTime"]), utc(e["interval"]["endTime"]),
                           "strength_training" if e["exerciseType"] == "WEIGHTLIFTING" else e["exerciseType"].lower(),
                           e["displayName"], int(e["activeDuration"][:-1]), e["metricsSummary"]["caloriesKcal"],
                           e["metricsSummary"]["distanceMillimeters"] / 1000,
                           float(e["metricsSummary"]["averageHeartRateBeatsPerMinute"])))
    assert landed.rows("SELECT * EXCLUDE (person, work_kj) FROM workouts WHERE provider = 'fitbit' ORDER BY day") == fitbit
    activity = {16: "strength_training", 2: "running", 1: "walking", 6: "cycling"}
    withings = []
    for day in days(FIRST + timedelta(days=1), TODAY):
        for w in withings_data.workouts(world, day):
            withings.append(("withings", str(w["id"]), day, datetime.fromtimestamp(w["startdate"], timezone.utc),
                             datetime.fromtimestamp(w["enddate"], timezone.utc), activity[w["category"]], None,
                             w["enddate"] - w["startdate"], float(w["data"]["calories"]), float(w["data"]["distance"]),
                             float(w["data"]["hr_average"]) or None))  # 0: logged without a heart-rate source
    got = landed.rows("SELECT * EXCLUDE (person, work_kj) FROM workouts WHERE provider = 'withings' AND day > ? ORDER BY day, workout_id", [FIRST])
    assert got == withings
    assert any(r[10] is None for r in got) and any(r[10] is not None for r in got)
    hevy = sorted(("hevy", w["id"], utc(w["start_time"]).astimezone(world.tz).date(), utc(w["start_time"]),
                   utc(w["end_time"]), "strength_training", w["title"],
                   int((utc(w["end_time"]) - utc(w["start_time"])).total_seconds()), None, None, None)
                  for w in landed.sandbox.hevy.live_workouts() if w["start_time"] >= FIRST.isoformat())
    assert landed.rows("SELECT * EXCLUDE (person, work_kj) FROM workouts WHERE provider = 'hevy' ORDER BY workout_id") == hevy


def test_workout_sets_hold_every_set_with_its_type(landed: Landed) -> None:
    expected = []
    for w in landed.sandbox.hevy.live_workouts():
        day = utc(w["start_time"]).astimezone(landed.world.tz).date()
        if day < FIRST:
            continue
        for e in w["exercises"]:
            for s in e["sets"]:
                expected.append(("hevy", w["id"], e["index"], s["index"], day, e["title"], e["exercise_template_id"],
                                 e["superset_id"], s["type"], s["weight_kg"], s["reps"], s["distance_meters"],
                                 s["duration_seconds"], s["rpe"]))
    got = landed.rows("SELECT * EXCLUDE (person) FROM workout_sets ORDER BY workout_id, exercise_index, set_index")
    assert got == sorted(expected, key=lambda r: (r[1], r[2], r[3]))
    assert {r[8] for r in got} == {"normal", "warmup", "dropset", "failure"}
    assert {r[0] for r in landed.rows("SELECT DISTINCT exercise_title FROM workout_sets WHERE weight_kg IS NULL")} >= \
        {"Plank", "Treadmill", "Pull Up"}


def test_daily_scores_and_vitals_are_exact(landed: Landed) -> None:
    world = landed.world
    by_day: dict[date, dict[str, int]] = {}
    for name, column in (("daily_readiness", "readiness"), ("daily_sleep", "sleep"), ("daily_activity", "activity")):
        for d in truth.oura_documents(world, name, START, END):
            by_day.setdefault(date.fromisoformat(d["day"]), {})[column] = d["score"]
    expected = [("oura", day, s.get("readiness"), s.get("sleep"), s.get("activity")) for day, s in sorted(by_day.items())]
    assert landed.rows("SELECT * EXCLUDE (person, recovery_score, strain, nightly_recharge_status, ans_charge) FROM daily_scores WHERE provider = 'oura' ORDER BY day") == expected

    nights = {date.fromisoformat(d["day"]): d for d in truth.oura_documents(world, "sleep", START, END) if d["type"] == "long_sleep"}
    spo2 = {date.fromisoformat(d["day"]): d for d in truth.oura_documents(world, "daily_spo2", START, END)}
    readiness = {date.fromisoformat(d["day"]): d for d in truth.oura_documents(world, "daily_readiness", START, END)}
    stress = {date.fromisoformat(d["day"]): d for d in truth.oura_documents(world, "daily_stress", START, END)}
    vo2 = {date.fromisoformat(d["day"]): d for d in truth.oura_documents(world, "vO2_max", START, END)}
    vitals = []
    for day in sorted(set(nights) | set(spo2) | set(readiness) | set(stress) | set(vo2)):
        n = nights.get(day)
        vitals.append(("oura", day, None if n is None or n["average_hrv"] is None else float(n["average_hrv"]),
                       spo2[day]["spo2_percentage"]["average"] if day in spo2 else None,
                       float(spo2[day]["breathing_disturbance_index"]) if day in spo2 else None,
                       n["average_breath"] if n else None,
                       readiness[day]["temperature_deviation"] if day in readiness else None,
                       stress[day]["stress_high"] if day in stress else None,
                       stress[day]["recovery_high"] if day in stress else None,
                       vo2[day]["vo2_max"] if day in vo2 else None))
    assert landed.rows("SELECT * EXCLUDE (person, resting_hr_bpm, skin_temp_c, hrv_sdnn_ms) FROM daily_vitals WHERE provider = 'oura' ORDER BY day") == vitals

    fitbit = []
    for day in window_days():
        points = {key: gd.daily_points(world, gd.DATA_TYPES[key], day) for key in (
            "daily-heart-rate-variability", "daily-oxygen-saturation", "daily-respiratory-rate",
            "daily-sleep-temperature-derivations")}
        if not any(points.values()):
            continue
        t = points["daily-sleep-temperature-derivations"][0]["dailySleepTemperatureDerivations"]
        fitbit.append(("fitbit", day, points["daily-heart-rate-variability"][0]["dailyHeartRateVariability"]["averageHeartRateVariabilityMilliseconds"],
                       points["daily-oxygen-saturation"][0]["dailyOxygenSaturation"]["averagePercentage"], None,
                       points["daily-respiratory-rate"][0]["dailyRespiratoryRate"]["breathsPerMinute"],
                       round(t["nightlyTemperatureCelsius"] - t["baselineTemperatureCelsius"], 3), None, None, None))
    assert landed.rows("SELECT * EXCLUDE (person, resting_hr_bpm, skin_temp_c, hrv_sdnn_ms) FROM daily_vitals WHERE provider = 'fitbit' ORDER BY day") == fitbit


def test_daily_summary_takes_each_metric_from_the_first_provider_that_has_it(landed: Landed) -> None:
    columns = [r[0] for r in landed.rows("DESCRIBE daily_summary")]
    assert columns == ["person", "day", *[c for m in METRIC_NAMES for c in (m, f"{m}_provider")]]
    steps = {(p, d): s for p, d, s in landed.rows("SELECT provider, day, steps FROM daily_activity WHERE steps IS NOT NULL")}
    summary = landed.rows("SELECT day, steps, steps_provider, weight_kg, weight_kg_provider, readiness_score_provider "
                          "FROM daily_summary ORDER BY day")
    assert len(summary) == len({d for d, *_ in landed.rows("SELECT day FROM daily_activity UNION SELECT day FROM body_measurements "
                                                           "UNION SELECT day FROM sleep_sessions UNION SELECT day FROM daily_scores "
                                                           "UNION SELECT day FROM daily_vitals UNION SELECT day FROM workout_sets")})
    for day, value, provider, *_ in summary:
        best = next((p for p in ("fitbit", "withings", "oura") if (p, day) in steps), None)
        assert (value, provider) == ((steps[(best, day)], best) if best else (None, None))
    assert {"fitbit", "withings"} <= {r[2] for r in summary} <= {"fitbit", "withings", None}  # never Oura's
    last_weigh_in = landed.rows(
        "SELECT day, arg_max(value, measured_at) FROM body_measurements WHERE provider = 'withings' AND metric = 'weight' "
        "GROUP BY day ORDER BY day DESC LIMIT 1")[0]
    assert (last_weigh_in[1], "withings") in {(r[3], r[4]) for r in summary if r[0] == last_weigh_in[0]}
    assert {r[5] for r in summary} == {"oura", None}


def test_column_lineage_names_the_raw_field_of_each_provider(landed: Landed) -> None:
    defs = build_definitions(landed.config)

    def metadata(name: str) -> dict[str, object]:
        asset = defs.resolve_assets_def(name)
        return dict(asset.metadata_by_key[asset.key])

    lineage = metadata("daily_activity")["dagster/column_lineage"]
    assert isinstance(lineage, dg.TableColumnLineage)
    steps = {(d.asset_key.to_user_string(), d.column_name) for d in lineage.deps_by_column["steps"]}
    assert steps == {("oura_daily_activity", "steps"), ("fitbit_steps", "steps.countSum"), ("withings_activity", "steps"),
                     ("polar_activities", "steps"), ("import_fitbit_takeout", "rows[].value"),
                     ("import_fitbit_takeout", "rows[].steps"), ("import_garmin_export", "totalSteps"),
                     ("import_apple_health", "records[].value")}
    schema = metadata("daily_activity")["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert next(c for c in schema.columns if c.name == "distance_m").description == \
        "distance walked or run (Oura reports none) [m]"
    summary = metadata("daily_summary")["dagster/column_lineage"]
    assert isinstance(summary, dg.TableColumnLineage)
    assert [(d.asset_key.to_user_string(), d.column_name) for d in summary.deps_by_column["weight_kg"]] == \
        [("body_measurements", "value")]


def test_each_days_materialization_carries_the_runs_figures_not_another_copy_of_the_schema(landed: Landed) -> None:
    for name in ("daily_activity", "heart_rate", "daily_summary"):  # the export's: test_export.py
        materializations = landed.result.asset_materializations_for_node(name)
        assert materializations, name
        for materialization in materializations:
            assert not {"dagster/column_schema", "dagster/column_lineage"} & set(materialization.metadata), name
    last = landed.result.asset_materializations_for_node("daily_activity")[-1].metadata
    assert last["dagster/row_count"].value == landed.rows("SELECT count(*) FROM daily_activity")[0][0]


def test_every_column_is_documented_and_every_source_column_has_lineage() -> None:
    for table in TABLES.values():
        with duckdb.connect() as conn:
            conn.execute(table.ddl)
            actual = [r[0] for r in conn.execute(f"DESCRIBE {table.name}").fetchall()]
        assert [c.name for c in table.columns] == actual, table.name
        for source in table.sources:
            undocumented = {c.name for c in table.columns if c.name not in ("person", "provider")} - set(source.lineage)
            with duckdb.connect() as conn:  # columns the source always leaves NULL need no lineage
                conn.execute("CREATE TABLE raw (provider VARCHAR, resource VARCHAR, record_id VARCHAR, day VARCHAR, payload VARCHAR)")
                conn.execute(table.ddl)
                models.define_home_tz(conn, "Europe/Berlin")
                select = conn.execute(f"DESCRIBE {source.sql}").fetchall()
            # the source's SQL knows no person: the framework scopes its input to one and adds the column
            assert [r[0] for r in select] == actual[1:] and actual[0] == "person", source.sql.splitlines()[0]
            for column in undocumented:  # only a NULL or a constant may go without lineage
                [line] = [x for x in source.sql.splitlines() if re.search(rf"\bAS {column}\b", x)]
                assert "CAST(NULL AS" in line or re.match(r"\s*'[a-z_]+'\s+AS", line), (table.name, source.provider, column)


def test_a_second_run_changes_nothing(landed: Landed) -> None:
    before = {t: landed.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in ALL_TABLES}
    with dg.instance_for_test() as instance:
        again = run_range(landed.config, instance, list(ALL_TABLES), START, END)
    assert again.success
    assert {t: landed.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in ALL_TABLES} == before
    meta = again.asset_materializations_for_node("workouts")[-1].metadata
    assert meta["modelled_hevy"].value == f"{len([r for r in before['workouts'] if r[1] == 'hevy'])} rows (unchanged since the last run)"


def test_per_record_sources_model_a_long_window_in_slices_with_the_same_rows(
    landed: Landed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from health_pipeline.storage.raw_store import RawStore

    sliced = {(s.table, s.provider) for t in TABLES.values() for s in t.sources if s.per_record}
    assert sliced == {("heart_rate", "oura"), ("heart_rate", "fitbit"), ("heart_rate", "withings"), ("sleep_samples", "oura"),
                      ("sleep_sessions", "whoop"), ("workouts", "whoop"), ("workouts", "strava"), ("heart_rate", "polar"),
                      ("sleep_sessions", "polar"), ("daily_activity", "polar"), ("workouts", "polar"),
                      ("body_measurements", "polar"),
                      *((t, "fitbit_takeout") for t in ("heart_rate", "daily_activity", "heart_rate_zones", "sleep_sessions",
                                                        "body_measurements", "daily_vitals", "workouts")),
                      *((t, "apple_health") for t in ("heart_rate", "daily_activity", "sleep_sessions",
                                                      "body_measurements", "daily_vitals", "workouts")),
                      *((t, "garmin_export") for t in ("heart_rate", "daily_activity", "heart_rate_zones",
                                                       "sleep_sessions", "body_measurements", "daily_vitals",
                                                       "workouts", "daily_scores"))}
    tables = ("heart_rate", "sleep_samples")
    before = {t: landed.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    store = RawStore(landed.config.app.raw_db)
    reads: list[tuple[date, date]] = []
    records = store.records

    def counted(provider, resource, **window):  # type: ignore[no-untyped-def]
        reads.append((window.get("start_day"), window.get("end_day")))
        return records(provider, resource, **window)

    monkeypatch.setattr(store, "records", counted)
    monkeypatch.setattr(models, "SLICE_DAYS", 4)
    with TidyStore(landed.config.app.duckdb).connect() as conn:
        for table in tables:
            models.rebuild_table(conn, store, TABLES[table], START, END, timezone=TIMEZONE)
    assert {t: landed.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before
    assert (START, START + timedelta(days=3)) in reads and (date(2026, 11, 9), END) in reads  # 21 days: 6 slices

    reads.clear()  # the check against the raw store reads every live record, a slice at a time too
    fitbit = TABLES["heart_rate"].source("fitbit")
    first, last, _ = store.day_span("fitbit", fitbit.resources)
    with TidyStore(landed.config.app.duckdb).connect() as conn:
        outcome = checks.rows_match_raw(conn, store, TidyTable("heart_rate", ("provider", "ts"), "", (fitbit,)))
    fitbit_rows = len([r for r in before["heart_rate"] if r[1] == "fitbit"])
    assert outcome.passed and outcome.metadata == {"fitbit": f"{fitbit_rows} rows / {fitbit_rows} from raw"}
    assert reads[0] == (first, first + timedelta(days=3)) and reads[-1][1] == last
    assert len(reads) == math.ceil(((last - first).days + 1) / 4)

    def failing(provider, resource, **window):  # type: ignore[no-untyped-def]
        if window.get("start_day") == START + timedelta(days=8):
            raise OSError("disk went away on the third slice")
        return records(provider, resource, **window)

    monkeypatch.setattr(store, "records", failing)
    with TidyStore(landed.config.app.duckdb).connect() as conn, pytest.raises(OSError):
        models.rebuild_table(conn, store, TABLES["heart_rate"], START, END, timezone=TIMEZONE)
    assert landed.rows("SELECT * FROM heart_rate ORDER BY ALL") == before["heart_rate"]  # all or nothing
