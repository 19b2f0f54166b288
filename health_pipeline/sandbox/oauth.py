"""A fake OAuth2 authorization server: auto-approving authorize, code and refresh grants.

Each provider gets its own instance with its own rules: code lifetime, access-token lifetime and
whether refresh tokens rotate (single use) or stay valid. A server belongs to one person's app (the
sandbox routes `login_hint` and every credential to its person's app, see `people.py`), so its codes and
tokens, refreshed ones included, are that person's.
"""

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.world import SandboxClock

SANDBOX_CLIENT_ID = "sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-secret"


@dataclass(frozen=True)
class OAuthRules:
    """How one provider's authorization server behaves."""

    access_lifetime: timedelta
    code_lifetime: timedelta = timedelta(minutes=10)
    rotate_refresh_tokens: bool = True
    token_type: str = "bearer"
    default_scopes: str = ""  # granted when the authorize request names no scope
    # Withings: a rotated-out refresh token keeps working until the new access token is used or
    # this long after the rotation; None means it dies at once.
    rotation_grace: timedelta | None = None
    client_auth: str = "any"  # how the token endpoint takes the client's credentials: "any", "body", "basic"
    refresh_scope: str | None = None  # a refresh token only when this scope was granted (WHOOP: offline)
    issue_refresh_tokens: bool = True  # False: access tokens only (Polar)
    min_state_length: int = 0  # WHOOP refuses a `state` shorter than 8 characters
    scope_in_callback: bool = False  # the redirect back names the granted scopes (WHOOP, Strava)
    # Strava: a refresh while the access token has longer than this left answers the same access token
    reuse_access_for: timedelta | None = None
    # Extra members of a token answer (Strava's `expires_at` and `athlete`, Polar's `x_user_id`), and the
    # provider's own error bodies (`kind`: "invalid_client", "invalid_grant", "invalid_code").
    extra_token_fields: Callable[[dict[str, object]], dict[str, object]] | None = None
    error_body: Callable[[str], tuple[int, object]] | None = None


@dataclass
class _Grant:
    scope: str
    expires_at: datetime
    redirect_uri: str | None = None


