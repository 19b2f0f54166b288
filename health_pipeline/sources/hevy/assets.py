"""Hevy raw landing assets: workouts driven by the `hevy_changes` sensor, reference data daily."""

import dagster as dg

from health_pipeline.naming import landing_key
from health_pipeline.pipeline.landing import RETRY_POLICY, provider_failures
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource
from health_pipeline.pipeline.windows import sync_window
from health_pipeline.sources.hevy.sync import sync_hevy_reference, sync_hevy_window, sync_hevy_workouts

HEVY_WORKOUTS = landing_key("hevy", "workouts")
HEVY_REFERENCE = {"routines": "Saved routines.", "exercise_templates": "Exercise templates (built in and custom)."}


@dg.asset(
    key=HEVY_WORKOUTS,
    group_name="hevy",
    kinds={"python", "sqlite"},
    tags={"provider": "hevy"},
    metadata={"path": "/v1/workouts/events"},
    pool="hevy_api",
    retry_policy=RETRY_POLICY,
)
def hevy_workouts(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
                  hevy: SourceClientResource) -> dg.MaterializeResult:
    """Hevy workouts (exercises and sets), kept verbatim: updated workouts are upserted and deleted
    ones tombstoned, following `/v1/workouts/events` from the raw store's watermark; a
    `sync --start/--end` run also lists the workouts of those days whole (`/v1/workouts`)."""
    client = hevy.client(raw_store.store())
    window = sync_window(context)
    with provider_failures(client):
        if window is None:
            outcome = sync_hevy_workouts(client, raw_store.store(), hevy.settings.start_date)
        else:
            outcome = sync_hevy_window(client, raw_store.store(), *window, hevy.settings.start_date)
    return dg.MaterializeResult(metadata={
        **({"window": f"{window[0]}..{window[1]}"} if window else {}),
        "first_sync": outcome.first_sync, "events_since": outcome.watermark_before or "start_date",
        "watermark_after": outcome.watermark_after or "none", "requests": client.requests_made,
        **outcome.counts.as_metadata(),
    })


def build_reference_asset(resource: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(key=landing_key("hevy", resource), group_name="hevy", kinds={"python", "sqlite"},
              tags={"provider": "hevy"}, description=f"Hevy {description} Refreshed whole, daily.",
              pool="hevy_api", retry_policy=RETRY_POLICY)
    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              hevy: SourceClientResource) -> dg.MaterializeResult:
        client = hevy.client(raw_store.store())
        with provider_failures(client):
            counts = sync_hevy_reference(client, raw_store.store(), resource)
        return dg.MaterializeResult(metadata={"requests": client.requests_made, **counts.as_metadata()})

    return _land


def hevy_assets() -> list[dg.AssetsDefinition]:
    return [hevy_workouts, *(build_reference_asset(r, d) for r, d in HEVY_REFERENCE.items())]


def landing_assets(settings: object, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every Hevy landing asset: workouts (change-driven) and the reference data."""
    return hevy_assets()
