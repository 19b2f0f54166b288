"""Oura: the ring's API v2, daily-partitioned (every dated collection one asset), OAuth2."""

from datetime import date
from typing import Any

from health_pipeline.sources.base import Probe, SandboxApp, Source, TidyInput, oauth_sandbox_section
from health_pipeline.sources.oura import client
from health_pipeline.sources.oura.settings import OuraConfig


def _client(settings: OuraConfig, app: Any, store: Any) -> client.OuraClient:
    from health_pipeline.providers.http import provider_http
    from health_pipeline.providers.oauth import OAuthTokens

    http = provider_http("oura", settings.requests_per_minute, app.max_wait_s)
    return client.OuraClient(settings, OAuthTokens(settings, store, client.OAUTH), app.tz, http)


def _assets(settings: OuraConfig, partitions: Any) -> list[Any]:
    from health_pipeline.sources.oura.assets import landing_assets

    return landing_assets(settings, partitions)


def _keys(dated: bool) -> list[Any]:
    from health_pipeline.naming import landing_key

    return [landing_key("oura", e.resource) for e in client.CATALOGUE.values() if e.dated == dated]


def _fake(world: Any) -> Any:
    from health_pipeline.sources.oura.sandbox import FakeOura

    return FakeOura(world)


def _sandbox_section(base_url: str, start: date) -> str:
    return oauth_sandbox_section("oura", base_url, "/oauth/authorize", "/oauth/token", start)


_W, _C = "window", "changes"

SOURCE = Source(
    name="oura",
    title="Oura",
    settings=OuraConfig,
    driven_by="daily",
    oauth=client.OAUTH,
    build_client=_client,
    build_assets=_assets,
    daily_keys=lambda: _keys(True),
    reference_keys=lambda: _keys(False),
    probe=Probe("GET personal_info", lambda api, today: api.fetch_profile("personal_info")),
    endpoint_of=lambda resource: f"GET {client.CATALOGUE[resource].path}",
    sandbox=SandboxApp("oura", _fake, _sandbox_section),
    tidy=(
        TidyInput("daily_activity", ("daily_activity",), _W),
        TidyInput("heart_rate", ("heartrate",), _W),
        TidyInput("sleep_sessions", ("sleep",), _W),
        TidyInput("sleep_samples", ("sleep",), _W),
        TidyInput("workouts", ("workout",), _W),
        TidyInput("daily_scores", ("daily_readiness", "daily_sleep", "daily_activity"), _W),
        TidyInput("daily_vitals", ("sleep", "daily_readiness", "daily_spo2", "daily_stress", "vO2_max"), _W),
    ),
    summary={"steps": 2, "distance_m": 2, "active_kcal": 2, "total_kcal": 2, "resting_hr_bpm": 1,
             "asleep_s": 0, "time_in_bed_s": 0, "sleep_score": 0, "readiness_score": 0, "hrv_ms": 0,
             "spo2_pct": 0, "temperature_deviation_c": 0, "vo2_max": 0, "respiratory_rate_brpm": 0},
)
