"""The few typed errors every provider client raises; nothing above a client sees an envelope.

Each message is one line: what failed, where, and what to do. None carries a token or secret.
"""

from datetime import datetime


class ProviderError(Exception):
    """Base class: a provider call failed in a way the caller can act on."""

    retryable = False

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class AuthExpired(ProviderError):
    """The access token expired or was refused; a refresh may fix it."""

    retryable = True


class ReauthorizationNeeded(ProviderError):
    """The refresh token is gone (revoked, reused, expired): the user must authorise again."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(provider, f"{reason}; run `health-pipeline auth {provider}` again")


class RateLimited(ProviderError):
    """The provider's rate limit would make us wait longer than allowed. Safe to re-run later."""

    retryable = True

    def __init__(self, provider: str, wait_s: float, max_wait_s: float) -> None:
        super().__init__(
            provider,
            f"rate limited; the provider asks to wait {wait_s:g} s, more than the allowed "
            f"{max_wait_s:g} s. Nothing already landed is lost: re-run later to resume",
        )
        self.wait_s = wait_s


class QuotaExhausted(ProviderError):
    """A long window of the provider's quota (a day's) is spent: nothing more until it resets.

    Not retried: what landed stays, and the next run (a schedule, a sensor, `sync`) goes on from there."""

    def __init__(self, provider: str, window: str, limit: int, resets_at: datetime) -> None:
        super().__init__(provider, f"the {window}'s quota of {limit} requests is spent; it resets at "
                                   f"{resets_at:%Y-%m-%d %H:%M} UTC, and the next run goes on from there")
        self.window, self.limit, self.resets_at = window, limit, resets_at


class ProviderUnavailable(ProviderError):
    """The provider is down, timing out or answering 5xx after all retries."""

    retryable = True


class BadRequest(ProviderError):
    """The provider refused the request as malformed: a bug or an unexpected API change."""


class ProviderRetired(ProviderError):
    """The API is shut down (HTTP 410), e.g. the legacy Fitbit Web API."""


class MalformedResponse(ProviderError):
    """The provider answered something that is not the documented shape.

    Not retried by Dagster: an answer cut off in transit is already asked again by the HTTP layer,
    and a well-formed answer of the wrong shape will not change within a minute; the next
    scheduled run asks again.
    """
