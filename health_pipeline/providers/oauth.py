"""OAuth2 tokens for Oura, Google Health and Withings, kept in the raw store's `oauth_tokens`.

Refreshes happen shortly before expiry, one process at a time for each (provider, person): a lock
file beside the raw store on one machine, or a lock on the server at `[app] coordination_url`
(Redis, PostgreSQL) across machines; whoever takes the lock reads the stored token again, since
another process may have refreshed it meanwhile. The rotated refresh token is stored in the same
transaction as the new access token before that access token is ever used. A refused refresh token
means the user must authorise again; the message says how. A token endpoint that is down, overloaded
or rate limiting (a connection error, 5xx, 429, Withings' 601) is asked again like any other
request, then reported as unavailable, never as a refused grant: the stored tokens stay good for the
next run. Token text never reaches logs or exception messages.
"""

import ipaddress
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth2Session
from urllib3.util.retry import Retry

from health_pipeline.coordination import CoordinationUnavailable, LockTimeout, token_lock
from health_pipeline.settings import OAuthProviderConfig, Secret
from health_pipeline.providers.errors import ProviderUnavailable, ReauthorizationNeeded
from health_pipeline.storage.raw_store import RawStore, StoredToken

REFRESH_MARGIN = timedelta(minutes=5)
# Token requests are retried as the HTTP layer retries data requests: connection errors, 5xx and
# 429 (honouring Retry-After), with exponential backoff; 5 attempts in all.
TOKEN_RETRY = Retry(total=4, connect=4, read=4, status=4, backoff_factor=0.5, backoff_max=30,
                    status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"POST"}),
                    respect_retry_after_header=True, raise_on_status=False)
# OAuth error codes that say the server could not answer now, not that the grant is bad.
UNAVAILABLE_ERRORS = {"temporarily_unavailable", "server_error"}


class TokenEndpointUnavailable(Exception):
    """The token endpoint answered 5xx or 429 after every attempt (raised from a compliance hook)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _refuse_unavailable(response: requests.Response) -> requests.Response:
    """A compliance hook: a 5xx or 429 token answer is the server's trouble, not an OAuth error to parse."""
    if response.status_code >= 500 or response.status_code == 429:
        raise TokenEndpointUnavailable(response.status_code)
    return response

# requests-oauthlib and oauthlib log request bodies (client secrets, tokens) at DEBUG level.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)
TOKEN_TIMEOUT_S = 30
REFRESH_LOCK_WAIT_S = 120  # longer than a refresh takes when its token endpoint answers at all

# Users may grant fewer scopes than asked (Google's granular consent); the stored `scope` says
# which, and clients skip what was not granted instead of failing on oauthlib's scope check.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")


Answer = TypeVar("Answer")  # what one authenticated attempt returns (a response, a parsed payload)


@dataclass(frozen=True)
class OAuthProfile:
    """How one provider does OAuth2 beyond the standard: scopes, extra parameters, envelopes."""

    scopes: tuple[str, ...]
    scope_separator: str = " "
    authorize_params: dict[str, str] = field(default_factory=dict)
    token_params: dict[str, str] = field(default_factory=dict)
    # Rewrites a token endpoint answer into standard OAuth JSON (Withings wraps it in {status, body}).
    unwrap: Callable[[requests.Response], requests.Response] | None = None
    # How the token endpoint takes the client's credentials: in the form body, or HTTP Basic (Polar).
    client_auth: str = "body"

    @property
    def scope(self) -> str | list[str]:
        return list(self.scopes) if self.scope_separator == " " else self.scope_separator.join(self.scopes)


