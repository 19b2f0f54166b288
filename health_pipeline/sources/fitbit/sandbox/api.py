"""Fake Google Health API v4 under `/google-health` (Fitbit data since the Web API's shutdown).

Pinned to discovery revision 20260527 as google-health-api.md describes it. The legacy Fitbit
Web API paths and its OAuth endpoints answer 410 Gone.
"""

import base64
import binascii
import bisect
import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.oauth import FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.quota import FakeQuota, FakeWindow
from health_pipeline.sandbox.world import DEFAULT_PERSON, SandboxWorld

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
ALL_SCOPES = " ".join(SCOPE_PREFIX + s for s in (gd.ACTIVITY, gd.METRICS, gd.SLEEP, "settings.readonly", "profile.readonly"))
DATA_SOURCE_FAMILIES = {"users/me/dataSourceFamilies/all-sources", "users/me/dataSourceFamilies/google-wearables",
                        "users/me/dataSourceFamilies/google-sources", "users/me/dataSourceFamilies/self-sources"}
LEGACY_GONE = {"errors": [{"errorType": "request", "message": "The Fitbit Web API has been shut down; use the Google Health API"}],
               "success": False}


@dataclass
class GoogleSettings:
    """Knobs for behaviour the reference leaves open, and for shapes where both occur in the wild."""

    heart_rate_every_s: int = 60  # the tracker stores up to one sample a second
    rate_limit_per_minute: int = 300
    daily_rollup_end_inclusive: bool = True
    granted_scopes: set[str] | None = None  # partial consent: the user unticks some scopes
    end_token: str | None = ""  # "" or None (omitted) at the last page: both occur
    # An answer that finds nothing: `{}` (proto3 drops the empty list; what live answers do) or
    # `{"dataPoints": []}` / `{"rollupDataPoints": []}` (also seen).
    empty_answer: str = "omit"
    max_page_size: int = 5000  # `list`: asked for 10000, live answers stop at 5000 (roll-ups: 10000)
    sleep_nap_field: bool = False  # the documented `metadata.nap` instead of the live `mainSleep`


class GoogleError(Exception):
    """An AIP-193 error answer."""

    def __init__(self, code: int, status: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.reason = code, status, message, reason

    def response(self, headers: dict[str, str] | None = None) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.reason:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": self.reason,
                                 "domain": "health.googleapis.com"}]
        return Response.json(self.code, {"error": error}, headers)


def _invalid(message: str, reason: str | None = None) -> GoogleError:
    return GoogleError(400, "INVALID_ARGUMENT", message, reason)


# -- filters (AIP-160 subset) ---------------------------------------------------------------------

_CLAUSE = re.compile(r'^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=|!=|=|<|>)\s*"([^"]*)"\s*$')


@dataclass
class TimeFilter:
    """Bounds on one member: physical instants, civil (naive local) times, or dates."""

    member: str
    mode: str  # physical | civil | date
    lower: Any = None
    upper: Any = None


def _members(data_type: gd.DataType) -> dict[str, str]:
    if data_type.path == "sleep":
        return {"interval.end_time": "physical", "interval.civil_end_time": "civil"}
    if data_type.path == "exercise":
        return {"interval.civil_start_time": "civil"}
    if data_type.kind == "interval":
        return {"interval.start_time": "physical", "interval.civil_start_time": "civil"}
    if data_type.kind == "sample":
        return {"sample_time.physical_time": "physical", "sample_time.civil_time": "civil"}
    return {"date": "date"}


