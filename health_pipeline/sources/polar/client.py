"""Polar AccessLink v3: sleep, Nightly Recharge, daily activity and continuous heart rate by date,
exercises (the last 30 days' uploads), physical information by transaction, the registered user.

What live answers do (research notes, /work/research/polar.md, and reference/polar.md):
- a token never expires and has no refresh token; the token answer names the user (`x_user_id`),
  who must then be registered (`POST /v3/users`, 409 once registered) before any data is served;
- sleep and Nightly Recharge list the last 28 days (`{"nights": [...]}`, `{"recharges": [...]}`)
  and answer older dates one at a time (404: none); daily activity takes `from`/`to` ranges of at
  most 28 days, `from` at most 365 days old; continuous heart rate is live-verified per date
  (`/continuous-heart-rate/{date}`, 404: none) and documented for ranges in a shape no capture
  confirms: the client reads `{"heart_rates": [...]}` or a list, and asks date by date when a range
  answers a single day's object;
- exercises: a bare array of what was uploaded in the last 30 days (and after registration);
  `start_time` is the device's local time, `start_time_utc_offset` its offset in minutes (UTC =
  start - offset); `duration` is ISO 8601 (`PT2724.716S`); optional fields are absent, not null;
- physical information comes by transaction: create (201, or 204 when nothing is new), list the
  items, fetch each, then commit (`PUT`), which deletes them at Polar: the commit happens only once
  they have landed;
- every answer says the quota in `RateLimit-Usage` / `-Limit` / `-Reset` as "short, long" (15
  minutes, a day: 500 + 20 and 5,000 + 100 per registered user); 429 over it; error bodies are empty.
"""

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import requests

from health_pipeline.providers.errors import BadRequest, MalformedResponse, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_or_none
from health_pipeline.providers.oauth import OAuthProfile, OAuthTokens
from health_pipeline.providers.quota import Quota, Window
from health_pipeline.providers.windows import FetchedChunk, chunk_days
from health_pipeline.sources.polar.settings import PolarConfig
from health_pipeline.storage.raw_store import RawRecord, RawStore

PROVIDER = "polar"
OAUTH = OAuthProfile(("accesslink.read_all",), client_auth="basic")
LIST_DAYS = 28  # sleep, Nightly Recharge and activity lists; the longest range
ACTIVITY_DAYS = 365  # daily activity older than this is not served
EXERCISE_DAYS = 28  # the days whose exercises a listing holds whole (uploads of the last 30 days)
SHORT, LONG = "15 minutes", "day"
WINDOWS = (Window(SHORT, 900, 520, aligned=False, paced=True), Window(LONG, 86_400, 5_100, aligned=False))


def read_quota(response: requests.Response, quota: Quota) -> None:
    """Update the client's count from `RateLimit-Usage` / `-Limit` / `-Reset` ("short, long")."""
    usage, limit, reset = (_pair(response.headers.get(f"RateLimit-{h}")) for h in ("Usage", "Limit", "Reset"))
    for i, name in enumerate((SHORT, LONG)):
        quota.observe(name, used=usage[i] if usage else None, limit=limit[i] if limit else None,
                      resets_in_s=reset[i] if reset else None)
    if response.status_code == 429 and usage is None:  # refused without saying why: wait out the short window
        quota.spent(SHORT)


def _pair(text: str | None) -> tuple[int, int] | None:
    parts = [p.strip() for p in (text or "").split(",")]
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def exercise_start(exercise: dict[str, Any]) -> datetime | None:
    """An exercise's start as an aware local time (`start_time` with `start_time_utc_offset` minutes)."""
    text, offset = exercise.get("start_time"), exercise.get("start_time_utc_offset")
    try:
        local = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if local is None or not isinstance(offset, int):
        return None
    return local.replace(tzinfo=timezone(timedelta(minutes=offset)))


def upload_time(exercise: dict[str, Any]) -> datetime | None:
    text = exercise.get("upload_time")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        return None


