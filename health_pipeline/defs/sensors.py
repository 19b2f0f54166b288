"""Cursor sensors for the change-driven providers: Withings (`lastupdate`) and Hevy (events).

The raw store's watermark, not the sensor cursor, says what has landed. A tick asks the provider
cheaply whether anything changed after it; only then does it request a run, whose `run_key`
encodes the change position. If that position is asked for again, the last run did not land it
(it failed): a new attempt number makes a new run. One run per provider at a time.
"""

import json
from collections.abc import Iterable

import dagster as dg
from dagster import DagsterRunStatus, RunsFilter

from health_pipeline.defs.hevy.assets import HEVY_WORKOUTS
from health_pipeline.defs.resources import HealthPipelineResource
from health_pipeline.defs.withings.assets import WITHINGS_RESOURCES, withings_asset_key
from health_pipeline.ingest.cursor_sync import hevy_position, withings_position
from health_pipeline.providers.errors import ProviderError
from health_pipeline.providers.withings import DEFAULT_MEASTYPES

PROVIDER_TAG = "health/provider"
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
INTERVAL_S = 300


def fetch_tag(provider: str) -> str:
    """The tag every run that fetches a provider carries (`health/fetch.withings: true`): a CLI sync
    fetches several providers at once, so one `health/provider` value cannot name them all."""
    return f"health/fetch.{provider}"


def fetch_tags(providers: Iterable[str]) -> dict[str, str]:
    return {fetch_tag(p): "true" for p in providers}


def active_fetches(instance: dg.DagsterInstance, provider: str) -> list[dg.DagsterRun]:
    """The runs queued or running that fetch `provider` (a sensor's, a schedule's, a CLI sync's)."""
    found: dict[str, dg.DagsterRun] = {}
    for tags in ({PROVIDER_TAG: provider}, {fetch_tag(provider): "true"}):
        for run in instance.get_runs(filters=RunsFilter(tags=tags, statuses=ACTIVE)):
            found[run.run_id] = run
    return list(found.values())


def provider_busy(context: dg.SensorEvaluationContext, provider: str) -> bool:
    return bool(active_fetches(context.instance, provider))


def next_attempt(cursor: str | None, position: str) -> int:
    """1 for a new change position; one more each time the same position must be asked for again."""
    state = json.loads(cursor) if cursor else {}
    return int(state.get("attempt", 0)) + 1 if state.get("position") == position else 1


def not_now(context: dg.SensorEvaluationContext, health: HealthPipelineResource, provider: str) -> dg.SensorResult | None:
    """Why this tick must not ask for a run (provider disabled, or one of its runs in flight), or None."""
    if not health.config.provider(provider).enabled:
        return dg.SensorResult(skip_reason=f"{provider.title()} is disabled in the config")
    if provider_busy(context, provider):
        return dg.SensorResult(skip_reason=f"a {provider.title()} run is queued or running")
    return None


def run_for(provider: str, position: str, attempt: int, keys: list[dg.AssetKey]) -> dg.SensorResult:
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"{provider}:{position}:{attempt}", asset_selection=keys,
                                    tags={PROVIDER_TAG: provider, **fetch_tags([provider])})],
        cursor=json.dumps({"position": position, "attempt": attempt}),
    )


@dg.sensor(
    name="withings_changes",
    description="Asks Withings (one `lastupdate` call per resource) whether anything changed after what landed.",
    asset_selection=[withings_asset_key(r) for r in WITHINGS_RESOURCES],
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def withings_changes(context: dg.SensorEvaluationContext, health: HealthPipelineResource) -> dg.SensorResult:
    skip = not_now(context, health, "withings")
    if skip is not None:
        return skip
    store = health.raw_store()
    client = health.withings_client()
    changed: dict[str, str] = {}
    try:
        for resource in WITHINGS_RESOURCES:
            position = withings_position(store, resource)
            if position is None:
                changed[resource] = "first"
                continue
            types = health.config.withings.meastypes or DEFAULT_MEASTYPES
            newer = [r.payload.get("modified", 0) for r in client.changed_since(resource, position, types)]
            if newer:
                changed[resource] = str(max(newer))
    except ProviderError as err:
        return dg.SensorResult(skip_reason=f"cannot ask Withings: {err}")
    finally:
        client.http.close()
    if not changed:
        return dg.SensorResult(skip_reason="nothing changed at Withings since the last landed sync")
    position = ",".join(f"{r}={p}" for r, p in sorted(changed.items()))
    return run_for("withings", position, next_attempt(context.cursor, position),
                   [withings_asset_key(r) for r in sorted(changed)])


@dg.sensor(
    name="hevy_changes",
    description="Asks Hevy's workout events (one request) whether a workout was updated or deleted after what landed.",
    asset_selection=[HEVY_WORKOUTS],
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def hevy_changes(context: dg.SensorEvaluationContext, health: HealthPipelineResource) -> dg.SensorResult:
    skip = not_now(context, health, "hevy")
    if skip is not None:
        return skip
    landed = hevy_position(health.raw_store())
    if landed is None:
        position = "first"
    else:
        client = health.hevy_client()
        try:
            newest = client.newest_change_since(landed)
        except ProviderError as err:
            return dg.SensorResult(skip_reason=f"cannot ask Hevy: {err}")
        finally:
            client.http.close()
        if newest is None:
            return dg.SensorResult(skip_reason="no workout changed at Hevy since the last landed event")
        position = newest.isoformat()
    return run_for("hevy", position, next_attempt(context.cursor, position), [HEVY_WORKOUTS])
