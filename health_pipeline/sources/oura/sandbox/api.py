"""Fake Oura Cloud API v2 under `/oura`: OAuth, `{data, next_token}` paging, Oura's error bodies.

Pages are produced lazily: a `next_token` carries the position (the next day, or the next
heartrate instant), so serving two years never builds two years in memory.
"""

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from health_pipeline.sources.oura.sandbox import data as oura_data
from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.oauth import FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.quota import FakeQuota, FakeWindow
from health_pipeline.sandbox.world import SandboxWorld

DailyGenerator = Callable[[SandboxWorld, date], list[dict[str, Any]]]


@dataclass(frozen=True)
class FakeEndpoint:
    """A date-keyed collection: its generator, the scope it needs, the field its day is in."""

    generate: DailyGenerator
    scope: str
    day_field: str = "day"


# `start_date` / `end_date` are compared with each document's day field, both inclusive.
DAILY_ENDPOINTS: dict[str, FakeEndpoint] = {
    "daily_activity": FakeEndpoint(oura_data.daily_activity_documents, "daily"),
    "daily_readiness": FakeEndpoint(oura_data.daily_readiness, "daily"),
    "daily_sleep": FakeEndpoint(oura_data.daily_sleep, "daily"),
    "sleep": FakeEndpoint(oura_data.sleep, "daily"),
    "sleep_time": FakeEndpoint(oura_data.sleep_time, "daily"),
    "daily_spo2": FakeEndpoint(oura_data.daily_spo2, "spo2Daily"),
    "daily_stress": FakeEndpoint(oura_data.daily_stress, "daily"),
    "daily_resilience": FakeEndpoint(oura_data.daily_resilience, "daily"),
    "daily_cardiovascular_age": FakeEndpoint(oura_data.daily_cardiovascular_age, "daily"),
    "vO2_max": FakeEndpoint(oura_data.vo2_max, "daily"),
    "workout": FakeEndpoint(oura_data.workout, "workout"),
    "session": FakeEndpoint(oura_data.session, "session"),
    "tag": FakeEndpoint(oura_data.tag, "tag"),
    "enhanced_tag": FakeEndpoint(oura_data.enhanced_tag, "tag", "start_day"),
    "rest_mode_period": FakeEndpoint(oura_data.rest_mode_period, "daily", "start_day"),
}
SCOPES = ("email", "personal", "daily", "heartrate", "workout", "tag", "session", "spo2Daily")


@dataclass
class OuraSettings:
    """Knobs for behaviour the reference leaves open (limits are undocumented: community lore)."""

    daily_page_size: int = 50
    heartrate_page_size: int = 5000
    rate_limit: int = 5000
    rate_window_s: int = 300
    end_date_is_midnight: bool = False  # a reported variant: a bare end_date excludes that day

