"""WHOOP developer API v2: collections by time window, the profile and body measurement.

What live answers do (research notes, /work/research/whoop.md and reference/whoop.md):
- collections page with `limit` (at most 25) and the `nextToken` query parameter; the answer's
  key is `next_token` (snake case), base64 with `=` padding, absent on the last page;
- `start` / `end` select records whose time overlaps the window (a cycle running at `start` is
  returned), newest first; there is no "changed since": re-reading days finds edits and deletions;
- the current cycle has `"end": null`; a record not (yet) scored has `score_state`
  PENDING_SCORE or UNSCORABLE and its `score` null or absent;
- every instant is UTC with milliseconds, and each record carries the `timezone_offset` it was
  recorded in, which sets its local day here (a sleep: the day it ended; a workout: the day it
  started; a cycle: the day after its sleep began, when that was after noon, else that day);
  a recovery has no time of its own: it takes its sleep's day (the night it scores: for a day
  sleeper, whose cycle counts for the next day, its vitals stay with the sleep they were measured in);
- energy is kilojoule, durations milliseconds, `percent_recorded` a 0-1 fraction;
- a refused token is a 401 whose body is the plain text `Authorization was not valid` (labelled
  JSON); the token endpoint wants the client's credentials in the form body (HTTP Basic gets
  `invalid_client`), needs the `offline` scope for a refresh token, and rotates refresh tokens;
- the quota is 100 requests a minute and 10,000 a day per app, told in `X-RateLimit-Limit`
  (`100, 100;window=60, 10000;window=86400`: the window closest to its limit first),
  `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import requests

from health_pipeline.providers.errors import BadRequest, MalformedResponse, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_object, json_or_none
from health_pipeline.providers.oauth import OAuthProfile, OAuthTokens
from health_pipeline.providers.quota import Quota, Window
from health_pipeline.providers.windows import FetchedChunk, chunk_days, local_midnight
from health_pipeline.settings import OAuthProviderConfig
from health_pipeline.storage.raw_store import RawRecord

PROVIDER = "whoop"
SCOPES = ("offline", "read:recovery", "read:cycles", "read:workout", "read:sleep", "read:profile",
          "read:body_measurement")
OAUTH = OAuthProfile(SCOPES)
PAGE_SIZE = 25  # the API's maximum
LIMITS = {"minute": 100, "day": 10_000}  # per app; the answers' headers say what is left


def windows(per_minute: int) -> tuple[Window, ...]:
    """The quota the client keeps: WHOOP's minute (paced, at most `per_minute`) and its day."""
    return (Window("minute", 60, min(per_minute, LIMITS["minute"]), aligned=False, paced=True),
            Window("day", 86_400, LIMITS["day"]))
PAD = timedelta(days=1)  # records are asked for a day beyond the window each side, then kept by their own day


@dataclass(frozen=True)
class WhoopEndpoint:
    """One WHOOP resource as data."""

    resource: str
    path: str
    scope: str
    description: str
    window_days: int = 0  # the days one request covers (0: not dated)


CATALOGUE: dict[str, WhoopEndpoint] = {e.resource: e for e in (
    WhoopEndpoint("cycles", "/v2/cycle", "read:cycles",
                  "Physiological cycles (sleep onset to the next): day strain, energy in kJ, average and max heart rate.", 90),
    WhoopEndpoint("recoveries", "/v2/recovery", "read:recovery",
                  "Recovery of each cycle: score, resting heart rate, HRV, SpO2, skin temperature.", 90),
    WhoopEndpoint("sleeps", "/v2/activity/sleep", "read:sleep",
                  "Sleeps and naps: stage durations, sleep need, performance, efficiency, breathing rate.", 90),
    WhoopEndpoint("workouts", "/v2/activity/workout", "read:workout",
                  "Workouts: sport, strain, energy in kJ, heart rate and time per zone, distance.", 90),
    WhoopEndpoint("profile", "/v2/user/profile/basic", "read:profile", "The member: user id, name, email."),
    WhoopEndpoint("body_measurement", "/v2/user/measurement/body", "read:body_measurement",
                  "Height, weight and WHOOP's maximum heart rate."),
)}


def offset_of(record: dict[str, Any]) -> timedelta:
    """A record's `timezone_offset` (`-04:00`, `+05:30`, `Z`) as a timedelta (UTC when absent or unreadable)."""
    text = record.get("timezone_offset")
    if not isinstance(text, str) or text in ("", "Z", "z"):
        return timedelta(0)
    try:
        sign = -1 if text[0] == "-" else 1
        hours, _, minutes = text.lstrip("+-").partition(":")
        return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))
    except (ValueError, IndexError):
        return timedelta(0)


