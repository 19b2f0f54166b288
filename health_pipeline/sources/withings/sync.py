"""Withings' change-driven sync (`lastupdate`) against the raw store, and its window sync (by dates).

See health_pipeline/ingest/cursor_sync.py for how watermarks, margins and windows behave.
"""

from datetime import date, datetime, timezone

from health_pipeline.ingest.cursor_sync import SyncOutcome
from health_pipeline.sources.withings.client import DEFAULT_MEASTYPES, WithingsClient, legacy_activity_ids
from health_pipeline.storage.raw_store import RawStore

WITHINGS_MARGIN_S = 3600


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
