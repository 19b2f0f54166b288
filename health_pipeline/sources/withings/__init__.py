"""Withings: scales, watches and cuffs, kept current by a `lastupdate` cursor (its dense per-minute
data, when switched on, daily-partitioned), OAuth2."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from health_pipeline.declarations import (UNIX_SECONDS, ApiSource, Changes, Cursor, CursorResource, DailyResource,
                                          Probe, TidyInput)
from health_pipeline.providers.http import provider_http
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.settings import AppConfig
from health_pipeline.sources.withings import client
from health_pipeline.sources.withings.settings import WithingsConfig
from health_pipeline.storage.raw_store import RawRecord, RawStore


def _client(settings: WithingsConfig, app: AppConfig, store: RawStore) -> client.WithingsClient:
    http = provider_http("withings", settings.requests_per_minute, app.max_wait_s,
                         limit_signal=client.rate_limit_signal())
    tokens = OAuthTokens(settings, store, client.OAUTH, coordination_url=app.coordination_url)
    return client.WithingsClient(settings, tokens, app.tz, http)


def _newest(records: list[RawRecord]) -> datetime | None:
    """The newest `modified` (Unix seconds) among the records: where the cursor stands after them."""
    modified = [r.payload["modified"] for r in records if isinstance(r.payload.get("modified"), int)]
    return datetime.fromtimestamp(max(modified), timezone.utc) if modified else None


def _landed(resource: str, records: list[RawRecord]) -> Changes:
    retired = client.legacy_activity_ids(records) if resource == "activity" else ()
    return Changes(records, retired=retired, newest=_newest(records))


def _changes(api: client.WithingsClient, resource: str, since: datetime) -> Changes:
    return _landed(resource, api.changed_since(resource, max(0, int(since.timestamp()))))


def _window(api: client.WithingsClient, resource: str, first: date, last: date) -> Changes:
    return replace(_landed(resource, api.window(resource, first, last)), days=(first, last))


def _newer(api: client.WithingsClient, resource: str, position: datetime) -> datetime | None:
    return _newest(api.changed_since(resource, int(position.timestamp())))


def position(store: RawStore, resource: str) -> int | None:
    """The latest `modified` (Unix seconds) landed for a Withings resource, or None before its first sync."""
    landed = SOURCE.cursor.landed(store, SOURCE.name, resource) if SOURCE.cursor else None
    return int(landed.timestamp()) if landed else None


_W, _C = "window", "changes"
_DENSE = {"intraday": ("/v2/measure", "getintradayactivity", "Per-minute watch samples (steps, heart rate, ...), "
                       "24 hours a request."),
          "sleep_hf": ("/v2/sleep", "get", "High-frequency sleep: stage segments with per-minute heart and "
                       "breathing rate.")}

SOURCE = ApiSource(
    name="withings",
    package=__name__,
    settings=WithingsConfig,
    oauth=client.OAUTH,
    build_client=_client,
    cursor=Cursor(
        resources=tuple(CursorResource(e.resource, f"POST {e.path} action={e.action}", e.description)
                        for e in client.CATALOGUE.values()),
        changes=_changes, window=_window, newest=_newer,
        margin=timedelta(hours=1), first="window", position=UNIX_SECONDS,
        asks="one `lastupdate` call per resource",
    ),
    daily=(DailyResource("intraday", f"POST {_DENSE['intraday'][0]} action={_DENSE['intraday'][1]}",
                         f"{_DENSE['intraday'][2]} One record per local day.", {"option": "intraday"}, "intraday"),
           DailyResource("sleep_hf", f"POST {_DENSE['sleep_hf'][0]} action={_DENSE['sleep_hf'][1]}",
                         f"{_DENSE['sleep_hf'][2]} One record per local day.", {"option": "high_frequency_sleep"},
                         "high_frequency_sleep")),
    probe=Probe("measures changed since now",
                lambda api, today: api.changed_since("measures", int(datetime.now().timestamp()))),
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
