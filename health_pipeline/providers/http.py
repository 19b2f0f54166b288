"""The HTTP layer every provider client shares: timeouts, retries with backoff, Retry-After.

It retries what is worth retrying (connection resets, timeouts, 5xx, 429, a JSON answer cut off
mid-body) and hands every other status back to the provider module, which knows that provider's error envelope. It counts the
requests it makes so assets can report them.
"""

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from health_pipeline.coordination import window_counts
from health_pipeline.providers.errors import MalformedResponse, ProviderRetired, ProviderUnavailable, RateLimited
from health_pipeline.providers.quota import Quota, Window
from health_pipeline.settings import Secret

log = logging.getLogger(__name__)

USER_AGENT = "health-pipeline/0.1 (+https://github.com/health-pipeline/health-pipeline)"


class RequestBudget:
    """At most `limit` requests in any `window_s` seconds: callers wait for a slot (thread-safe).

    A long backfill then runs at the provider's pace instead of tripping its rate limit.
    """

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a request budget needs a positive limit and window")
        self.limit, self.window_s = limit, window_s
        self._clock, self._sleep = clock, sleep
        self._sent: list[float] = []
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def take(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._sent = [t for t in self._sent if now - t < self.window_s]
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                wait = self.window_s - (now - self._sent[0])
            self.waited_s += wait
            self._sleep(wait)  # waiting for the provider's rate window to move on




@dataclass(frozen=True)
class RetrySettings:
    """How patient a client is. `max_wait_s` bounds the total time spent waiting on rate limits."""

    attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_wait_s: float = 300.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0


class ProviderHTTP:
    """A requests session for one provider, with the retry policy above and a request counter."""

    def __init__(
        self,
        provider: str,
        settings: RetrySettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budget: RequestBudget | None = None,
        limit_signal: Callable[[requests.Response], float | None] | None = None,
        quota: Quota | None = None,
        read_quota: Callable[[requests.Response, Quota], None] | None = None,
    ) -> None:
        self.provider = provider
        self.settings = settings or RetrySettings()
        self.requests_made = 0
        self.rate_limited_waits = 0
        self.budget = budget
        # The provider's published windows (WHOOP, Strava, Polar), and how its answers' headers update them.
        self.quota = quota
        self.read_quota = read_quota
        # For limits signalled inside a 200 (Withings' status 601): seconds to wait, or None.
        self.limit_signal = limit_signal
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send one logical request; returns any response that is not retryable or 410. A request that is
        not `idempotent` (one that creates something: Polar's transactions) is not sent again when its
        answer was lost or cut off, since the provider may have acted on it."""
        settings = self.settings
        waited = 0.0
        failures = 0
        while True:
            if self.budget is not None:
                self.budget.take()
            if self.quota is not None:
                self.quota.take()  # raises QuotaExhausted when a day's quota is spent
            self.requests_made += 1
            try:
                response = self._session.request(
                    method, url, params=params, data=data, json=json, auth=auth, headers=dict(headers or {}),
                    timeout=(settings.connect_timeout_s, settings.read_timeout_s), allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
                failures += 1
                if failures >= settings.attempts or not idempotent:
                    raise ProviderUnavailable(
                        self.provider,
                        f"no answer from {_origin(url)} after {failures} attempts ({type(err).__name__}); "
                        "check the provider's status and your network, then re-run",
                    ) from None
                self._sleep(self._backoff(failures))
                continue
            status = response.status_code
            if self.quota is not None and self.read_quota is not None:
                self.read_quota(response, self.quota)
            if status == 410:
                raise ProviderRetired(self.provider, f"{_origin(url)} answers 410 Gone: this API is retired")
            if 200 <= status < 300 and _cut_off_json(response):
                failures += 1
                if failures >= settings.attempts or not idempotent:
                    return response  # the provider module reports it as a malformed answer
                log.info("%s: the answer from %s was not valid JSON, asking again", self.provider, _origin(url))
                self._sleep(self._backoff(failures))
                continue
            signalled = self.limit_signal(response) if self.limit_signal and status == 200 else None
            if status == 429 and self.quota is not None:
                spent = self.quota.exhausted()
                if spent is not None:  # a day's quota: waiting within the run cannot help
                    raise spent
            if status == 429 or signalled is not None:
                wait = signalled or retry_after_seconds(response.headers) or self._backoff(self.rate_limited_waits + 1)
                if waited + wait > settings.max_wait_s:
                    raise RateLimited(self.provider, wait, settings.max_wait_s)
                log.info("%s: rate limited, waiting %.1f s", self.provider, wait)
                self.rate_limited_waits += 1
                waited += wait
                self._sleep(wait)
                continue
            if status >= 500:
                failures += 1
                if failures >= settings.attempts:
                    raise ProviderUnavailable(
                        self.provider,
                        f"{_origin(url)} answered HTTP {status} {failures} times in a row; "
                        "the provider may be down, re-run later",
                    )
                self._sleep(retry_after_seconds(response.headers) or self._backoff(failures))
                continue
            return response

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with full jitter (AWS architecture blog's recommendation)."""
        ceiling = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (failures - 1))
        return random.uniform(ceiling / 2, ceiling)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (epoch)."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.replace(".", "", 1).isdigit():
            return max(0.0, float(value))
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - now)
    reset = headers.get("X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return max(0.0, int(reset) - now)
    return None


def _origin(url: str) -> str:
    """Scheme, host and path of a URL, without its query (which could carry secrets)."""
    return url.split("?", 1)[0]


def provider_http(provider: str, requests_per_minute: int, max_wait_s: float,
                  limit_signal: Callable[[requests.Response], float | None] | None = None,
                  windows: tuple[Window, ...] = (),
                  read_quota: Callable[[requests.Response, Quota], None] | None = None, *,
                  person: str = "me", coordination_url: Secret | str = "") -> ProviderHTTP:
    """The HTTP layer for one provider, with its configured budget and patience, and (for providers that
    publish them) its quota's windows, updated from what its answers' headers say, counted for `person`
    in this process or on the server at `coordination_url` (`[app] coordination_url`)."""
    quota = Quota(provider, windows, max_wait_s, person=person,
                  counts=window_counts(coordination_url)) if windows else None
    return ProviderHTTP(
        provider, RetrySettings(max_wait_s=max_wait_s), budget=RequestBudget(requests_per_minute, 60.0),
        limit_signal=limit_signal, quota=quota, read_quota=read_quota,
    )


_PARSED = "_health_pipeline_json"  # where `_cut_off_json` leaves the decoded body, so it is parsed once


def _cut_off_json(response: requests.Response) -> bool:
    """True for an answer that says it is JSON but does not parse (a body cut off in transit)."""
    if "json" not in (response.headers.get("Content-Type") or "").lower() or not response.content:
        return False
    body = json_or_none(response)
    setattr(response, _PARSED, body)
    return body is None


def json_or_none(response: requests.Response) -> Any:
    """The decoded JSON body, or None when the body is not JSON (an HTML error page, a cut-off answer)."""
    if _PARSED in vars(response):
        return vars(response)[_PARSED]
    try:
        return response.json()
    except ValueError:
        return None


def json_object(provider: str, what: str, body: Any) -> dict[str, Any]:
    """A successful answer's body, which must be a JSON object."""
    if not isinstance(body, dict):
        raise MalformedResponse(provider, f"{what}: the answer is not a JSON object")
    return body
