"""Withings and Hevy cursor sensors, with a real Dagster instance, real runs and the sandbox clock."""

import json
from datetime import timedelta

import dagster as dg
import pytest
from dagster import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test

from health_pipeline.config import Config
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.resources import resources_for
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.hevy import position as hevy_position
from health_pipeline.sources.withings import position as withings_position
from health_pipeline.sources.withings import client as withings
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import TODAY, ConfigFactory
from health_pipeline.pipeline import cursor as cursor_sensor
from health_pipeline.pipeline.cursor import build_cursor_sensor
from health_pipeline.registry import REGISTRY

withings_changes = build_cursor_sensor(REGISTRY.api("withings"))
hevy_changes = build_cursor_sensor(REGISTRY.api("hevy"))

RESOURCES = ["activity", "measures", "sleep_summary", "workouts"]


def withings_section(sandbox: Sandbox, days: int) -> str:
    """The config's [withings] section against the sandbox, starting `days` before the frozen today."""
    w = sandbox.url("withings")
    return f"""
[withings]
enabled = true
start_date = "{(TODAY - timedelta(days=days)).isoformat()}"
base_url = "{w}"
authorize_url = "{w}/oauth2_user/authorize2"
token_url = "{w}/v2/oauth2"
client_id = "sandbox"
client_secret = "sandbox-secret"
redirect_uri = "https://health.example.org/withings/callback"
"""


@pytest.fixture
def config(make_config: ConfigFactory, sandbox: Sandbox) -> Config:
    config = make_config(extra=withings_section(sandbox, 40) + f"""
[hevy]
enabled = true
start_date = "{(TODAY - timedelta(days=40)).isoformat()}"
base_url = "{sandbox.url('hevy')}"
api_key = "sandbox-api-key"
""")
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.withings, store, withings.OAUTH))
    return config


@pytest.fixture
def instance():  # type: ignore[no-untyped-def]
    with dg.instance_for_test() as test_instance:
        yield test_instance


