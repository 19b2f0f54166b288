"""The thin slice through every layer: sandbox over HTTP -> Dagster -> SQLite -> DuckDB -> VictoriaMetrics."""

import math
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.windows import days_in, local_midnight
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sources.oura.sandbox.api import OuraSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import downstream_keys, materialize_range, raw_asset_keys
from health_pipeline_tests.conftest import TIMEZONE, WINDOW, ConfigFactory
from health_pipeline_tests.export_oracle import assert_exact, changed_series, held, selector

TZ = ZoneInfo(TIMEZONE)
START, END = WINDOW


@pytest.fixture
def config(make_config: ConfigFactory, victoriametrics: LocalVictoriaMetrics) -> Config:
    config = make_config(vm_url=victoriametrics.url)
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    return config


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def sync(config: Config, instance: dg.DagsterInstance, start: date = START, end: date = END):  # type: ignore[no-untyped-def]
    return materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), start, end)


def expected_daily_activity(sandbox: Sandbox, start: date = START, end: date = END) -> list[tuple]:
    return [
        ("oura", date.fromisoformat(d["day"]), d["steps"], None,
         float(d["active_calories"]), float(d["total_calories"]), None, None, d["sedentary_time"],
         d["low_activity_time"], d["medium_activity_time"], d["high_activity_time"], None,
         float(d["equivalent_walking_distance"]))
        for d in truth.oura_daily_activity(sandbox.world, start, end)
    ]


def expected_heart_rate(sandbox: Sandbox, start: date = START, end: date = END) -> list[tuple]:
    rows = truth.oura_heartrate(sandbox.world, local_midnight(start, TZ), local_midnight(end + timedelta(days=1), TZ))
    out = []
    for row in rows:
        instant = datetime.fromisoformat(row["timestamp"]).astimezone(timezone.utc)
        out.append(("oura", instant, instant.astimezone(TZ).date(), float(row["bpm"]), row["source"]))
    return out


def tidy_rows(config: Config, table: str) -> list[tuple]:
    order = "day" if table == "daily_activity" else "ts"
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        return conn.execute(f"SELECT * EXCLUDE (person) FROM {table} ORDER BY provider, {order}").fetchall()



def expected_steps_samples(sandbox: Sandbox, start: date = START, end: date = END) -> list[tuple[int, float]]:
    return [
        (int(local_midnight(date.fromisoformat(d["day"]), TZ).timestamp() * 1000), float(d["steps"]))
        for d in truth.oura_daily_activity(sandbox.world, start, end)
    ]


def expected_hr_samples(sandbox: Sandbox, start: date = START, end: date = END) -> list[tuple[int, float]]:
    return sorted((int(row[1].timestamp() * 1000), row[3]) for row in expected_heart_rate(sandbox, start, end))



STEPS = "__name__=health_steps,provider=oura,user=me"
HR = "__name__=health_heart_rate_bpm,provider=oura,user=me"


