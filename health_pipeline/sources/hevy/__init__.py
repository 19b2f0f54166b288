"""Hevy: the gym log, workouts kept current by a workout-events cursor, reference data refreshed
daily; an API key, no OAuth."""

from datetime import date, datetime, timedelta

from health_pipeline.declarations import (ISO_INSTANT, ApiSource, Changes, Cursor, CursorResource, Probe,
                                          SnapshotResource, TidyInput)
from health_pipeline.providers.http import provider_http
from health_pipeline.settings import AppConfig
from health_pipeline.sources.hevy import client
from health_pipeline.sources.hevy.settings import HevyConfig
from health_pipeline.storage.raw_store import RawRecord, RawStore


def _client(settings: HevyConfig, app: AppConfig, store: RawStore | None) -> client.HevyClient:
    http = provider_http("hevy", settings.requests_per_minute, app.max_wait_s)
    return client.HevyClient(settings, http, app.tz)


def _changes(api: client.HevyClient, resource: str, since: datetime) -> Changes:
    found = api.changes_since(since)
    return Changes(found.upserts, deleted=found.deleted_ids, newest=found.newest)


def _window(api: client.HevyClient, resource: str, first: date, last: date) -> Changes:
    return Changes(api.workouts_between(first, last), days=(first, last))


def _items(api: client.HevyClient, resource: str) -> list[RawRecord]:
    return [RawRecord(str(item["id"]), None, item) for item in api.items(resource)]


def position(store: RawStore) -> datetime | None:
    """The newest workout event landed, or None before the first sync."""
    return SOURCE.cursor.landed(store, SOURCE.name, "workouts") if SOURCE.cursor else None


_EVENTS = client.CATALOGUE["workout_events"].path

SOURCE = ApiSource(
    name="hevy",
    package=__name__,
    settings=HevyConfig,
    build_client=_client,
    cursor=Cursor(
        resources=(CursorResource("workouts", f"GET {client.CATALOGUE['workouts'].path} (kept current by GET {_EVENTS})",
                                  "Workouts (exercises and sets): updated ones merged, deleted ones tombstoned, "
                                  f"following `{_EVENTS}`."),),
        changes=_changes, window=_window, newest=lambda api, resource, since: api.newest_change_since(since),
        margin=timedelta(minutes=10), first="changes", position=ISO_INSTANT,
        asks=f"one request to `{_EVENTS}`",
        nothing_new="no workout changed at Hevy since the last landed event",
    ),
    snapshots=tuple(SnapshotResource(r, f"GET {client.CATALOGUE[r].path}", client.CATALOGUE[r].description)
                    for r in ("routines", "exercise_templates")),
    snapshot=_items,
    probe=Probe("GET user info", lambda api, today: api.user_info(),
                answer=lambda user: f"account {user.get('name', '?')}"),
    tidy=(
        TidyInput("workouts", ("workouts",), "changes"),
        TidyInput("workout_sets", ("workouts",), "changes"),
    ),
    summary={"strength_volume_kg": 0},
)
