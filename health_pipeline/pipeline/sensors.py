"""Cursor sensors for the change-driven providers: Withings (`lastupdate`) and Hevy (events).

The raw store's watermark, not the sensor cursor, says what has landed. A tick asks the provider
cheaply whether anything changed after it; only then does it request a run, whose `run_key`
encodes the change position. If that position is asked for again, the last run did not land it
(it failed): a new attempt number makes a new run. One run per provider at a time.
"""

import json

import dagster as dg
from dagster import DagsterRunStatus, RunsFilter

from health_pipeline.naming import PROVIDER_TAG, fetch_tag, fetch_tags
from health_pipeline.pipeline.resources import SourceClientResource

ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
INTERVAL_S = 300


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


def not_now(context: dg.SensorEvaluationContext, source: SourceClientResource) -> dg.SensorResult | None:
    """Why this tick must not ask for a run (source disabled, or one of its runs in flight), or None."""
    provider = source.source
    if not source.settings.enabled:
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
