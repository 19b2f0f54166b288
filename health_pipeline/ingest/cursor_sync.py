"""What a change-driven sync reports (the Withings and Hevy sources' `sync` modules).

The raw store's watermark is the source of truth for what has landed: it moves only after the
records it covers are committed, so a failed run is simply asked for again. A margin re-reads a
little of the past on every sync (late writes on the provider's side).

A window sync (`health-pipeline sync --start --end`) fetches local days [start, end] whole, so
records deleted at the provider are tombstoned, and never moves the watermark itself: a window
says nothing of what changed elsewhere. If the resource synced before, it then follows the
changes since the watermark as usual, so the watermark stays current and the next sensor tick
finds nothing new.
"""

from dataclasses import dataclass

from health_pipeline.storage.raw_store import LandingCounts


@dataclass
class SyncOutcome:
    """What one change-driven sync did."""

    counts: LandingCounts
    watermark_before: str | None
    watermark_after: str | None
    first_sync: bool
