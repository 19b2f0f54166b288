"""Fitbit, read through the Google Health API v4 (the legacy Web API answers 410): one
daily-partitioned asset per data type, OAuth2 with Google."""

from health_pipeline.declarations import ApiSource, DailyResource, Probe, TidyInput
from health_pipeline.providers.http import provider_http
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.settings import AppConfig
from health_pipeline.sources.fitbit import client
from health_pipeline.sources.fitbit.settings import FitbitConfig
from health_pipeline.storage.raw_store import RawStore

_VERBS = {"dailyRollUp": ("POST", ":dailyRollUp"), "rollUp": ("POST", ":rollUp"), "list": ("GET", "")}


def _client(settings: FitbitConfig, app: AppConfig, store: RawStore) -> client.GoogleHealthClient:
    http = provider_http("fitbit", settings.requests_per_minute, app.max_wait_s)
    tokens = OAuthTokens(settings, store, client.OAUTH, coordination_url=app.coordination_url)
    return client.GoogleHealthClient(settings, tokens, app.tz, http)


def _daily(endpoint: client.GoogleEndpoint, option: str | None = None) -> DailyResource:
    method, verb = _VERBS[endpoint.method]
    return DailyResource(endpoint.resource, f"{method} /v4/users/me/dataTypes/{endpoint.path_type}/dataPoints{verb}",
                         endpoint.description, {"data_type": endpoint.path_type, "method": endpoint.method,
                                                "max_window_days": endpoint.max_window_days}, option)


_W = "window"

SOURCE = ApiSource(
    name="fitbit",
    package=__name__,
    settings=FitbitConfig,
    oauth=client.OAUTH,
    build_client=_client,
    daily=(*(_daily(e) for e in client.CATALOGUE.values()),
           _daily(client.OPTIONAL["heart-rate-samples"], option="heart_rate_samples")),
    # Partial consent: a data type whose scope the user did not grant is skipped, not failed.
    skip_errors=(client.ScopeNotGranted,),
    probe=Probe("one day of steps", lambda api, today: next(iter(api.fetch_window("steps", today, today)), None)),
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
