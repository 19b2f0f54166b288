"""Turning a run's partition window (and a sync's requested window) into the local days it covers."""

from datetime import date, timedelta

import dagster as dg

from health_pipeline.naming import WINDOW_TAG


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last local day (inclusive) of the run's partition or partition range."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def sync_window(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """The local days a sync asked a change-driven asset to fetch whole (`health-pipeline sync --start
    --end` tags its run with them), if any."""
    value = context.run.tags.get(WINDOW_TAG)
    if not value:
        return None
    start, _, end = value.partition("..")
    return date.fromisoformat(start), date.fromisoformat(end)