def instant(text: Any) -> datetime | None:
    """A WHOOP instant (`2026-05-28T01:48:16.470Z`), or None."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def local_day(resource: str, record: dict[str, Any]) -> date | None:
    """The local day a record counts towards (see the module docstring); None when it has no time."""
    offset = offset_of(record)
    if resource == "sleeps":
        at = instant(record.get("end")) or instant(record.get("start"))
        return (at + offset).date() if at else None
    start = instant(record.get("start"))
    if start is None:
        return None
    if resource == "cycles":
        return (start + offset + timedelta(hours=12)).date()  # noon rule: an evening onset counts for the next day
    return (start + offset).date()


def read_quota(response: requests.Response, quota: Quota) -> None:
    """Update the client's count from `X-RateLimit-*` (the first limit is the window they speak of)."""
    limits = response.headers.get("X-RateLimit-Limit", "")
    head = limits.split(",", 1)[0].strip()
    windows = {}
    for part in limits.split(",")[1:]:
        value, _, window = part.strip().partition(";window=")
        if value.strip().isdigit() and window.strip().isdigit():
            windows[int(window)] = int(value)
    name = None
    if head.isdigit():
        for seconds, limit in sorted(windows.items()):
            if limit == int(head):
                name = "minute" if seconds <= 60 else "day"
                break
    remaining, reset = response.headers.get("X-RateLimit-Remaining", ""), response.headers.get("X-RateLimit-Reset", "")
    for seconds, limit in windows.items():
        quota.observe("minute" if seconds <= 60 else "day", limit=limit)
    if name and remaining.strip().isdigit():
        quota.observe(name, remaining=int(remaining), resets_in_s=float(reset) if reset.strip().isdigit() else None)
    if response.status_code == 429:  # the window the headers name, else the minute's
        quota.spent(name or "minute")


class WhoopClient:
    """Reads one WHOOP member's data."""

    def __init__(self, config: OAuthProviderConfig, tokens: OAuthTokens, tz: ZoneInfo, http: ProviderHTTP) -> None:
        self.config = config
        self.tokens = tokens
        self.tz = tz
        self.http = http

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def fetch_window(self, resource: str, start: date, end: date) -> Iterator[FetchedChunk]:
        """The records of local days [start, end], a chunk of days at a time (each landed whole)."""
        endpoint = CATALOGUE[resource]
        for first, last in chunk_days(start, end, endpoint.window_days):
            yield FetchedChunk(first, last, self.records(resource, first, last))

    def records(self, resource: str, first: date, last: date) -> list[RawRecord]:
        """Every record whose local day is in [first, last]."""
        endpoint = CATALOGUE[resource]
        window = {"start": _iso(local_midnight(first - PAD, self.tz)), "end": _iso(local_midnight(last + 2 * PAD, self.tz))}
        items = list(self.items(endpoint, window))
        sleep_days: dict[Any, date] = {}
        if resource == "recoveries":  # a recovery has no time: it counts for its sleep's day
            sleep_days = {s.get("id"): d for s in self.items(CATALOGUE["sleeps"], window)
                          if (d := local_day("sleeps", s)) is not None}
        found: dict[str, RawRecord] = {}
        for item in items:
            key = item.get("cycle_id") if resource == "recoveries" else item.get("id")
            day = sleep_days.get(item.get("sleep_id")) if resource == "recoveries" else local_day(resource, item)
            if key is None:
                raise MalformedResponse(PROVIDER, f"{resource}: a record has no id")
            if day is not None and first <= day <= last:
                found[str(key)] = RawRecord(str(key), day.isoformat(), item)
        return list(found.values())

    def items(self, endpoint: WhoopEndpoint, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every record of a collection for `params`, page by page."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            body = self._get(endpoint, {**params, "limit": str(PAGE_SIZE), **({"nextToken": token} if token else {})})
            records = body.get("records")
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: the answer has no `records` list")
            yield from records
            token = body.get("next_token") or body.get("nextToken")
            if not token or not records:
                return
            if not isinstance(token, str) or token in seen:
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: next_token repeats; paging stopped")
            seen.add(token)

    def snapshot(self, resource: str) -> list[RawRecord]:
        """The profile or the body measurement, whole (keyed by the member's id; a member who never set a
        body measurement has none)."""
        endpoint = CATALOGUE[resource]
        body = self._get(endpoint, {}, missing_ok=True)
        if not body:
            return []
        user = body.get("user_id")
        return [RawRecord(str(user) if user is not None else "me", None, body)]

    def _get(self, endpoint: WhoopEndpoint, params: dict[str, str], missing_ok: bool = False) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + endpoint.path
        response = self.tokens.send(
            lambda token: self.http.request("GET", url, params=params, headers={"Authorization": f"Bearer {token}"}),
            refused=lambda answer: answer.status_code == 401)
        if response.status_code == 404 and missing_ok:
            return {}
        return _decode(endpoint, response)


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _decode(endpoint: WhoopEndpoint, response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    if status == 200:
        return json_object(PROVIDER, endpoint.resource, json_or_none(response))
    text = response.text.strip()[:200]
    if status == 401:
        raise ReauthorizationNeeded(PROVIDER, f"the access token is refused even after a refresh ({text or 'HTTP 401'})")
    if status == 403:
        raise ReauthorizationNeeded(PROVIDER, f"access to {endpoint.resource} is denied: the {endpoint.scope} scope "
                                              "was not granted")
    raise BadRequest(PROVIDER, f"{endpoint.resource}: HTTP {status}: {text or response.reason}")