def test_a_30_day_range_lands_models_and_exports_exactly_in_one_run(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    sandbox.log.clear()
    result = sync(config, instance)

    # one run, every partition of every asset in it materialized
    assert len(instance.get_runs()) == 1
    partitions = {day.isoformat() for day in days_in(START, END)}
    for key in [f"oura_{e.resource}" for e in oura.CATALOGUE.values() if e.dated] + [
            "daily_activity", "heart_rate", "export_victoriametrics"]:
        assert instance.get_materialized_partitions(dg.AssetKey(key)) == partitions

    # the fewest requests: one padded request per daily endpoint, heart rate in pages of the sandbox's size
    daily = expected_daily_activity(sandbox)
    hr = expected_heart_rate(sandbox)
    hr_pages = math.ceil(len(hr) / OuraSettings().heartrate_page_size)
    dated = [e for e in oura.CATALOGUE.values() if e.dated]
    assert Counter(e.path for e in sandbox.log.entries("oura")) == {
        **{e.path: 1 for e in dated if e.kind == "document"}, "/v2/usercollection/heartrate": hr_pages,
    }
    assert result.metadata["oura_daily_activity"]["requests"] == 1
    assert result.metadata["oura_daily_activity"]["records_new"] == len(daily)
    assert result.metadata["oura_heartrate"]["requests"] == hr_pages

    # DuckDB equals the sandbox's ground truth, row for row
    assert tidy_rows(config, "daily_activity") == daily
    assert tidy_rows(config, "heart_rate") == hr
    assert len(daily) >= 25 and len(hr) > 7000
    assert sum(1 for row in hr if row[2] == date(2026, 10, 25)) > sum(1 for row in hr if row[2] == date(2026, 10, 26)) - 12

    # VictoriaMetrics holds exactly what the tidy tables hold, steps and heart rate as the sandbox knows them
    held = assert_exact(config)
    assert sorted(held[STEPS].items()) == expected_steps_samples(sandbox)
    assert sorted(held[HR].items()) == expected_hr_samples(sandbox)
    assert result.metadata["export_victoriametrics"]["samples_appended"] == sum(map(len, held.values()))


def test_re_running_the_same_range_writes_nothing_new_and_duplicates_nothing(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    sync(config, instance)
    before = held(config)
    with RawStore(config.app.raw_db).connection() as conn:
        raw_before = conn.execute("SELECT * FROM records ORDER BY record_id").fetchall()

    again = sync(config, instance)

    for asset in ("oura_daily_activity", "oura_heartrate"):
        meta = again.metadata[asset]
        assert (meta["records_new"], meta["records_changed"], meta["records_deleted"]) == (0, 0, 0)
    with RawStore(config.app.raw_db).connection() as conn:
        assert conn.execute("SELECT * FROM records ORDER BY record_id").fetchall() == raw_before
    export = again.metadata["export_victoriametrics"]
    assert (export["samples_appended"], export["samples_rewritten"]) == (0, 0)
    assert export["samples_unchanged"] == sum(len(v) for v in before.values())
    assert held(config) == before
    assert tidy_rows(config, "daily_activity") == expected_daily_activity(sandbox)


def test_a_revised_day_replaces_the_old_values_everywhere(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    sync(config, instance)
    before = held(config)
    today_steps_before = expected_daily_activity(sandbox, END, END)[0][2]

    sandbox.world.clock.advance(timedelta(hours=6))  # the rest of the day syncs: more steps, more samples
    revised = sync(config, instance, END - timedelta(days=1), END)

    assert expected_daily_activity(sandbox, END, END)[0][2] > today_steps_before
    assert revised.metadata["oura_daily_activity"]["records_changed"] == 1
    assert revised.metadata["oura_heartrate"]["records_changed"] == 1
    assert tidy_rows(config, "daily_activity") == expected_daily_activity(sandbox)
    assert tidy_rows(config, "heart_rate") == expected_heart_rate(sandbox)
    after = assert_exact(config)
    assert sorted(after[STEPS].items()) == expected_steps_samples(sandbox)
    # exactly the series with a changed value were rewritten (today's steps among them), nothing else
    corrected = set(revised.metadata["export_victoriametrics"]["series_corrected"])
    assert corrected == {selector(key) for key in changed_series(before, after)}
    assert 'health_steps{provider="oura",user="me"}' in corrected


def test_a_stopped_victoriametrics_fails_the_export_and_a_later_run_catches_up(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics
) -> None:
    from health_pipeline.sync import SyncError

    victoriametrics.stop()
    with pytest.raises(SyncError, match=r"export_victoriametrics: cannot reach VictoriaMetrics at http://127\.0\.0\.1:\d+"):
        sync(config, instance)
    assert tidy_rows(config, "daily_activity") == expected_daily_activity(sandbox)  # upstream still landed

    victoriametrics.start()
    sync(config, instance)
    assert sorted(assert_exact(config)[STEPS].items()) == expected_steps_samples(sandbox)
