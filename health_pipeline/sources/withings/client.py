"""Withings Health API (`wbsapi`).

OAuth: the authorization code lives 30 seconds, so it is exchanged the moment it arrives; token
calls are `action=requesttoken` and answer `{status, body}` inside HTTP 200 (unwrapped for
requests-oauthlib by a compliance hook); refresh tokens rotate. Scopes are comma-separated.
Withings refuses `localhost` and IP redirect URIs: use a redirect page you host and `--manual`.

What live answers do (real-payload-corrections.md §6-11): measure groups carry no `timezone` of
their own, so a group's day is its date in the answer's body-level `timezone` (activities, workouts
and sleep summaries carry their own); activities from a phone or another app have `deviceid` and
`hash_deviceid` null, and two apps can report one day, so their record id names the app
(`modelid`, `brand`) instead; a `getmeas` answer on one page has no `more` / `offset`.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from health_pipeline.settings import OAuthProviderConfig
from health_pipeline.providers.errors import BadRequest, MalformedResponse, ProviderUnavailable, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_or_none
from health_pipeline.providers.oauth import OAuthProfile, OAuthTokens
from health_pipeline.providers.windows import FetchedChunk, chunk_days, days_in, local_midnight
from health_pipeline.storage.raw_store import RawRecord

PROVIDER = "withings"
# Status 601 carries no Retry-After; the limit is counted per minute, so wait a quarter of it.
RATE_LIMIT_WAIT_S = 15.0
AUTH_STATUSES = {100, 101, 102, 200, 401}
# Everything the scale, cuff and watch measure (type ids of provider-apis.md §2); configurable.
# 173-175: fat-free, fat and muscle mass per body segment (Body Scan).
DEFAULT_MEASTYPES = (1, 4, 5, 6, 8, 9, 10, 11, 12, 54, 71, 73, 76, 77, 88, 91, 123, 135, 136, 137, 138, 155,
                     167, 168, 169, 170, 173, 174, 175, 226, 227)

def unwrap_withings_envelope(response: requests.Response) -> requests.Response:
    """Withings answers the token endpoint with HTTP 200 `{status, body}`: make it standard OAuth."""
    try:
        payload = response.json()
    except ValueError:
        return response
    if not isinstance(payload, dict) or "status" not in payload:
        return response
    if payload.get("status") == 0 and isinstance(payload.get("body"), dict):
        standard: dict[str, Any] = dict(payload["body"])
    else:
        status = payload.get("status")
        error = "temporarily_unavailable" if status == 601 else "invalid_grant"
        standard = {"error": error, "error_description": f"Withings status {status}: {payload.get('error', '')}"}
        response.status_code = 400
    response._content = json.dumps(standard).encode()  # requests keeps the body here
    return response


OAUTH = OAuthProfile(
    scopes=("user.info", "user.metrics", "user.activity", "user.sleepevents"),
    scope_separator=",",
    token_params={"action": "requesttoken"},
    unwrap=unwrap_withings_envelope,
)


@dataclass(frozen=True)
class WithingsEndpoint:
    """One Withings service as data: where, which action, how it pages and what a record is."""

    resource: str
    path: str
    action: str
    list_key: str
    window: Literal["epoch", "ymd", "24h"]
    record_id: Callable[[dict[str, Any]], str]
    description: str


def _group_id(group: dict[str, Any]) -> str:
    return str(group["grpid"])


def _activity_id(activity: dict[str, Any]) -> str:
    """`date:device`; a phone app's summary has no device id, so `date:app-MODELID-BRAND` (two apps
    reporting one day must not overwrite each other)."""
    device = activity.get("hash_deviceid") or activity.get("deviceid")
    if not device:
        device = f"app-{activity.get('modelid')}-{activity.get('brand')}"
    return f"{activity['date']}:{device}"


def legacy_activity_ids(records: list[RawRecord]) -> list[str]:
    """Ids an earlier release gave phone-app summaries (`date:device`, one per day whatever the app):
    the summaries of those days now land under their app's id, so the old ones are retired."""
    return sorted({f"{r.payload['date']}:device" for r in records if r.record_id.split(":", 1)[1].startswith("app-")})


