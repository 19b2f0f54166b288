"""Strava API v3: the athlete, their activities (listed 200 a request), and per activity its detail,
laps, zones and (opt-in) streams.

What live answers do (research notes, /work/research/strava.md, and reference/strava.md):
- `/athlete/activities` filters by start time with `before` / `after` (epoch seconds): newest first,
  but oldest first when only `after` is given; `[]` past the last page; at most 200 a page. Nothing
  says "changed since": a listing after a time finds new activities; renames and deletions show
  only in a re-listing (cheap: 200 activities a request);
- `start_date` is UTC; `start_date_local` is the wall time where the activity happened with a
  spurious `Z`: its date is the person's local day (trips included);
- fields are absent rather than null (`average_heartrate` without a heart-rate sensor, power without
  a power meter); `kilojoules` is mechanical work from power, not energy burned; the detail's
  `calories` (kcal) is the energy;
- a manual activity has no streams (404 `Resource Not Found`); an unknown activity is 404;
- errors are Faults `{"message", "errors": [{"resource", "field", "code"}]}`: 401 for a bad token or a
  missing scope (`activity:read_permission`), 403 `Application/Status/Inactive` when the
  application's owner has no subscription (since 2026);
- the quota is per application: 100 reads a quarter hour and 1,000 a day by default (windows start
  on the quarter hour and at midnight UTC), told in `X-ReadRateLimit-Limit` / `-Usage`
  (`"15-min,daily"`) on most answers (not on streams); 429 over it.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from health_pipeline.providers.errors import BadRequest, MalformedResponse, ProviderError, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_or_none
from health_pipeline.providers.oauth import OAuthProfile, OAuthTokens
from health_pipeline.providers.quota import Quota, Window
from health_pipeline.providers.windows import local_midnight
from health_pipeline.sources.strava.settings import StravaConfig
from health_pipeline.storage.raw_store import RawRecord

PROVIDER = "strava"
SCOPES = ("read", "activity:read_all", "profile:read_all")
OAUTH = OAuthProfile(SCOPES, scope_separator=",", authorize_params={"approval_prompt": "auto"})
PAGE_SIZE = 200  # the API's maximum
STREAM_KEYS = ("time", "heartrate", "distance", "latlng", "altitude", "velocity_smooth", "cadence", "watts", "temp",
               "moving", "grade_smooth")
QUARTER, DAY = "15 minutes", "day"


class ApplicationInactive(ProviderError):
    """Strava answers 403 `Application/Status/Inactive`: the API application's owner has no subscription."""


def windows(settings: StravaConfig) -> tuple[Window, ...]:
    """The read quota the client keeps: quarter hours (paced) and days (UTC), as configured."""
    return (Window(QUARTER, 900, settings.read_limit_15min, aligned=True, paced=True),
            Window(DAY, 86_400, settings.read_limit_daily, aligned=True))


def read_quota(response: requests.Response, quota: Quota) -> None:
    """Update the client's count from `X-ReadRateLimit-Limit` / `-Usage` (`"15-min,daily"`), when sent."""
    limits = _pair(response.headers.get("X-ReadRateLimit-Limit"))
    usage = _pair(response.headers.get("X-ReadRateLimit-Usage"))
    for name, limit, used in zip((QUARTER, DAY), limits or (None, None), usage or (None, None)):
        quota.observe(name, limit=limit, used=used)
    if response.status_code == 429 and usage is None:  # refused without saying why: wait out the quarter hour
        quota.spent(QUARTER)


def _pair(text: str | None) -> tuple[int, int] | None:
    parts = (text or "").replace(" ", "").split(",")
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def local_day(activity: dict[str, Any]) -> str | None:
    """The person's local day of an activity: the date of `start_date_local`."""
    text = activity.get("start_date_local")
    return text[:10] if isinstance(text, str) and len(text) >= 10 else None


def started(activity: dict[str, Any]) -> datetime | None:
    """An activity's start (UTC), or None."""
    text = activity.get("start_date")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        return None


