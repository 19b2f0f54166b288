"""Fake Oura Cloud API v2 under `/oura`: OAuth, `{data, next_token}` paging, Oura's error bodies.

Pages are produced lazily: a `next_token` carries the position (the next day, or the next
heartrate instant), so serving two years never builds two years in memory.
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from health_pipeline.sandbox import oura_data
from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.oauth import FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.world import SandboxWorld

DailyGenerator = Callable[[SandboxWorld, date], dict[str, Any] | None]

# Endpoints keyed by date (`start_date` / `end_date`, compared with each document's `day`).
DAILY_ENDPOINTS: dict[str, DailyGenerator] = {
    "daily_activity": oura_data.daily_activity,
}


@dataclass
class OuraSettings:
    """Knobs for behaviour the reference leaves open."""

    daily_page_size: int = 50
    heartrate_page_size: int = 5000


class FakeOura:
    """The Oura app mounted at `/oura`."""

    def __init__(self, world: SandboxWorld, settings: OuraSettings | None = None) -> None:
        self.world = world
        self.settings = settings or OuraSettings()
        self.oauth = FakeOAuthServer("oura", world.clock, OAuthRules(access_lifetime=timedelta(days=1)))

    def __call__(self, request: Request) -> Response:
        if request.path == "/oauth/authorize" and request.method == "GET":
            return self.oauth.authorize(request)
        if request.path == "/oauth/token" and request.method == "POST":
            return self.oauth.token(request)
        prefix = "/v2/usercollection/"
        if not request.path.startswith(prefix):
            return Response.json(404, {"detail": "Not Found"})
        problem = self.oauth.check_access(request.bearer_token())
        if problem:
            return Response.json(401, {"detail": _AUTH_DETAIL[problem]})
        name = request.path[len(prefix):]
        if request.method != "GET":
            return Response.json(405, {"detail": "Method Not Allowed"})
        if name in DAILY_ENDPOINTS:
            return self._daily(request, DAILY_ENDPOINTS[name])
        if name == "heartrate":
            return self._heartrate(request)
        return Response.json(404, {"detail": "Not Found"})

    # -- collections -------------------------------------------------------------------------

    def _daily(self, request: Request, generate: DailyGenerator) -> Response:
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
            if start > end:
                return Response.json(400, {"detail": "Start date is greater than end date"})
        data: list[dict[str, Any]] = []
        day = start
        while day <= end and len(data) < self.settings.daily_page_size:
            document = generate(self.world, day)
            if document is not None:
                data.append(document)
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
        day = start.astimezone(self.world.tz).date()
        last_day = end.astimezone(self.world.tz).date()
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