CATALOGUE: dict[str, WithingsEndpoint] = {
    e.resource: e
    for e in (
        WithingsEndpoint("measures", "/measure", "getmeas", "measuregrps", "epoch", _group_id,
                         "Body measures (weight, composition, blood pressure, ...), one record per group."),
        WithingsEndpoint("activity", "/v2/measure", "getactivity", "activities", "ymd", _activity_id,
                         "Daily activity summaries from the watch."),
        WithingsEndpoint("workouts", "/v2/measure", "getworkouts", "series", "ymd", lambda w: str(w["id"]),
                         "Workouts detected or logged on the watch."),
        WithingsEndpoint("sleep_summary", "/v2/sleep", "getsummary", "series", "ymd", lambda s: str(s["id"]),
                         "One summary per night (durations, efficiency, heart and breathing rates)."),
    )
}
SLEEP_SUMMARY_FIELDS = (
    "total_timeinbed,total_sleep_time,asleepduration,lightsleepduration,deepsleepduration,remsleepduration,"
    "wakeupduration,wakeupcount,durationtosleep,durationtowakeup,sleep_efficiency,sleep_latency,wakeup_latency,"
    "waso,out_of_bed_count,nb_rem_episodes,sleep_score,hr_average,hr_min,hr_max,rr_average,rr_min,rr_max,"
    "rmssd_start_avg,rmssd_end_avg,breathing_disturbances_intensity,snoring,snoringepisodecount,apnea_hypopnea_index"
)


def item_day(item: dict[str, Any], tz: ZoneInfo, body_zone: Any = None) -> str | None:
    """An item's local day, in the time zone the item names (travel included), else the one its answer
    names (measure groups), else `tz` (the configured one)."""
    if isinstance(item.get("date"), str):
        return item["date"]
    instant = item.get("date") if isinstance(item.get("date"), int) else item.get("startdate")
    if not isinstance(instant, int):
        return None
    zone = tz
    for name in (item.get("timezone"), body_zone):
        if isinstance(name, str):
            try:
                zone = ZoneInfo(name)
                break
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.fromtimestamp(instant, timezone.utc).astimezone(zone).date().isoformat()


def rate_limit_signal(wait_s: float = RATE_LIMIT_WAIT_S) -> Callable[[requests.Response], float | None]:
    """Withings' rate limit is status 601 inside an HTTP 200: wait `wait_s` and try again."""

    def signal(response: requests.Response) -> float | None:
        body = json_or_none(response)
        return wait_s if isinstance(body, dict) and body.get("status") == 601 else None

    return signal