def tick(sensor: dg.SensorDefinition, config: Config, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources_for(config)) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def run(config: Config, instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    defs = build_definitions(config)
    return dg.materialize(list(defs.assets or []), selection=request.asset_selection, instance=instance,
                          resources=dict(defs.resources or {}), tags=request.tags, raise_on_error=False)


def test_withings_first_tick_backfills_then_quiet_then_one_run_per_change(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    first = tick(withings_changes, config, instance, None)
    [request] = first.run_requests or []
    assert request.run_key == "withings:" + ",".join(f"{r}=first" for r in RESOURCES) + ":1"
    assert sorted(k.to_user_string() for k in request.asset_selection or []) == [f"withings_{r}" for r in RESOURCES]
    assert request.tags["health/provider"] == "withings"
    assert run(config, instance, request).success
    store = RawStore(config.app.raw_db)
    assert all(withings_position(store, r) for r in RESOURCES)

    sandbox.log.clear()
    quiet = tick(withings_changes, config, instance, first.cursor)
    assert not quiet.run_requests and quiet.skip_reason is not None and quiet.skip_reason.skip_message == "nothing changed at Withings since the last landed sync"
    assert len(sandbox.log.entries("withings")) == len(RESOURCES)  # one cheap call per resource

    sandbox.world.clock.advance(timedelta(days=2))
    sandbox.withings.oauth.expire_access_tokens()  # the 3-hour token expired meanwhile: refreshed on the way
    changed = tick(withings_changes, config, instance, quiet.cursor or first.cursor)
    [request] = changed.run_requests or []
    assert request.run_key.startswith("withings:") and request.run_key.endswith(":1")
    positions = dict(part.split("=") for part in request.run_key.split(":")[1].split(","))
    assert "measures" in positions and int(positions["measures"]) > withings_position(store, "measures")  # type: ignore[operator]
    assert run(config, instance, request).success
    assert tick(withings_changes, config, instance, changed.cursor).skip_reason


def test_a_failed_run_leaves_the_watermark_and_the_next_tick_asks_again(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    first = tick(withings_changes, config, instance, None)
    [request] = first.run_requests or []
    sandbox.faults.script("withings", "revoke")  # the user revoked access mid-run
    failed = run(config, instance, request)
    assert not failed.success
    store = RawStore(config.app.raw_db)
    assert all(withings_position(store, r) is None for r in RESOURCES)  # nothing claims to have landed
    authorize_with_sandbox(OAuthTokens(config.withings, store, withings.OAUTH))  # the user re-authorises
    again = tick(withings_changes, config, instance, first.cursor)
    [retry] = again.run_requests or []
    assert retry.run_key == request.run_key[:-1] + "2"  # same position, next attempt: a new run
    assert json.loads(again.cursor or "{}")["attempt"] == 2
    assert run(config, instance, retry).success


def test_never_two_runs_of_a_provider_at_once(config: Config, instance: dg.DagsterInstance) -> None:
    create_run_for_test(instance, job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
                        tags={"health/provider": "withings"})
    result = tick(withings_changes, config, instance, None)
    assert not result.run_requests and result.skip_reason is not None and result.skip_reason.skip_message == "a Withings run is queued or running"
    assert tick(hevy_changes, config, instance, None).run_requests  # another provider is not held up


def test_a_workout_deleted_at_hevy_ends_tombstoned(config: Config, instance: dg.DagsterInstance, sandbox: Sandbox) -> None:
    first = tick(hevy_changes, config, instance, None)
    [request] = first.run_requests or []
    assert request.run_key == "hevy:first:1"
    assert run(config, instance, request).success
    store = RawStore(config.app.raw_db)
    landed = {r.record_id for r in store.records("hevy", "workouts")}
    start = (TODAY - timedelta(days=40)).isoformat()
    assert landed == {w["id"] for w in sandbox.hevy.live_workouts() if w["start_time"][:10] >= start} and landed

    sandbox.log.clear()
    assert tick(hevy_changes, config, instance, first.cursor).skip_reason
    assert len(sandbox.log.entries("hevy")) == 1
    victim = sorted(landed)[0]
    sandbox.world.clock.advance(timedelta(minutes=5))
    sandbox.hevy.delete_workout(victim)
    changed = tick(hevy_changes, config, instance, first.cursor)
    [request] = changed.run_requests or []
    assert request.run_key == f"hevy:{sandbox.world.clock.now().isoformat()}:1"
    result = run(config, instance, request)
    assert result.success
    [tombstone] = [r for r in store.records("hevy", "workouts", include_deleted=True) if r.record_id == victim]
    assert tombstone.deleted_at is not None
    assert victim not in {r.record_id for r in store.records("hevy", "workouts")}
    assert hevy_position(store) == sandbox.world.clock.now()
    meta = result.asset_materializations_for_node("hevy_workouts")[0].metadata
    assert meta["records_deleted"].value == 1


def test_schedules_ask_for_today_and_yesterday_and_the_trailing_week(config: Config, instance: dg.DagsterInstance) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    defs = build_definitions(config)
    schedules = {s.name: s for s in defs.schedules or []}
    assert set(schedules) == {"recent_days", "trailing_week", "reference_daily"}
    when = datetime(2026, 11, 10, 0, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    for name, start in (("recent_days", "2026-11-09"), ("trailing_week", "2026-11-04")):
        schedule = schedules[name]
        assert schedule.execution_timezone == "Europe/Berlin"
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        [request] = schedule.evaluate_tick(context).run_requests or []
        assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
            start, "2026-11-10")
    assert schedules["recent_days"].cron_schedule == "*/15 * * * *"
    assert schedules["trailing_week"].cron_schedule == "30 4 * * *"


def test_people_too_many_to_ask_in_one_tick_are_asked_in_turn_with_a_run_per_cohort(
    make_config: ConfigFactory, sandbox: Sandbox, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    household = ("alice", "bob", "carol")
    config = make_config(extra=withings_section(sandbox, 10) + "".join(f'\n[people.{p}]\ntimezone = "Europe/Berlin"\n' for p in household))
    store = config.raw_store()
    store.init()
    for person in household:
        authorize_with_sandbox(OAuthTokens(config.withings, store.for_person(person), withings.OAUTH), login_hint=person)
    monkeypatch.setattr(cursor_sensor, "PROBE_BUDGET_S", 0.0)  # as if each person took the whole budget
    monkeypatch.setattr(cursor_sensor, "ASKED_WHOLE_UP_TO", 1)  # and as if three people were a study

    cursor = None
    for person in household:  # one person a tick, each in turn, a run for their cohort (their own)
        result = tick(withings_changes, config, instance, cursor)
        [request] = result.run_requests or []
        assert request.run_key == f"withings:{person}:" + ",".join(f"{r}=first" for r in RESOURCES) + ":1"
        assert request.tags["health/cohort"] == person and request.tags["health/provider"] == "withings"
        assert run(config, instance, request).success
        assert json.loads(result.cursor or "")["next"] == person
        cursor = result.cursor
        landed = {p: all(withings_position(store.for_person(p), r) for r in RESOURCES) for p in household}
        assert landed == {p: p <= person for p in household}  # only theirs, and those before

    sandbox.log.clear()
    quiet = tick(withings_changes, config, instance, cursor)  # back to alice: asked, nothing new
    assert not quiet.run_requests and quiet.skip_reason is not None
    assert quiet.skip_reason.skip_message == ("nothing changed at Withings for the people asked this tick "
                                              "(the next tick goes on after alice)")
    assert {e.person for e in sandbox.log.entries("withings")} == {"alice"}
    assert len(sandbox.log.entries("withings")) == len(RESOURCES)

    monkeypatch.setattr(cursor_sensor, "ASKED_WHOLE_UP_TO", 8)  # a household is asked whole, whatever it takes
    sandbox.log.clear()
    whole = tick(withings_changes, config, instance, quiet.cursor)
    assert whole.skip_reason is not None
    assert whole.skip_reason.skip_message == "nothing changed at Withings since the last landed sync"
    assert [e.person for e in sandbox.log.entries("withings")] == [p for p in ("bob", "carol", "alice")
                                                                    for _ in RESOURCES]
    assert "next" not in json.loads(whole.cursor or "")
