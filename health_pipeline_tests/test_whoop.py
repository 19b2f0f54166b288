"""WHOOP end to end against its fake over HTTP: the client's requests and records, the tidy rows and the
VictoriaMetrics samples exactly as the fake's data says, scoring that completes days later, deletions,
the quota, and the token rules (offline scope, rotating refresh tokens, the plain-text 401).

One world (seed 7, Europe/Berlin, clock frozen on 2026-11-10 12:00 UTC); the window 2026-10-20 ..
2026-11-09 holds the 25-hour day of 25 October and a trip to New York.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.dev.demo import write_sandbox_config
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.naming import RANGE_END, RANGE_START
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.resources import resources_for
from health_pipeline.pipeline.revisits import build_revisit_sensor
from health_pipeline.providers.errors import QuotaExhausted, ReauthorizationNeeded
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sources import whoop
from health_pipeline.sources.whoop import client as whoop_client
from health_pipeline.sources.whoop.sandbox import FAKE
from health_pipeline.sources.whoop.sandbox import data as truth
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.registry import ALL_TABLES
from health_pipeline.storage.raw_store import RawStore, StoredRecord
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY
from health_pipeline_tests.export_oracle import held, midnight_ms
from health_pipeline_tests.tidy_setup import days, run_range

pytestmark = pytest.mark.slow

START, END = date(2026, 10, 20), date(2026, 11, 9)
FIRST = TODAY - timedelta(days=59)
RESOURCES = ("cycles", "recoveries", "sleeps", "workouts")


def whoop_config(path: Path, sandbox: Sandbox, vm_url: str | None = None) -> Config:
    """A config with WHOOP alone enabled against the sandbox, authorised."""
    vm = f'[victoriametrics]\nenabled = true\nurl = "{vm_url}"\n' if vm_url else ""
    return write_sandbox_config(path, (
        f'[app]\nraw_db = "data/raw.sqlite"\nduckdb = "data/health.duckdb"\ntimezone = "{TIMEZONE}"\nuser = "me"\n\n'
        + FAKE.config_text(sandbox.url("whoop"), FIRST) + vm))


def new_world(implausible_values: bool = False, now: datetime = FROZEN_NOW) -> SandboxWorld:
    return SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(now),
                        implausible_values=implausible_values)


def whoop_keys(config: Config) -> list[str]:
    """WHOOP's landing assets, every tidy table and the export (when VictoriaMetrics is configured)."""
    keys = [k.to_user_string() for a in build_definitions(config).assets or [] for k in a.keys]
    export = ["export_victoriametrics"] if config.victoriametrics.enabled else []
    return [k for k in keys if k.startswith("whoop_") or k in ALL_TABLES] + export


def truth_by_day(world: SandboxWorld, resource: str) -> dict[str, date]:
    """Every record of the window the fake serves, by id, with the local day it counts towards."""
    key = "cycle_id" if resource == "recoveries" else "id"
    return {str(r[key]): day for day in days(START, END) for r in truth.GENERATORS[resource](world, day)}


@dataclass
class Landed:
    world: SandboxWorld
    sandbox: Sandbox
    config: Config
    vm: LocalVictoriaMetrics
    requests: list

    def rows(self, sql: str) -> list[tuple]:
        with TidyStore(self.config.app.duckdb).connect(read_only=True) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    world = new_world(implausible_values=True)
    with sandbox_for(world) as sandbox, LocalVictoriaMetrics(tmp_path_factory.mktemp("vm") / "data") as vm:
        config = whoop_config(tmp_path_factory.mktemp("whoop") / "health-pipeline.toml", sandbox, vm.url)
        sandbox.log.clear()
        with dg.instance_for_test() as instance:
            result = run_range(config, instance, whoop_keys(config), START, END)
            assert result.success
        yield Landed(world, sandbox, config, vm, sandbox.log.entries("whoop"))


# -- the client ----------------------------------------------------------------------------------------


def test_a_window_costs_one_request_per_page_and_lands_each_record_on_its_own_day(landed: Landed) -> None:
    store = RawStore(landed.config.app.raw_db)
    for resource in RESOURCES:
        stored = {r.record_id: date.fromisoformat(r.day) for r in store.records("whoop", resource)}
        assert stored == truth_by_day(landed.world, resource), resource
    # Berlin's window with a day's padding each side, 25 records a page at most; recoveries ask the
    # sleeps again for the day each counts towards; the profile and body measurement once each.
    data = [(e.path, e.params.get("nextToken") is not None) for e in landed.requests if "/oauth/" not in e.path]
    assert sorted(data) == sorted([
        ("/developer/v2/cycle", False), ("/developer/v2/recovery", False),
        ("/developer/v2/activity/sleep", False), ("/developer/v2/activity/sleep", True),
        ("/developer/v2/activity/sleep", False), ("/developer/v2/activity/sleep", True),
        ("/developer/v2/activity/workout", False),
        ("/developer/v2/user/profile/basic", False), ("/developer/v2/user/measurement/body", False)])
    firsts = [e.params for e in landed.requests if e.path.endswith("/activity/sleep") and "nextToken" not in e.params]
    assert firsts == [{"start": "2026-10-18T22:00:00.000Z", "end": "2026-11-10T23:00:00.000Z", "limit": "25"}] * 2
    assert all(e.status == 200 for e in landed.requests)


