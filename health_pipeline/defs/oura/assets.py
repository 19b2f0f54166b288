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
