"""Oura raw landing assets: one per catalogue endpoint, daily-partitioned, one run per range."""


import dagster as dg

from health_pipeline.defs.resources import HealthPipelineResource
from health_pipeline.defs.windows import partition_days
from health_pipeline.providers import oura
from health_pipeline.providers.errors import ProviderError
from health_pipeline.storage.raw_store import LandingCounts

RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def oura_asset_key(resource: str) -> dg.AssetKey:
    return dg.AssetKey(f"oura_{resource}")


def build_oura_asset(endpoint: oura.OuraEndpoint, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The landing asset for one Oura endpoint (adding an endpoint to the catalogue adds one)."""

    @dg.asset(
        key=oura_asset_key(endpoint.resource),
        group_name="oura",
        description=f"Oura `{endpoint.path}`, kept verbatim in the raw store. {endpoint.description}",
        kinds={"python", "sqlite"},
        tags={"provider": "oura"},
        metadata={"endpoint": endpoint.path, "max_window_days": endpoint.max_window_days},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="oura_api",
        retry_policy=RETRY_POLICY,
    )
    def _land(context: dg.AssetExecutionContext, health: HealthPipelineResource) -> dg.MaterializeResult:
        first, last = partition_days(context)
        start = max(first, health.config.oura.start_date)
        client = health.oura_client()
        store = health.raw_store()
        counts = LandingCounts()
        chunks = 0
        try:
            for chunk in client.fetch_window(endpoint.resource, start, last):
                counts += store.land(
                    "oura", endpoint.resource, chunk.records, window=(chunk.start, chunk.end),
                    watermark=chunk.end.isoformat(),
                    detail={"last_window": [chunk.start.isoformat(), chunk.end.isoformat()]},
                )
                chunks += 1
                context.log.info(f"landed {chunk.start}..{chunk.end}: {len(chunk.records)} records")
        except ProviderError as err:
            raise dg.Failure(description=str(err), allow_retries=err.retryable) from None
        finally:
            client.http.close()
        return dg.MaterializeResult(
            metadata={
                "window": f"{start.isoformat()}..{last.isoformat()}" if start <= last else "before start_date",
                "requests": client.requests_made,
                "chunks": chunks,
                "records_new": counts.new,
                "records_changed": counts.changed,
                "records_unchanged": counts.unchanged,
                "records_deleted": counts.deleted,
                "token_refreshes": client.tokens.refreshes,
            }
        )

    return _land


def oura_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [build_oura_asset(endpoint, partitions) for endpoint in oura.CATALOGUE.values() if endpoint.dated]