def test_the_profile_and_body_measurement_land_whole(landed: Landed) -> None:
    store = RawStore(landed.config.app.raw_db)
    [profile] = store.records("whoop", "profile")
    [body] = store.records("whoop", "body_measurement")
    assert (profile.record_id, profile.day) == (str(truth.USER_ID), None)
    assert body.record_id == "me" and '"max_heart_rate": 190' in body.payload.replace(":190", ": 190")


# -- the tidy tables -----------------------------------------------------------------------------------


def test_sleeps_model_stage_by_stage_with_naps_apart_and_unscored_nights_null(landed: Landed) -> None:
    expected = []
    for day in days(START, END):
        for s in truth.sleeps(landed.world, day):
            stages = (s["score"] or {}).get("stage_summary")
            seconds = (lambda k: stages[k] // 1000) if stages else (lambda k: None)
            asleep = (seconds("total_light_sleep_time_milli") + seconds("total_slow_wave_sleep_time_milli")
                      + seconds("total_rem_sleep_time_milli")) if stages else None
            expected.append((s["id"], day, utc(s["start"]), utc(s["end"]), not s["nap"],
                             seconds("total_in_bed_time_milli"), asleep, seconds("total_slow_wave_sleep_time_milli"),
                             seconds("total_light_sleep_time_milli"), seconds("total_rem_sleep_time_milli"),
                             seconds("total_awake_time_milli")))
    got = landed.rows("SELECT sleep_id, day, start_ts, end_ts, is_main, time_in_bed_s, asleep_s, deep_s, light_s, "
                      "rem_s, awake_s FROM sleep_sessions WHERE provider = 'whoop' ORDER BY day, start_ts")
    assert got == sorted(expected, key=lambda row: (row[1], row[2]))
    assert any(not row[4] for row in got)  # a nap
    unscorable = [row for row in got if row[5] is None]
    assert unscorable and all(truth.unscorable(landed.world, row[1]) for row in unscorable)


def test_workouts_keep_kilojoules_as_energy_and_zones_per_day(landed: Landed) -> None:
    expected, zones = [], {}
    for day in days(START, END):
        for w in truth.workouts(landed.world, day):
            score = w["score"]
            expected.append((w["id"], day, "strength_training" if w["sport_name"] == "weightlifting_msk" else w["sport_name"],
                             round(score["kilojoule"] / 4.184, 3), score["distance_meter"],
                             float(score["average_heart_rate"]), None))
            milli = score["zone_durations"]
            for zone, parts in (("light", ("zone_zero_milli", "zone_one_milli")), ("moderate", ("zone_two_milli",)),
                                ("vigorous", ("zone_three_milli",)), ("peak", ("zone_four_milli", "zone_five_milli"))):
                zones[(day, zone)] = zones.get((day, zone), 0) + sum(milli[p] for p in parts) // 1000
    assert landed.rows("SELECT workout_id, day, activity, active_kcal, distance_m, avg_hr_bpm, work_kj FROM workouts "
                       "WHERE provider = 'whoop' ORDER BY day") == expected
    got = {(day, zone): seconds for day, zone, seconds in landed.rows(
        "SELECT day, zone, duration_s FROM heart_rate_zones WHERE provider = 'whoop'")}
    assert got == zones


def test_scores_vitals_and_energy_per_day_from_recovery_cycle_and_sleep(landed: Landed) -> None:
    world = landed.world
    scores, vitals, energy = {}, {}, {}
    for day in days(START, END):
        [cycle] = truth.cycles(world, day) or [None]
        [recovery] = truth.recoveries(world, day) or [None]
        nights = [s for s in truth.sleeps(world, day) if not s["nap"]]
        r = recovery["score"] if recovery else None
        c = cycle["score"] if cycle else None
        s = nights[0]["score"] if nights else None
        if recovery or cycle or nights:
            scores[day] = (round(s["sleep_performance_percentage"]) if s else None,
                           round(r["recovery_score"]) if r else None, c["strain"] if c else None)
        resting = r["resting_heart_rate"] if r and not world.implausible(day) else None  # 400 bpm: rejected
        if r or s:
            vitals[day] = (r["hrv_rmssd_milli"] if r else None, r["spo2_percentage"] if r else None,
                           resting, r["skin_temp_celsius"] if r else None, s["respiratory_rate"] if s else None)
        if c or r:
            energy[day] = (round(c["kilojoule"] / 4.184, 3) if c else None, resting)
    got_scores = {row[0]: row[1:] for row in landed.rows(
        "SELECT day, sleep_score, recovery_score, strain FROM daily_scores WHERE provider = 'whoop'")}
    assert got_scores == {d: v for d, v in scores.items() if any(x is not None for x in v)}
    got_vitals = {row[0]: row[1:] for row in landed.rows(
        "SELECT day, hrv_ms, spo2_pct, resting_hr_bpm, skin_temp_c, respiratory_rate_brpm FROM daily_vitals "
        "WHERE provider = 'whoop'")}
    assert got_vitals == vitals
    got_energy = {row[0]: row[1:] for row in landed.rows(
        "SELECT day, total_kcal, resting_hr_bpm FROM daily_activity WHERE provider = 'whoop'")}
    assert got_energy == energy


def test_the_implausible_resting_heart_rate_is_rejected_not_modelled(landed: Landed) -> None:
    day = landed.world.implausible_day()
    rejected = landed.rows("SELECT table_name, day, column_name, value FROM rejected_values WHERE provider = 'whoop'")
    assert ("daily_activity", day, "resting_hr_bpm", 400.0) in [(t, d, c, float(v)) for t, d, c, v in rejected]


def test_victoriametrics_holds_recovery_strain_and_skin_temperature_exactly(landed: Landed) -> None:
    tz = landed.world.tz
    samples = held(landed.config, '{__name__=~"health_recovery_score|health_strain|health_skin_temperature_celsius",'
                                  'provider="whoop"}')
    by_name = {key.split(",")[0].split("=")[1]: values for key, values in samples.items()}
    expected = {"health_recovery_score": {}, "health_strain": {}, "health_skin_temperature_celsius": {}}
    for day in days(START, END):
        for r in truth.recoveries(landed.world, day):
            if r["score"]:
                expected["health_recovery_score"][midnight_ms(day, tz)] = r["score"]["recovery_score"]
                expected["health_skin_temperature_celsius"][midnight_ms(day, tz)] = r["score"]["skin_temp_celsius"]
        for c in truth.cycles(landed.world, day):
            expected["health_strain"][midnight_ms(day, tz)] = c["score"]["strain"]
    assert by_name == expected


# -- scoring completes later, deletions, the quota, tokens -----------------------------------------------


def test_a_night_scored_days_late_is_fetched_again_until_scored(tmp_path: Path) -> None:
    # The sensor reads the raw store against today's date: this world's clock is now.
    world = new_world(now=datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0))
    today = world.today()
    late = next(d for d in (today - timedelta(days=n) for n in range(10, 20)) if truth.recoveries(world, d))
    with sandbox_for(world) as sandbox, dg.instance_for_test() as instance:
        sandbox.whoop.hold_scoring(late)
        config = whoop_config(tmp_path / "health-pipeline.toml", sandbox)
        keys = whoop_keys(config)
        assert run_range(config, instance, keys, today - timedelta(days=20), today).success
        store = RawStore(config.app.raw_db)
        assert ([json_of(r)["score_state"] for r in store.records("whoop", "recoveries", start_day=late, end_day=late)]
                == ["PENDING_SCORE"])
        assert tidy(config, f"SELECT asleep_s, recovery_score FROM sleep_sessions LEFT JOIN daily_scores "
                            f"USING (provider, day) WHERE provider = 'whoop' AND day = '{late}' AND is_main") == [(None, None)]

        sensor = build_revisit_sensor(whoop.SOURCE, config.provider("whoop"))
        sandbox.log.clear()
        result = tick(sensor, config, instance, None)
        [request] = result.run_requests or []
        assert (request.tags[RANGE_START], request.tags[RANGE_END]) == (late.isoformat(), late.isoformat())
        assert sandbox.log.entries("whoop") == []  # the sensor asks the raw store, not WHOOP
        again = tick(sensor, config, instance, result.cursor)
        assert not again.run_requests and "less than" in (again.skip_reason.skip_message if again.skip_reason else "")

        sandbox.whoop.release_scoring()
        assert run_range(config, instance, list(request.asset_selection or []), late, late).success
        [recovery] = truth.recoveries(world, late)
        assert tidy(config, f"SELECT recovery_score FROM daily_scores WHERE provider = 'whoop' AND day = '{late}'") == [
            (round(recovery["score"]["recovery_score"]),)]
        quiet = tick(sensor, config, instance, result.cursor)
        assert not quiet.run_requests and "waits to be settled" in (quiet.skip_reason.skip_message if quiet.skip_reason else "")


