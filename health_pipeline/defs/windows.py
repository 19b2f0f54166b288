"""Turning a run's partition window into the local days it covers."""

from datetime import date, timedelta

import dagster as dg


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last local day (inclusive) of the run's partition or partition range."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()
