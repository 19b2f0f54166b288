"""Withings: scales, watches and cuffs, kept current by a `lastupdate` cursor sensor (its dense
per-minute data, when switched on, daily-partitioned), OAuth2."""

from datetime import date, datetime
from typing import Any

from health_pipeline.sources.base import Probe, SandboxApp, Source, TidyInput, oauth_sandbox_section
from health_pipeline.sources.withings import client
from health_pipeline.sources.withings.settings import WithingsConfig

# The optional dense data: resource -> (path, action)
_DENSE = {"intraday": ("/v2/measure", "getintradayactivity"), "sleep_hf": ("/v2/sleep", "get")}


def _client(settings: WithingsConfig, app: Any, store: Any) -> client.WithingsClient:
    from health_pipeline.providers.http import provider_http
    from health_pipeline.providers.oauth import OAuthTokens

    http = provider_http("withings", settings.requests_per_minute, app.max_wait_s,
                         limit_signal=client.rate_limit_signal())
    return client.WithingsClient(settings, OAuthTokens(settings, store, client.OAUTH), app.tz, http)


def _assets(settings: WithingsConfig, partitions: Any) -> list[Any]:
    from health_pipeline.sources.withings.assets import landing_assets

    return landing_assets(settings, partitions)


def _optional(settings: WithingsConfig) -> list[Any]:
    from health_pipeline.sources.withings.assets import optional_keys

    return optional_keys(settings)


def _changes() -> list[Any]:
    from health_pipeline.naming import landing_key

    return [landing_key("withings", resource) for resource in client.CATALOGUE]


def _sensors() -> list[Any]:
    from health_pipeline.sources.withings.sensor import withings_changes

    return [withings_changes]


def _endpoint_of(resource: str) -> str:
    found = client.CATALOGUE.get(resource)
    path, action = (found.path, found.action) if found else _DENSE[resource]
    return f"POST {path} action={action}"


def _fake(world: Any) -> Any:
    from health_pipeline.sources.withings.sandbox import FakeWithings

    return FakeWithings(world)


def _sandbox_section(base_url: str, start: date) -> str:
    return oauth_sandbox_section("withings", base_url, "/oauth2_user/authorize2", "/v2/oauth2", start,
                                 'redirect_uri = "https://health.example.org/withings/callback"\nintraday = true')


_W, _C = "window", "changes"

SOURCE = Source(
    name="withings",
    title="Withings",
    settings=WithingsConfig,
    driven_by="changes",
    oauth=client.OAUTH,
    build_client=_client,
    build_assets=_assets,
    build_sensors=_sensors,
    optional_keys=_optional,
    change_keys=_changes,
    probe=Probe("measures changed since now",
                lambda api, today: api.changed_since("measures", int(datetime.now().timestamp()))),
    endpoint_of=_endpoint_of,
    sandbox=SandboxApp("withings", _fake, _sandbox_section),
    tidy=(
        TidyInput("daily_activity", ("activity",), _C),
        TidyInput("heart_rate", ("intraday",), _W, option="intraday"),
        TidyInput("heart_rate_zones", ("activity",), _C),
        TidyInput("sleep_sessions", ("sleep_summary",), _C),
        TidyInput("body_measurements", ("measures",), _C),
        TidyInput("workouts", ("workouts",), _C),
        TidyInput("daily_scores", ("sleep_summary",), _C),
        TidyInput("daily_vitals", ("sleep_summary",), _C),
    ),
    summary={"steps": 1, "distance_m": 1, "active_kcal": 1, "total_kcal": 1, "floors": 1, "resting_hr_bpm": 2,
             "asleep_s": 2, "time_in_bed_s": 2, "sleep_score": 1, "respiratory_rate_brpm": 2, "weight_kg": 0,
             "fat_ratio_pct": 0},
)
