"""The `hevy_changes` sensor: asks Hevy's workout events whether a workout changed after what landed.

How these cursor sensors behave: health_pipeline/pipeline/sensors.py.
"""

import dagster as dg

from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource
from health_pipeline.pipeline.sensors import INTERVAL_S, next_attempt, not_now, run_for
from health_pipeline.providers.errors import ProviderError
from health_pipeline.sources.hevy.assets import HEVY_WORKOUTS
from health_pipeline.sources.hevy.sync import hevy_position


@dg.sensor(
    name="hevy_changes",
    description="Asks Hevy's workout events (one request) whether a workout was updated or deleted after what landed.",
    asset_selection=[HEVY_WORKOUTS],
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def hevy_changes(context: dg.SensorEvaluationContext, raw_store: RawStoreResource,
                 hevy: SourceClientResource) -> dg.SensorResult:
    skip = not_now(context, hevy)
    if skip is not None:
        return skip
    store = raw_store.store()
    landed = hevy_position(store)
    if landed is None:
        position = "first"
    else:
        client = hevy.client(store)
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
