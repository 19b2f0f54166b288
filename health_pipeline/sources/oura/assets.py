"""Oura raw landing assets: one per dated catalogue endpoint, daily-partitioned, one run per range."""

import dagster as dg

from health_pipeline.naming import landing_key
from health_pipeline.pipeline.landing import RETRY_POLICY, build_daily_landing_asset, provider_failures
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource
from health_pipeline.sources.oura import client as oura


def oura_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [
        build_daily_landing_asset(
            provider="oura", resource=endpoint.resource, partitions=partitions,
            description=f"Oura `{endpoint.path}`, kept verbatim in the raw store. {endpoint.description}",
            metadata={"endpoint": endpoint.path, "max_window_days": endpoint.max_window_days},
        )
        for endpoint in oura.CATALOGUE.values()
        if endpoint.dated
    ]


def build_oura_profile_asset(endpoint: oura.OuraEndpoint) -> dg.AssetsDefinition:
    """An undated Oura endpoint (`personal_info`, `ring_configuration`), refreshed whole, daily."""

    @dg.asset(key=landing_key("oura", endpoint.resource), group_name="oura", kinds={"python", "sqlite"},
              tags={"provider": "oura"}, metadata={"endpoint": endpoint.path}, pool="oura_api",
              retry_policy=RETRY_POLICY,
              description=f"Oura `{endpoint.path}`, kept verbatim. {endpoint.description} Refreshed daily.")
    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              oura: SourceClientResource) -> dg.MaterializeResult:
        client = oura.client(raw_store.store())
        with provider_failures(client):
            records = client.fetch_profile(endpoint.resource)
        counts = raw_store.store().land("oura", endpoint.resource, records, complete=True)
        return dg.MaterializeResult(metadata={"requests": client.requests_made, **counts.as_metadata()})

    return _land


def oura_profile_assets() -> list[dg.AssetsDefinition]:
    return [build_oura_profile_asset(e) for e in oura.CATALOGUE.values() if not e.dated]


def landing_assets(settings: object, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every Oura landing asset: the dated endpoints (daily-partitioned) and the profile ones."""
    return [*oura_assets(partitions), *oura_profile_assets()]
