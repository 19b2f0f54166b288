"""Fake Hevy public API v1 under `/hevy`: `api-key` header, page/pageSize paging, workout events.

Hevy has no OAuth: the key names the account. The default person's key is `sandbox-api-key`, every
other person's `sandbox-api-key-<person id>` (`api_key_for`), so a client of many people is configured
with one key each and the sandbox knows whose world to answer from.
"""

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from health_pipeline.sources.hevy.sandbox import data as hevy_data
from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.world import DEFAULT_PERSON, PERSON_ID, SandboxWorld, stable_uuid

SANDBOX_API_KEY = "sandbox-api-key"


def api_key_for(person: str) -> str:
    """A person's Hevy API key in the sandbox."""
    return SANDBOX_API_KEY if person == DEFAULT_PERSON else f"{SANDBOX_API_KEY}-{person}"


def person_of_key(key: str) -> str | None:
    """Whose sandbox key this is (None: not a sandbox key)."""
    if key == SANDBOX_API_KEY:
        return DEFAULT_PERSON
    person = key.removeprefix(f"{SANDBOX_API_KEY}-")
    return person if person != key and PERSON_ID.fullmatch(person) and person != DEFAULT_PERSON else None


class ApiKeyAuth:
    """Hevy's credentials: a per-account API key that never expires but can be revoked."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._valid = {key}

    def check(self, key: str | None) -> bool:
        return key in self._valid

    def issued(self, key: str) -> bool:
        """Whether this is the account's key (revoked or not)."""
        return key == self.key

    def expire_access_tokens(self) -> None:
        """API keys do not expire; the `expire` fault changes nothing here."""

    def revoke_all(self) -> None:
        self._valid.clear()


@dataclass
class HevySettings:
    """Knobs for shapes that differ between the live API and its swagger."""

    supersets_field: str = "superset_id"  # live answers; the swagger says `supersets_id`


