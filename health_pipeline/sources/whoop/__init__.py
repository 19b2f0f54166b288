"""WHOOP: the strap's developer API v2, daily-partitioned by the local day each record counts towards
(cycles, recoveries, sleeps, workouts), the profile and body measurement refreshed whole, OAuth2 with
the `offline` scope and rotating refresh tokens. Scoring completes after the strap syncs, sometimes
days later: records still `PENDING_SCORE` are modelled as NULL and their days fetched again until
WHOOP has scored them."""

from health_pipeline.declarations import ApiSource, DailyResource, Probe, SnapshotResource, TidyInput, Unsettled
from health_pipeline.providers.http import provider_http
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.settings import AppConfig
from health_pipeline.sources.whoop import client
from health_pipeline.sources.whoop.settings import WhoopConfig
from health_pipeline.storage.raw_store import RawStore


def _client(settings: WhoopConfig, app: AppConfig, store: RawStore) -> client.WhoopClient:
    http = provider_http("whoop", settings.requests_per_minute, app.max_wait_s,
                         windows=client.windows(settings.requests_per_minute), read_quota=client.read_quota,
                         person=store.person, coordination_url=app.coordination_url)
    tokens = OAuthTokens(settings, store, client.OAUTH, coordination_url=app.coordination_url)
    return client.WhoopClient(settings, tokens, app.tz, http)


# Scored later (PENDING_SCORE until the strap has synced and WHOOP has computed it); UNSCORABLE is
# final and kept as it is.
_PENDING = Unsettled("$.score_state", ("PENDING_SCORE",), for_days=30)
_SCORED_LATER = {"cycles", "recoveries", "sleeps", "workouts"}
_W = "window"

SOURCE = ApiSource(
    name="whoop",
    package=__name__,
    settings=WhoopConfig,
    oauth=client.OAUTH,
    build_client=_client,
    daily=tuple(DailyResource(e.resource, f"GET {e.path}", e.description, {"max_window_days": e.window_days},
                              unsettled=_PENDING if e.resource in _SCORED_LATER else None)
                for e in client.CATALOGUE.values() if e.window_days),
    snapshots=tuple(SnapshotResource(e.resource, f"GET {e.path}", e.description)
                    for e in client.CATALOGUE.values() if not e.window_days),
    snapshot=lambda api, resource: api.snapshot(resource),
    probe=Probe("GET /v2/user/profile/basic", lambda api, today: api.snapshot("profile"),
                answer=lambda records: f"member {records[0].record_id}" if records else "answered"),
    tidy=(
        TidyInput("sleep_sessions", ("sleeps",), _W),
        TidyInput("workouts", ("workouts",), _W),
        TidyInput("heart_rate_zones", ("workouts",), _W),
        TidyInput("daily_activity", ("cycles", "recoveries"), _W),
        TidyInput("daily_vitals", ("recoveries", "sleeps"), _W),
        TidyInput("daily_scores", ("recoveries", "cycles", "sleeps"), _W),
    ),
    summary={"total_kcal": 3, "resting_hr_bpm": 2, "asleep_s": 2, "time_in_bed_s": 2, "sleep_score": 2,
             "hrv_ms": 2, "spo2_pct": 2, "respiratory_rate_brpm": 2, "recovery_score": 0, "strain": 0,
             "skin_temp_c": 0},
)
