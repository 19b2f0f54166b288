"""A config with all four providers pointed at a sandbox, authorised, for the tidy-model tests."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from health_pipeline.config import Config, load_config
from health_pipeline.defs.build import build_definitions
from health_pipeline.demo import authorize_with_sandbox
from health_pipeline.providers import google_health, oura, withings
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore


def all_providers_config(path: Path, sandbox: Sandbox, start: date, timezone: str, extra: str = "") -> Config:
    """Write and load a config enabling Oura, Fitbit, Withings (with intraday) and Hevy; authorise them."""
    o, g, w = sandbox.url("oura"), sandbox.url("google-health"), sandbox.url("withings")

    def oauth(name: str, base: str, authorize: str, token: str, more: str = "") -> str:
        return (f'[{name}]\nenabled = true\nstart_date = "{start}"\nbase_url = "{base}"\nauthorize_url = "{authorize}"\n'
                f'token_url = "{token}"\nclient_id = "sandbox"\nclient_secret = "sandbox-secret"\n{more}\n')

    path.write_text(
        f'[app]\ntimezone = "{timezone}"\nuser = "tester"\n\n'
        + oauth("oura", o, f"{o}/oauth/authorize", f"{o}/oauth/token")
        + oauth("fitbit", g, f"{g}/o/oauth2/v2/auth", f"{g}/token")
        + oauth("withings", w, f"{w}/oauth2_user/authorize2", f"{w}/v2/oauth2",
                'redirect_uri = "https://health.example.org/withings/callback"\nintraday = true')
        + f'[hevy]\nenabled = true\nstart_date = "{start}"\nbase_url = "{sandbox.url("hevy")}"\n'
          'api_key = "sandbox-api-key"\n\n' + extra,
        encoding="utf-8")
    path.chmod(0o600)
    config = load_config(path)
    store = RawStore(config.app.raw_db)
    store.init()
    for provider, module in ((config.oura, oura), (config.fitbit, google_health), (config.withings, withings)):
        authorize_with_sandbox(OAuthTokens(provider, store, module.OAUTH))
    return config


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