class FakeHevy:
    """The Hevy app mounted at `/hevy`."""

    def __init__(self, world: SandboxWorld, settings: HevySettings | None = None) -> None:
        self.world = world
        self.settings = settings or HevySettings()
        self.oauth = ApiKeyAuth(api_key_for(world.person))
        self._changes: dict[str, dict[str, datetime]] = {}  # explicit edits/deletes made by tests
        self._lock = threading.Lock()

    def for_person(self, world: SandboxWorld) -> "FakeHevy":
        """Another person's Hevy account: their key and world, the same settings."""
        return FakeHevy(world, self.settings)

    # -- test controls ------------------------------------------------------------------------

    def edit_workout(self, workout_id: str) -> None:
        """The user edits a workout now (an `updated` event)."""
        with self._lock:
            self._changes.setdefault(workout_id, {})["edited_at"] = self.world.clock.now()

    def delete_workout(self, workout_id: str) -> None:
        """The user deletes a workout now (a `deleted` event)."""
        with self._lock:
            self._changes.setdefault(workout_id, {})["deleted_at"] = self.world.clock.now()

    # -- the state of the account at the clock -------------------------------------------------

    def histories(self) -> Iterator[hevy_data.WorkoutHistory]:
        """Every workout ever created up to now, with test edits applied."""
        now = self.world.clock.now()
        day = self.world.first_day()
        while day <= self.world.today():
            item = hevy_data.history(self.world, day)
            if item is not None and item.created_at <= now:
                change = self._changes.get(item.id, {})
                item = hevy_data.WorkoutHistory(
                    item.id, item.day, item.created_at,
                    change.get("edited_at", item.edited_at), change.get("deleted_at", item.deleted_at),
                )
                yield item
            day += timedelta(days=1)

    def live_workouts(self) -> list[dict[str, Any]]:
        """Workouts not deleted, newest start first."""
        now = self.world.clock.now()
        workouts = [
            hevy_data.workout(self.world, item, edited=item.edited_at is not None and item.edited_at <= now,
                              superset_key=self.settings.supersets_field)
            for item in self.histories()
            if item.deleted_at is None or item.deleted_at > now
        ]
        return sorted(workouts, key=lambda w: w["start_time"], reverse=True)

    def events(self, since: datetime) -> list[dict[str, Any]]:
        """The latest change of each workout changed after `since`, newest first."""
        now = self.world.clock.now()
        events: list[tuple[datetime, dict[str, Any]]] = []
        for item in self.histories():
            if item.deleted_at is not None and item.deleted_at <= now:
                if item.deleted_at > since:
                    events.append((item.deleted_at, {"type": "deleted", "id": item.id,
                                                     "deleted_at": hevy_data.ms_iso(item.deleted_at)}))
                continue
            edited = item.edited_at is not None and item.edited_at <= now
            changed = item.edited_at if edited and item.edited_at else item.created_at
            if changed > since:
                events.append((changed, {"type": "updated", "workout": hevy_data.workout(
                    self.world, item, edited, superset_key=self.settings.supersets_field)}))
        return [event for _, event in sorted(events, key=lambda e: e[0], reverse=True)]

    # -- HTTP ---------------------------------------------------------------------------------

    def rate_limited(self, retry_after: int | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response.json(429, {"error": "Too many requests"}, headers)

    def __call__(self, request: Request) -> Response:
        if not self.oauth.check(request.header("api-key")):
            return Response.json(401, {"error": "Unauthorized"})
        if request.method != "GET":
            return Response.json(405, {"error": "The sandbox serves Hevy's read endpoints only"})
        parts = request.path.strip("/").split("/")
        if parts[0] != "v1" or len(parts) < 2:
            return Response.json(404, {"error": "Not found"})
        resource, rest = parts[1], parts[2:]
        if resource == "workouts":
            if rest == ["count"]:
                return Response.json(200, {"workout_count": len(self.live_workouts())})
            if rest == ["events"]:
                return self._events(request)
            if rest:
                return self._one([w for w in self.live_workouts() if w["id"] == rest[0]], "Workout not found")
            return self._page(request, "workouts", self.live_workouts(), default=5, maximum=10)
        if resource == "routines":
            routines = hevy_data.routines(self.world)
            if rest:
                return self._one([r for r in routines if r["id"] == rest[0]], "Routine not found")
            return self._page(request, "routines", routines, default=5, maximum=10)
        if resource == "exercise_templates":
            templates = hevy_data.templates()
            if rest:
                return self._one([t for t in templates if t["id"] == rest[0]], "Exercise template not found")
            return self._page(request, "exercise_templates", templates, default=5, maximum=100)
        if resource == "routine_folders":
            return self._page(request, "routine_folders", [], default=5, maximum=10)
        if resource == "body_measurements":  # the sandbox person logs their body on a Withings scale
            return self._page(request, "body_measurements", [], default=10, maximum=10)
        if resource == "user" and rest == ["info"]:
            name = "sandbox_person" if self.world.person == DEFAULT_PERSON else f"sandbox_{self.world.person}"
            return Response.json(200, {"data": {"id": stable_uuid(self.world.seed, "hevy", "user"),
                                                "name": name, "url": f"https://hevy.com/user/{name}"}})
        if resource == "exercise_history" and len(rest) == 1:
            return self._exercise_history(rest[0])
        return Response.json(404, {"error": "Not found"})

    def _events(self, request: Request) -> Response:
        raw = request.query.get("since", "1970-01-01T00:00:00Z")
        try:
            since = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return Response.json(400, {"error": f'"since" must be a valid ISO 8601 date: {raw}'})
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return self._page(request, "events", self.events(since), default=5, maximum=10)

    def _exercise_history(self, template_id: str) -> Response:
        if template_id not in {t[0] for t in hevy_data.TEMPLATES}:
            return Response.json(404, {"error": "Exercise template not found"})
        entries = [
            {"workout_id": w["id"], "workout_title": w["title"], "workout_start_time": w["start_time"],
             "workout_end_time": w["end_time"], "exercise_template_id": template_id,
             "weight_kg": s["weight_kg"], "reps": s["reps"], "distance_meters": s["distance_meters"],
             "duration_seconds": s["duration_seconds"], "rpe": s["rpe"], "custom_metric": s["custom_metric"],
             "set_type": s["type"]}
            for w in self.live_workouts() for e in w["exercises"] if e["exercise_template_id"] == template_id
            for s in e["sets"]
        ]
        return Response.json(200, {"exercise_history": entries})

    @staticmethod
    def _one(matches: list[dict[str, Any]], missing: str) -> Response:
        return Response.json(200, matches[0]) if matches else Response.json(404, {"error": missing})

    @staticmethod
    def _page(request: Request, key: str, items: list[dict[str, Any]], *, default: int, maximum: int) -> Response:
        try:
            page = int(request.query.get("page", "1"))
            size = int(request.query.get("pageSize", str(default)))
        except ValueError:
            return Response.json(400, {"error": "Invalid page or page size"})
        if page < 1:
            return Response.json(400, {"error": "Invalid page"})
        if not 1 <= size <= maximum:
            return Response.json(400, {"error": "Invalid page size"})
        return Response.json(200, {
            "page": page,
            "page_count": math.ceil(len(items) / size),
            key: items[(page - 1) * size: page * size],
        })
