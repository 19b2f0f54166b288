"""A provider's rate windows, kept by its client for every request it makes.

Providers publish their limits as windows: WHOOP allows 100 requests a minute and 10,000 a day;
Strava 100 reads per 15 minutes and 1,000 a day (its windows start on the quarter hour and at
midnight UTC); Polar 500 + 20 x users per 15 minutes and 5,000 + 100 x users a day. A client
takes a slot in every window before each request: a short window that is full is waited out
(within `[app] max_wait_s`); a long one that is spent (a day's quota) raises `QuotaExhausted`,
naming when it resets, so that a run stops with what it landed and the next run goes on.

What the provider says in its answers (usage, remaining, reset) wins over our own count: the
app's quota is shared with every other run, and the provider counts what we did not see.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from health_pipeline.providers.errors import QuotaExhausted


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in each `seconds`-long window. An aligned window starts at a multiple of
    `seconds` since the epoch (UTC: a day's starts at midnight); another starts with its first request.
    A paced window is waited out however long that takes (a minute's, a quarter hour's: the provider's
    pace); another, once spent, ends the run's fetching until it resets (a day's)."""

    name: str  # how a person names it: "minute", "15 minutes", "day"
    seconds: int
    limit: int
    aligned: bool = True
    paced: bool = False


@dataclass
class _Count:
    start: float  # when the current window began (epoch seconds)
    used: int


class Quota:
    """The windows of one provider's quota as this client counts them (thread-safe)."""

    def __init__(self, provider: str, windows: Sequence[Window], max_wait_s: float,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        if not windows:
            raise ValueError("a quota needs at least one window")
        self.provider = provider
        self.windows = {w.name: w for w in sorted(windows, key=lambda w: w.seconds)}
        self.max_wait_s = max_wait_s
        self._clock, self._sleep = clock, sleep
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def _current(self, window: Window, now: float) -> _Count:
        count = self._counts.get(window.name)
        if count is None or now >= count.start + window.seconds:
            start = now - now % window.seconds if window.aligned else now
            count = self._counts[window.name] = _Count(start, 0)
        return count

    def take(self) -> None:
        """A slot in every window for one request: wait for a short window, refuse when a long one is spent."""
        while True:
            with self._lock:
                now = self._clock()
                full = [(w, self._current(w, now)) for w in self.windows.values()]
                full = [(w, c) for w, c in full if c.used >= w.limit]
                if not full:
                    for window in self.windows.values():
                        self._current(window, now).used += 1
                    return
                window, count = max(full, key=lambda pair: pair[1].start + pair[0].seconds)
                wait = count.start + window.seconds - now
            if wait > self.max_wait_s and not window.paced:
                raise QuotaExhausted(self.provider, window.name, window.limit, _utc(count.start + window.seconds))
            self.waited_s += wait
            self._sleep(wait)  # the provider's window moves on; nothing to be notified of

    def observe(self, name: str, *, used: int | None = None, remaining: int | None = None,
                limit: int | None = None, resets_in_s: float | None = None) -> None:
        """What the provider said of a window in an answer's headers; it replaces our own count."""
        window = self.windows.get(name)
        if window is None:
            return
        with self._lock:
            now = self._clock()
            if limit is not None and limit > 0 and limit != window.limit:
                window = self.windows[name] = replace(window, limit=limit)
            count = self._current(window, now)
            if resets_in_s is not None and resets_in_s >= 0:
                count.start = now + resets_in_s - window.seconds
            if used is not None:
                count.used = max(0, used)
            elif remaining is not None:
                count.used = max(0, window.limit - remaining)

    def spent(self, name: str) -> None:
        """The provider refused a request over this window (a 429): nothing is left in it."""
        window = self.windows.get(name)
        if window is None:
            return
        with self._lock:
            self._current(window, self._clock()).used = window.limit

    def exhausted(self) -> QuotaExhausted | None:
        """The error `take` would raise now for a spent long window, or None while requests can go on."""
        with self._lock:
            now = self._clock()
            for window in reversed(self.windows.values()):
                count = self._current(window, now)
                if window.paced:
                    continue
                if count.used >= window.limit and count.start + window.seconds - now > self.max_wait_s:
                    return QuotaExhausted(self.provider, window.name, window.limit, _utc(count.start + window.seconds))
        return None

    def state(self) -> dict[str, dict[str, object]]:
        """Per window: used, limit and when it resets (UTC ISO), for a run's metadata and `status`."""
        with self._lock:
            now = self._clock()
            return {name: {"used": (c := self._current(w, now)).used, "limit": w.limit,
                           "resets_at": _utc(c.start + w.seconds).isoformat(timespec="seconds")}
                    for name, w in self.windows.items()}


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