def test_a_deleted_workout_is_tombstoned_and_leaves_the_tables_and_victoriametrics(tmp_path: Path) -> None:
    world = new_world()
    with sandbox_for(world) as sandbox, LocalVictoriaMetrics(tmp_path / "vm") as vm, dg.instance_for_test() as instance:
        config = whoop_config(tmp_path / "health-pipeline.toml", sandbox, vm.url)
        keys = whoop_keys(config)
        assert run_range(config, instance, keys, START, END).success
        day = next(d for d in days(START, END) if truth.workouts(world, d))
        [workout] = truth.workouts(world, day)
        selector = f'{{__name__="health_workout_duration_seconds",provider="whoop"}}'
        before = sum(len(v) for v in held(config, selector).values())
        sandbox.whoop.delete(workout["id"])
        assert run_range(config, instance, keys, day, day).success
        [gone] = [r for r in RawStore(config.app.raw_db).records("whoop", "workouts", include_deleted=True)
                  if r.record_id == workout["id"]]
        assert gone.deleted_at is not None
        assert tidy(config, f"SELECT count(*) FROM workouts WHERE workout_id = '{workout['id']}'") == [(0,)]
        assert sum(len(v) for v in held(config, selector).values()) == before - 1


def test_a_spent_day_quota_stops_with_when_it_resets_and_keeps_what_landed(tmp_path: Path) -> None:
    world = new_world()
    with sandbox_for(world) as sandbox:
        config = whoop_config(tmp_path / "health-pipeline.toml", sandbox)
        api = whoop.SOURCE.build_client(config.provider("whoop"), config.app, RawStore(config.app.raw_db))
        sandbox.whoop.quota.windows[1].limit = 3  # a day's quota of three requests
        last = START + timedelta(days=5)
        assert len(api.records("cycles", START, last)) == sum(len(truth.cycles(world, d)) for d in days(START, last))
        state = api.http.quota.state()  # as the answer's headers said: the day's window, closest to its limit
        assert (state["day"]["used"], state["day"]["limit"]) == (1, 3)
        api.records("workouts", START, last)
        with pytest.raises(QuotaExhausted) as refused:
            api.records("recoveries", START, last)  # its listing and the cycles again: one too many
        # WHOOP said the window resets in 12 hours (at the sandbox's midnight): the client counts real time
        resets_in = (refused.value.resets_at - datetime.now(timezone.utc)).total_seconds()
        assert 12 * 3600 - 60 < resets_in <= 12 * 3600
        assert str(refused.value).startswith("whoop: the day's quota of 3 requests is spent; it resets at ")
        asked = len(sandbox.log.entries("whoop", "/developer/"))
        assert asked == 3  # the client stops itself: no request is made to be refused