class OAuthTokens:
    """Hands out a valid access token for one provider, refreshing it when needed."""

    def __init__(self, config: OAuthProviderConfig, store: RawStore, profile: OAuthProfile | list[str], *,
                 coordination_url: Secret | str = "") -> None:
        _allow_plain_http_on_loopback(config.token_url)
        self.config = config
        self.store = store
        self.coordination_url = coordination_url  # `[app] coordination_url`: where the refresh lock is held
        self.profile = profile if isinstance(profile, OAuthProfile) else OAuthProfile(tuple(profile))
        self.refreshes = 0
        # The last token answer's fields other than the tokens (Polar's `x_user_id`, Strava's `athlete`).
        self.answer: dict[str, Any] = {}

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.profile.scopes

    def granted_scopes(self) -> set[str]:
        """The scopes the user actually granted (empty when unknown)."""
        token = self.store.token(self.provider)
        if token is None or not token.scope:
            return set()
        return set(token.scope.replace(",", " ").split())

    def _session(self, **kwargs: Any) -> OAuth2Session:
        session = OAuth2Session(self.config.client_id, **kwargs)
        adapter = HTTPAdapter(max_retries=TOKEN_RETRY)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        for hook in ("access_token_response", "refresh_token_response"):
            session.register_compliance_hook(hook, _refuse_unavailable)
            if self.profile.unwrap is not None:
                session.register_compliance_hook(hook, self.profile.unwrap)
        return session

    def _unavailable(self, detail: str) -> ProviderUnavailable:
        return ProviderUnavailable(self.provider, f"the token endpoint {_origin(self.config.token_url)} {detail}; "
                                                  "the stored tokens are kept: re-run later")

    @property
    def provider(self) -> str:
        return self.config.name

    @property
    def person(self) -> str:
        return self.store.person

    def _lock(self) -> AbstractContextManager[None]:
        """The refresh lock of this provider and person: on the coordination server, else on the raw
        store's server when it is on one (every machine refreshing these tokens reaches it), else a lock
        file beside the token store (the one person's file keeps the name it had before people)."""
        person = "" if self.person == "me" else f".{self.person}"
        server = self.coordination_url or self.store.lock_server()
        beside = Path(f"{self.store.location}.{self.provider}{person}.token.lock")  # used when `server` is ""
        return token_lock(server, self.provider, self.person, beside, REFRESH_LOCK_WAIT_S)

    # -- the authorization-code flow -----------------------------------------------------------

    def authorization_url(self, state: str, **extra: str) -> str:
        """The URL to open in a browser to grant access."""
        session = self._session(redirect_uri=self.config.redirect_uri, scope=self.profile.scope, state=state)
        url, _ = session.authorization_url(self.config.authorize_url, **{**self.profile.authorize_params, **extra})
        return url

    def exchange_code(self, code: str, granted: str | None = None) -> StoredToken:
        """Trade an authorization code for tokens and store them; `granted`: the scopes the redirect said
        were granted (they win over what the token answer says, or leaves out)."""
        session = self._session(redirect_uri=self.config.redirect_uri, scope=self.profile.scope)
        secret = self.config.client_secret.reveal()
        credentials: dict[str, Any] = (
            {"auth": requests.auth.HTTPBasicAuth(self.config.client_id, secret), "include_client_id": False}
            if self.profile.client_auth == "basic" else {"include_client_id": True, "client_secret": secret})
        try:
            token = session.fetch_token(
                self.config.token_url, code=code, timeout=TOKEN_TIMEOUT_S, **credentials, **self.profile.token_params,
            )
        except TokenEndpointUnavailable as err:
            raise self._unavailable(f"answered HTTP {err.status} after 5 attempts") from None
        except OAuth2Error as err:
            if err.error in UNAVAILABLE_ERRORS:
                raise self._unavailable(f"is temporarily unavailable ({err.error})") from None
            raise ReauthorizationNeeded(self.provider, f"the authorization code was refused ({err.error})") from None
        except requests.RequestException as err:
            raise self._unavailable(f"could not be reached after 5 attempts ({type(err).__name__})") from None
        if granted:
            token["scope"] = granted
        return self._save(token)

    # -- access tokens ------------------------------------------------------------------------

    def send(self, attempt: Callable[[str], Answer], refused: Callable[[Answer], bool]) -> Answer:
        """Every client's one authenticated call: `attempt(access_token)`, and if the answer says the
        token was refused (`refused(answer)`: a 401, Withings' status 401), refresh once and try again.
        The caller reads the second answer as it is (still refused: reauthorization is needed)."""
        answer = attempt(self.access_token())
        if refused(answer):
            answer = attempt(self.access_token(force_refresh=True))
        return answer

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token: the stored one, or a freshly refreshed one."""
        stored = self.store.token(self.provider)
        if stored is None:
            raise ReauthorizationNeeded(self.provider, "no token stored yet")
        if not force_refresh and not _expiring(stored):
            return stored.access_token
        try:
            with self._lock():
                # Another process may have refreshed while we waited for the lock.
                current = self.store.token(self.provider)
                if current is None:
                    raise ReauthorizationNeeded(self.provider, "no token stored yet")
                if current.access_token != stored.access_token or not (force_refresh or _expiring(current)):
                    return current.access_token
                return self._refresh(current).access_token
        except (CoordinationUnavailable, LockTimeout) as err:
            raise ProviderUnavailable(self.provider, f"{err}; the stored tokens are kept: re-run later") from None

    def _refresh(self, current: StoredToken) -> StoredToken:
        if not current.refresh_token:
            raise ReauthorizationNeeded(self.provider, "the access token expired and there is no refresh token")
        session = self._session()
        try:
            token = session.refresh_token(
                self.config.token_url, refresh_token=current.refresh_token, timeout=TOKEN_TIMEOUT_S,
                client_id=self.config.client_id, client_secret=self.config.client_secret.reveal(),
                **self.profile.token_params,
            )
        except TokenEndpointUnavailable as err:
            raise self._unavailable(f"answered HTTP {err.status} after 5 attempts") from None
        except OAuth2Error as err:
            if err.error in UNAVAILABLE_ERRORS:
                raise self._unavailable(f"is temporarily unavailable ({err.error})") from None
            raise ReauthorizationNeeded(self.provider, f"the refresh token was refused ({err.error})") from None
        except requests.RequestException as err:
            raise self._unavailable(f"could not be reached after 5 attempts ({type(err).__name__})") from None
        self.refreshes += 1
        if not token.get("refresh_token"):
            token["refresh_token"] = current.refresh_token  # providers that do not rotate
        return self._save(token)

    def _save(self, token: dict[str, Any]) -> StoredToken:
        self.answer = {k: v for k, v in token.items()
                       if k not in ("access_token", "refresh_token", "id_token", "expires_in", "expires_at")}
        expires_at = None
        if token.get("expires_in") is not None:
            expires_at = datetime.now(timezone.utc) + timedelta(seconds=float(token["expires_in"]))
        scope = token.get("scope")
        if not scope:
            previous = self.store.token(self.provider)
            scope = previous.scope if previous is not None else None  # refreshes may omit it
        self.store.save_token(
            self.provider,
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            token_type=str(token.get("token_type") or "Bearer"),
            scope=" ".join(scope) if isinstance(scope, list) else scope,
            expires_at=expires_at,
        )
        saved = self.store.token(self.provider)
        assert saved is not None
        return saved


def _origin(url: str) -> str:
    """Scheme, host and path of a URL (no query, no credentials)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _expiring(token: StoredToken) -> bool:
    return token.expires_at is not None and token.expires_at - REFRESH_MARGIN <= datetime.now(timezone.utc)


def _allow_plain_http_on_loopback(url: str) -> None:
    """oauthlib insists on https; the sandbox serves plain http on loopback, and only that is allowed."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
