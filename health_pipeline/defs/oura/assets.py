"""Oura raw landing assets: one per dated catalogue endpoint, daily-partitioned, one run per range."""

import dagster as dg

from health_pipeline.defs.landing import RETRY_POLICY, build_daily_landing_asset, landing_key
from health_pipeline.providers import oura

__all__ = ["RETRY_POLICY", "oura_asset_key", "oura_assets"]


def oura_asset_key(resource: str) -> dg.AssetKey:
    return landing_key("oura", resource)


def oura_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [
        build_daily_landing_asset(
            provider="oura", resource=endpoint.resource, partitions=partitions,
            description=f"Oura `{endpoint.path}`, kept verbatim in the raw store. {endpoint.description}",
            metadata={"endpoint": endpoint.path, "max_window_days": endpoint.max_window_days},
            client=lambda health: health.oura_client(),
        )
        for endpoint in oura.CATALOGUE.values()
        if endpoint.dated
    ]


def build_oura_profile_asset(endpoint: oura.OuraEndpoint) -> dg.AssetsDefinition:
    """An undated Oura endpoint (`personal_info`, `ring_configuration`), refreshed whole, daily."""
    from health_pipeline.defs.landing import RETRY_POLICY as retry
    from health_pipeline.defs.resources import HealthPipelineResource
    from health_pipeline.providers.errors import ProviderError

    @dg.asset(key=oura_asset_key(endpoint.resource), group_name="oura", kinds={"python", "sqlite"},
              tags={"provider": "oura"}, metadata={"endpoint": endpoint.path}, pool="oura_api", retry_policy=retry,
              description=f"Oura `{endpoint.path}`, kept verbatim. {endpoint.description} Refreshed daily.")
    def _land(context: dg.AssetExecutionContext, health: HealthPipelineResource) -> dg.MaterializeResult:
        client = health.oura_client()
        store = health.raw_store()
        try:
            records = client.fetch_profile(endpoint.resource)
        except ProviderError as err:
            raise dg.Failure(description=str(err), allow_retries=err.retryable) from None
        finally:
            client.http.close()
        counts = store.land("oura", endpoint.resource, records)
        gone = {r.record_id for r in store.records("oura", endpoint.resource)} - {r.record_id for r in records}
        counts.deleted += store.tombstone("oura", endpoint.resource, sorted(gone))
        return dg.MaterializeResult(metadata={
            "requests": client.requests_made, "records_new": counts.new, "records_changed": counts.changed,
            "records_unchanged": counts.unchanged, "records_deleted": counts.deleted})

    return _land


def oura_profile_assets() -> list[dg.AssetsDefinition]:
    return [build_oura_profile_asset(e) for e in oura.CATALOGUE.values() if not e.dated]
