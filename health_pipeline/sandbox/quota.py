"""A fake provider's rate windows: counts each app's requests and says when one is over.

Short windows (a minute, a quarter hour) run on real time, like the servers they imitate: they are
a matter of pacing, not of data. A day's window runs on the sandbox clock's UTC date, so that a
test can spend a day's quota, advance the clock past midnight and find it renewed.

An app's windows are shared by every person using the app; a `per_person` window (Google's 300 a
minute per user) is counted for each person apart. The people of one provider share one ledger
(`FakeQuota.for_person`), which also keeps the highest use each window ever reached and how many
requests went over, so a test can assert that no client ever exceeded a quota.
"""

import threading
import time
from dataclasses import dataclass

from health_pipeline.sandbox.world import SandboxClock


@dataclass
class FakeWindow:
    """One window: `limit` requests each `seconds` (86400: the sandbox clock's UTC day); 0 turns it off.
    `aligned`: windows start at multiples of `seconds` since the epoch (Strava's quarter hours)."""

    name: str
    seconds: int
    limit: int
    aligned: bool = False
    per_person: bool = False


@dataclass(frozen=True)
class WindowUse:
    """One window's state after counting a request."""

    window: FakeWindow
    used: int
    resets_in_s: int

    @property
    def over(self) -> bool:
        return self.window.limit > 0 and self.used > self.window.limit


WindowKey = tuple[str | None, str]  # (the person for a per-person window, else None; the window's name)


class QuotaLedger:
    """What one provider's windows have counted, for all its people: current use, peaks, refusals."""

    def __init__(self) -> None:
        self.counts: dict[WindowKey, tuple[float, int]] = {}
        self.peaks: dict[WindowKey, int] = {}
        self.over: dict[WindowKey, int] = {}
        self.lock = threading.Lock()


class FakeQuota:
    """Counts requests per window for one person of an app (app windows are shared by all its people)."""

    def __init__(self, clock: SandboxClock, windows: list[FakeWindow], person: str | None = None,
                 ledger: QuotaLedger | None = None) -> None:
        self.clock = clock
        self.windows = windows
        self.person = person
        self._ledger = ledger or QuotaLedger()

    def for_person(self, person: str) -> "FakeQuota":
        """The same windows and ledger, counting `person`'s requests."""
        return FakeQuota(self.clock, self.windows, person, self._ledger)

    def peaks(self) -> dict[WindowKey, int]:
        """The highest use each window ever reached, over-limit requests included, by (person or None, window)."""
        with self._ledger.lock:
            return dict(self._ledger.peaks)

    def refusals(self) -> dict[WindowKey, int]:
        """How many requests each window found over its limit (each was refused)."""
        with self._ledger.lock:
            return dict(self._ledger.over)

    def count(self, charge: bool = True) -> list[WindowUse]:
        """Count one request (or only look, `charge=False`) and return each window's use."""
        found = []
        ledger = self._ledger
        with ledger.lock:
            for window in self.windows:
                key = (self.person if window.per_person else None, window.name)
                if window.seconds >= 86_400:  # the sandbox's day
                    now = self.clock.now().timestamp()
                    start = now - now % 86_400
                else:
                    now = time.time()
                    started, _ = ledger.counts.get(key, (now, 0))
                    start = (now - now % window.seconds) if window.aligned else (
                        started if now - started < window.seconds else now)
                started, used = ledger.counts.get(key, (start, 0))
                if started != start:
                    used = 0
                used += 1 if charge else 0
                ledger.counts[key] = (start, used)
                use = WindowUse(window, used, max(0, int(start + window.seconds - now)))
                if charge:
                    ledger.peaks[key] = max(ledger.peaks.get(key, 0), used)
                    if use.over:
                        ledger.over[key] = ledger.over.get(key, 0) + 1
                found.append(use)
        return found

    def refuse(self, uses: list[WindowUse]) -> bool:
        """Whether the request just counted is over a window (the provider answers 429)."""
        return any(use.over for use in uses)
