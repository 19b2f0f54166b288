"""`tidy_follows_raw`: a raw-only run is followed by one model-and-export run over the same days."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.follow import FOLLOW_JOB, FOLLOW_TAG
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline_tests.conftest import TIMEZONE, TODAY
from health_pipeline_tests.tidy_setup import all_providers_config, run_range

START, END = TODAY - timedelta(days=9), TODAY - timedelta(days=6)


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    return all_providers_config(tmp_path / "health-pipeline.toml", sandbox, TODAY - timedelta(days=20), TIMEZONE)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def evaluate(config: Config, instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> object:
    """One tick of the sensor for the success of `result`'s run, as the daemon would evaluate it."""
    defs = build_definitions(config)
    sensor = defs.resolve_sensor_def("tidy_follows_raw")
    success = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    context = dg.build_run_status_sensor_context("tidy_follows_raw", success, instance, run)
    return sensor(context)  # type: ignore[operator]


def test_a_raw_backfill_is_modelled_over_the_same_days(config: Config, instance: dg.DagsterInstance,
                                                       world: SandboxWorld) -> None:
    landed = run_range(config, instance, ["oura_daily_activity"], START, END)
    assert landed.success
    request = evaluate(config, instance, landed)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"follow:{landed.run_id}"
    assert request.tags == {"dagster/asset_partition_range_start": START.isoformat(),
                            "dagster/asset_partition_range_end": END.isoformat(),
                            FOLLOW_TAG: landed.run_id, "health/provider": "model"}

    job = build_definitions(config).resolve_job_def(FOLLOW_JOB)
    followed = job.execute_in_process(instance=instance, tags=request.tags)
    assert followed.success
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        rows = conn.execute("SELECT day, steps FROM daily_activity WHERE provider = 'oura' ORDER BY day").fetchall()
    assert rows == [(date.fromisoformat(d["day"]), d["steps"]) for d in truth.oura_daily_activity(world, START, END)]
    assert len(rows) == 4
    partitions = instance.get_materialized_partitions(dg.AssetKey("daily_activity"))
    assert partitions == {(START + timedelta(days=i)).isoformat() for i in range(4)}


def test_a_run_that_modelled_what_it_landed_is_not_followed(config: Config, instance: dg.DagsterInstance) -> None:
    result = run_range(config, instance, None, END, END)  # every landing asset and every tidy table
    assert result.success
    skip = evaluate(config, instance, result)
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message == f"run {result.run_id[:8]} already modelled and exported what it landed"


def test_a_sensor_run_of_a_change_driven_provider_is_modelled_for_today_and_yesterday(
        config: Config, instance: dg.DagsterInstance) -> None:
    defs = build_definitions(config)
    result = dg.materialize(list(defs.assets or []), selection=["withings_measures"], instance=instance,
                            resources=dict(defs.resources or {}), tags={"health/provider": "withings"})
    assert result.success
    request = evaluate(config, instance, result)
    assert isinstance(request, dg.RunRequest)
    today = datetime.now(config.app.tz).date()
    assert (request.tags["dagster/asset_partition_range_start"],
            request.tags["dagster/asset_partition_range_end"]) == ((today - timedelta(days=1)).isoformat(),
                                                                   today.isoformat())