def test_tokens_need_offline_for_a_refresh_rotate_and_a_refused_token_asks_to_authorise(tmp_path: Path) -> None:
    world = new_world()
    with sandbox_for(world) as sandbox:
        config = whoop_config(tmp_path / "health-pipeline.toml", sandbox)
        store = RawStore(config.app.raw_db)
        tokens = OAuthTokens(config.provider("whoop"), store, whoop_client.OAUTH)
        assert "offline" in tokens.authorization_url("a-state-of-16-chars")
        first = store.token("whoop")
        assert first is not None and first.refresh_token
        sandbox.whoop.oauth.expire_access_tokens()
        api = whoop.SOURCE.build_client(config.provider("whoop"), config.app, store)
        assert api.snapshot("profile")[0].record_id == str(truth.USER_ID)
        second = store.token("whoop")
        assert second is not None and second.refresh_token != first.refresh_token  # rotated
        token_posts = [e for e in sandbox.log.entries("whoop", "/oauth/oauth2/token")]
        assert token_posts[-1].status == 200 and token_posts[-1].params.get("client_id") == "sandbox"
        sandbox.whoop.oauth.revoke_all()
        with pytest.raises(ReauthorizationNeeded, match="health-pipeline auth whoop"):
            api.snapshot("profile")


# -- helpers -------------------------------------------------------------------------------------------


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def json_of(record: StoredRecord) -> dict:
    return json.loads(record.payload)


def tidy(config: Config, sql: str) -> list[tuple]:
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        return conn.execute(sql).fetchall()


def tick(sensor: dg.SensorDefinition, config: Config, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources_for(config)) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result