class PolarClient:
    """Reads one registered Polar user's data."""

    def __init__(self, config: PolarConfig, tokens: OAuthTokens, tz: ZoneInfo, http: ProviderHTTP,
                 store: RawStore | None) -> None:
        self.config = config
        self.tokens = tokens
        self.tz = tz
        self.http = http
        self.store = store
        self._lists: dict[str, list[dict[str, Any]]] = {}  # the 28-day lists, asked once per client

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    # -- the user ------------------------------------------------------------------------------------

    def register(self, user_id: int) -> dict[str, Any]:
        """Register the user (after authorising); an already registered user is read instead."""
        response = self._send("POST", "/users", json={"member-id": self.config.member_id})
        if response.status_code == 409:
            return self.user(user_id)
        return self._decode(response, "/users")

    def user(self, user_id: int | None = None) -> dict[str, Any]:
        user_id = user_id if user_id is not None else self.user_id()
        body = self._get(f"/users/{user_id}", {})
        if not body:
            raise ReauthorizationNeeded(PROVIDER, "Polar does not know this user (not registered, or de-registered): "
                                                  "run `health-pipeline auth polar` again")
        return body

    def user_id(self) -> int:
        """The registered user's id, kept as the `user` record when authorising."""
        records = self.store.records(PROVIDER, "user") if self.store is not None else []
        if not records:
            raise ReauthorizationNeeded(PROVIDER, "no registered Polar user yet: run `health-pipeline auth polar` (or "
                                                  "`tokens import polar --user-id N`)")
        return int(records[0].record_id)

    def snapshot(self, resource: str) -> list[RawRecord]:
        body = self.user()
        return [RawRecord(str(body.get("polar-user-id", self.user_id())), None, body)]

    # -- daily resources -----------------------------------------------------------------------------

    def fetch_window(self, resource: str, start: date, end: date) -> Iterator[FetchedChunk]:
        """The records of local days [start, end], 28 days a chunk. Days Polar may no longer serve are
        not taken for its whole truth (merged, nothing tombstoned): daily activity older than a year is
        not asked at all; older sleep, recharge and heart rate one date at a time, whose reach Polar does
        not document."""
        recent = datetime.now(self.tz).date() - timedelta(days=LIST_DAYS - 1)
        for first, last in chunk_days(start, end, LIST_DAYS):
            yield FetchedChunk(first, last, self.days(resource, first, last), whole=last >= recent)

    def days(self, resource: str, first: date, last: date) -> list[RawRecord]:
        fetch: dict[str, Callable[[date, date], list[dict[str, Any]]]] = {
            "sleep": lambda a, b: self._listed_or_each("/users/sleep", "nights", a, b),
            "nightly_recharge": lambda a, b: self._listed_or_each("/users/nightly-recharge", "recharges", a, b),
            "activities": self._activities, "continuous_heart_rate": self._heart_rate}
        found = {}
        for item in fetch[resource](first, last):
            day = _day_of(resource, item)
            if day is None:
                raise MalformedResponse(PROVIDER, f"{resource}: an answer has no date")
            if first.isoformat() <= day <= last.isoformat():
                found[day] = RawRecord(day, day, item)
        return list(found.values())

    def _listed_or_each(self, path: str, key: str, first: date, last: date) -> list[dict[str, Any]]:
        """The list (the last 28 days, one request) holds every day from its oldest date on; the window's
        older days are asked one request each (404: none)."""
        if path not in self._lists:
            body = self._get(path, {})
            listed = body.get(key) if isinstance(body, dict) else None
            if not isinstance(listed, list):
                raise MalformedResponse(PROVIDER, f"{path}: the answer has no `{key}` list")
            self._lists[path] = listed
        items = self._lists[path]
        dates = sorted(d for item in items if (d := _day_of("sleep", item)) is not None)
        listed_from = date.fromisoformat(dates[0]) if dates else last + timedelta(days=1)
        found = [item for item in items if first.isoformat() <= (_day_of("sleep", item) or "") <= last.isoformat()]
        day = first
        while day <= min(last, listed_from - timedelta(days=1)):
            item = self._get(f"{path}/{day.isoformat()}", {}, missing_ok=True)
            if item:
                found.append(item)
            day += timedelta(days=1)
        return found

    def _activities(self, first: date, last: date) -> list[dict[str, Any]]:
        oldest = datetime.now(self.tz).date() - timedelta(days=ACTIVITY_DAYS - 1)
        if last < oldest:
            return []  # Polar serves a year of daily activity
        body = self._get("/users/activities", {"from": max(first, oldest).isoformat(), "to": last.isoformat()})
        if not isinstance(body, list):
            raise MalformedResponse(PROVIDER, "/users/activities: the answer is not a list")
        return body

    def _heart_rate(self, first: date, last: date) -> list[dict[str, Any]]:
        body = self._get("/users/continuous-heart-rate", {"from": first.isoformat(), "to": last.isoformat()},
                         missing_ok=True)
        if isinstance(body, dict) and isinstance(body.get("heart_rates"), list):
            return body["heart_rates"]
        if isinstance(body, list):
            return body
        if first == last:
            return [body] if body else []
        # the documented single object: not the range's days; ask each date (live-verified)
        found = []
        day = first
        while day <= last:
            item = self._get(f"/users/continuous-heart-rate/{day.isoformat()}", {}, missing_ok=True)
            if item:
                found.append(item)
            day += timedelta(days=1)
        return found

    # -- exercises -----------------------------------------------------------------------------------

    def exercises(self) -> list[RawRecord]:
        """Every exercise uploaded in the last 30 days (with its heart-rate zones), by its local day."""
        body = self._get("/exercises", {"zones": "true"})
        if not isinstance(body, list):
            raise MalformedResponse(PROVIDER, "/exercises: the answer is not a list")
        found = []
        for item in body:
            start = exercise_start(item) if isinstance(item, dict) else None
            if start is None or not item.get("id"):
                raise MalformedResponse(PROVIDER, "/exercises: an exercise has no `id`, `start_time` or offset")
            found.append(RawRecord(str(item["id"]), start.date().isoformat(), item))
        return found

    # -- physical information (a transaction) --------------------------------------------------------

    def physical_information(self) -> tuple[list[RawRecord], Callable[[], None] | None]:
        """The entries of a new physical-information transaction, and its commit (None: nothing new)."""
        user_id = self.user_id()
        response = self._send("POST", f"/users/{user_id}/physical-information-transactions")
        if response.status_code == 204:
            return [], None
        created = self._decode(response, "physical-information-transactions")
        uri = created.get("resource-uri")
        if not isinstance(uri, str):
            raise MalformedResponse(PROVIDER, "physical-information-transactions: no `resource-uri`")
        listing = self._decode(self._send("GET", uri), "physical-information-transactions") or {}
        found = []
        for item_uri in listing.get("physical-informations") or []:
            item = self._decode(self._send("GET", item_uri), "physical-informations")
            if item:
                at = upload_time({"upload_time": item.get("created")})
                found.append(RawRecord(str(item.get("id")), at.astimezone(self.tz).date().isoformat() if at else None,
                                       item))

        def commit() -> None:
            answer = self._send("PUT", uri)
            if answer.status_code not in (200, 204):
                raise BadRequest(PROVIDER, f"committing the physical-information transaction: HTTP {answer.status_code}")

        return found, commit

    def waiting(self, data_type: str) -> bool:
        """Whether Polar's pull notifications say data of `data_type` waits for this user (one request,
        with the client's own credentials)."""
        response = self.http.request("GET", self._url("/notifications"),
                                     headers={"Accept": "application/json"},
                                     auth=(self.config.client_id, self.config.client_secret.reveal()))
        if response.status_code == 204:
            return False
        body = self._decode(response, "/notifications") or {}
        user = self.user_id()
        return any(n.get("data-type") == data_type and n.get("user-id") == user
                   for n in body.get("available-user-data") or [] if isinstance(n, dict))

    # -- HTTP ----------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.config.base_url.rstrip("/") + path

    def _send(self, method: str, path: str, params: dict[str, str] | None = None,
              json: Any = None) -> requests.Response:
        url = self._url(path)
        creates = method == "POST" and path.endswith("-transactions")  # sent twice, it would open two
        return self.tokens.send(
            lambda token: self.http.request(method, url, params=params, json=json, idempotent=not creates,
                                            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}),
            refused=lambda answer: False)  # no refresh token: a refused token needs a new authorisation

    def _get(self, path: str, params: dict[str, str], missing_ok: bool = False) -> Any:
        response = self._send("GET", path, params)
        if response.status_code == 404 and missing_ok:
            return None
        return self._decode(response, path)

    def _decode(self, response: requests.Response, what: str) -> Any:
        status = response.status_code
        if status == 204:
            return None
        if status in (200, 201):
            body = json_or_none(response)
            if body is None:
                raise MalformedResponse(PROVIDER, f"{what}: the answer is not JSON")
            return body
        if status == 401:
            raise ReauthorizationNeeded(PROVIDER, "the access token is refused (revoked at Polar): run "
                                                  "`health-pipeline auth polar`")
        if status == 403:
            raise ReauthorizationNeeded(PROVIDER, f"{what}: Polar refuses (the user is not registered, or has not "
                                                  "accepted the data consents in Polar Flow): run "
                                                  "`health-pipeline auth polar`")
        raise BadRequest(PROVIDER, f"{what}: HTTP {status} {response.reason}")


def _day_of(resource: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    text = item.get("start_time") if resource == "activities" else item.get("date")
    return text[:10] if isinstance(text, str) and len(text) >= 10 else None
