"""Fitbit raw landing assets, read through the Google Health API v4: one per data type, daily."""

import dagster as dg

from health_pipeline.pipeline.landing import build_daily_landing_asset
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.fitbit.settings import FitbitConfig


def fitbit_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [
        build_daily_landing_asset(
            provider="fitbit", resource=endpoint.resource, partitions=partitions,
            description=(f"Fitbit `{endpoint.resource}` from the Google Health API "
                         f"(`{endpoint.method}`), kept verbatim in the raw store. {endpoint.description}"),
            metadata={"data_type": endpoint.resource, "method": endpoint.method,
                      "max_window_days": endpoint.max_window_days},
            # Partial consent: a data type whose scope the user did not grant is skipped, not failed.
            skip_errors=(google_health.ScopeNotGranted,),
        )
        for endpoint in google_health.CATALOGUE.values()
    ]


def fitbit_optional_assets(partitions: dg.PartitionsDefinition, samples: bool) -> list[dg.AssetsDefinition]:
    """`fitbit_heart_rate_samples` when `[fitbit] heart_rate_samples = true`."""
    if not samples:
        return []
    endpoint = google_health.OPTIONAL["heart-rate-samples"]
    return [build_daily_landing_asset(
        provider="fitbit", resource=endpoint.resource, partitions=partitions,
        description=f"Fitbit raw heart-rate samples from the Google Health API (`list`). {endpoint.description}",
        metadata={"data_type": "heart-rate", "method": "list"},
        skip_errors=(google_health.ScopeNotGranted,),
    )]


def landing_assets(settings: FitbitConfig, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every Fitbit landing asset: one per data type, plus the raw samples when switched on."""
    return [*fitbit_assets(partitions), *fitbit_optional_assets(partitions, settings.heart_rate_samples)]
