"""A config with all four providers pointed at a sandbox, authorised, for the tidy-model tests."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.sandbox.server import Sandbox


def all_providers_config(path: Path, sandbox: Sandbox, start: date, timezone: str, extra: str = "") -> Config:
    """Write and load a config enabling Oura, Fitbit, Withings (with intraday) and Hevy; authorise them."""
    return write_sandbox_config(path, sandbox_config_text(sandbox, start, timezone, "me", extra=extra))


def run_range(config: Config, instance: dg.DagsterInstance, keys: list[str] | None, start: date, end: date,
              tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """One run over [start, end] of `keys` (default: every asset but the export), without raising."""
    defs = build_definitions(config)
    assets = list(defs.assets or [])
    selection = keys or [k.to_user_string() for a in assets for k in a.keys if k.to_user_string() != "export_victoriametrics"]
    return dg.materialize(
        assets, selection=selection, instance=instance, resources=dict(defs.resources or {}), raise_on_error=False,
        tags={"dagster/asset_partition_range_start": start.isoformat(),
              "dagster/asset_partition_range_end": end.isoformat(), **(tags or {})})


def checks_of(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], Any]:
    """(asset, check) -> the check evaluation of a run."""
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def utc(value: str) -> datetime:
    from datetime import timezone

    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
