"""Which assets make up a sync: each API source's landing assets by how they are kept current (daily,
change-driven, snapshots) and what is downstream, from the registry the config was loaded with."""

from collections.abc import Iterable

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.declarations import Registry
from health_pipeline.naming import EXPORT_ASSET, landing_key
from health_pipeline.tidy.catalog import all_tables_of


def daily_keys_by_source(registry: Registry) -> dict[str, list[dg.AssetKey]]:
    """Daily-partitioned landing assets that are always on, per source."""
    found = {s.name: [landing_key(s.name, r.resource) for r in s.daily if r.option is None] for s in registry.apis}
    return {name: keys for name, keys in found.items() if keys}


def change_keys_by_source(registry: Registry) -> dict[str, list[dg.AssetKey]]:
    """Change-driven landing assets (raw-store watermarks), per source."""
    return {s.name: [landing_key(s.name, r.resource) for r in s.cursor.resources]
            for s in registry.apis if s.cursor is not None}


def snapshot_keys_by_source(registry: Registry) -> dict[str, list[dg.AssetKey]]:
    """Profile and reference data, refreshed whole (the `reference_daily` schedule; `sync` when due)."""
    return {s.name: [landing_key(s.name, r.resource) for r in s.snapshots] for s in registry.apis if s.snapshots}


def follow_up_keys(config: Config, providers: Iterable[str] | None = None) -> list[dg.AssetKey]:
    """The switched-on follow-ups (records fetched one by one per parent record) of `providers` (default: every source)."""
    wanted = set(providers) if providers is not None else set(config.registry.api_names())
    return [landing_key(s.name, f.resource) for s in config.registry.apis
            if s.name in wanted and config.provider(s.name).enabled
            for f in s.follow_up_resources(config.provider(s.name))]


def downstream_keys(config: Config, include_export: bool = True) -> list[dg.AssetKey]:
    keys = [dg.AssetKey(name) for name in all_tables_of(config.registry)]
    if include_export and config.victoriametrics.enabled:
        keys.append(dg.AssetKey(EXPORT_ASSET))
    return keys


def optional_daily_keys(config: Config, providers: Iterable[str] | None = None) -> list[dg.AssetKey]:
    """The switched-on optional daily assets (`[fitbit] heart_rate_samples`, Withings dense data) of
    `providers` (default: every source)."""
    wanted = set(providers) if providers is not None else set(config.registry.api_names())
    return [landing_key(s.name, r.resource) for s in config.registry.apis
            if s.name in wanted and config.provider(s.name).enabled
            for r in s.daily_resources(config.provider(s.name)) if r.option is not None]


def daily_job_keys(config: Config) -> list[dg.AssetKey]:
    """What the schedules materialize: the enabled date-driven sources and everything downstream."""
    raw = [key for name, keys in daily_keys_by_source(config.registry).items() if config.provider(name).enabled
           for key in keys]
    raw += optional_daily_keys(config)
    # The tidy tables also follow the raw store's change-driven sources on every run.
    changes = any(config.provider(name).enabled for name in change_keys_by_source(config.registry))
    return raw + downstream_keys(config) if raw or changes else []