class StravaClient:
    """Reads one athlete's Strava data."""

    def __init__(self, config: StravaConfig, tokens: OAuthTokens, tz: ZoneInfo, http: ProviderHTTP) -> None:
        self.config = config
        self.tokens = tokens
        self.tz = tz
        self.http = http

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    # -- activities ------------------------------------------------------------------------------

    def started_after(self, since: datetime) -> list[RawRecord]:
        """Every activity started after `since`, oldest first."""
        return [self._record(a) for a in self._activities({"after": str(int(since.timestamp()))})]

    def days(self, first: date, last: date) -> list[RawRecord]:
        """Every activity of local days [first, last] (asked with a day's margin each side: local days
        are the activity's own zone's)."""
        window = {"after": str(int(local_midnight(first - timedelta(days=1), self.tz).timestamp()) - 1),
                  "before": str(int(local_midnight(last + timedelta(days=2), self.tz).timestamp()))}
        return [self._record(a) for a in self._activities(window)
                if first.isoformat() <= (local_day(a) or "") <= last.isoformat()]

    def first_started_after(self, since: datetime) -> datetime | None:
        """The start of the first activity after `since` (one request), or None."""
        body = self._get("/athlete/activities", {"after": str(int(since.timestamp())), "per_page": "1"})
        items = _activity_list(body)
        return started(items[0]) if items else None

    def _activities(self, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            items = _activity_list(self._get("/athlete/activities", {**params, "page": str(page),
                                                                      "per_page": str(PAGE_SIZE)}))
            if not items:
                return
            yield from items
            page += 1

    def _record(self, activity: dict[str, Any]) -> RawRecord:
        if activity.get("id") is None or started(activity) is None:
            raise MalformedResponse(PROVIDER, "an activity has no `id` or `start_date`")
        return RawRecord(str(activity["id"]), local_day(activity), activity)

    # -- one activity's records ------------------------------------------------------------------

    def detail(self, activity_id: str) -> dict[str, Any] | None:
        """The DetailedActivity (calories, splits, laps, segment efforts, gear), or None once deleted."""
        return self._get(f"/activities/{activity_id}", {}, missing_ok=True)

    def laps(self, activity_id: str) -> Any:
        return self._get(f"/activities/{activity_id}/laps", {}, missing_ok=True)

    def zones(self, activity_id: str) -> Any:
        return self._get(f"/activities/{activity_id}/zones", {}, missing_ok=True)

    def streams(self, activity_id: str) -> Any:
        """Its streams keyed by type, or None (a manual activity has none)."""
        return self._get(f"/activities/{activity_id}/streams",
                         {"keys": ",".join(STREAM_KEYS), "key_by_type": "true"}, missing_ok=True)

    # -- the athlete -----------------------------------------------------------------------------

    def snapshot(self, resource: str) -> list[RawRecord]:
        """The athlete (`athlete`) or their heart-rate and power zones (`athlete_zones`), whole."""
        if resource == "athlete":
            body = self._get("/athlete", {})
            return [RawRecord(str(body.get("id", "me")), None, body)]
        body = self._get("/athlete/zones", {})
        return [RawRecord("me", None, body)]

    # -- HTTP ------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str], missing_ok: bool = False) -> Any:
        url = self.config.base_url.rstrip("/") + path
        response = self.tokens.send(
            lambda token: self.http.request("GET", url, params=params, headers={"Authorization": f"Bearer {token}"}),
            refused=lambda answer: answer.status_code == 401 and "permission" not in answer.text)
        status = response.status_code
        body = json_or_none(response)
        if status == 200:
            if body is None:
                raise MalformedResponse(PROVIDER, f"{path}: the answer is not JSON")
            return body
        if status == 404 and missing_ok:
            return None
        fault = _fault(body)
        if status == 401 and "permission" in fault:
            raise ReauthorizationNeeded(PROVIDER, f"the token lacks a scope Strava needs here ({fault}); run "
                                                  f"`health-pipeline auth strava` and keep every box ticked")
        if status == 401:
            raise ReauthorizationNeeded(PROVIDER, f"the access token is refused even after a refresh ({fault})")
        if status == 403 and "Inactive" in fault:
            raise ApplicationInactive(PROVIDER, "Strava says your API application is Inactive: since 2026 its owner "
                                                "needs a Strava subscription (https://www.strava.com/settings/api)")
        raise BadRequest(PROVIDER, f"{path}: HTTP {status}: {fault or response.reason}")


def _activity_list(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise MalformedResponse(PROVIDER, "/athlete/activities: the answer is not a list of activities")
    return body


def _fault(body: Any) -> str:
    """A Fault's message and first error (`Authorization Error: AccessToken activity:read_permission missing`)."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    detail = " ".join(str(first.get(k)) for k in ("resource", "field", "code") if first.get(k))
    return f"{body.get('message', '')}{': ' + detail if detail else ''}"
