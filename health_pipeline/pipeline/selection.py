"""Which assets make up a sync: each source's landing assets (date-driven, change-driven,
reference data) and what is downstream, from the registry."""

from collections.abc import Iterable

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.export.assets import EXPORT_KEY
from health_pipeline.sources import SOURCES
from health_pipeline.tidy.catalog import ALL_TABLES

# Daily-partitioned landing assets, per source.
DAILY_PROVIDERS: dict[str, list[dg.AssetKey]] = {s.name: s.daily_keys() for s in SOURCES if s.daily_keys()}
# Change-driven landing assets (raw-store watermarks), per source.
CHANGE_PROVIDERS: dict[str, list[dg.AssetKey]] = {s.name: s.change_keys() for s in SOURCES if s.change_keys()}
# Profile and reference data, refreshed whole (the `reference_daily` schedule; `sync` when due).
REFERENCE_KEYS: dict[str, list[dg.AssetKey]] = {s.name: s.reference_keys() for s in SOURCES if s.reference_keys()}


def downstream_keys(config: Config, include_export: bool = True) -> list[dg.AssetKey]:
    keys = [dg.AssetKey(name) for name in ALL_TABLES]
    if include_export and config.victoriametrics.enabled:
        keys.append(EXPORT_KEY)
    return keys


def optional_daily_keys(config: Config, providers: Iterable[str] | None = None) -> list[dg.AssetKey]:
    """The switched-on optional daily assets (`[fitbit] heart_rate_samples`, Withings dense data) of
    `providers` (default: every source)."""
    wanted = set(providers) if providers is not None else {s.name for s in SOURCES}
    return [key for s in SOURCES if s.name in wanted and config.provider(s.name).enabled
            for key in s.optional_keys(config.provider(s.name))]


def daily_job_keys(config: Config) -> list[dg.AssetKey]:
    """What the schedules materialize: the enabled date-driven sources and everything downstream."""
    raw = [key for name, keys in DAILY_PROVIDERS.items() if config.provider(name).enabled for key in keys]
    raw += optional_daily_keys(config)
    # The tidy tables also follow the raw store's change-driven sources on every run.
    changes = any(config.provider(name).enabled for name in CHANGE_PROVIDERS)
    return raw + downstream_keys(config) if raw or changes else []

