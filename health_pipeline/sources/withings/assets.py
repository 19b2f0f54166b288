"""Withings raw landing assets, driven by the `withings_changes` sensor (`lastupdate`)."""

from datetime import datetime

import dagster as dg

from health_pipeline.naming import landing_key
from health_pipeline.pipeline.landing import RETRY_POLICY, provider_failures
from health_pipeline.pipeline.resources import RawStoreResource, SourceClientResource
from health_pipeline.pipeline.windows import sync_window
from health_pipeline.sources.withings.sync import sync_withings, sync_withings_window
from health_pipeline.sources.withings import client as withings
from health_pipeline.sources.withings.settings import WithingsConfig

WITHINGS_RESOURCES = tuple(withings.CATALOGUE)


def build_withings_asset(endpoint: withings.WithingsEndpoint) -> dg.AssetsDefinition:
    @dg.asset(
        key=landing_key("withings", endpoint.resource),
        group_name="withings",
        description=(f"Withings `{endpoint.action}` ({endpoint.path}), kept verbatim in the raw store. "
                     f"{endpoint.description} Lands what changed since the raw store's watermark "
                     "(everything since start_date the first time); a `sync --start/--end` run also fetches "
                     "those days whole."),
        kinds={"python", "sqlite"},
        tags={"provider": "withings"},
        metadata={"action": endpoint.action, "path": endpoint.path},
        pool="withings_api",
        retry_policy=RETRY_POLICY,
    )
    def _land(context: dg.AssetExecutionContext, raw_store: RawStoreResource,
              withings: SourceClientResource) -> dg.MaterializeResult:
        client = withings.client(raw_store.store())
        config = withings.config
        today = datetime.now(config.app.tz).date()
        window = sync_window(context)
        with provider_failures(client):
            if window is None:
                outcome = sync_withings(client, raw_store.store(), endpoint.resource, config.withings.start_date, today)
            else:
                outcome = sync_withings_window(client, raw_store.store(), endpoint.resource, *window,
                                               config.withings.start_date, today)
        return dg.MaterializeResult(metadata={
            **({"window": f"{window[0]}..{window[1]}"} if window else {}),
            "first_sync": outcome.first_sync, "lastupdate_before": outcome.watermark_before or "none",
            "lastupdate_after": outcome.watermark_after or "none", "requests": client.requests_made,
            **outcome.counts.as_metadata(),
        })

    return _land


def withings_assets() -> list[dg.AssetsDefinition]:
    return [build_withings_asset(endpoint) for endpoint in withings.CATALOGUE.values()]


def withings_optional_assets(partitions: dg.PartitionsDefinition, intraday: bool, sleep: bool) -> list[dg.AssetsDefinition]:
    """Per-minute watch data and high-frequency sleep, daily-partitioned, when switched on."""
    from health_pipeline.pipeline.landing import build_daily_landing_asset

    wanted = [("intraday", "Per-minute watch samples (steps, heart rate, ...), 24 hours a request.", intraday),
              ("sleep_hf", "High-frequency sleep: stage segments with per-minute heart and breathing rate.", sleep)]
    return [build_daily_landing_asset(
        provider="withings", resource=resource, partitions=partitions,
        description=f"Withings {description} One record per local day.",
        metadata={"option": resource},
    ) for resource, description, on in wanted if on]


def landing_assets(settings: WithingsConfig, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every Withings landing asset: the change-driven ones, plus the dense daily data switched on."""
    return [*withings_assets(),
            *withings_optional_assets(partitions, settings.intraday, settings.high_frequency_sleep)]


def optional_keys(settings: WithingsConfig) -> list[dg.AssetKey]:
    """The switched-on dense daily assets, which the schedules refresh."""
    wanted = (("intraday", settings.intraday), ("sleep_hf", settings.high_frequency_sleep))
    return [landing_key("withings", resource) for resource, on in wanted if on]
