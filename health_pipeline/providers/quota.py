"""A provider's rate windows, kept by its client for every request it makes.

Providers publish their limits as windows: WHOOP allows 100 requests a minute and 10,000 a day;
Strava 100 reads per 15 minutes and 1,000 a day (its windows start on the quarter hour and at
midnight UTC); Polar 500 + 20 x users per 15 minutes and 5,000 + 100 x users a day. A client
takes a slot in every window before each request: a short window that is full is waited out
(within `[app] max_wait_s`); a long one that is spent (a day's quota) raises `QuotaExhausted`,
naming when it resets, so that a run stops with what it landed and the next run goes on.

What the provider says in its answers (usage, remaining, reset) wins over our own count: the
app's quota is shared with every other run, and the provider counts what we did not see.

Most windows are the app's (one OAuth app per provider, every person's requests count in it); a
provider's limit per user and app is a `per_person` window, counted per (provider, person). The
counts live in this process, or with `[app] coordination_url` on a server every process and
machine shares (health_pipeline/coordination), which then counts every run's requests together.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from health_pipeline.coordination import Count, CoordinationUnavailable, WindowCounts, check_person, window_counts
from health_pipeline.providers.errors import ProviderUnavailable, QuotaExhausted


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in each `seconds`-long window. An aligned window starts at a multiple of
    `seconds` since the epoch (UTC: a day's starts at midnight); another starts with its first request.
    A paced window is waited out however long that takes (a minute's, a quarter hour's: the provider's
    pace); another, once spent, ends the run's fetching until it resets (a day's). A window is the
    app's (one OAuth app per provider: every person's requests count in it) unless `per_person` (a
    provider's limit for each user and app pair: Google Health's 300 a minute)."""

    name: str  # how a person names it: "minute", "15 minutes", "day"
    seconds: int
    limit: int
    aligned: bool = True
    paced: bool = False
    per_person: bool = False


class Quota:
    """The windows of one provider's quota, counted by this client alone (thread-safe), or together with
    every process that shares `counts` (`[app] coordination_url`)."""

    def __init__(self, provider: str, windows: Sequence[Window], max_wait_s: float,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep, *,
                 person: str = "me", counts: WindowCounts | None = None) -> None:
        if not windows:
            raise ValueError("a quota needs at least one window")
        self.provider, self.person = provider, check_person(person)
        self.windows = {w.name: w for w in sorted(windows, key=lambda w: w.seconds)}
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._counts = counts if counts is not None else window_counts("", clock)
        self._keys = {name: f"{provider}/{person}/{name}" if w.per_person else f"{provider}/{name}"
                      for name, w in self.windows.items()}
        self.waited_s = 0.0

    def _change(self, names: Sequence[str], edit: Callable[[float, dict[str, Count]], object]) -> object:
        keys = [self._keys[name] for name in names]
        try:
            return self._counts.change(keys, edit)
        except CoordinationUnavailable as err:
            raise ProviderUnavailable(self.provider, str(err)) from None

    def _current(self, window: Window, counts: dict[str, Count], now: float, *, keep: bool = True) -> Count:
        """The window's count now: a new window's when the last one ended (kept, unless only read: a
        window that starts with its first request does not start when `state` looks at it)."""
        key = self._keys[window.name]
        count = counts.get(key)
        if count is None or now >= count.start + window.seconds:
            start = now - now % window.seconds if window.aligned else now
            count = Count(start, 0, window.seconds, count.limit if count else None)
            if keep:
                counts[key] = count
        return count

    def _limit(self, window: Window, count: Count) -> int:
        return count.limit if count.limit is not None else window.limit

    def take(self) -> float:
        """A slot in every window for one request: wait for a short window, refuse when a long one is spent.
        Returns when the slot was taken (epoch seconds, on the counts' clock)."""
        def slot(now: float, counts: dict[str, Count]) -> tuple[float, Window | None, Count | None]:
            current = [(w, self._current(w, counts, now)) for w in self.windows.values()]
            full = [(w, c) for w, c in current if c.used >= self._limit(w, c)]
            if not full:
                for _, count in current:
                    count.used += 1
                return now, None, None
            return now, *max(full, key=lambda pair: pair[1].start + pair[0].seconds)  # the last to reset

        while True:
            now, window, count = self._change(list(self.windows), slot)  # type: ignore[misc]
            if window is None or count is None:
                return now
            wait = count.start + window.seconds - now
            if wait > self.max_wait_s and not window.paced:
                raise QuotaExhausted(self.provider, window.name, self._limit(window, count),
                                     _utc(count.start + window.seconds))
            self.waited_s += wait
            self._sleep(wait)  # the provider's window moves on; nothing to be notified of

    def observe(self, name: str, *, used: int | None = None, remaining: int | None = None,
                limit: int | None = None, resets_in_s: float | None = None) -> None:
        """What the provider said of a window in an answer's headers; it replaces our own count."""
        window = self.windows.get(name)
        if window is None:
            return

        def told(now: float, counts: dict[str, Count]) -> None:
            count = self._current(window, counts, now)
            if limit is not None and limit > 0:
                count.limit = limit
            if resets_in_s is not None and resets_in_s >= 0:
                count.start = now + resets_in_s - window.seconds
            if used is not None:
                count.used = max(0, used)
            elif remaining is not None:
                count.used = max(0, self._limit(window, count) - remaining)

        self._change([name], told)

    def spent(self, name: str) -> None:
        """The provider refused a request over this window (a 429): nothing is left in it."""
        window = self.windows.get(name)
        if window is None:
            return

        def refused(now: float, counts: dict[str, Count]) -> None:
            count = self._current(window, counts, now)
            count.used = self._limit(window, count)

        self._change([name], refused)

    def exhausted(self) -> QuotaExhausted | None:
        """The error `take` would raise now for a spent long window, or None while requests can go on."""
        def spent_long(now: float, counts: dict[str, Count]) -> QuotaExhausted | None:
            for window in reversed(self.windows.values()):
                count = self._current(window, counts, now, keep=False)
                if window.paced:
                    continue
                limit = self._limit(window, count)
                if count.used >= limit and count.start + window.seconds - now > self.max_wait_s:
                    return QuotaExhausted(self.provider, window.name, limit, _utc(count.start + window.seconds))
            return None

        return self._change(list(self.windows), spent_long)  # type: ignore[return-value]

    def state(self) -> dict[str, dict[str, object]]:
        """Per window: used, limit and when it resets (UTC ISO), for a run's metadata and `status`."""
        def read(now: float, counts: dict[str, Count]) -> dict[str, dict[str, object]]:
            return {name: {"used": (c := self._current(w, counts, now, keep=False)).used, "limit": self._limit(w, c),
                           "resets_at": _utc(c.start + w.seconds).isoformat(timespec="seconds")}
                    for name, w in self.windows.items()}

        return self._change(list(self.windows), read)  # type: ignore[return-value]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
