"""Splitting a date range into the fewest windows an endpoint allows, and fetching the next
window while the last one lands."""

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from health_pipeline.storage.raw_store import RawRecord

T = TypeVar("T")


@dataclass(frozen=True)
class FetchedChunk:
    """The records of one window [start, end] (local days), ready to land in one transaction."""

    start: date
    end: date
    records: list[RawRecord]
    # The provider's whole truth for those days: what it no longer has there is tombstoned. False for
    # days it may no longer serve (Polar's older than a year): the records merge, nothing is deleted.
    whole: bool = True


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


_END = object()


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced in a thread of their own up to `depth` ahead of the consumer: a landing
    asset writes one window to the raw store while the next one is being fetched.

    The items and, at the end, the producer's exception (a provider error, raised where the next
    item would have come) arrive in their order. Closing the iterator early (a landing error, a
    `break`) stops the producer after the request in flight and closes `items` in its own thread;
    close it (`contextlib.closing`) before closing the client `items` uses.
    """
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        source = iter(items)
        final: BaseException | None = None
        try:
            for item in source:
                if stop.is_set():
                    break
                handoff.put((item, None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            final = error
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        if not stop.is_set():
            handoff.put((_END, final))

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        # after stop, the producer puts at most once more: emptying the queue lets that put through
        while True:
            try:
                handoff.get_nowait()
            except queue.Empty:
                break
        producer.join()
