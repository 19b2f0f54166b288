"""A fake provider's rate windows: counts each app's requests and says when one is over.

Short windows (a minute, a quarter hour) run on real time, like the servers they imitate: they are
a matter of pacing, not of data. A day's window runs on the sandbox clock's UTC date, so that a
test can spend a day's quota, advance the clock past midnight and find it renewed.
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


@dataclass(frozen=True)
class WindowUse:
    """One window's state after counting a request."""

    window: FakeWindow
    used: int
    resets_in_s: int

    @property
    def over(self) -> bool:
        return self.window.limit > 0 and self.used > self.window.limit


class FakeQuota:
    """Counts requests per window (one app's quota: every token of the app shares it)."""

    def __init__(self, clock: SandboxClock, windows: list[FakeWindow]) -> None:
        self.clock = clock
        self.windows = windows
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def count(self, charge: bool = True) -> list[WindowUse]:
        """Count one request (or only look, `charge=False`) and return each window's use."""
        found = []
        with self._lock:
            for window in self.windows:
                if window.seconds >= 86_400:  # the sandbox's day
                    now = self.clock.now().timestamp()
                    start = now - now % 86_400
                else:
                    now = time.time()
                    started, _ = self._counts.get(window.name, (now, 0))
                    start = (now - now % window.seconds) if window.aligned else (
                        started if now - started < window.seconds else now)
                started, used = self._counts.get(window.name, (start, 0))
                if started != start:
                    used = 0
                used += 1 if charge else 0
                self._counts[window.name] = (start, used)
                found.append(WindowUse(window, used, max(0, int(start + window.seconds - now))))
        return found

    def refuse(self, uses: list[WindowUse]) -> bool:
        """Whether the request just counted is over a window (the provider answers 429)."""
        return any(use.over for use in uses)
