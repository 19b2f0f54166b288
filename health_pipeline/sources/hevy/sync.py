"""Hevy's change-driven sync (workout events) against the raw store, its window sync (the workout
list) and the reference data (routines, exercise templates).

See health_pipeline/ingest/cursor_sync.py for how watermarks, margins and windows behave.
"""

from datetime import date, datetime, timedelta, timezone

from health_pipeline.ingest.cursor_sync import SyncOutcome
from health_pipeline.sources.hevy.client import HevyClient
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

HEVY_MARGIN = timedelta(minutes=10)


def hevy_position(store: RawStore) -> datetime | None:
    """The newest workout event landed, or None before the first sync."""
    state = store.sync_state("hevy", "workouts")
    return datetime.fromisoformat(state[0]) if state and state[0] else None


def sync_hevy_workouts(client: HevyClient, store: RawStore, start_date: date) -> SyncOutcome:
    """Land Hevy workouts from the event feed: `updated` upserts, `deleted` tombstones."""
    position = hevy_position(store)
    since = position - HEVY_MARGIN if position else datetime.combine(start_date, datetime.min.time(), timezone.utc)
    changes = client.changes_since(since)
    upserts = [r for r in changes.upserts if position is not None or (r.day or "") >= start_date.isoformat()]
    counts = store.land("hevy", "workouts", upserts)
    counts.deleted += store.tombstone("hevy", "workouts", changes.deleted_ids)
    newest = max(filter(None, [changes.newest, position]), default=None)
    if newest is not None:
        store.land("hevy", "workouts", [], watermark=newest.isoformat())  # only now: all of it landed
    return SyncOutcome(counts, position.isoformat() if position else None,
                       newest.isoformat() if newest else None, position is None)


def sync_hevy_window(client: HevyClient, store: RawStore, start: date, end: date, start_date: date) -> SyncOutcome:
    """Land the Hevy workouts that started on local days [start, end] whole (from the workout list),
    then (if workouts synced before) the events since the watermark."""
    counts = store.land("hevy", "workouts", client.workouts_between(start, end), window=(start, end))
    if hevy_position(store) is None:
        return SyncOutcome(counts, None, None, False)
    caught_up = sync_hevy_workouts(client, store, start_date)
    counts += caught_up.counts
    return SyncOutcome(counts, caught_up.watermark_before, caught_up.watermark_after, False)


def sync_hevy_reference(client: HevyClient, store: RawStore, resource: str) -> LandingCounts:
    """Routines or exercise templates: small, refreshed whole (vanished ones are tombstoned)."""
    records = [RawRecord(str(item["id"]), None, item) for item in client.items(resource)]
    return store.land("hevy", resource, records, complete=True)
