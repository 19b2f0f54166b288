"""Turning a run's partition window (and a sync's requested window) into the local days it covers."""

from datetime import date, timedelta

import dagster as dg


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last local day (inclusive) of the run's partition or partition range."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


# `health-pipeline sync --start D --end D` tags its run with the window: the change-driven assets
# (Withings, Hevy), which are not partitioned, then fetch those local days whole as well.
WINDOW_TAG = "health/window"


def window_tag(start: date, end: date) -> dict[str, str]:
    return {WINDOW_TAG: f"{start.isoformat()}..{end.isoformat()}"}


def sync_window(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """The local days a sync asked a change-driven asset to fetch whole, if any."""
    value = context.run.tags.get(WINDOW_TAG)
    if not value:
        return None
    start, _, end = value.partition("..")
    return date.fromisoformat(start), date.fromisoformat(end)
