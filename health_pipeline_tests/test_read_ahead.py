"""read_ahead: the next window is fetched while the last one lands, in order, errors included."""

import threading
from collections.abc import Iterator

import pytest

from health_pipeline.providers.windows import read_ahead


def test_items_arrive_in_order_and_the_producer_runs_ahead_by_one() -> None:
    produced: list[int] = []
    second_produced = threading.Event()

    def source() -> Iterator[int]:
        for n in range(5):
            produced.append(n)
            if n == 1:
                second_produced.set()
            yield n

    items = read_ahead(source(), depth=1)
    first = next(items)
    assert second_produced.wait(timeout=10)  # fetched while the consumer still holds the first
    assert [first, *items] == [0, 1, 2, 3, 4]
    assert produced == [0, 1, 2, 3, 4]


def test_an_error_arrives_after_the_items_produced_before_it_on_the_consumers_thread() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("provider down")

    seen: list[int] = []
    with pytest.raises(ConnectionError, match="provider down"):
        for item in read_ahead(source()):
            seen.append(item)
    assert seen == [1, 2]


def test_closing_early_stops_the_producer_and_closes_the_source_in_its_thread() -> None:
    closed_in: list[str] = []
    pulled: list[int] = []

    def source() -> Iterator[int]:
        try:
            for n in range(1000):
                pulled.append(n)
                yield n
        finally:
            closed_in.append(threading.current_thread().name)

    items = read_ahead(source(), depth=2)
    assert next(items) == 0
    items.close()
    assert closed_in == ["read-ahead"]
    assert len(pulled) <= 1 + 2 + 1  # the one consumed, a full queue, the one in flight
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