class FakeOura:
    """The Oura app mounted at `/oura`."""

    def __init__(self, world: SandboxWorld, settings: OuraSettings | None = None) -> None:
        self.world = world
        self.settings = settings or OuraSettings()
        self.oauth = FakeOAuthServer("oura", world.clock, OAuthRules(access_lifetime=timedelta(days=1), default_scopes=" ".join(SCOPES)))
        # the lore's limit is per token; here a person's tokens share one window (a client holds one at a time)
        self.quota = FakeQuota(world.clock, [FakeWindow("window", self.settings.rate_window_s, self.settings.rate_limit,
                                                        per_person=True)], world.person)

    def for_person(self, world: SandboxWorld) -> "FakeOura":
        """Another person's Oura: their own tokens and world, the same settings and quota ledger."""
        twin = FakeOura(world, self.settings)
        twin.quota = self.quota.for_person(world.person)
        return twin

    def __call__(self, request: Request) -> Response:
        if request.path == "/oauth/authorize" and request.method == "GET":
            return self.oauth.authorize(request)
        if request.path == "/oauth/token" and request.method == "POST":
            return self.oauth.token(request)
        if request.path in ("/oauth/revoke", "/oauth/revoke/"):
            self.oauth.revoke_token(request.param("access_token") or "")
            return Response.json(200, {})
        prefix = "/v2/usercollection/"
        if not request.path.startswith(prefix):
            return Response.json(404, {"detail": "Not Found"})
        token = request.bearer_token()
        problem = self.oauth.check_access(token)
        if problem:
            return Response.json(401, {"detail": _AUTH_DETAIL[problem]})
        if request.method != "GET":
            return Response.json(405, {"detail": "Method Not Allowed"})
        limited = self._over_limit()
        if limited is not None:
            return limited
        name, _, document_id = request.path[len(prefix):].partition("/")
        scope = _scope_of(name)
        if scope is None:
            return Response.json(404, {"detail": "Not Found"})
        if scope not in self.oauth.scopes_of(token or ""):
            return Response.json(403, {"detail": f"Missing scope: {scope}"})
        if document_id:
            return self._document(name, document_id)
        if name in DAILY_ENDPOINTS:
            return self._daily(request, DAILY_ENDPOINTS[name])
        if name == "heartrate":
            return self._heartrate(request)
        if name == "ring_configuration":
            return Response.json(200, {"data": oura_data.ring_configuration(self.world), "next_token": None})
        return Response.json(200, oura_data.personal_info(self.world))  # unwrapped: no `data` envelope

    def rate_limited(self, retry_after: int | None) -> Response:
        """429 with Oura's rate-limit headers."""
        headers = {
            "X-RateLimit-Limit": str(self.settings.rate_limit),
            "X-RateLimit-Window": str(self.settings.rate_window_s),
            "X-RateLimit-Reset": str(int(time.time()) + (retry_after or self.settings.rate_window_s)),
            "X-RateLimit-Tier": "token",
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response.json(429, {"detail": "Rate limit exceeded"}, headers)

    def _over_limit(self) -> Response | None:
        """A fixed window per person, on real time (the rate limit is not a data fact)."""
        window = self.quota.windows[0]
        window.seconds, window.limit = self.settings.rate_window_s, self.settings.rate_limit  # settings may change
        uses = self.quota.count()
        return self.rate_limited(max(1, uses[0].resets_in_s)) if self.quota.refuse(uses) else None

    def _document(self, name: str, document_id: str) -> Response:
        """One document by id (404 when there is none), searched newest day first."""
        endpoint = DAILY_ENDPOINTS.get(name)
        if endpoint is not None:
            day = self.world.today()
            while day >= self.world.first_day():
                for document in endpoint.generate(self.world, day):
                    if document.get("id") == document_id:
                        return Response.json(200, document)
                day -= timedelta(days=1)
        return Response.json(404, {"detail": "Document not found"})

    # -- collections -------------------------------------------------------------------------

    def _daily(self, request: Request, endpoint: FakeEndpoint) -> Response:
        token = _decode_token(request.query.get("next_token"))
        if token is False:
            return Response.json(400, {"detail": "Invalid next_token"})
        if token:
            start, end = date.fromisoformat(token["d"]), date.fromisoformat(token["e"])
        else:
            try:
                end = _parse_day(request.query.get("end_date"), "end_date") or self.world.today()
                start = _parse_day(request.query.get("start_date"), "start_date") or end - timedelta(days=1)
            except _ValidationError as err:
                return _validation_error(err)
            raw_end = request.query.get("end_date", "")
            if self.settings.end_date_is_midnight and len(raw_end) == 10:
                end -= timedelta(days=1)
            if start > end:
                return Response.json(400, {"detail": "Start date is greater than end date"})
        data: list[dict[str, Any]] = []
        day = start
        while day <= end and len(data) < self.settings.daily_page_size:
            data.extend(
                document for document in endpoint.generate(self.world, day)
                if document.get(endpoint.day_field) == day.isoformat()
            )
            day += timedelta(days=1)
        next_token = _encode_token({"d": day.isoformat(), "e": end.isoformat()}) if day <= end else None
        return Response.json(200, {"data": data, "next_token": next_token})

    def _heartrate(self, request: Request) -> Response:
        token = _decode_token(request.query.get("next_token"))
        if token is False:
            return Response.json(400, {"detail": "Invalid next_token"})
        if token:
            start, end = datetime.fromisoformat(token["t"]), datetime.fromisoformat(token["e"])
        else:
            if "start_datetime" not in request.query and "start_date" in request.query:
                # The real API ignores date parameters here and answers nothing (a known trap).
                return Response.json(200, {"data": [], "next_token": None})
            try:
                now = self.world.clock.now()
                end = _parse_instant(request.query.get("end_datetime"), "end_datetime") or now
                start = _parse_instant(request.query.get("start_datetime"), "start_datetime") or end - timedelta(days=1)
            except _ValidationError as err:
                return _validation_error(err)
            if start > end:
                return Response.json(400, {"detail": "Start datetime is greater than end datetime"})
        rows: list[dict[str, Any]] = []
        next_instant: str | None = None
        day = self.world.day_of(start)
        last_day = self.world.day_of(end)
        while day <= last_day and next_instant is None:
            for row in oura_data.heartrate_rows(self.world, day):
                instant = datetime.fromisoformat(row["timestamp"])
                if instant < start or instant > end:
                    continue
                if len(rows) == self.settings.heartrate_page_size:
                    next_instant = row["timestamp"]
                    break
                rows.append(row)
            day += timedelta(days=1)
        next_token = _encode_token({"t": next_instant, "e": end.isoformat()}) if next_instant else None
        return Response.json(200, {"data": rows, "next_token": next_token})


def _scope_of(name: str) -> str | None:
    if name in DAILY_ENDPOINTS:
        return DAILY_ENDPOINTS[name].scope
    return {"heartrate": "heartrate", "ring_configuration": "personal", "personal_info": "personal"}.get(name)


_AUTH_DETAIL = {
    "missing": "Not authenticated",
    "invalid": "Invalid or revoked access token",
    "expired": "Access token has expired",
}


class _ValidationError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _validation_error(err: _ValidationError) -> Response:
    """FastAPI's 422 body, which the real Oura API returns for bad query parameters."""
    return Response.json(422, {"detail": [{"loc": ["query", err.field], "msg": str(err), "type": "value_error"}]})


def _parse_day(value: str | None, field: str) -> date | None:
    """A date, or a date-time whose calendar date is taken (Oura accepts both)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _ValidationError(field, f"invalid date: {value!r}") from None


def _parse_instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise _ValidationError(field, f"invalid datetime (a '+' offset must be sent as %2B): {value!r}") from None
    if instant.tzinfo is None:
        raise _ValidationError(field, "datetime must carry a UTC offset")
    return instant


def _encode_token(state: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(value: str | None) -> dict[str, str] | None | bool:
    """The state inside a next_token; None when absent, False when it is not one of ours."""
    if not value:
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return state if isinstance(state, dict) else False
