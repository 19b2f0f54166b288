"""Strava: the athlete's activities kept current by a cursor (the newest start landed; re-listed whole
weekly, which shows renames and deletions), each activity's detail, laps, zones and (opt-in) streams
fetched one by one within the application's daily read quota, OAuth2 with 6-hour access tokens."""

import json
from datetime import date, datetime, timedelta

from health_pipeline.declarations import (ISO_INSTANT, ApiSource, Changes, Cursor, CursorResource, FollowUp, Probe,
                                          SnapshotResource, TidyInput)
from health_pipeline.providers.http import provider_http
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.settings import AppConfig
from health_pipeline.sources.strava import client
from health_pipeline.sources.strava.settings import StravaConfig
from health_pipeline.storage.raw_store import RawRecord, RawStore, StoredRecord


def _client(settings: StravaConfig, app: AppConfig, store: RawStore) -> client.StravaClient:
    http = provider_http("strava", settings.requests_per_minute, app.max_wait_s,
                         windows=client.windows(settings), read_quota=client.read_quota,
                         person=store.person, coordination_url=app.coordination_url)
    tokens = OAuthTokens(settings, store, client.OAUTH, coordination_url=app.coordination_url)
    return client.StravaClient(settings, tokens, app.tz, http)


def _landed(records: list[RawRecord], days: tuple[date, date] | None = None) -> Changes:
    starts = [s for r in records if (s := client.started(r.payload)) is not None]
    return Changes(records, newest=max(starts, default=None), days=days)


def _changes(api: client.StravaClient, resource: str, since: datetime) -> Changes:
    return _landed(api.started_after(since))


def _window(api: client.StravaClient, resource: str, first: date, last: date) -> Changes:
    return _landed(api.days(first, last), (first, last))


def _newer(api: client.StravaClient, resource: str, position: datetime) -> datetime | None:
    return api.first_started_after(position)


def _streams(api: client.StravaClient, parent: StoredRecord) -> object:
    """An activity's streams; a manual one has none (Strava answers 404), so it is not asked."""
    return None if json.loads(parent.payload).get("manual") else api.streams(parent.record_id)


_ACTIVITIES = "GET /athlete/activities"
_C = "changes"

SOURCE = ApiSource(
    name="strava",
    package=__name__,
    settings=StravaConfig,
    oauth=client.OAUTH,
    build_client=_client,
    cursor=Cursor(
        resources=(CursorResource("activities", _ACTIVITIES,
                                  "Activities (SummaryActivity): sport, start, times, distance, elevation, speed, heart "
                                  "rate and power averages."),),
        changes=_changes, window=_window, newest=_newer,
        # An activity uploaded late (a watch synced days later) starts before what landed: each sync
        # looks a week back, and the weekly re-listing finds the rest, renames and deletions.
        margin=timedelta(days=7), first="window", position=ISO_INSTANT, relist_every=timedelta(days=7),
        asks="one request: the first activity started after the newest landed",
    ),
    follow_ups=(
        FollowUp("activity_detail", "activities", "GET /activities/{id}",
                 "DetailedActivity: calories (kcal), description, splits, laps, best efforts, gear, device.",
                 lambda api, parent: api.detail(parent.record_id)),
        FollowUp("activity_laps", "activities", "GET /activities/{id}/laps", "Laps: times, distance, speed, heart rate.",
                 lambda api, parent: api.laps(parent.record_id)),
        FollowUp("activity_zones", "activities", "GET /activities/{id}/zones",
                 "Time per heart-rate (and pace, power) zone.", lambda api, parent: api.zones(parent.record_id)),
        FollowUp("activity_streams", "activities", "GET /activities/{id}/streams",
                 "Second-by-second streams: time, heart rate, distance, position, altitude, speed, cadence, power "
                 "(none for a manual activity: not asked).",
                 _streams, option="streams"),
    ),
    snapshots=(SnapshotResource("athlete", "GET /athlete", "The athlete: name, weight, preferences, gear."),
               SnapshotResource("athlete_zones", "GET /athlete/zones", "The athlete's heart-rate and power zones.")),
    snapshot=lambda api, resource: api.snapshot(resource),
    probe=Probe("GET /athlete", lambda api, today: api.snapshot("athlete"),
                answer=lambda records: f"athlete {records[0].record_id}" if records else "answered"),
    tidy=(
        TidyInput("workouts", ("activities", "activity_detail"), _C),
        TidyInput("heart_rate_zones", ("activity_zones",), _C),
        TidyInput("heart_rate", ("activities", "activity_streams"), _C, option="streams"),
    ),
    summary={},
)

