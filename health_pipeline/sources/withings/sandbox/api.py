"""Fake Withings API under `/withings`: POST + `action=`, always HTTP 200 with `{status, body}`.

Parameters are read from the form body or the query string (clients do both). Errors are
statuses inside the 200: 401 bad token (or a `userid` that is not the token's person's), 503 invalid
parameters, 601 too many requests, 2554 unknown action. Each person has their own `userid`; the
rate limit and the nonces are the application's, shared by every person.
"""

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.quota import FakeQuota, FakeWindow
from health_pipeline.sandbox.world import SandboxWorld

SCOPES = "user.info,user.metrics,user.activity,user.sleepevents"
INVALID_TOKEN = "XRequestID: Not provided invalid_token: The access token provided is invalid"


@dataclass
class WithingsSettings:
    """Knobs for what the reference leaves open (the rate limit is unverified lore)."""

    rate_limit_per_minute: int = 120
    measure_page_size: int = 100
    v2_page_size: int = 100


class _Invalid(Exception):
    """Invalid parameters: answered as status 503 in an HTTP 200."""


def envelope(status: int, body: dict[str, Any] | None = None, error: str | None = None) -> Response:
    payload: dict[str, Any] = {"status": status, "body": body or {}}
    if error:
        payload["error"] = error
    return Response.json(200, payload)


def signature(*values: str) -> str:
    """Withings' request signature: HMAC-SHA256 of the comma-joined values, keyed by the secret."""
    return hmac.new(SANDBOX_CLIENT_SECRET.encode(), ",".join(values).encode(), hashlib.sha256).hexdigest()


