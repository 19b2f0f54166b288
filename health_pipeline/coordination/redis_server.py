"""Quota counts and token locks held by a Redis server (`[app] coordination_url = "redis://…"`).

A change is one optimistic transaction (WATCH the windows' keys, read them and the server's clock,
MULTI, write, EXEC): when another process changes a window between, the step starts again, so no
slot is ever granted twice. A window's key expires one window after it ends (the provider's told
limit carries over into the next window, as it does in one process). A token lock is Redis'
expiring lock: a process that dies holding it frees it when it expires.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis

from health_pipeline.coordination.counts import Count, CoordinationUnavailable, Edit, LockTimeout, Result

PREFIX = "health-pipeline:"
# A refresh is at most 5 token requests of 30 s each plus backoff (providers/oauth.py): the lock
# outlives it, and a holder that died frees the others after this long.
LOCK_EXPIRY_S = 240


class RedisServer:
    """One Redis server's client for this process (redis-py's connection pool is thread-safe)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        except ValueError as err:
            raise CoordinationUnavailable(url, f"is not a Redis URL ({err})") from None

    def change(self, keys: Sequence[str], edit: "Edit[Result]") -> Result:
        names = [f"{PREFIX}quota:{key}" for key in keys]

        def step(pipe: "redis.client.Pipeline") -> Result:
            stored = pipe.mget(names)
            seconds, micros = pipe.time()
            now = seconds + micros / 1e6
            counts = {key: Count(**json.loads(text)) for key, text in zip(keys, stored) if text is not None}
            before = {key: vars(count).copy() for key, count in counts.items()}
            result = edit(now, counts)
            pipe.multi()
            for key, count in counts.items():
                if before.get(key) != vars(count):
                    expires = max(count.start + 2 * count.seconds, now + count.seconds)
                    pipe.set(f"{PREFIX}quota:{key}", json.dumps(vars(count)), pxat=int(expires * 1000))
            return result

        try:
            return self.client.transaction(step, *names, value_from_callable=True)
        except redis.RedisError as err:
            raise CoordinationUnavailable(self.url, _failure(err)) from None

    @contextmanager
    def token_lock(self, name: str, wait_s: float) -> Iterator[None]:
        lock = self.client.lock(f"{PREFIX}token-lock:{name}", timeout=LOCK_EXPIRY_S, blocking_timeout=wait_s)
        try:
            acquired = lock.acquire()
        except redis.RedisError as err:
            raise CoordinationUnavailable(self.url, _failure(err)) from None
        if not acquired:
            raise LockTimeout(name, wait_s)
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockNotOwnedError:
                pass  # it expired (a refresh longer than LOCK_EXPIRY_S); the token is already saved
            except redis.RedisError as err:
                raise CoordinationUnavailable(self.url, _failure(err)) from None


def _failure(err: redis.RedisError) -> str:
    if isinstance(err, redis.AuthenticationError):
        return f"refused our credentials ({err})"
    if isinstance(err, (redis.ConnectionError, redis.TimeoutError)):
        return f"could not be reached ({type(err).__name__})"
    return f"refused a request ({type(err).__name__}: {str(err)[:200]})"
