"""Fitbit data through the Google Health API v4 (the legacy Fitbit Web API answers 410).

OAuth: Google's authorization-code flow with `access_type=offline` (or no refresh token is
issued) and `prompt=consent` (or a second consent returns none either); the minimal read scopes.
Users may grant only some scopes; the client skips data types whose scope was not granted.

What live answers do that the documentation does not say (real-payload-corrections.md §1-5):
- an answer that finds nothing is `{}` (proto3 leaves the empty list out) or `{"dataPoints": []}`:
  both are "no data", never an error;
- pages stop at 5000 points whatever `pageSize` asks: follow `nextPageToken` until it is absent or "";
- each point carries its own civil time (`civilTime`, `civilStartTime`) or a UTC offset: a point
  belongs to its own civil date, which on a trip is not the configured zone's date of its instant.
  A window asked for by physical time is therefore padded by a day each side, and each point kept
  in the window its own civil date falls in, so a point at a window's edge is never lost.
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from health_pipeline.settings import OAuthProviderConfig
from health_pipeline.providers.errors import BadRequest, MalformedResponse, ProviderError, ProviderRetired, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_object, json_or_none
from health_pipeline.providers.oauth import OAuthProfile, OAuthTokens
from health_pipeline.providers.windows import FetchedChunk, chunk_days
from health_pipeline.storage.raw_store import RawRecord

PROVIDER = "fitbit"

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
ACTIVITY_SCOPE = SCOPE_PREFIX + "activity_and_fitness.readonly"
METRICS_SCOPE = SCOPE_PREFIX + "health_metrics_and_measurements.readonly"
SLEEP_SCOPE = SCOPE_PREFIX + "sleep.readonly"
SETTINGS_SCOPE = SCOPE_PREFIX + "settings.readonly"

OAUTH = OAuthProfile(
    scopes=(ACTIVITY_SCOPE, METRICS_SCOPE, SLEEP_SCOPE, SETTINGS_SCOPE),
    authorize_params={"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
)

LEGACY_HOSTS = ("api.fitbit.com", "www.fitbit.com")
# Physical-time windows reach this far past their local days: a point's own civil date may differ
# from the configured zone's by up to a day (a trip across the date line stays inside it).
PAD = timedelta(days=1)


def check_not_legacy(config: OAuthProviderConfig) -> None:
    """Refuse a [fitbit] section still pointing at the retired Fitbit Web API."""
    for key in ("base_url", "authorize_url", "token_url"):
        host = urlsplit(getattr(config, key)).hostname or ""
        if host in LEGACY_HOSTS:
            raise ProviderRetired(
                "fitbit",
                f"[fitbit] {key} points at the legacy Fitbit Web API ({host}), retired in November 2026 "
                "(it answers 410 Gone); remove the [fitbit] URLs to use the Google Health API defaults "
                "and re-authorise with Google: `health-pipeline auth fitbit`",
            )


class ScopeNotGranted(ProviderError):
    """The user did not grant the scope a data type needs (Google's granular consent)."""

    def __init__(self, data_type: str, scope: str) -> None:
        super().__init__(PROVIDER, f"{data_type}: the scope {scope} was not granted; "
                                   "run `health-pipeline auth fitbit` and tick it to sync this data")
        self.data_type = data_type


Method = Literal["dailyRollUp", "rollUp", "list"]


@dataclass(frozen=True)
class GoogleEndpoint:
    """One data type as the pipeline reads it: the method, its window cap, page size and filter."""

    resource: str  # the data type id in the path (kebab-case)
    method: Method
    max_window_days: int
    page_size: int
    scope: str
    filter_member: str = ""  # for `list`
    description: str = ""
    data_type: str = ""  # the API's data type when it differs from the stored resource name
    per_day: bool = False  # store the points as one record per local day (dense samples)

    @property
    def path_type(self) -> str:
        return self.data_type or self.resource

    @property
    def key(self) -> str:
        head, *rest = self.path_type.split("-")
        return head + "".join(part.title() for part in rest)

    @property
    def filter_name(self) -> str:
        return self.path_type.replace("-", "_")


def _daily_total(resource: str, cap: int, description: str) -> GoogleEndpoint:
    return GoogleEndpoint(resource, "dailyRollUp", cap, 10000, ACTIVITY_SCOPE, description=description)


def _daily_metric(resource: str, description: str) -> GoogleEndpoint:
    return GoogleEndpoint(resource, "list", 90, 10000, METRICS_SCOPE, "date", description)


CATALOGUE: dict[str, GoogleEndpoint] = {
    e.resource: e
    for e in (
        _daily_total("steps", 90, "Steps per local day."),
        _daily_total("distance", 90, "Distance per day (millimetres)."),
        _daily_total("floors", 90, "Floors climbed per day."),
        _daily_total("altitude", 90, "Elevation gained per day (millimetres)."),
        _daily_total("total-calories", 14, "Total energy burned per day, basal included (kcal)."),
        _daily_total("active-energy-burned", 90, "Active energy burned per day (kcal)."),
        _daily_total("active-minutes", 14, "Active minutes per day by level (light, moderate, vigorous)."),
        _daily_total("active-zone-minutes", 90, "Active zone minutes per day by heart-rate zone."),
        _daily_total("time-in-heart-rate-zone", 90, "Time per heart-rate zone per day."),
        _daily_total("calories-in-heart-rate-zone", 14, "Energy burned per heart-rate zone per day (kcal)."),
        GoogleEndpoint("heart-rate", "rollUp", 14, 10000, METRICS_SCOPE,
                       description="Heart rate per minute (min, average, max), one record per local day."),
        _daily_metric("daily-resting-heart-rate", "Resting heart rate per day."),
        _daily_metric("daily-heart-rate-variability", "Heart-rate variability per night (ms)."),
        _daily_metric("daily-oxygen-saturation", "Blood oxygen per night (%)."),
        _daily_metric("daily-respiratory-rate", "Breathing rate per night."),
        _daily_metric("daily-sleep-temperature-derivations", "Nightly skin temperature and its baseline (°C)."),
        GoogleEndpoint("sleep", "list", 90, 25, SLEEP_SCOPE, "interval.end_time", "Sleep sessions with stages."),
        GoogleEndpoint("exercise", "list", 90, 25, ACTIVITY_SCOPE, "interval.civil_start_time", "Exercise sessions."),
        GoogleEndpoint("weight", "list", 90, 10000, METRICS_SCOPE, "sample_time.physical_time", "Weight (grams)."),
        GoogleEndpoint("body-fat", "list", 90, 10000, METRICS_SCOPE, "sample_time.physical_time", "Body fat (%)."),
    )
}


# Optional endpoints, switched on in the config (`[fitbit] heart_rate_samples`).
OPTIONAL: dict[str, GoogleEndpoint] = {
    "heart-rate-samples": GoogleEndpoint(
        "heart-rate-samples", "list", 7, 10000, METRICS_SCOPE, "sample_time.physical_time",
        "Raw heart-rate samples (up to one a second), one record per local day.",
        data_type="heart-rate", per_day=True),
}


class GoogleHealthClient:
    """Fetches Fitbit data from the Google Health API v4 for local-day ranges."""

    def __init__(self, config: OAuthProviderConfig, tokens: OAuthTokens, tz: ZoneInfo, http: ProviderHTTP | None = None):
        check_not_legacy(config)
        self.config = config
        self.tokens = tokens
        self.tz = tz
        self.http = http or ProviderHTTP(PROVIDER)

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def fetch_window(self, resource: str, start: date, end: date) -> Iterator[FetchedChunk]:
        endpoint = CATALOGUE.get(resource) or OPTIONAL[resource]
        granted = self.tokens.granted_scopes()
        if granted and endpoint.scope not in granted:
            raise ScopeNotGranted(resource, endpoint.scope)
        # dailyRollUp asks for one more day than wanted (robust to either end-date semantics).
        size = endpoint.max_window_days - (1 if endpoint.method == "dailyRollUp" else 0)
        for first, last in chunk_days(start, end, size):
            if endpoint.method == "dailyRollUp":
                records = self._daily_rollup(endpoint, first, last)
            elif endpoint.method == "rollUp":
                records = self._minute_rollup(endpoint, first, last)
            else:
                records = self._list(endpoint, first, last)
            yield FetchedChunk(first, last, records)

    # -- methods ------------------------------------------------------------------------------

    def _daily_rollup(self, endpoint: GoogleEndpoint, first: date, last: date) -> list[RawRecord]:
        padded = last + timedelta(days=1)
        body = {"range": {"start": {"date": _ymd(first)}, "end": {"date": _ymd(padded)}}, "windowSizeDays": 1}
        records = {}
        for point in self._rollup_pages(endpoint, ":dailyRollUp", body):
            try:
                day = _civil_date(point["civilStartTime"]["date"])
            except (KeyError, TypeError, ValueError):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: a roll-up point without civilStartTime") from None
            if first <= day <= last:  # key by the point's own date, never by position
                records[day.isoformat()] = RawRecord(day.isoformat(), day.isoformat(), point)
        return list(records.values())

    def _minute_rollup(self, endpoint: GoogleEndpoint, first: date, last: date) -> list[RawRecord]:
        start = datetime.combine(first, time(0), self.tz).astimezone(timezone.utc)
        end = datetime.combine(last + timedelta(days=1), time(0), self.tz).astimezone(timezone.utc)
        body = {"range": {"startTime": _rfc3339(start), "endTime": _rfc3339(end)}, "windowSize": "60s",
                "pageSize": endpoint.page_size}
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for point in self._rollup_pages(endpoint, ":rollUp", body):
            try:
                instant = _parse_instant(point["startTime"])
            except (KeyError, ValueError):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: a roll-up point without startTime") from None
            by_day[instant.astimezone(self.tz).date().isoformat()].append(point)
        return [RawRecord(day, day, sorted(points, key=lambda p: p["startTime"])) for day, points in sorted(by_day.items())]

    def _list(self, endpoint: GoogleEndpoint, first: date, last: date) -> list[RawRecord]:
        name = f"{endpoint.filter_name}.{endpoint.filter_member}"
        if endpoint.filter_member == "date":
            lower, upper = first.isoformat(), (last + timedelta(days=1)).isoformat()
        elif "civil" in endpoint.filter_member:
            lower, upper = f"{first.isoformat()}T00:00:00", f"{(last + timedelta(days=1)).isoformat()}T00:00:00"
        else:
            lower = _rfc3339(datetime.combine(first, time(0), self.tz) - PAD)
            upper = _rfc3339(datetime.combine(last + timedelta(days=1), time(0), self.tz) + PAD)
        params = {"filter": f'{name} >= "{lower}" AND {name} < "{upper}"', "pageSize": str(endpoint.page_size)}
        records: dict[str, RawRecord] = {}
        token = None
        while True:
            page = self._call("GET", endpoint, "", params={**params, **({"pageToken": token} if token else {})})
            points = page.get("dataPoints", [])  # `{}`: nothing there
            if not isinstance(points, list):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: `dataPoints` is not a list")
            for point in points:
                record = self._point_record(endpoint, point)
                if record.day is not None and first.isoformat() <= record.day <= last.isoformat():
                    records[record.record_id] = record
            token = page.get("nextPageToken")
            if not token:
                break
        if not endpoint.per_day:
            return list(records.values())
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records.values():
            by_day[record.day or ""].append(record.payload)
        return [RawRecord(day, day, sorted(points, key=lambda p: p[endpoint.key]["sampleTime"]["physicalTime"]))
                for day, points in sorted(by_day.items())]

    def _point_record(self, endpoint: GoogleEndpoint, point: dict[str, Any]) -> RawRecord:
        """A listed point as a raw record, on its own civil date (a night on its wake-up date)."""
        value = point.get(endpoint.key)
        if not isinstance(value, dict):
            raise MalformedResponse(PROVIDER, f"{endpoint.resource}: a data point without `{endpoint.key}`")
        try:
            if "date" in value:
                day = _civil_date(value["date"])
                return RawRecord(day.isoformat(), day.isoformat(), point)
            if "sampleTime" in value:
                when = value["sampleTime"]
                instant, day = self._own_day(when, "physicalTime", "utcOffset", "civilTime")
            elif endpoint.resource == "sleep":
                instant, day = self._own_day(value["interval"], "endTime", "endUtcOffset", "civilEndTime")
            else:
                instant, day = self._own_day(value["interval"], "startTime", "startUtcOffset", "civilStartTime")
        except (KeyError, TypeError, ValueError):
            raise MalformedResponse(PROVIDER, f"{endpoint.resource}: a data point without a usable time") from None
        record_id = point.get("name") or f"{endpoint.path_type}:{_rfc3339(instant)}"
        return RawRecord(str(record_id), day.isoformat(), point)

    def _own_day(self, when: dict[str, Any], instant_key: str, offset_key: str, civil_key: str) -> tuple[datetime, date]:
        """A point's instant and its own civil date: from its civil time, else its instant at its
        UTC offset, else (neither given) the instant in the configured zone."""
        instant = _parse_instant(when[instant_key])
        civil = when.get(civil_key)
        if isinstance(civil, dict) and isinstance(civil.get("date"), dict):
            return instant, _civil_date(civil["date"])
        offset = _offset_seconds(when.get(offset_key))
        if offset is not None:
            return instant, (instant.astimezone(timezone.utc) + timedelta(seconds=offset)).date()
        return instant, instant.astimezone(self.tz).date()

    def _rollup_pages(self, endpoint: GoogleEndpoint, verb: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            page = self._call("POST", endpoint, verb, json_body={**body, **({"pageToken": token} if token else {})})
            points = page.get("rollupDataPoints", [])
            if not isinstance(points, list):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: `rollupDataPoints` is not a list")
            yield from points
            token = page.get("nextPageToken")
            if not token:
                return

    # -- transport ----------------------------------------------------------------------------

    def _call(self, method: str, endpoint: GoogleEndpoint, verb: str, params: dict[str, str] | None = None,
              json_body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.config.base_url.rstrip('/')}/v4/users/me/dataTypes/{endpoint.path_type}/dataPoints{verb}"
        response = self.tokens.send(
            lambda token: self.http.request(
                method, url, params=params, data=None if json_body is None else _json_bytes(json_body),
                headers={"Authorization": f"Bearer {token}",
                         **({"Content-Type": "application/json"} if json_body is not None else {})},
            ),
            refused=lambda answer: answer.status_code == 401)
        return _decode(endpoint, response)


def _decode(endpoint: GoogleEndpoint, response: requests.Response) -> dict[str, Any]:
    body = json_or_none(response)
    if response.status_code == 200:
        return json_object(PROVIDER, endpoint.resource, body)
    error = body.get("error", {}) if isinstance(body, dict) else {}
    message = error.get("message") if isinstance(error, dict) else None
    reason = next((d.get("reason") for d in error.get("details", []) if isinstance(d, dict) and d.get("reason")), None) \
        if isinstance(error, dict) else None
    if response.status_code == 401:
        raise ReauthorizationNeeded(PROVIDER, "Google refuses the access token even after a refresh")
    if response.status_code == 403 and reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
        raise ScopeNotGranted(endpoint.resource, endpoint.scope)
    if response.status_code == 404 and body is None:
        raise BadRequest(PROVIDER, f"{endpoint.resource}: Google answers 404 for this path; the API may have changed")
    detail = f"{reason}: {message}" if reason else (message or response.reason)
    raise BadRequest(PROVIDER, f"{endpoint.resource}: HTTP {response.status_code}: {detail}")


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _ymd(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}  # plain ints: `02` is invalid JSON


def _civil_date(value: dict[str, Any]) -> date:
    return date(int(value["year"]), int(value["month"]), int(value["day"]))


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _offset_seconds(value: Any) -> float | None:
    """A proto Duration as Google writes a UTC offset (`"-18000s"`), or None when absent or not one."""
    if not isinstance(value, str) or not value.endswith("s"):
        return None
    try:
        return float(value[:-1])
    except ValueError:
        return None
