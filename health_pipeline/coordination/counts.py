"""Counts of rate windows, and the errors of the servers that may hold them.

A count is what one window of a quota has used since it began. `WindowCounts.change` reads the
counts of some windows, lets the caller edit them and writes them back as one atomic step, with
the holder's clock: a process's own (in-process counts), or the server's (Redis, PostgreSQL), so
that machines whose clocks differ still agree on when a window began.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from health_pipeline.settings import person_id_problem

Result = TypeVar("Result")


@dataclass
class Count:
    """One window's count: when it began (epoch seconds), requests used, its length, and the limit
    the provider last told (None: the declared one)."""

    start: float
    used: int
    seconds: int
    limit: int | None = None


Edit = Callable[[float, dict[str, Count]], Result]


class WindowCounts(Protocol):
    """Where a quota's counts are kept."""

    def change(self, keys: Sequence[str], edit: "Edit[Result]") -> Result:
        """`edit(now, counts)` over the counts of `keys` (a key never counted is absent; `edit` adds it),
        written back atomically; returns what `edit` returns. `edit` may be called more than once (a
        concurrent change makes the step start again), so it changes nothing but the counts."""
        ...


class CoordinationUnavailable(Exception):
    """The server at `[app] coordination_url` could not be reached or refused us."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"the coordination server {public_url(url)} ([app] coordination_url) {detail}; "
                         "start it or correct the URL (quotas are never counted per process instead)")


class InProcessCounts:
    """Counts kept in this process only (thread-safe): `[app] coordination_url` unset."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, Count] = {}
        self._lock = threading.Lock()

    def change(self, keys: Sequence[str], edit: "Edit[Result]") -> Result:
        with self._lock:
            counts = {k: replace(self._counts[k]) for k in keys if k in self._counts}
            result = edit(self._clock(), counts)
            self._counts.update(counts)
            return result


def check_person(person: str) -> str:
    """A person id fit for a key (`health_pipeline.settings.PERSON_ID`), or a ValueError saying why not."""
    problem = person_id_problem(person)
    if problem:
        raise ValueError(problem)
    return person


def public_url(url: str) -> str:
    """The URL fit to show: scheme, user, host, port, path; never a password or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable URL)"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


class LockTimeout(Exception):
    """Another process held a token's refresh lock for longer than we may wait."""

    def __init__(self, name: str, wait_s: float) -> None:
        super().__init__(f"the token refresh lock {name} was held by another process for more than {wait_s:g} s")
