"""Oura Cloud API v2: the endpoint catalogue and a client that fetches a date range of records.

Quirks handled here (provider-apis.md §1 and §6):
- every collection answers `{data, next_token}`; follow `next_token`, repeating the original
  parameters, until it is null or missing;
- which documents a date range returns is undocumented and inconsistent, so the range is padded
  by a day on each side and documents are kept only when their `day` is inside it;
- `heartrate` takes `start_datetime` / `end_datetime` with a UTC offset (and silently returns
  nothing for `start_date`); its rows are UTC and are grouped here into one record per local day;
- errors come as `{"detail": ...}`; 401 means refresh the token and try once more.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import requests

from health_pipeline.settings import OAuthProviderConfig
from health_pipeline.providers.errors import BadRequest, MalformedResponse, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_object, json_or_none
from health_pipeline.providers.oauth import OAuthProfile, OAuthTokens
from health_pipeline.providers.windows import FetchedChunk, chunk_days, local_midnight
from health_pipeline.storage.raw_store import RawRecord

PROVIDER = "oura"
SCOPES = ["personal", "daily", "heartrate", "workout", "tag", "session", "spo2Daily"]
OAUTH = OAuthProfile(tuple(SCOPES))


@dataclass(frozen=True)
class OuraEndpoint:
    """One Oura endpoint as data: where it is, how far one request may reach, what a record is.

    kind "document": one record per document `id`, its day taken from `day_field`.
    kind "samples": rows of a time series, stored as one record per local day (id = the day).
    kind "profile": no dates; one record per document (`personal_info` comes unwrapped).
    """

    resource: str
    path: str
    kind: Literal["document", "samples", "profile"]
    max_window_days: int
    pad_days: int
    description: str
    day_field: str = "day"

    @property
    def dated(self) -> bool:
        return self.kind != "profile"

    @property
    def chunk_days(self) -> int:
        """Wanted days per request, leaving room for the padding inside the window."""
        return self.max_window_days - 2 * self.pad_days


def _daily(resource: str, description: str, day_field: str = "day") -> OuraEndpoint:
    # No maximum range is documented; 90 days (plus a day of padding each side) is the common choice.
    return OuraEndpoint(resource, f"/v2/usercollection/{resource}", "document", 92, 1, description, day_field)


CATALOGUE: dict[str, OuraEndpoint] = {
    endpoint.resource: endpoint
    for endpoint in (
        _daily("daily_activity", "Daily activity: steps, calories, time in each intensity, MET samples."),
        _daily("daily_readiness", "Readiness score with contributors and temperature deviation."),
        _daily("daily_sleep", "Daily sleep score and contributors (durations are in `sleep`)."),
        _daily("sleep", "Sleep periods (nights, naps, rest) with stages, heart rate and HRV samples."),
        _daily("sleep_time", "Recommended bedtime windows."),
        _daily("daily_spo2", "Average blood oxygen during sleep and breathing disturbance index."),
        _daily("daily_stress", "Minutes of high stress and of high recovery."),
        _daily("daily_resilience", "Resilience level and contributors."),
        _daily("daily_cardiovascular_age", "Vascular age and pulse wave velocity."),
        _daily("vO2_max", "VO2 max estimates (the path has a capital O)."),
        _daily("workout", "Workouts, detected or logged, with calories and distance."),
        _daily("session", "Guided sessions (meditation, breathing) with heart-rate samples."),
        _daily("enhanced_tag", "Tags the user added (caffeine, alcohol, ...).", day_field="start_day"),
        _daily("rest_mode_period", "Rest mode periods (illness, recovery).", day_field="start_day"),
        OuraEndpoint(
            "heartrate", "/v2/usercollection/heartrate", "samples", 30, 0,
            "Heart-rate samples (about every 5 minutes while awake, more in workouts), UTC.",
        ),
        OuraEndpoint("personal_info", "/v2/usercollection/personal_info", "profile", 0, 0,
                     "Age, weight, height and biological sex."),
        OuraEndpoint("ring_configuration", "/v2/usercollection/ring_configuration", "profile", 0, 0,
                     "The user's rings: model, size, colour, firmware."),
    )
}


class OuraClient:
    """Fetches Oura records for local-day ranges, in as few requests as the catalogue allows."""

    def __init__(self, config: OAuthProviderConfig, tokens: OAuthTokens, tz: ZoneInfo, http: ProviderHTTP | None = None):
        self.config = config
        self.tokens = tokens
        self.tz = tz
        self.http = http or ProviderHTTP(PROVIDER)

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def fetch_profile(self, resource: str) -> list[RawRecord]:
        """The records of an endpoint without dates (`personal_info`, `ring_configuration`)."""
        endpoint = CATALOGUE[resource]
        if endpoint.dated:
            raise ValueError(f"{resource} is date-keyed: use fetch_window")
        if resource == "personal_info":
            document = self._get(endpoint, {})  # a bare object, no `data` envelope
            if not isinstance(document.get("id"), str):
                raise MalformedResponse(PROVIDER, "personal_info: the answer has no `id`")
            return [RawRecord(document["id"], None, document)]
        records = {}
        for document in self._pages(endpoint, {}):
            if not isinstance(document.get("id"), str):
                raise MalformedResponse(PROVIDER, f"{resource}: a document lacks `id`")
            records[document["id"]] = RawRecord(document["id"], None, document)
        return list(records.values())

    def fetch_window(self, resource: str, start: date, end: date) -> Iterator[FetchedChunk]:
        """Chunks of [start, end] (inclusive local days), each fetched completely before it is yielded."""
        endpoint = CATALOGUE[resource]
        if not endpoint.dated:
            raise ValueError(f"{resource} has no dates: use fetch_profile")
        for first, last in chunk_days(start, end, endpoint.chunk_days):
            if endpoint.kind == "document":
                records = self._documents(endpoint, first, last)
            else:
                records = self._samples(endpoint, first, last)
            yield FetchedChunk(first, last, records)

    # -- the two record shapes ----------------------------------------------------------------

    def _documents(self, endpoint: OuraEndpoint, first: date, last: date) -> list[RawRecord]:
        pad = timedelta(days=endpoint.pad_days)
        params = {"start_date": (first - pad).isoformat(), "end_date": (last + pad).isoformat()}
        records: dict[str, RawRecord] = {}
        for document in self._pages(endpoint, params):
            record_id, day = document.get("id"), document.get(endpoint.day_field)
            if not isinstance(record_id, str) or not isinstance(day, str):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: a document lacks `id` or `{endpoint.day_field}`")
            if first.isoformat() <= day <= last.isoformat():
                records[record_id] = RawRecord(record_id, day, document)
        return list(records.values())

    def _samples(self, endpoint: OuraEndpoint, first: date, last: date) -> list[RawRecord]:
        params = {
            "start_datetime": local_midnight(first, self.tz).isoformat(),
            "end_datetime": local_midnight(last + timedelta(days=1), self.tz).isoformat(),
        }
        by_day: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for row in self._pages(endpoint, params):
            try:
                instant = datetime.fromisoformat(row["timestamp"])
            except (KeyError, TypeError, ValueError):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: a row has no valid `timestamp`") from None
            day = instant.astimezone(self.tz).date()
            if first <= day <= last:
                by_day[day.isoformat()][row["timestamp"]] = row  # pages can overlap at a boundary
        return [
            RawRecord(day, day, [rows[ts] for ts in sorted(rows, key=datetime.fromisoformat)])
            for day, rows in sorted(by_day.items())
        ]

    # -- transport ----------------------------------------------------------------------------

    def _pages(self, endpoint: OuraEndpoint, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every item of every page, following next_token with the original parameters repeated."""
        seen_tokens: set[str] = set()
        page_params = dict(params)
        while True:
            page = self._get(endpoint, page_params)
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: the response has no `data` list")
            yield from data
            token = page.get("next_token")
            if not token:
                return
            if not isinstance(token, str) or token in seen_tokens:
                raise MalformedResponse(PROVIDER, f"{endpoint.resource}: next_token repeats; paging stopped")
            seen_tokens.add(token)
            page_params = {**params, "next_token": token}

    def _get(self, endpoint: OuraEndpoint, params: dict[str, str]) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + endpoint.path
        response = self.tokens.send(
            lambda token: self.http.request("GET", url, params=params, headers={"Authorization": f"Bearer {token}"}),
            refused=lambda answer: answer.status_code == 401)
        return _decode(endpoint, response)


def _decode(endpoint: OuraEndpoint, response: requests.Response) -> dict[str, Any]:
    """The JSON body of a successful answer, or the typed error for a failed one."""
    status = response.status_code
    body = json_or_none(response)
    if response.status_code == 200:
        return json_object(PROVIDER, endpoint.resource, body)
    detail = _detail(body) or response.reason
    if status == 401:
        raise ReauthorizationNeeded(PROVIDER, f"the access token is refused even after a refresh ({detail})")
    if status == 403:
        raise ReauthorizationNeeded(
            PROVIDER, f"access to {endpoint.resource} is denied: a scope was not granted or the Oura membership lapsed"
        )
    if status == 426:
        raise BadRequest(PROVIDER, f"{endpoint.resource}: the Oura app is too old to share this data; update it")
    raise BadRequest(PROVIDER, f"{endpoint.resource}: HTTP {status}: {detail}")


def _detail(body: Any) -> str | None:
    """Oura's error text: `{"detail": "..."}` or FastAPI's `{"detail": [{"loc", "msg"}]}`."""
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(map(str, item.get('loc', [])))}: {item.get('msg')}" for item in detail if isinstance(item, dict)
        )
    return str(detail) if detail is not None else None
