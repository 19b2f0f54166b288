"""Headless materialization (`health-pipeline sync` / `rebuild`): one Dagster run per call.

Runs are recorded in the Dagster instance, so they show up in the UI like any other run.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dagster as dg

from health_pipeline.config import Config, ConfigError
from health_pipeline.defs.build import build_definitions
from health_pipeline.defs.partitions import daily_partitions
from health_pipeline.defs.selection import DAILY_PROVIDERS, daily_job_keys, downstream_keys

__all__ = ["DAILY_PROVIDERS", "daily_job_keys", "downstream_keys", "materialize_range", "raw_asset_keys"]

class SyncError(Exception):
    """The run failed; the message lists each failed step in one line."""


@dataclass
class SyncResult:
    """What a sync did: the run, its range, and each asset's metadata."""

    run_id: str
    start: date
    end: date
    assets: list[str]
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)


def raw_asset_keys(config: Config, providers: list[str] | None) -> list[dg.AssetKey]:
    """Landing assets of the chosen (or all enabled) date-driven providers."""
    wanted = providers or [p for p in DAILY_PROVIDERS if config.provider(p).enabled]
    for name in wanted:
        if not config.provider(name).enabled:
            raise ConfigError(f"--provider {name}: disabled in the config ([{name}] enabled = false)")
        if name not in DAILY_PROVIDERS:
            raise ConfigError(
                f"--provider {name}: this version syncs only {', '.join(DAILY_PROVIDERS)} with `sync`"
            )
    return [key for name in wanted for key in DAILY_PROVIDERS[name]]


def today_in(config: Config) -> date:
    return datetime.now(config.app.tz).date()


def due_range(config: Config, instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> tuple[date, date]:
    """From the first never-materialized day (at most yesterday, for revisions) through today."""
    partitions = daily_partitions(config)
    all_keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
    today = today_in(config)
    first = today - timedelta(days=1)
    for key in keys:
        done = instance.get_materialized_partitions(key)
        missing = next((k for k in all_keys if k not in done), None)
        if missing is not None:
            first = min(first, date.fromisoformat(missing))
    return max(first, date.fromisoformat(all_keys[0])), today


def check_range(config: Config, start: date, end: date) -> None:
    partitions = daily_partitions(config)
    first = date.fromisoformat(partitions.start.strftime("%Y-%m-%d"))
    today = today_in(config)
    if start > end:
        raise ConfigError(f"--start {start} is after --end {end}")
    if start < first:
        raise ConfigError(f"--start {start} is before the earliest configured start_date {first}")
    if end > today:
        raise ConfigError(f"--end {end} is in the future (today is {today} in {config.app.timezone})")


def materialize_range(
    config: Config, instance: dg.DagsterInstance, keys: list[dg.AssetKey], start: date, end: date,
    *, log_level: str = "WARNING", tags: dict[str, str] | None = None,
) -> SyncResult:
    """Materialize `keys` over [start, end] in a single run (console logs from `log_level` up)."""
    defs = build_definitions(config)
    assets = list(defs.assets or [])
    result = dg.materialize(
        assets,
        selection=dg.AssetSelection.assets(*keys),
        instance=instance,
        resources=dict(defs.resources or {}),
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
            "health/trigger": "cli",
            **(tags or {}),
        },
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )
    if not result.success:
        failures = []
        for event in result.get_step_failure_events():
            error = event.step_failure_data.error
            while error is not None and error.cause is not None and "max_retries" in error.message:
                error = error.cause  # report why the last attempt failed, not that retries ran out
            message = error.message.strip().splitlines()[0] if error else "unknown error"
            failures.append(f"{event.step_key}: {_strip_dagster_prefix(message)}")
        raise SyncError(f"run {result.run_id} failed: " + " | ".join(failures or ["see the Dagster UI"]))
    sync = SyncResult(result.run_id, start, end, [k.to_user_string() for k in keys])
    for key in keys:
        materializations = result.asset_materializations_for_node(key.to_python_identifier())
        if materializations:
            sync.metadata[key.to_user_string()] = {
                name: value.value for name, value in materializations[-1].metadata.items()
            }
    return sync


def _strip_dagster_prefix(message: str) -> str:
    for prefix in ("dagster._core.definitions.events.Failure: ", "Failure: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