def parse_filter(data_type: gd.DataType, text: str | None) -> TimeFilter | None:
    """Parse a list/reconcile filter or raise the documented INVALID_ARGUMENT reason."""
    if not text or not text.strip():
        return None
    if re.search(r"\bOR\b", text):
        raise _invalid("Filter expressions may only be joined with AND.", "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE")
    result: TimeFilter | None = None
    for clause in re.split(r"\bAND\b", text):
        match = _CLAUSE.match(clause)
        if not match:
            raise _invalid(f"Invalid filter: {clause.strip()!r}", "INVALID_FILTER_FORMAT")
        path, op, value = match.groups()
        name, _, member = path.partition(".")
        if "-" in name:
            raise _invalid("Data types in filters are snake_case.", "INVALID_DATA_POINT_FILTER")
        if name not in (data_type.filter_name, data_type.key):
            raise _invalid(f"Filter data type {name!r} does not match {data_type.path!r}.",
                           "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH")
        members = _members(data_type)
        if member not in members:
            raise _invalid(f"{member!r} cannot be filtered on for {data_type.path}.", "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER")
        if op not in (">=", "<"):
            raise _invalid("Only >= and < are supported.", "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR")
        mode = members[member]
        if result is not None and result.mode != mode:
            raise _invalid("Physical and civil time restrictions cannot be mixed.",
                           "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS")
        result = result or TimeFilter(member, mode)
        bound = _parse_bound(mode, value)
        if op == ">=":
            result.lower = bound
        else:
            result.upper = bound
    if result and result.lower is not None and result.upper is not None and result.upper <= result.lower:
        raise _invalid("The end of the time range must be after its start.", "INVALID_TIME_RANGE")
    return result


def _parse_bound(mode: str, value: str) -> Any:
    try:
        if mode == "physical":
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if instant.tzinfo is None:
                raise ValueError
            return instant
        if mode == "civil":
            return datetime.fromisoformat(value) if "T" in value else datetime.fromisoformat(value + "T00:00:00")
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(f"Invalid time value {value!r} in filter.", "INVALID_FILTER_FORMAT") from None


def _point_value(world: SandboxWorld, data_type: gd.DataType, point: dict[str, Any], time_filter: TimeFilter) -> Any:
    value = point[data_type.key]
    if time_filter.mode == "date":
        d = value["date"]
        return date(d["year"], d["month"], d["day"])
    if data_type.path == "sleep":
        instant = datetime.fromisoformat(value["interval"]["endTime"].replace("Z", "+00:00"))
    elif data_type.kind == "sample":
        instant = datetime.fromisoformat(value["sampleTime"]["physicalTime"].replace("Z", "+00:00"))
    else:
        instant = point["_t"]
    return instant if time_filter.mode == "physical" else instant.astimezone(world.tz_at(instant)).replace(tzinfo=None)


def _matches(world: SandboxWorld, data_type: gd.DataType, point: dict[str, Any], time_filter: TimeFilter | None) -> bool:
    if time_filter is None:
        return True
    value = _point_value(world, data_type, point, time_filter)
    return (time_filter.lower is None or value >= time_filter.lower) and (time_filter.upper is None or value < time_filter.upper)


def _public(point: dict[str, Any], reconcile: bool) -> dict[str, Any]:
    out = {k: v for k, v in point.items() if not k.startswith("_")}
    if reconcile:
        out.pop("dataSource", None)
        name = out.pop("name", None)
        if name:
            out = {"dataPointName": name, **out}
    return out


# -- the app ------------------------------------------------------------------------------------

@dataclass
class _Consent:
    offline: bool
    scope: str


DAYS_REMEMBERED = 48  # (data type, day) entries: a 14-day heart-rate window and its neighbours, and more


