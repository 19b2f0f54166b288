"""Which assets make up a sync: each provider's landing assets (date-driven, change-driven,
reference data) and what is downstream."""

from collections.abc import Iterable

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.export.assets import EXPORT_KEY
from health_pipeline.sources.fitbit.assets import fitbit_asset_key
from health_pipeline.sources.hevy.assets import HEVY_REFERENCE, HEVY_WORKOUTS
from health_pipeline.sources.oura.assets import oura_asset_key
from health_pipeline.sources.withings.assets import WITHINGS_RESOURCES, withings_asset_key
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.oura import client as oura
from health_pipeline.tidy.catalog import ALL_TABLES

# Daily-partitioned landing assets, per provider.
DAILY_PROVIDERS: dict[str, list[dg.AssetKey]] = {
    "oura": [oura_asset_key(e.resource) for e in oura.CATALOGUE.values() if e.dated],
    "fitbit": [fitbit_asset_key(e.resource) for e in google_health.CATALOGUE.values()],
}
# Change-driven landing assets (raw-store watermarks), per provider.
CHANGE_PROVIDERS: dict[str, list[dg.AssetKey]] = {
    "withings": [withings_asset_key(r) for r in WITHINGS_RESOURCES],
    "hevy": [HEVY_WORKOUTS],
}
# Profile and reference data, refreshed whole (the `reference_daily` schedule; `sync` when due).
REFERENCE_KEYS: dict[str, list[dg.AssetKey]] = {
    "oura": [oura_asset_key(e.resource) for e in oura.CATALOGUE.values() if not e.dated],
    "hevy": [dg.AssetKey(f"hevy_{resource}") for resource in HEVY_REFERENCE],
}


def downstream_keys(config: Config, include_export: bool = True) -> list[dg.AssetKey]:
    keys = [dg.AssetKey(name) for name in ALL_TABLES]
    if include_export and config.victoriametrics.enabled:
        keys.append(EXPORT_KEY)
    return keys


def optional_daily_keys(config: Config, providers: Iterable[str] | None = None) -> list[dg.AssetKey]:
    """The switched-on optional daily assets (`[fitbit] heart_rate_samples`, Withings dense data) of
    `providers` (default: every provider)."""
    wanted = set(providers) if providers is not None else {"fitbit", "withings"}
    keys = []
    if "fitbit" in wanted and config.fitbit.enabled and config.fitbit.option("heart_rate_samples"):
        keys.append(dg.AssetKey("fitbit_heart_rate_samples"))
    if "withings" in wanted and config.withings.enabled and config.withings.option("intraday"):
        keys.append(dg.AssetKey("withings_intraday"))
    if "withings" in wanted and config.withings.enabled and config.withings.option("high_frequency_sleep"):
        keys.append(dg.AssetKey("withings_sleep_hf"))
    return keys


def daily_job_keys(config: Config) -> list[dg.AssetKey]:
    """What the schedules materialize: the enabled date-driven providers and everything downstream."""
    raw = [key for name, keys in DAILY_PROVIDERS.items() if config.provider(name).enabled for key in keys]
    raw += optional_daily_keys(config)
    # The tidy tables also follow the raw store's Withings and Hevy changes on every run.
    changes = config.withings.enabled or config.hevy.enabled
    return raw + downstream_keys(config) if raw or changes else []
