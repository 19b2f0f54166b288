"""Change-driven syncs for Withings (`lastupdate`) and Hevy (workout events), against the raw store.

The raw store's watermark is the source of truth for what has landed: it moves only after the
records it covers are committed, so a failed run is simply asked for again. A margin re-reads a
little of the past on every sync (late writes on the provider's side).

A window sync (`health-pipeline sync --start --end`) fetches local days [start, end] whole (by
dates at Withings, through the workout list at Hevy), so records deleted at the provider are
tombstoned, and never moves the watermark itself: a window says nothing of what changed
elsewhere. If the resource synced before, it then follows the changes since the watermark as
usual, so the watermark stays current and the next sensor tick finds nothing new.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from health_pipeline.providers.hevy import HevyClient
from health_pipeline.providers.withings import DEFAULT_MEASTYPES, WithingsClient, legacy_activity_ids
from health_pipeline.storage.raw_store import LandingCounts, RawRecord, RawStore

WITHINGS_MARGIN_S = 3600
HEVY_MARGIN = timedelta(minutes=10)


@dataclass
class SyncOutcome:
    """What one change-driven sync did."""

    counts: LandingCounts
    watermark_before: str | None
    watermark_after: str | None
    first_sync: bool


def withings_position(store: RawStore, resource: str) -> int | None:
    """The latest `modified` (Unix seconds) landed for a Withings resource, or None before the first sync."""
    state = store.sync_state("withings", resource)
    return int(state[0]) if state and state[0] else None


def sync_withings(client: WithingsClient, store: RawStore, resource: str, start_date: date, today: date) -> SyncOutcome:
    """Land a Withings resource: everything since `start_date` the first time, then what changed."""
    position = withings_position(store, resource)
    types = client.config.meastypes or DEFAULT_MEASTYPES
    if position is None:
        records = client.window(resource, start_date, today, types)
    else:
        records = client.changed_since(resource, max(0, position - WITHINGS_MARGIN_S), types)
    modified = [r.payload.get("modified") for r in records if isinstance(r.payload.get("modified"), int)]
    newest = max([*modified, position or 0]) or None
    counts = store.land("withings", resource, records, watermark=str(newest) if newest else None,
                        detail={"last_sync": datetime.now(timezone.utc).isoformat(timespec="seconds")},
                        retire=legacy_activity_ids(records) if resource == "activity" else ())
    return SyncOutcome(counts, str(position) if position else None, str(newest) if newest else None, position is None)


def sync_withings_window(client: WithingsClient, store: RawStore, resource: str, start: date, end: date,
                         start_date: date, today: date) -> SyncOutcome:
    """Land a Withings resource's local days [start, end] whole, then (if it synced before) what changed."""
    types = client.config.meastypes or DEFAULT_MEASTYPES
    records = client.window(resource, start, end, types)
    counts = store.land("withings", resource, records, window=(start, end),
                        retire=legacy_activity_ids(records) if resource == "activity" else ())
    before = withings_position(store, resource)
    if before is None:  # never synced: the first sync (or sensor tick) backfills from start_date
        return SyncOutcome(counts, None, None, False)
    caught_up = sync_withings(client, store, resource, start_date, today)
    counts += caught_up.counts
    return SyncOutcome(counts, caught_up.watermark_before, caught_up.watermark_after, False)


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