class FakeWithings:
    """The Withings app mounted at `/withings`."""

    def __init__(self, world: SandboxWorld, settings: WithingsSettings | None = None) -> None:
        self.world = world
        self.settings = settings or WithingsSettings()
        self.oauth = FakeOAuthServer("withings", world.clock, OAuthRules(
            access_lifetime=timedelta(hours=3), code_lifetime=timedelta(seconds=30), token_type="Bearer",
            default_scopes=SCOPES, rotation_grace=timedelta(hours=8),
        ))
        self._nonces: dict[str, datetime] = {}
        self.quota = FakeQuota(world.clock, [FakeWindow("minute", 60, self.settings.rate_limit_per_minute)], world.person)
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], Callable[[Request], dict[str, Any]]] = {
            ("/measure", "getmeas"): self._getmeas,
            ("/v2/measure", "getactivity"): self._getactivity,
            ("/v2/measure", "getworkouts"): self._getworkouts,
            ("/v2/measure", "getintradayactivity"): self._getintradayactivity,
            ("/v2/sleep", "getsummary"): self._getsummary,
            ("/v2/sleep", "get"): self._sleep_get,
        }

    def for_person(self, world: SandboxWorld) -> "FakeWithings":
        """Another person's Withings: their own tokens, userid and world; the app's settings, quota and nonces."""
        twin = FakeWithings(world, self.settings)
        twin.quota = self.quota.for_person(world.person)
        twin._nonces, twin._lock = self._nonces, self._lock  # a nonce is the client's, not a person's
        return twin

    def rate_limited(self, retry_after: int | None) -> Response:
        """Withings signals its rate limit inside a 200, never with Retry-After."""
        return envelope(601, error="Too many requests")

    # -- routing ------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        if request.path == "/oauth2_user/authorize2" and request.method == "GET":
            if not request.query.get("state"):
                return Response.html(400, "<html><body>Missing state</body></html>")
            return self.oauth.authorize(request)
        if request.method != "POST":
            return Response.html(404, "<html><body><h1>404 Not Found</h1></body></html>")
        action = request.param("action") or ""
        if request.path == "/v2/oauth2":
            return self._requesttoken(request) if action == "requesttoken" else envelope(2554, error="Not implemented")
        if request.path == "/v2/signature":
            return self._getnonce(request) if action == "getnonce" else envelope(2554, error="Not implemented")
        route = self._routes.get((request.path, action))
        if route is None:
            known = {path for path, _ in self._routes}
            if request.path not in known:
                return Response.html(404, "<html><body><h1>404 Not Found</h1></body></html>")
            return envelope(2554, error=f"Not implemented: action {action!r}")
        if self.oauth.check_access(request.bearer_token()):
            return envelope(401, error=INVALID_TOKEN)
        if request.param("userid") not in (None, withings_data.user_id(self.world)):
            return envelope(401, error=f"Invalid Params: userid {request.param('userid')} is not the access token's user")
        if self._over_limit():
            return self.rate_limited(None)
        try:
            return envelope(0, route(request))
        except _Invalid as err:
            return envelope(503, error=f"Invalid Params: {err}")

    def _over_limit(self) -> bool:
        """120 requests a minute per application, every person's together (real time, not the data clock)."""
        self.quota.windows[0].limit = self.settings.rate_limit_per_minute  # the settings may have changed
        return self.quota.refuse(self.quota.count())

    # -- OAuth, nonce and signatures -----------------------------------------------------------

    def _getnonce(self, request: Request) -> Response:
        client_id, stamp = request.param("client_id") or "", request.param("timestamp") or ""
        if client_id != SANDBOX_CLIENT_ID or not stamp.isdigit():
            return envelope(503, error="Invalid Params: client_id and timestamp are required")
        if not hmac.compare_digest(request.param("signature") or "", signature("getnonce", client_id, stamp)):
            return envelope(503, error="Invalid Params: invalid signature")
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = self.world.clock.now() + timedelta(minutes=30)
        return envelope(0, {"nonce": nonce})

    def _signed(self, request: Request) -> bool:
        """A requesttoken signed with a nonce instead of the client secret (nonces are single use)."""
        nonce = request.param("nonce") or ""
        with self._lock:
            expires = self._nonces.pop(nonce, None)
        expected = signature("requesttoken", request.param("client_id") or "", nonce)
        return (expires is not None and expires > self.world.clock.now()
                and hmac.compare_digest(request.param("signature") or "", expected))

    def _requesttoken(self, request: Request) -> Response:
        verified = self._signed(request) if request.param("nonce") else None
        answer = self.oauth.token(request, client_verified=verified)
        payload = json.loads(answer.body)
        if answer.status != 200:
            return envelope(503, error=f"Invalid Params: {payload.get('error_description') or payload.get('error')}")
        payload.update(userid=withings_data.user_id(self.world), csrf_token=secrets.token_hex(8), scope=SCOPES)
        return envelope(0, payload)

    # -- data ---------------------------------------------------------------------------------

    def _window(self, request: Request, ymd: bool) -> tuple[date, date, int | None]:
        """Days to scan and the `lastupdate` bound; dates and lastupdate are mutually exclusive."""
        lastupdate = _int(request, "lastupdate")
        start_key, end_key = ("startdateymd", "enddateymd") if ymd else ("startdate", "enddate")
        has_dates = request.param(start_key) is not None or request.param(end_key) is not None
        if lastupdate is not None and has_dates:
            raise _Invalid(f"use either {start_key}/{end_key} or lastupdate, not both")
        if lastupdate is not None or not has_dates:
            return self.world.first_day(), self.world.today(), lastupdate
        try:
            if ymd:
                first = date.fromisoformat(request.param(start_key) or "")
                last = date.fromisoformat(request.param(end_key) or "")
            else:
                first = self._day_of(_int(request, start_key))
                last = self._day_of(_int(request, end_key))
        except ValueError:
            raise _Invalid(f"{start_key} and {end_key} must both be given as {'YYYY-MM-DD' if ymd else 'Unix seconds'}") from None
        if last < first:
            raise _Invalid(f"{end_key} is before {start_key}")
        return first, last, None

    def _day_of(self, epoch: int | None) -> date:
        if epoch is None:
            raise ValueError
        return datetime.fromtimestamp(epoch, timezone.utc).astimezone(self.world.tz).date()

    def _getmeas(self, request: Request) -> dict[str, Any]:
        types = request.param("meastypes") or request.param("meastype")
        wanted = {int(t) for t in types.split(",")} if types else None
        category = _int(request, "category") or 1
        first, last, lastupdate = self._window(request, ymd=False)
        start, end = _int(request, "startdate"), _int(request, "enddate")
        groups = []
        if category == 1:
            for day in _days(first - timedelta(days=1), last + timedelta(days=1)):
                for item in withings_data.measure_groups(self.world, day):
                    group = dict(item.group)
                    if lastupdate is not None and group["modified"] <= lastupdate:
                        continue
                    if lastupdate is None and start is not None and not (start <= group["date"] <= (end or start)):
                        continue
                    if wanted is not None:
                        group["measures"] = [m for m in group["measures"] if m["type"] in wanted]
                        if not group["measures"]:
                            continue
                    groups.append(group)
        page, more, offset = _paginate(groups, _int(request, "offset") or 0, self.settings.measure_page_size)
        # The groups carry no time zone: the answer's one is the account's (real-payload-corrections §8);
        # an answer that fits one page has no `more` / `offset` at all (§11).
        body: dict[str, Any] = {"updatetime": int(self.world.clock.now().timestamp()), "timezone": self.world.timezone,
                                "measuregrps": page}
        if more or offset:
            body.update(more=int(more), offset=offset)
        return body

    def _daily_series(self, request: Request, key: str, produce: Callable[[date], list[dict[str, Any]]]) -> dict[str, Any]:
        first, last, lastupdate = self._window(request, ymd=True)
        fields = _fields(request)
        items = []
        for item in (item for day in _days(first, last) for item in produce(day)):
            if lastupdate is not None and item["modified"] <= lastupdate:
                continue
            if fields and "data" in item:
                item = dict(item, data={k: v for k, v in item["data"].items() if k in fields})
            elif fields:
                identity = {"date", "timezone", "deviceid", "hash_deviceid", "brand", "is_tracker", "modified", "model", "modelid"}
                item = {k: v for k, v in item.items() if k in identity or k in fields}
            items.append(item)
        page, more, offset = _paginate(items, _int(request, "offset") or 0, self.settings.v2_page_size)
        return {key: page, "more": more, "offset": offset}

    def _getactivity(self, request: Request) -> dict[str, Any]:
        return self._daily_series(request, "activities", lambda day: withings_data.activities(self.world, day))

    def _getworkouts(self, request: Request) -> dict[str, Any]:
        return self._daily_series(request, "series", lambda day: withings_data.workouts(self.world, day))

    def _getsummary(self, request: Request) -> dict[str, Any]:
        fields = _fields(request)
        first, last, lastupdate = self._window(request, ymd=True)
        series = [
            summary for day in _days(first, last)
            if (summary := withings_data.sleep_summary(self.world, day, fields)) is not None
            and (lastupdate is None or summary["modified"] > lastupdate)
        ]
        page, more, offset = _paginate(series, _int(request, "offset") or 0, self.settings.v2_page_size)
        return {"series": page, "more": more, "offset": offset}

    def _first_24h(self, request: Request, required: bool) -> tuple[datetime, datetime]:
        start, end = _int(request, "startdate"), _int(request, "enddate")
        if start is None or end is None:
            if required:
                raise _Invalid("startdate and enddate are required")
            today = self.world.local_midnight(self.world.today()).astimezone(timezone.utc)
            return today, today + timedelta(hours=24)
        if end <= start:
            raise _Invalid("enddate must be after startdate")
        first = datetime.fromtimestamp(start, timezone.utc)
        # Only the first 24 hours after startdate are ever returned, whatever enddate says.
        return first, min(datetime.fromtimestamp(end, timezone.utc), first + timedelta(hours=24))

    def _getintradayactivity(self, request: Request) -> dict[str, Any]:
        start, end = self._first_24h(request, required=False)
        series = withings_data.intraday_minutes(self.world, start, end)
        fields = _fields(request)
        if fields:
            identity = {"deviceid", "model", "model_id"}
            series = {k: {f: v for f, v in s.items() if f in identity or f in fields} for k, s in series.items()}
        return {"series": series}

    def _sleep_get(self, request: Request) -> dict[str, Any]:
        start, end = self._first_24h(request, required=True)
        return {"series": withings_data.sleep_segments(self.world, start, end), "model": 16}


def _int(request: Request, name: str) -> int | None:
    value = request.param(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _Invalid(f"{name} must be an integer, got {value!r}") from None


def _fields(request: Request) -> list[str] | None:
    value = request.param("data_fields")
    return [f.strip() for f in value.split(",") if f.strip()] if value else None


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _paginate(items: list[Any], offset: int, size: int) -> tuple[list[Any], bool, int]:
    page = items[offset: offset + size]
    more = offset + size < len(items)
    return page, more, offset + len(page) if more else 0
