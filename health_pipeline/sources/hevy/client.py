"""Hevy public API v1: the `api-key` header, `page`/`pageSize` paging (10 at most; 100 for
exercise templates), `{"error": ...}` bodies.

Live answers spell an exercise's superset `superset_id` (the swagger: `supersets_id`; the tidy SQL
reads both), give workout times with a `+00:00` offset and `updated_at` / `deleted_at` with
milliseconds. The event cursor keeps those milliseconds: `since` has them too, and an event at
exactly the cursor is not a change.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import requests

from health_pipeline.sources.hevy.settings import HevyConfig
from health_pipeline.providers.errors import BadRequest, MalformedResponse, ReauthorizationNeeded
from health_pipeline.providers.http import ProviderHTTP, json_object, json_or_none
from health_pipeline.storage.raw_store import RawRecord

PROVIDER = "hevy"


@dataclass(frozen=True)
class HevyEndpoint:
    """One paged Hevy collection as data."""

    resource: str
    path: str
    list_key: str
    page_size: int
    description: str


CATALOGUE: dict[str, HevyEndpoint] = {
    e.resource: e
    for e in (
        HevyEndpoint("workouts", "/v1/workouts", "workouts", 10, "Logged workouts with exercises and sets."),
        HevyEndpoint("workout_events", "/v1/workouts/events", "events", 10, "Workout updates and deletions, newest first."),
        HevyEndpoint("routines", "/v1/routines", "routines", 10, "Saved routines."),
        HevyEndpoint("exercise_templates", "/v1/exercise_templates", "exercise_templates", 100,
                     "Exercise templates (built in and custom)."),
    )
}


@dataclass
class WorkoutChanges:
    """What the event feed says changed since a cursor."""

    upserts: list[RawRecord] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    newest: datetime | None = None


class HevyClient:
    """Reads one Hevy account."""

    def __init__(self, config: HevyConfig, http: ProviderHTTP | None = None, tz: ZoneInfo | None = None) -> None:
        self.config = config
        self.http = http or ProviderHTTP(PROVIDER)
        self.tz = tz or ZoneInfo("UTC")

    def items(self, resource: str) -> Iterator[dict[str, Any]]:
        """Every item of a paged collection, page by page (stop at `page_count`; 0 when empty)."""
        endpoint = CATALOGUE[resource]
        page = 1
        while True:
            body = self._get(endpoint.path, {"page": page, "pageSize": endpoint.page_size})
            items, page_count = body.get(endpoint.list_key), body.get("page_count")
            if not isinstance(items, list) or not isinstance(page_count, int):
                raise MalformedResponse(PROVIDER, f"{endpoint.path}: expected `{endpoint.list_key}` and `page_count`")
            yield from items
            if page >= page_count:
                return
            page += 1

    def workouts_between(self, start: date, end: date) -> list[RawRecord]:
        """Workouts that started on local days [start, end], from `/v1/workouts`. The list is newest
        first, so paging stops after the first page that holds only workouts older than `start`."""
        endpoint = CATALOGUE["workouts"]
        found: dict[str, RawRecord] = {}
        page = 1
        while True:
            body = self._get(endpoint.path, {"page": page, "pageSize": endpoint.page_size})
            items, page_count = body.get(endpoint.list_key), body.get("page_count")
            if not isinstance(items, list) or not isinstance(page_count, int):
                raise MalformedResponse(PROVIDER, f"{endpoint.path}: expected `{endpoint.list_key}` and `page_count`")
            records = [self.workout_record(item) for item in items if isinstance(item, dict)]
            found.update({r.record_id: r for r in records if start.isoformat() <= (r.day or "") <= end.isoformat()})
            if page >= page_count or not records or all((r.day or "") < start.isoformat() for r in records):
                return list(found.values())
            page += 1

    def workout_record(self, workout: dict[str, Any]) -> RawRecord:
        """A workout as a raw record: its id, and the local day it started."""
        try:
            start = datetime.fromisoformat(str(workout["start_time"]).replace("Z", "+00:00"))
            return RawRecord(str(workout["id"]), start.astimezone(self.tz).date().isoformat(), workout)
        except (KeyError, ValueError):
            raise MalformedResponse(PROVIDER, "a workout lacks `id` or a valid `start_time`") from None

    def newest_change_since(self, since: datetime) -> datetime | None:
        """One cheap request: when the newest workout change after `since` happened (None: nothing)."""
        body = self._get(CATALOGUE["workout_events"].path, {"page": 1, "pageSize": 1, "since": since_stamp(since)})
        events = body.get("events")
        if not isinstance(events, list):
            raise MalformedResponse(PROVIDER, "/v1/workouts/events: expected `events`")
        changes = WorkoutChanges()
        for event in events[:1]:
            self._apply(event, changes, set())
        # Hevy compares `since` to the millisecond: the event that set the cursor is not news.
        return changes.newest if changes.newest is not None and changes.newest > since else None

    def changes_since(self, since: datetime) -> WorkoutChanges:
        """Workouts updated and deleted after `since`, from the event feed (newest first)."""
        changes = WorkoutChanges()
        seen: set[str] = set()
        endpoint = CATALOGUE["workout_events"]
        page = 1
        stamp = since_stamp(since)
        while True:
            body = self._get(endpoint.path, {"page": page, "pageSize": endpoint.page_size, "since": stamp})
            events, page_count = body.get("events"), body.get("page_count")
            if not isinstance(events, list) or not isinstance(page_count, int):
                raise MalformedResponse(PROVIDER, "/v1/workouts/events: expected `events` and `page_count`")
            for event in events:
                self._apply(event, changes, seen)
            if page >= page_count:
                return changes
            page += 1

    def _apply(self, event: dict[str, Any], changes: WorkoutChanges, seen: set[str]) -> None:
        kind = event.get("type")
        if kind == "updated" and isinstance(event.get("workout"), dict):
            record = self.workout_record(event["workout"])
            when = event["workout"].get("updated_at")
        elif kind == "deleted" and isinstance(event.get("id"), str):
            record, when = None, event.get("deleted_at")
        else:
            raise MalformedResponse(PROVIDER, f"an event of unknown shape (type {kind!r})")
        workout_id = record.record_id if record else event["id"]
        if workout_id in seen:
            return  # newest first: the first event of a workout is its latest state
        seen.add(workout_id)
        if record is not None:
            changes.upserts.append(record)
        else:
            changes.deleted_ids.append(workout_id)
        if isinstance(when, str):
            instant = datetime.fromisoformat(when.replace("Z", "+00:00"))
            changes.newest = max(changes.newest or instant, instant)

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def user_info(self) -> dict[str, Any]:
        """The account behind the key: one cheap call that proves the key works."""
        data = self._get("/v1/user/info").get("data")
        if not isinstance(data, dict):
            raise MalformedResponse(PROVIDER, "/v1/user/info: the answer has no `data` object")
        return data

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + path
        response = self.http.request("GET", url, params=params, headers={"api-key": self.config.api_key.reveal()})
        return _decode(path, response)


def since_stamp(since: datetime) -> str:
    """The `since` parameter: UTC, to the millisecond, as Hevy writes its own timestamps."""
    return since.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _decode(path: str, response: requests.Response) -> dict[str, Any]:
    body = json_or_none(response)
    if response.status_code == 200:
        return json_object(PROVIDER, path, body)
    message = body.get("error") if isinstance(body, dict) else response.reason
    if response.status_code in (401, 403):
        raise ReauthorizationNeeded(
            PROVIDER, "the API key was refused (check [hevy] api_key or HEALTH_PIPELINE_HEVY_API_KEY; keys come "
            "from hevy.com/settings?developer and need Hevy Pro)"
        )
    raise BadRequest(PROVIDER, f"{path}: HTTP {response.status_code}: {message}")
