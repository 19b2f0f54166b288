"""Oura: the ring's API v2, daily-partitioned (every dated collection one asset), OAuth2."""

from health_pipeline.declarations import ApiSource, DailyResource, Probe, SnapshotResource, TidyInput
from health_pipeline.providers.http import provider_http
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.settings import AppConfig
from health_pipeline.sources.oura import client
from health_pipeline.sources.oura.settings import OuraConfig
from health_pipeline.storage.raw_store import RawStore


def _client(settings: OuraConfig, app: AppConfig, store: RawStore) -> client.OuraClient:
    http = provider_http("oura", settings.requests_per_minute, app.max_wait_s)
    tokens = OAuthTokens(settings, store, client.OAUTH, coordination_url=app.coordination_url)
    return client.OuraClient(settings, tokens, app.tz, http)


_W = "window"

SOURCE = ApiSource(
    name="oura",
    package=__name__,
    settings=OuraConfig,
    oauth=client.OAUTH,
    build_client=_client,
    daily=tuple(DailyResource(e.resource, f"GET {e.path}", e.description, {"max_window_days": e.max_window_days})
                for e in client.CATALOGUE.values() if e.dated),
    snapshots=tuple(SnapshotResource(e.resource, f"GET {e.path}", e.description)
                    for e in client.CATALOGUE.values() if not e.dated),
    snapshot=lambda api, resource: api.fetch_profile(resource),
    probe=Probe("GET personal_info", lambda api, today: api.fetch_profile("personal_info")),
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
