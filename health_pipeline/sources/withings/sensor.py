"""The `withings_changes` sensor: asks Withings' `lastupdate` whether anything changed after what landed.

How these cursor sensors behave: health_pipeline/pipeline/sensors.py.
"""

import dagster as dg

from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource
from health_pipeline.pipeline.sensors import INTERVAL_S, next_attempt, not_now, run_for
from health_pipeline.providers.errors import ProviderError
from health_pipeline.naming import landing_key
from health_pipeline.sources.withings.assets import WITHINGS_RESOURCES
from health_pipeline.sources.withings.client import DEFAULT_MEASTYPES
from health_pipeline.sources.withings.sync import withings_position


@dg.sensor(
    name="withings_changes",
    description="Asks Withings (one `lastupdate` call per resource) whether anything changed after what landed.",
    asset_selection=[landing_key("withings", r) for r in WITHINGS_RESOURCES],
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def withings_changes(context: dg.SensorEvaluationContext, raw_store: RawStoreResource,
                     withings: SourceClientResource) -> dg.SensorResult:
    skip = not_now(context, withings)
    if skip is not None:
        return skip
    store = raw_store.store()
    client = withings.client(store)
    changed: dict[str, str] = {}
    try:
        for resource in WITHINGS_RESOURCES:
            position = withings_position(store, resource)
            if position is None:
                changed[resource] = "first"
                continue
            types = withings.settings.meastypes or DEFAULT_MEASTYPES
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
                   [landing_key("withings", r) for r in sorted(changed)])
