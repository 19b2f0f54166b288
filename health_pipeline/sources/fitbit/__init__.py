"""Fitbit, read through the Google Health API v4 (the legacy Web API answers 410): one
daily-partitioned asset per data type, OAuth2 with Google."""

from datetime import date
from typing import Any

from health_pipeline.sources.base import Probe, SandboxApp, Source, TidyInput, oauth_sandbox_section
from health_pipeline.sources.fitbit import client
from health_pipeline.sources.fitbit.settings import FitbitConfig

_VERBS = {"dailyRollUp": ("POST", ":dailyRollUp"), "rollUp": ("POST", ":rollUp"), "list": ("GET", "")}


def _client(settings: FitbitConfig, app: Any, store: Any) -> client.GoogleHealthClient:
    from health_pipeline.providers.http import provider_http
    from health_pipeline.providers.oauth import OAuthTokens

    http = provider_http("fitbit", settings.requests_per_minute, app.max_wait_s)
    return client.GoogleHealthClient(settings, OAuthTokens(settings, store, client.OAUTH), app.tz, http)


def _assets(settings: FitbitConfig, partitions: Any) -> list[Any]:
    from health_pipeline.sources.fitbit.assets import landing_assets

    return landing_assets(settings, partitions)


def _key(resource: str) -> Any:
    from health_pipeline.naming import landing_key

    return landing_key("fitbit", resource)


def _endpoint_of(resource: str) -> str:
    endpoint = client.CATALOGUE.get(resource) or client.OPTIONAL[resource]
    method, verb = _VERBS[endpoint.method]
    return f"{method} /v4/users/me/dataTypes/{endpoint.path_type}/dataPoints{verb}"


def _fake(world: Any) -> Any:
    from health_pipeline.sources.fitbit.sandbox import FakeGoogleHealth

    return FakeGoogleHealth(world)


def _sandbox_section(base_url: str, start: date) -> str:
    return oauth_sandbox_section("fitbit", base_url, "/o/oauth2/v2/auth", "/token", start)


_W = "window"

SOURCE = Source(
    name="fitbit",
    title="Fitbit",
    settings=FitbitConfig,
    driven_by="daily",
    oauth=client.OAUTH,
    build_client=_client,
    build_assets=_assets,
    daily_keys=lambda: [_key(e.resource) for e in client.CATALOGUE.values()],
    optional_keys=lambda settings: [_key("heart-rate-samples")] if settings.heart_rate_samples else [],
    probe=Probe("one day of steps", lambda api, today: next(iter(api.fetch_window("steps", today, today)), None)),
    endpoint_of=_endpoint_of,
    sandbox=SandboxApp("google-health", _fake, _sandbox_section),
    check_settings=client.check_not_legacy,
    tidy=(
        TidyInput("daily_activity", ("steps", "distance", "floors", "altitude", "total-calories",
                                     "active-energy-burned", "active-minutes", "daily-resting-heart-rate"), _W),
        TidyInput("heart_rate", ("heart-rate",), _W),
        TidyInput("heart_rate_zones", ("time-in-heart-rate-zone", "calories-in-heart-rate-zone"), _W),
        TidyInput("sleep_sessions", ("sleep",), _W),
        TidyInput("body_measurements", ("weight", "body-fat"), _W),
        TidyInput("workouts", ("exercise",), _W),
        TidyInput("daily_vitals", ("daily-heart-rate-variability", "daily-oxygen-saturation",
                                   "daily-respiratory-rate", "daily-sleep-temperature-derivations"), _W),
    ),
    summary={"steps": 0, "distance_m": 0, "active_kcal": 0, "total_kcal": 0, "floors": 0, "resting_hr_bpm": 0,
             "asleep_s": 1, "time_in_bed_s": 1, "hrv_ms": 1, "spo2_pct": 1, "temperature_deviation_c": 1,
             "vo2_max": 1, "respiratory_rate_brpm": 1, "weight_kg": 1, "fat_ratio_pct": 1},
)
