"""The cursor sensor's protocol, once for every change-driven source (the shared builder's, not a source's):
first ticks ask for a backfill, a failed run leaves the watermark and is asked for again with the next
attempt, a landed run makes the next tick quiet with one cheap request per resource, and a tick skips
while one of the source's runs is in flight or the source is disabled."""

import importlib
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test

from health_pipeline.config import Config
from health_pipeline.declarations import ApiSource
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.naming import PROVIDER_TAG, landing_key
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.cursor import build_cursor_sensor
from health_pipeline.pipeline.resources import resources_for
from health_pipeline.registry import REGISTRY, load_config
from health_pipeline.sandbox.faults import FaultPlan
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import TIMEZONE, TODAY

CURSOR_SOURCES = [s for s in REGISTRY.apis if s.cursor is not None]


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    return write_sandbox_config(tmp_path / "health-pipeline.toml",
                                sandbox_config_text(sandbox, TODAY - timedelta(days=20), TIMEZONE, "me"))


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


def mount(source: ApiSource) -> str:
    """The sandbox prefix the source's fake is served under."""
    return importlib.import_module(f"{source.package}.sandbox").FAKE.mount


@pytest.mark.parametrize("source", CURSOR_SOURCES, ids=lambda s: s.name)
def test_the_cursor_sensor_keeps_its_protocol(source: ApiSource, config: Config, instance: dg.DagsterInstance,
                                              sandbox: Sandbox) -> None:
    assert source.cursor is not None
    sensor = build_cursor_sensor(source)
    resources = sorted(r.resource for r in source.cursor.resources)
    store = RawStore(config.app.raw_db)
    prefix = mount(source)

    # Nothing landed yet: one run of every resource, without asking the provider.
    sandbox.log.clear()
    first = tick(sensor, config, instance, None)
    [request] = first.run_requests or []
    position = "first" if len(resources) == 1 else ",".join(f"{r}=first" for r in resources)
    assert request.run_key == f"{source.name}:{position}:1"
    assert sorted(request.asset_selection or []) == sorted(landing_key(source.name, r) for r in resources)
    assert request.tags[PROVIDER_TAG] == source.name and request.tags[f"health/fetch.{source.name}"] == "true"
    assert sandbox.log.entries(prefix) == []

    # The run fails at the provider: nothing claims to have landed, and the same position is asked for
    # again with the next attempt (a new run key, so Dagster runs it).
    sandbox.faults.set(prefix, FaultPlan(probabilities={"malformed": 1.0}))
    assert not run(config, instance, request).success
    assert all(source.cursor.landed(store, source.name, r) is None for r in resources)
    again = tick(sensor, config, instance, first.cursor)
    [retry] = again.run_requests or []
    assert retry.run_key == f"{source.name}:{position}:2"

    # It lands: each watermark is set, and the next tick asks one cheap question per resource and is quiet.
    sandbox.faults.set(prefix, FaultPlan())
    assert run(config, instance, retry).success
    assert all(source.cursor.landed(store, source.name, r) is not None for r in resources)
    sandbox.log.clear()
    quiet = tick(sensor, config, instance, again.cursor)
    assert not quiet.run_requests and quiet.skip_reason
    assert len(sandbox.log.entries(prefix)) == len(resources)

    # While a run of the source is queued or running, a tick asks nothing and requests nothing.
    held = create_run_for_test(instance, job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
                               tags={PROVIDER_TAG: source.name})
    sandbox.log.clear()
    busy = tick(sensor, config, instance, quiet.cursor)
    assert not busy.run_requests and busy.skip_reason
    assert busy.skip_reason.skip_message == f"a {source.title} run is queued or running"
    assert sandbox.log.entries(prefix) == []
    instance.report_run_failed(held)

    # Switched off in the config: the sensor says so.
    text = config.path.read_text(encoding="utf-8").replace(f"[{source.name}]\nenabled = true",  # type: ignore[union-attr]
                                                           f"[{source.name}]\nenabled = false")
    config.path.write_text(text, encoding="utf-8")  # type: ignore[union-attr]
    off = tick(sensor, load_config(config.path), instance, quiet.cursor)
    assert off.skip_reason and off.skip_reason.skip_message == f"{source.title} is disabled in the config"