class WithingsClient:
    """Reads one Withings account; every answer's `status` decides, never the HTTP code."""

    def __init__(self, config: OAuthProviderConfig, tokens: OAuthTokens, tz: ZoneInfo, http: ProviderHTTP | None = None):
        self.config = config
        self.tokens = tokens
        self.tz = tz
        self.http = http or ProviderHTTP(PROVIDER, limit_signal=rate_limit_signal())

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def changed_since(self, resource: str, lastupdate: int, meastypes: tuple[int, ...] | None = None) -> list[RawRecord]:
        """Records created or modified after `lastupdate` (Unix seconds): the cheap sync call."""
        return self._records(resource, {"lastupdate": lastupdate}, meastypes)

    def window(self, resource: str, start: date, end: date, meastypes: tuple[int, ...] | None = None) -> list[RawRecord]:
        """Records of local days [start, end]: by date for the v2 services; for `getmeas`, by instant
        with a day of padding each side, keeping the groups whose day (in the answer's time zone,
        which need not be the configured one) is in the window."""
        endpoint = CATALOGUE[resource]
        if endpoint.window == "ymd":
            params: dict[str, Any] = {"startdateymd": start.isoformat(), "enddateymd": end.isoformat()}
            return self._records(resource, params, meastypes)
        first = datetime.combine(start - timedelta(days=1), datetime.min.time(), self.tz)
        last = datetime.combine(end + timedelta(days=2), datetime.min.time(), self.tz)
        params = {"startdate": int(first.timestamp()), "enddate": int(last.timestamp()) - 1}
        return [r for r in self._records(resource, params, meastypes)
                if r.day is not None and start.isoformat() <= r.day <= end.isoformat()]

    def _records(self, resource: str, params: dict[str, Any], meastypes: tuple[int, ...] | None) -> list[RawRecord]:
        """The records of one service call (all pages); measure types: those given, else the configured
        ones (`[withings] meastypes`), else the broad default."""
        endpoint = CATALOGUE[resource]
        extra: dict[str, Any] = {}
        if resource == "measures":
            types = meastypes or getattr(self.config, "meastypes", ()) or DEFAULT_MEASTYPES
            extra = {"meastypes": ",".join(map(str, types)), "category": 1}
        if resource == "sleep_summary":
            extra = {"data_fields": SLEEP_SUMMARY_FIELDS}
        records: dict[str, RawRecord] = {}
        for item, body_zone in self._pages(endpoint, {**params, **extra}):
            try:
                record_id = endpoint.record_id(item)
            except (KeyError, TypeError):
                raise MalformedResponse(PROVIDER, f"{resource}: an item lacks its id") from None
            records[record_id] = RawRecord(record_id, self._day(item, body_zone), item)
        return list(records.values())

    def _day(self, item: dict[str, Any], body_zone: Any = None) -> str | None:
        return item_day(item, self.tz, body_zone)

    def _pages(self, endpoint: WithingsEndpoint, params: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Any]]:
        """Each item with its answer's `timezone`, following `more` / `offset` (an int in getmeas, a
        bool in the v2 services; both absent on a single page)."""
        offset = 0
        while True:
            body = self.call(endpoint.path, endpoint.action, {**params, **({"offset": offset} if offset else {})})
            items = body.get(endpoint.list_key)
            if not isinstance(items, list):
                raise MalformedResponse(PROVIDER, f"{endpoint.action}: the body has no `{endpoint.list_key}` list")
            for item in items:
                if not isinstance(item, dict):
                    raise MalformedResponse(PROVIDER, f"{endpoint.action}: an item of `{endpoint.list_key}` is not an object")
                yield item, body.get("timezone")
            if not body.get("more"):
                return
            next_offset = body.get("offset")
            if not isinstance(next_offset, int) or next_offset <= offset:
                raise MalformedResponse(PROVIDER, f"{endpoint.action}: `more` without a usable `offset`")
            offset = next_offset

    def fetch_window(self, resource: str, start: date, end: date) -> Iterator[FetchedChunk]:
        """Optional dense data per local day (`intraday`, `sleep_hf`), a week per transaction."""
        for first, last in chunk_days(start, end, 7):
            records = []
            for day in days_in(first, last):
                begin, finish = local_midnight(day, self.tz), local_midnight(day + timedelta(days=1), self.tz)
                if resource == "intraday":
                    payload: Any = self.intraday(begin, finish)
                elif resource == "sleep_hf":
                    payload = self.sleep_segments(begin, finish)
                else:
                    raise ValueError(f"{resource} is not a per-day Withings resource")
                if payload:
                    records.append(RawRecord(day.isoformat(), day.isoformat(), payload))
            yield FetchedChunk(first, last, records)

    def intraday(self, start: datetime, end: datetime, data_fields: str = "steps,heart_rate,calories,distance,elevation") -> dict[str, Any]:
        """Per-minute watch samples in [start, end), fetched 24 hours at a time (the API's cap)."""
        series: dict[str, Any] = {}
        for first, last in _24h_windows(start, end):
            body = self.call("/v2/measure", "getintradayactivity", {
                "startdate": int(first.timestamp()), "enddate": int(last.timestamp()), "data_fields": data_fields})
            if not isinstance(body.get("series"), dict):
                raise MalformedResponse(PROVIDER, "getintradayactivity: `series` is not an object")
            series.update(body["series"])
        return series

    def sleep_segments(self, start: datetime, end: datetime, data_fields: str = "hr,rr,snoring") -> list[dict[str, Any]]:
        """High-frequency sleep in [start, end), 24 hours per request."""
        segments: list[dict[str, Any]] = []
        for first, last in _24h_windows(start, end):
            body = self.call("/v2/sleep", "get", {
                "startdate": int(first.timestamp()), "enddate": int(last.timestamp()), "data_fields": data_fields})
            series = body.get("series")
            if isinstance(series, dict):  # the spec draws an object; real answers are arrays
                series = list(series.values())
            if not isinstance(series, list):
                raise MalformedResponse(PROVIDER, "sleep get: `series` is missing")
            segments.extend(series)
        return segments

    def call(self, path: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """One service call; returns `body` or raises the typed error its `status` means."""
        url = self.config.base_url.rstrip("/") + path
        def attempt(token: str) -> dict[str, Any]:
            response = self.http.request("POST", url, data={"action": action, **params},
                                         headers={"Authorization": f"Bearer {token}"})
            payload = json_or_none(response)
            if payload is None:
                raise MalformedResponse(PROVIDER, f"{action}: the answer is not JSON (HTTP {response.status_code})")
            if not isinstance(payload, dict) or not isinstance(payload.get("status"), int):
                raise MalformedResponse(PROVIDER, f"{action}: the answer has no `status`")
            return payload

        payload = self.tokens.send(attempt, refused=lambda answer: answer["status"] in AUTH_STATUSES)
        status = payload["status"]
        if status == 0:
            body = payload.get("body")
            if not isinstance(body, dict):
                raise MalformedResponse(PROVIDER, f"{action}: `body` is not an object")
            return body
        if status in AUTH_STATUSES:
            raise ReauthorizationNeeded(PROVIDER, f"the access token is refused even after a refresh (status {status})")
        if status == 522:
            raise ProviderUnavailable(PROVIDER, f"{action}: Withings timed out (status 522); re-run later")
        raise BadRequest(PROVIDER, f"{action}: status {status}: {payload.get('error', 'error')}")


def _24h_windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Real 24-hour windows. In UTC: aware arithmetic in a local zone adds wall-clock hours, so
    midnight + 24 h on a 25-hour day would be the next midnight, and Withings would drop the last hour."""
    cursor, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    while cursor < end:
        last = min(end, cursor + timedelta(hours=24))
        yield cursor, last
        cursor = last
