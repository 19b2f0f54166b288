"""What the processes and machines syncing for the same apps and people share: the counts of every
provider's rate windows, and one lock per (provider, person) around a token refresh.

Selected by `[app] coordination_url`: empty (one process counts alone, token refreshes are
serialised by a lock file beside the raw store: one machine), `redis://host:port/db`, or
`postgresql://user@host:port/db` (several processes or machines). A server that cannot be reached
is an error naming its URL (never its password); counting per process instead would let the
processes together overrun the provider's quota.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from filelock import FileLock, Timeout

from health_pipeline.coordination.counts import (Count, CoordinationUnavailable, InProcessCounts, LockTimeout,
                                                 WindowCounts, check_person, public_url)
from health_pipeline.coordination.postgres_server import PostgresServer
from health_pipeline.coordination.redis_server import RedisServer
from health_pipeline.settings import Secret

__all__ = ["Count", "CoordinationUnavailable", "InProcessCounts", "LockTimeout", "WindowCounts", "check_person",
           "public_url", "token_lock", "window_counts", "SCHEMES"]

SCHEMES = {"redis": RedisServer, "rediss": RedisServer, "postgresql": PostgresServer, "postgres": PostgresServer}

_servers: dict[tuple[int, str], RedisServer | PostgresServer] = {}
_servers_lock = threading.Lock()


def _server(url: str) -> RedisServer | PostgresServer:
    """This process's client of the server at `url` (a forked child makes its own)."""
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise CoordinationUnavailable(url, f"has an unknown scheme {scheme!r} (redis:// or postgresql://)")
    with _servers_lock:
        key = (os.getpid(), url)
        if key not in _servers:
            _servers[key] = SCHEMES[scheme](url)
        return _servers[key]


def _text(url: Secret | str) -> str:
    return url.reveal() if isinstance(url, Secret) else url


def window_counts(url: Secret | str, clock: Callable[[], float] = time.time) -> WindowCounts:
    """Where quotas are counted: this process (`url` empty, on `clock`), or the server at `url` (on its clock)."""
    text = _text(url)
    return InProcessCounts(clock) if not text else _server(text)


@contextmanager
def token_lock(url: Secret | str, provider: str, person: str, lock_file: Path, wait_s: float) -> Iterator[None]:
    """Held while one process refreshes `person`'s token at `provider`: on the server at `url`, or
    (`url` empty) a lock file (`lock_file`, mode 0600: beside the token store, like it private).
    Raises LockTimeout after `wait_s`."""
    text = _text(url)
    name = f"{provider}/{check_person(person)}"
    if text:
        with _server(text).token_lock(name, wait_s):
            yield
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(lock_file), timeout=wait_s, mode=0o600):
            yield
    except Timeout:
        raise LockTimeout(name, wait_s) from None