class FakeGoogleHealth:
    """The Google Health app mounted at `/google-health`."""

    def __init__(self, world: SandboxWorld, settings: GoogleSettings | None = None) -> None:
        self.world = world
        self.settings = settings or GoogleSettings()
        self.oauth = FakeOAuthServer("google-health", world.clock, OAuthRules(
            access_lifetime=timedelta(seconds=3599), rotate_refresh_tokens=False, token_type="Bearer",
            default_scopes=ALL_SCOPES,
        ))
        self._consents: dict[str, _Consent] = {}
        # Google's quotas: 300 requests a minute per user, 120,000 a minute per project (every user's together)
        self.quota = FakeQuota(world.clock, [
            FakeWindow("minute per user", 60, self.settings.rate_limit_per_minute, per_person=True),
            FakeWindow("minute per project", 60, 120_000)], world.person)
        self._lock = threading.Lock()
        self._days: OrderedDict[tuple[str, date, int], list[dict[str, Any]]] = OrderedDict()

    def for_person(self, world: SandboxWorld) -> "FakeGoogleHealth":
        """Another person's Google Health: their own tokens, consents and world; the project's settings and quota."""
        twin = FakeGoogleHealth(world, self.settings)
        twin.quota = self.quota.for_person(world.person)
        return twin

    @property
    def health_user_id(self) -> str:
        """The person's `healthUserId` (`users/{id}` names them as well as `users/me`)."""
        return "sandbox-health-user" + ("" if self.world.person == DEFAULT_PERSON else f"-{self.world.person}")

    def rate_limited(self, retry_after: int | None) -> Response:
        error = GoogleError(429, "RESOURCE_EXHAUSTED",
                            "Quota exceeded for quota metric 'Queries per user' and limit 'Queries per minute per user' "
                            "of service 'health.googleapis.com'.", "RATE_LIMIT_EXCEEDED")
        return error.response({"Retry-After": str(retry_after)} if retry_after is not None else None)

    def __call__(self, request: Request) -> Response:
        path = request.path
        if path.startswith(("/1/", "/1.2/", "/oauth2/")):
            return Response.json(410, LEGACY_GONE)
        if path == "/o/oauth2/v2/auth" and request.method == "GET":
            return self._authorize(request)
        if path == "/token" and request.method == "POST":
            return self._token(request)
        if not path.startswith("/v4/"):
            return _html_404()
        token = request.bearer_token()
        problem = self.oauth.check_access(token)
        if problem:
            return _unauthenticated(problem)
        if self._over_limit():
            return self.rate_limited(None)
        try:
            return self._v4(request, token or "")
        except GoogleError as err:
            return err.response()

    # -- OAuth (Google's: offline access, non-rotating refresh tokens, partial consent) ------------

    def _authorize(self, request: Request) -> Response:
        asked = set((request.query.get("scope") or "").split())
        granted = asked if self.settings.granted_scopes is None else asked & self.settings.granted_scopes
        query = {**request.query, "scope": " ".join(sorted(granted))}
        answer = self.oauth.authorize(Request(request.method, request.path, query, request.form, request.headers))
        code = parse_qs(urlsplit(answer.headers.get("Location", "")).query).get("code", [""])[0]
        if code:
            with self._lock:
                self._consents[code] = _Consent(request.query.get("access_type") == "offline", query["scope"])
        return answer

    def _token(self, request: Request) -> Response:
        grant = request.param("grant_type")
        consent = self._consents.pop(request.param("code") or "", None) if grant == "authorization_code" else None
        answer = self.oauth.token(request)
        if answer.status != 200:
            payload = json.loads(answer.body)
            return Response.json(answer.status, payload)
        payload = json.loads(answer.body)
        if grant == "refresh_token" or (consent is not None and not consent.offline):
            if grant != "refresh_token":
                self.oauth.revoke_token(payload["refresh_token"])  # no offline access: no refresh token
            payload.pop("refresh_token", None)
        return Response.json(200, payload)

    def _over_limit(self) -> bool:
        self.quota.windows[0].limit = self.settings.rate_limit_per_minute  # the settings may have changed
        return self.quota.refuse(self.quota.count())

    # -- v4 -----------------------------------------------------------------------------------

    def _v4(self, request: Request, token: str) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[1:2] != ["users"] or len(parts) < 4:
            return _html_404()
        if parts[2] not in ("me", self.health_user_id):
            raise GoogleError(403, "PERMISSION_DENIED", "The caller does not have permission", "PERMISSION_DENIED")
        if len(parts) == 4 and request.method == "GET":
            return self._user_resource(parts[3])
        if len(parts) != 6 or parts[3] != "dataTypes":
            return _html_404()
        type_id, tail = parts[4], parts[5]
        method = tail.partition(":")[2] if ":" in tail else ""
        if tail.partition(":")[0] != "dataPoints":
            return _html_404()
        verbs = {"": "GET", "reconcile": "GET", "rollUp": "POST", "dailyRollUp": "POST"}
        if method not in verbs or verbs[method] != request.method:
            return _html_404()
        data_type = gd.DATA_TYPES.get(type_id)
        if data_type is None:
            raise _invalid("Request contains an invalid argument.", "INVALID_PARENT_DATA_TYPE_COLLECTION")
        if SCOPE_PREFIX + data_type.scope not in self.oauth.scopes_of(token):
            raise GoogleError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                              "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        if method in ("", "reconcile"):
            return self._list(request, data_type, reconcile=method == "reconcile")
        return self._rollup(request, data_type, daily=method == "dailyRollUp")

    def _user_resource(self, name: str) -> Response:
        if name == "settings":
            return Response.json(200, {"name": "users/me/settings", "timeZone": self.world.timezone,
                                       "utcOffset": gd.offset(self.world, self.world.clock.now()),
                                       "distanceUnit": "KILOMETERS", "weightUnit": "KILOGRAMS", "languageLocale": "en_GB"})
        if name == "identity":
            return Response.json(200, {"name": "users/me/identity", "healthUserId": self.health_user_id,
                                       "legacyUserId": "ABC123"})
        if name == "profile":
            return Response.json(200, {"name": "users/me/profile", "age": 38,
                                       "membershipStartDate": {"year": 2019, "month": 5, "day": 1}})
        return _html_404()

    def _list(self, request: Request, data_type: gd.DataType, reconcile: bool) -> Response:
        if not data_type.listable and not (reconcile and data_type.path == "floors"):
            raise _invalid(f"Data type {data_type.path} does not support this method; use rollUp or dailyRollUp.",
                           "INVALID_PARENT_DATA_TYPE_COLLECTION")
        family = request.query.get("dataSourceFamily")
        if family is not None and family not in DATA_SOURCE_FAMILIES:
            raise _invalid(f"Invalid data source family {family!r}.", "INVALID_DATA_POINT_DATA_SOURCE_FAMILY")
        time_filter = parse_filter(data_type, request.query.get("filter"))
        size = _page_size(request.query.get("pageSize"), session=data_type.kind == "session",
                          maximum=self.settings.max_page_size)
        fingerprint = _fingerprint(request.query.get("filter") or "", family or "", str(size), str(reconcile))
        start_day, index = self._resume(request.query.get("pageToken"), fingerprint)
        first, last = self._day_range(data_type, time_filter)
        if start_day is not None:
            last = min(last, start_day)
        page: list[dict[str, Any]] = []
        next_token: str | None = None
        for day in gd.days_desc(first, last):
            points = [p for p in self._points_of_day(data_type, day)
                      if _matches(self.world, data_type, p, time_filter)]
            points.sort(key=lambda p: p["_t"], reverse=True)  # newest first
            skip = index if start_day is not None and day == start_day else 0
            for i, point in enumerate(points[skip:], start=skip):
                if len(page) == size:
                    next_token = _encode({"d": day.isoformat(), "i": i, "f": fingerprint})
                    break
                page.append(_public(point, reconcile))
            if next_token:
                break
        if not page and not next_token:
            return self._nothing("dataPoints")
        body: dict[str, Any] = {"dataPoints": gd.proto3_json(page)}
        if next_token or self.settings.end_token is not None:
            body["nextPageToken"] = next_token or self.settings.end_token
        return Response.json(200, body)

    def _nothing(self, key: str) -> Response:
        """An answer with no points: `{}` as live answers are, or the empty list (both seen)."""
        return Response.json(200, {key: []} if self.settings.empty_answer == "empty_list" else {})

    def _points_of_day(self, data_type: gd.DataType, day: date) -> list[dict[str, Any]]:
        """A day's points (read-only). The world is deterministic, so the last few complete past days
        are remembered: the pages of one roll-up, and neighbouring windows, share their days."""
        every_s = self.settings.heart_rate_every_s
        nap_field = self.settings.sleep_nap_field
        if self.world.local_midnight(day + timedelta(days=1)) > self.world.clock.now() or not self.world.has_day(day):
            return gd.points_of_day(self.world, data_type, day, every_s, nap_field)
        key = (data_type.path, day, every_s)
        with self._lock:
            if key in self._days:
                self._days.move_to_end(key)
                return self._days[key]
        points = gd.points_of_day(self.world, data_type, day, every_s, nap_field)
        with self._lock:
            self._days[key] = points
            while len(self._days) > DAYS_REMEMBERED:
                self._days.popitem(last=False)
        return points

    def _resume(self, token: str | None, fingerprint: str) -> tuple[date | None, int]:
        if not token:
            return None, 0
        state = _decode(token)
        if state is None or state.get("f") != fingerprint:
            raise _invalid("The page token is invalid or the request changed while paging.")
        return date.fromisoformat(state["d"]), int(state["i"])

    def _day_range(self, data_type: gd.DataType, time_filter: TimeFilter | None) -> tuple[date, date]:
        """Local days that can hold matching points (a day of slack each side for offsets and nights)."""
        first, last = self.world.first_day(), self.world.today()
        if time_filter is None:
            return first, last

        def as_day(bound: Any) -> date:
            if isinstance(bound, datetime):
                return (bound.astimezone(self.world.tz) if bound.tzinfo else bound).date()
            return bound

        if time_filter.lower is not None:
            first = max(first, as_day(time_filter.lower) - timedelta(days=1))
        if time_filter.upper is not None:
            last = min(last, as_day(time_filter.upper) + timedelta(days=1))
        return first, last

    # -- rollups ------------------------------------------------------------------------------

    def _rollup(self, request: Request, data_type: gd.DataType, daily: bool) -> Response:
        if not data_type.rollup:
            raise _invalid(f"Data type {data_type.path} does not support roll-ups.", "INVALID_PARENT_DATA_TYPE_COLLECTION")
        raw = request.body_text
        try:
            body = json.loads(raw or "{}")
        except ValueError as err:
            raise _invalid(f"Invalid JSON payload received. {err}") from None
        if not isinstance(body, dict) or not isinstance(body.get("range"), dict):
            raise _invalid("range is required.")
        days: dict[tuple[datetime, datetime], tuple[date, date]] = self._daily_windows(body) if daily else {}
        windows = list(days) if daily else self._windows(body)
        if daily:  # civil days, whatever their physical length (DST, a flight)
            too_long = bool(days) and (max(d[1] for d in days.values()) - min(d[0] for d in days.values())).days > data_type.max_rollup_days
        else:
            span = windows[-1][1] - windows[0][0] if windows else timedelta(0)
            too_long = span > timedelta(days=data_type.max_rollup_days, hours=1)
        if too_long:
            raise _invalid(f"The range may span at most {data_type.max_rollup_days} days for {data_type.path}.",
                           "INVALID_TIME_RANGE")
        points: list[dict[str, Any]] = []
        first = windows[0][0].astimezone(self.world.tz).date() - timedelta(days=1) if windows else None
        last = windows[-1][1].astimezone(self.world.tz).date() + timedelta(days=1) if windows else None
        if first is not None and last is not None:
            for day in gd.days_desc(first, last):
                points.extend(self._points_of_day(data_type, day))
        # One pass: each point goes to the window whose start is the last one at or before it.
        starts = [start for start, _ in windows]
        buckets: list[list[dict[str, Any]]] = [[] for _ in windows]
        for point in points:
            instant = point["_t"]
            index = bisect.bisect_right(starts, instant) - 1
            if index >= 0 and instant < windows[index][1]:
                buckets[index].append(point)
        results = []
        for (start, end), inside in zip(windows, buckets):
            value = _aggregate(data_type, inside)
            if value is None:
                continue  # rollups leave out periods the tracker was not worn
            if daily:
                first_day, end_day = days[(start, end)]
                results.append({"civilStartTime": gd.civil_day(first_day), "civilEndTime": gd.civil_day(end_day),
                                data_type.key: value})
            else:
                results.append({"startTime": gd.rfc3339(start), "endTime": gd.rfc3339(end), data_type.key: value})
        size = _page_size(str(body["pageSize"]) if "pageSize" in body else None, session=False)
        offset = 0
        fingerprint = _fingerprint(json.dumps({k: v for k, v in body.items() if k != "pageToken"}, sort_keys=True))
        if body.get("pageToken"):
            state = _decode(str(body["pageToken"]))
            if state is None or state.get("f") != fingerprint:
                raise _invalid("The page token is invalid or the request changed while paging.")
            offset = int(state["o"])
        page = results[offset: offset + size]
        if not page:
            return self._nothing("rollupDataPoints")
        answer: dict[str, Any] = {"rollupDataPoints": gd.proto3_json(page)}
        if offset + size < len(results):
            answer["nextPageToken"] = _encode({"o": offset + size, "f": fingerprint})
        elif not daily and self.settings.end_token is not None:
            answer["nextPageToken"] = self.settings.end_token
        return Response.json(200, answer)

    def _windows(self, body: dict[str, Any]) -> list[tuple[datetime, datetime]]:
        try:
            start = datetime.fromisoformat(str(body["range"]["startTime"]).replace("Z", "+00:00"))
            end = datetime.fromisoformat(str(body["range"]["endTime"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise _invalid("range.startTime and range.endTime must be RFC 3339 timestamps.") from None
        match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(body.get("windowSize", "")))
        if not match or float(match.group(1)) < 1:
            raise _invalid("windowSize must be a duration of at least 1s, e.g. \"3600s\".")
        if end <= start:
            raise _invalid("The end of the range must be after its start.", "INVALID_TIME_RANGE")
        step = timedelta(seconds=float(match.group(1)))
        windows = []
        cursor = start
        while cursor < end:
            windows.append((cursor, min(end, cursor + step)))
            cursor += step
        return windows

    def _daily_windows(self, body: dict[str, Any]) -> dict[tuple[datetime, datetime], tuple[date, date]]:
        """Day-aligned windows (local midnights, so 23-, 25- and flight-length days) and their civil days."""
        try:
            first = _civil_date(body["range"]["start"])
            last = _civil_date(body["range"]["end"])
        except (KeyError, TypeError, ValueError):
            raise _invalid("range.start and range.end must be civil dates {date: {year, month, day}}.") from None
        size = body.get("windowSizeDays", 1)
        if not isinstance(size, int) or size < 1:
            raise _invalid("windowSizeDays must be a positive integer.")
        if not self.settings.daily_rollup_end_inclusive:
            last -= timedelta(days=1)
        if last < first:
            raise _invalid("The end of the range must not be before its start.", "INVALID_TIME_RANGE")
        windows = {}
        day = first
        while day <= last:
            end_day = min(day + timedelta(days=size), last + timedelta(days=1))
            start = self.world.local_midnight(day).astimezone(timezone.utc)
            windows[(start, self.world.local_midnight(end_day).astimezone(timezone.utc))] = (day, end_day)
            day = end_day
        return windows


# -- helpers -------------------------------------------------------------------------------------

def _html_404() -> Response:
    return Response.html(404, "<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)!!1</title>"
                              "<p><b>404.</b> <ins>That’s an error.</ins></html>")


def _unauthenticated(problem: str) -> Response:
    if problem == "missing":
        return GoogleError(401, "UNAUTHENTICATED", "Request is missing required authentication credential. Expected "
                           "OAuth 2 access token, login cookie or other valid authentication credential.",
                           "CREDENTIALS_MISSING").response()
    return GoogleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 "
                       "access token, login cookie or other valid authentication credential.",
                       "ACCESS_TOKEN_EXPIRED" if problem == "expired" else "ACCESS_TOKEN_INVALID").response(
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'})


def _page_size(value: str | None, session: bool, maximum: int = 10000) -> int:
    default, maximum = (25, 25) if session else (1440, maximum)
    if value is None or value == "":
        return default
    try:
        size = int(value)
    except ValueError:
        raise _invalid(f"Invalid pageSize {value!r}.") from None
    if size < 0:
        raise _invalid("pageSize must not be negative.")
    return min(size or default, maximum)  # larger values are truncated to the maximum


def _civil_date(value: dict[str, Any]) -> date:
    d = value["date"]
    if not all(isinstance(d[k], int) for k in ("year", "month", "day")):
        raise ValueError
    return date(d["year"], d["month"], d["day"])


def _sum(points: list[dict[str, Any]], key: str, member: str) -> float:
    return sum(float(p[key].get(member, 0)) for p in points)


def _aggregate(data_type: gd.DataType, points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rollup value of one window (None when nothing was recorded in it)."""
    if not points:
        return None
    key = data_type.key
    if key in ("steps", "floors"):
        return {"countSum": str(int(_sum(points, key, "count")))}
    if key == "distance":
        return {"millimetersSum": str(int(_sum(points, key, "millimeters")))}
    if key == "altitude":
        return {"gainMillimetersSum": str(int(_sum(points, key, "gainMillimeters")))}
    if key in ("totalCalories", "activeEnergyBurned"):
        return {"kcalSum": round(_sum(points, key, "kcal"), 3)}
    if key == "heartRate":
        bpm = [int(p[key]["beatsPerMinute"]) for p in points]
        return {"beatsPerMinuteMin": min(bpm), "beatsPerMinuteAvg": round(sum(bpm) / len(bpm), 2), "beatsPerMinuteMax": max(bpm)}
    if key == "activeMinutes":
        levels: dict[str, int] = {}
        for p in points:
            for item in p[key]["activeMinutesByActivityLevel"]:
                levels[item["activityLevel"]] = levels.get(item["activityLevel"], 0) + int(item["activeMinutes"])
        return {"activeMinutesRollupByActivityLevel": [{"activityLevel": k, "activeMinutesSum": str(v)} for k, v in sorted(levels.items())]}
    if key == "activeZoneMinutes":
        sums = {"FAT_BURN": 0, "CARDIO": 0, "PEAK": 0}
        for p in points:
            sums[p[key]["heartRateZone"]] += int(p[key]["activeZoneMinutes"])
        return {"sumInFatBurnHeartZone": str(sums["FAT_BURN"]), "sumInCardioHeartZone": str(sums["CARDIO"]),
                "sumInPeakHeartZone": str(sums["PEAK"])}
    if key == "timeInHeartRateZone":
        zones: dict[str, int] = {}
        for p in points:
            zones[p[key]["heartRateZoneType"]] = zones.get(p[key]["heartRateZoneType"], 0) + 60
        return {"timeInHeartRateZones": [{"heartRateZone": k, "duration": f"{v}s"} for k, v in sorted(zones.items())]}
    if key == "caloriesInHeartRateZone":
        kcal: dict[str, float] = {}
        for p in points:
            kcal[p[key]["heartRateZone"]] = kcal.get(p[key]["heartRateZone"], 0.0) + p[key]["kcal"]
        return {"caloriesInHeartRateZones": [{"heartRateZone": k, "kcal": round(v, 3)} for k, v in sorted(kcal.items())]}
    if key == "weight":
        return {"weightGramsAvg": sum(p[key]["weightGrams"] for p in points) / len(points)}
    if key == "bodyFat":
        return {"bodyFatPercentageAvg": sum(p[key]["percentage"] for p in points) / len(points)}
    return None


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None

