"""Turning a run's partition window (and a sync's requested window, or an import's changed days) into the
local days it covers."""

from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg

from health_pipeline.naming import DAYS_TAG, MODELS_TAG, WINDOW_TAG

MAX_RANGES = 40  # an import's changed days, as at most this many ranges (a tag stays short)


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


def day_ranges(days: Iterable[date | str], limit: int = MAX_RANGES) -> list[tuple[date, date]]:
    """`days` as sorted inclusive ranges of consecutive days, at most `limit` of them: past that, the
    ranges with the shortest gaps between them are joined (a few unchanged days modelled again)."""
    ordered = sorted({date.fromisoformat(d) if isinstance(d, str) else d for d in days})
    ranges: list[tuple[date, date]] = []
    for day in ordered:
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    while len(ranges) > limit:
        i = min(range(len(ranges) - 1), key=lambda k: ranges[k + 1][0] - ranges[k][1])
        ranges[i:i + 2] = [(ranges[i][0], ranges[i + 1][1])]
    return ranges


def ranges_text(ranges: Iterable[tuple[date, date]]) -> str:
    """`2025-01-01..2025-01-31,2025-03-04`: the ranges as a tag or metadata value."""
    return ",".join(a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in ranges)


def parse_ranges(text: str) -> list[tuple[date, date]]:
    """The inverse of `ranges_text`."""
    ranges = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("..")
        ranges.append((date.fromisoformat(first), date.fromisoformat(last or first)))
    return ranges


def modelled_windows(context: dg.AssetExecutionContext) -> tuple[list[tuple[date, date]], list[str] | None]:
    """What a tidy asset (or the export) covers this run: its partition window, or the days an import
    changed (`health/days`, which then stand for themselves: an import's run is one partition, since a
    range of ten years would record tens of thousands of partition materializations for nothing), and
    the raw providers to re-model (`health/models`; None: all)."""
    tags = context.run.tags
    if DAYS_TAG not in tags:
        return [partition_days(context)], None
    providers = [p for p in tags.get(MODELS_TAG, "").split(",") if p]
    return parse_ranges(tags[DAYS_TAG]), providers or None