class FakeOAuthServer:
    """Issues and checks tokens for one provider, against the sandbox clock."""

    def __init__(self, provider: str, clock: SandboxClock, rules: OAuthRules) -> None:
        self.provider = provider
        self.clock = clock
        self.rules = rules
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> scope
        self._retiring: dict[str, tuple[str, datetime]] = {}  # old refresh -> (new access, deadline)
        self._used: set[str] = set()  # access tokens presented at least once
        self._minted: list[str] = []  # every access and refresh token ever issued, in order
        self._issued: set[str] = set()  # every code and token ever issued, used, revoked or not
        self._lock = threading.Lock()
        self.refresh_count = 0

    # -- endpoints ---------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """Auto-approve the sandbox user and redirect back with `code` and `state`."""
        if request.query.get("response_type") != "code":
            return Response.json(400, {"error": "unsupported_response_type"})
        if request.query.get("client_id") != SANDBOX_CLIENT_ID:
            return Response.json(400, {"error": "invalid_client", "error_description": "unknown client_id"})
        redirect_uri = request.query.get("redirect_uri")
        if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
            return Response.json(400, {"error": "invalid_request", "error_description": "redirect_uri is required"})
        if len(request.query.get("state", "")) < self.rules.min_state_length:
            separator = "&" if "?" in redirect_uri else "?"
            return Response.redirect(f"{redirect_uri}{separator}" + urlencode(
                {"error": "invalid_state", "error_description": f"the state is shorter than {self.rules.min_state_length}"}))
        code = secrets.token_urlsafe(24)
        scope = request.query.get("scope") or self.rules.default_scopes
        with self._lock:
            self._issued.add(code)
            self._codes[code] = _Grant(
                scope=scope,
                expires_at=self.clock.now() + self.rules.code_lifetime,
                redirect_uri=redirect_uri,
            )
        params = {"code": code}
        if "state" in request.query:
            params["state"] = request.query["state"]
        if self.rules.scope_in_callback:
            params["scope"] = scope
        separator = "&" if "?" in redirect_uri else "?"
        return Response.redirect(f"{redirect_uri}{separator}{urlencode(params)}")

    def token(self, request: Request, client_verified: bool | None = None) -> Response:
        """The token endpoint: `authorization_code` and `refresh_token` grants.

        `client_verified` lets a provider authenticate the client its own way (Withings signatures).
        """
        if not (self._client_ok(request) if client_verified is None else client_verified):
            return self._error("invalid_client", 401, {"error": "invalid_client"})
        grant_type = request.param("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(request)
        if grant_type == "refresh_token":
            return self._refresh_grant(request)
        return Response.json(400, {"error": "unsupported_grant_type"})

    def token_payload(self, scope: str) -> dict[str, object]:
        """Mint an access + refresh token pair (also used by tests to seed a token store)."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        refreshable = self.rules.issue_refresh_tokens and (
            self.rules.refresh_scope is None or self.rules.refresh_scope in scope.replace(",", " ").split())
        with self._lock:
            self._access[access] = _Grant(scope=scope, expires_at=self.clock.now() + self.rules.access_lifetime)
            if refreshable:
                self._refresh[refresh] = scope
            self._minted += [access, refresh] if refreshable else [access]
            self._issued.update([access, refresh] if refreshable else [access])
        payload: dict[str, object] = {
            "access_token": access,
            "token_type": self.rules.token_type,
            "expires_in": int(self.rules.access_lifetime.total_seconds()),
            **({"refresh_token": refresh} if refreshable else {}),
            "scope": scope,
        }
        if self.rules.extra_token_fields is not None:
            payload.update(self.rules.extra_token_fields(payload))
        return payload

    def _error(self, kind: str, status: int, body: object) -> Response:
        """The provider's own error answer for `kind`, else the standard OAuth one."""
        if self.rules.error_body is not None:
            status, body = self.rules.error_body(kind)
        return Response.json(status, body)

    def minted_tokens(self) -> list[str]:
        """Every access and refresh token this server has issued (tests search stores for them)."""
        with self._lock:
            return list(self._minted)

    def issued(self, credential: str) -> bool:
        """Whether this server ever issued `credential` (a code, an access or a refresh token)."""
        with self._lock:
            return credential in self._issued

    # -- checks used by the data endpoints ----------------------------------------------------

    def check_access(self, token: str | None) -> str | None:
        """None when the token is valid now; otherwise why not ('missing', 'invalid', 'expired')."""
        if not token:
            return "missing"
        with self._lock:
            grant = self._access.get(token)
        if grant is None:
            return "invalid"
        if grant.expires_at <= self.clock.now():
            return "expired"
        with self._lock:
            self._used.add(token)
        return None

    def scopes_of(self, token: str) -> set[str]:
        """The scopes granted to an access token (space- or comma-separated when granted)."""
        with self._lock:
            grant = self._access.get(token)
        return set(grant.scope.replace(",", " ").split()) if grant else set()

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._access.pop(token, None)
            self._refresh.pop(token, None)

    def revoke_all(self) -> None:
        """Revoke every token (a user removing the app's access)."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    def expire_access_tokens(self) -> None:
        """Make every access token expire now (refresh tokens stay valid)."""
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = self.clock.now()

    # -- internals ---------------------------------------------------------------------------

    def _client_ok(self, request: Request) -> bool:
        basic = request.basic_auth()
        if basic is not None:
            return self.rules.client_auth != "body" and basic == (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        return (
            self.rules.client_auth != "basic"
            and request.param("client_id") == SANDBOX_CLIENT_ID
            and request.param("client_secret") == SANDBOX_CLIENT_SECRET
        )

    def _reusable_access(self, scope: str, now: datetime) -> dict[str, object] | None:
        """Strava: a refresh while an access token of this grant has more than `reuse_access_for` left
        answers that token again."""
        if self.rules.reuse_access_for is None:
            return None
        with self._lock:
            live = [(token, grant) for token, grant in self._access.items()
                    if grant.scope == scope and grant.expires_at - now > self.rules.reuse_access_for]
        if not live:
            return None
        token, grant = max(live, key=lambda pair: pair[1].expires_at)
        payload: dict[str, object] = {"access_token": token, "token_type": self.rules.token_type,
                                      "expires_in": int((grant.expires_at - now).total_seconds()), "scope": scope}
        if self.rules.extra_token_fields is not None:
            payload.update(self.rules.extra_token_fields(payload))
        return payload

    def _exchange_code(self, request: Request) -> Response:
        code = request.param("code") or ""
        with self._lock:
            grant = self._codes.pop(code, None)  # single use
        if grant is None or grant.expires_at <= self.clock.now():
            return self._error("invalid_code", 400, {"error": "invalid_grant", "error_description": "invalid or expired code"})
        if grant.redirect_uri and request.param("redirect_uri") not in (None, grant.redirect_uri):
            return self._error("invalid_code", 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
        return Response.json(200, self.token_payload(grant.scope))

    def _refresh_grant(self, request: Request) -> Response:
        refresh = request.param("refresh_token") or ""
        now = self.clock.now()
        with self._lock:
            scope = self._refresh.get(refresh)
            retiring = self._retiring.get(refresh)
            if scope is not None and retiring is not None:
                new_access, deadline = retiring
                if new_access in self._used or deadline <= now:
                    del self._refresh[refresh], self._retiring[refresh]
                    scope = None
            if scope is not None and self.rules.rotate_refresh_tokens and self.rules.rotation_grace is None:
                del self._refresh[refresh]
            self.refresh_count += 1
        if scope is None:
            return self._error("invalid_grant", 400, {"error": "invalid_grant", "error_description": "invalid refresh token"})
        reused = self._reusable_access(scope, now)
        if reused is not None:
            return Response.json(200, reused | {"refresh_token": refresh})
        payload = self.token_payload(scope)
        if self.rules.rotate_refresh_tokens and self.rules.rotation_grace is not None:
            with self._lock:
                self._retiring[refresh] = (str(payload["access_token"]), now + self.rules.rotation_grace)
        if not self.rules.rotate_refresh_tokens:
            with self._lock:
                del self._refresh[str(payload["refresh_token"])]
            payload["refresh_token"] = refresh
        return Response.json(200, payload)


def oauth_config_section(name: str, base_url: str, authorize_path: str, token_path: str, start: date,
                         more: str = "") -> str:
    """An OAuth source's config section pointing at its fake in the sandbox (client `sandbox`)."""
    return (f'[{name}]\nenabled = true\nstart_date = "{start}"\nbase_url = "{base_url}"\n'
            f'authorize_url = "{base_url}{authorize_path}"\ntoken_url = "{base_url}{token_path}"\n'
            f'client_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n{more}\n')
