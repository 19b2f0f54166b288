"""Polar AccessLink: sleep, Nightly Recharge, daily activity and continuous heart rate daily-partitioned
by date, exercises kept current by a cursor on their upload time (Polar serves the last 30 days'),
physical information by transaction (committed only once landed), the registered user refreshed
whole; OAuth2 without refresh tokens, the user registered after authorising."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.declarations import (ISO_INSTANT, ApiSource, Changes, Cursor, CursorResource, DailyResource,
                                          Probe, SnapshotResource, TidyInput)
from health_pipeline.providers.errors import ReauthorizationNeeded
from health_pipeline.providers.http import provider_http
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.settings import AppConfig
from health_pipeline.sources.polar import client
from health_pipeline.sources.polar.settings import PolarConfig
from health_pipeline.storage.raw_store import RawRecord, RawStore


def _client(settings: PolarConfig, app: AppConfig, store: RawStore) -> client.PolarClient:
    http = provider_http("polar", settings.requests_per_minute, app.max_wait_s, windows=client.WINDOWS,
                         read_quota=client.read_quota, person=store.person,
                         coordination_url=app.coordination_url)
    tokens = OAuthTokens(settings, store, client.OAUTH, coordination_url=app.coordination_url)
    return client.PolarClient(settings, tokens, app.tz, http, store)


def _register(api: client.PolarClient, answer: Mapping[str, Any]) -> str:
    """Register the user Polar's token answer names (`x_user_id`), and keep them as the `user` record."""
    user_id = answer.get("x_user_id")
    if not isinstance(user_id, int):
        raise ReauthorizationNeeded("polar", "the token answer names no user (`x_user_id`); for tokens made elsewhere "
                                             "pass `tokens import polar --user-id N`")
    user = api.register(user_id)
    assert api.store is not None
    api.store.land("polar", "user", [RawRecord(str(user_id), None, user)], complete=True)
    return f"registered with Polar AccessLink as user {user_id}"


def _exercises(api: client.PolarClient, first: date | None = None, last: date | None = None) -> Changes:
    """The listing (what was uploaded in the last 30 days): the whole truth for the days since 28 days ago
    (an exercise done then was uploaded since); with `first`/`last`, only those days'."""
    today = datetime.now(api.tz).date()
    listed_from = today - timedelta(days=client.EXERCISE_DAYS - 1)
    records = api.exercises()
    if first is not None and last is not None:
        records = [r for r in records if first.isoformat() <= (r.day or "") <= last.isoformat()]
    whole = (max(first or listed_from, listed_from), last or today)
    uploads = [u for r in records if (u := client.upload_time(r.payload)) is not None]
    return Changes(records, newest=max(uploads, default=None), days=whole if whole[0] <= whole[1] else None)


def _physical(api: client.PolarClient) -> Changes:
    records, commit = api.physical_information()
    created = [c for r in records if (c := client.upload_time({"upload_time": r.payload.get("created")}))]
    return Changes(records, newest=max(created, default=None), after_landing=commit)


def _changes(api: client.PolarClient, resource: str, since: datetime) -> Changes:
    if resource == "exercises":
        return _exercises(api)
    return _physical(api)


def _window(api: client.PolarClient, resource: str, first: date, last: date) -> Changes:
    if resource == "exercises":
        return _exercises(api, first, last)
    return _physical(api)  # a transaction holds what is new, whatever its days


def _newer(api: client.PolarClient, resource: str, position: datetime) -> datetime | None:
    if resource == "exercises":
        newest = _exercises(api).newest
        return newest if newest is not None and newest > position else None
    return datetime.now(timezone.utc) if api.waiting("PHYSICAL_INFORMATION") else None


_DAILY = {
    "sleep": ("/users/sleep", "Nights: sleep and wake times, light, deep and REM seconds, interruptions, sleep score "
                              "and charge, hypnogram, heart rate."),
    "nightly_recharge": ("/users/nightly-recharge", "Nightly Recharge: status 1-6, ANS charge, heart rate, HRV "
                                                    "(RMSSD) and breathing rate of the night's first hours."),
    "activities": ("/users/activities", "Daily activity: steps, distance from steps, calories, active and "
                                        "inactive time."),
    "continuous_heart_rate": ("/users/continuous-heart-rate", "The day's heart rate every five minutes, and every "
                                                              "second during exercise (local times)."),
}
_W, _C = "window", "changes"

SOURCE = ApiSource(
    name="polar",
    package=__name__,
    settings=PolarConfig,
    oauth=client.OAUTH,
    build_client=_client,
    after_authorize=_register,
    daily=tuple(DailyResource(resource, f"GET {path}", description, {"max_window_days": client.LIST_DAYS})
                for resource, (path, description) in _DAILY.items()),
    cursor=Cursor(
        resources=(CursorResource("exercises", "GET /exercises",
                                  "Exercises uploaded in the last 30 days: sport, start, duration, distance, calories, "
                                  "heart rate and its zones, training load."),
                   CursorResource("physical_information", "POST /users/{user-id}/physical-information-transactions",
                                  "Physical information as it changed: weight, height, maximum and resting heart "
                                  "rate, VO2 max, thresholds.")),
        changes=_changes, window=_window, newest=_newer, first="window", position=ISO_INSTANT,
        asks="the exercise listing, and Polar's pull notifications for physical information",
    ),
    snapshots=(SnapshotResource("user", "GET /users/{user-id}", "The registered user: name, birthday, weight, "
                                                                "height."),),
    snapshot=lambda api, resource: api.snapshot(resource),
    probe=Probe("GET /users/{user-id}", lambda api, today: api.user(),
                answer=lambda user: f"user {user.get('polar-user-id')}"),
    tidy=(
        TidyInput("sleep_sessions", ("sleep",), _W),
        TidyInput("daily_scores", ("sleep", "nightly_recharge"), _W),
        TidyInput("daily_vitals", ("nightly_recharge",), _W),
        TidyInput("daily_activity", ("activities",), _W),
        TidyInput("heart_rate", ("continuous_heart_rate", "sleep"), _W),
        TidyInput("workouts", ("exercises",), _C),
        TidyInput("heart_rate_zones", ("exercises",), _C),
        TidyInput("body_measurements", ("physical_information",), _C),
    ),
    summary={"steps": 3, "distance_m": 3, "active_kcal": 3, "total_kcal": 4, "asleep_s": 3, "time_in_bed_s": 3,
             "sleep_score": 3, "hrv_ms": 3, "respiratory_rate_brpm": 3, "weight_kg": 2, "nightly_recharge_status": 0,
             "ans_charge": 0},
)
