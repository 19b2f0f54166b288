"""Splitting a date range into the fewest windows an endpoint allows."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from health_pipeline.storage.raw_store import RawRecord


@dataclass(frozen=True)
class FetchedChunk:
    """The records of one window [start, end] (local days), ready to land in one transaction."""

    start: date
    end: date
    records: list[RawRecord]


def chunk_days(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """Consecutive inclusive windows covering [start, end], each at most `max_days` long."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    if end < start:
        return []
    windows = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=max_days - 1))
        windows.append((first, last))
        first = last + timedelta(days=1)
    return windows


def days_in(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of a local calendar day, as an aware datetime (23- and 25-hour days included)."""
    return datetime.combine(day, time(0), tzinfo=tz)
