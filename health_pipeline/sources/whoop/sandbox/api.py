"""Fake WHOOP developer API v2 under `/whoop`: `/developer/v2/...` and the OAuth server at `/oauth/oauth2/...`.

As the live API answers (research: /work/research/whoop.md): collections filtered by overlap with
`start` / `end`, newest first, `limit` at most 25 (400 above), `nextToken` in, `next_token` out
(base64 JSON, absent on the last page); a 401 is the plain text `Authorization was not valid`
labelled JSON; the quota is 100 a minute and 10,000 a day per app, said in `X-RateLimit-*` on
every answer, 429 over it. OAuth: client credentials in the form body only (Basic: 401
`invalid_client`), a refresh token only with the `offline` scope, refresh tokens rotate, a
`state` shorter than 8 characters is refused, the callback names the granted scopes. Every person
has their own `user_id`; the app's quota is shared by them all.

Test hooks: `delete(id)` removes a record (as a member deleting a workout or a sleep),
`hold_scoring(day)` keeps the night counting towards `day` (its sleep and recovery) PENDING_SCORE
until `release_scoring()` (a strap that syncs days late), `settings.score_absent` leaves `score`
out of unscored records instead of sending `null`.
"""

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox.oauth import FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.quota import FakeQuota, FakeWindow
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sources.whoop.sandbox import data as whoop_data

SCOPES = "offline read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement"
COLLECTIONS = {"/developer/v2/cycle": ("cycles", "read:cycles"), "/developer/v2/recovery": ("recoveries", "read:recovery"),
               "/developer/v2/activity/sleep": ("sleeps", "read:sleep"),
               "/developer/v2/activity/workout": ("workouts", "read:workout")}
UNAUTHORIZED = Response(401, b"Authorization was not valid", {"Content-Type": "application/json"})


@dataclass
class WhoopSettings:
    """Knobs for behaviour the evidence leaves open, and the quota (0 turns a window off)."""

    score_absent: bool = False  # unscored records leave `score` out (the docs) instead of `null`
    per_minute: int = 100
    per_day: int = 10_000
    deleted: set[str] = field(default_factory=set)
    held: set[int] = field(default_factory=set)  # cycle ids whose sleep and recovery stay PENDING_SCORE


class FakeWhoop:
    """The WHOOP app mounted at `/whoop`."""

    def __init__(self, world: SandboxWorld, settings: WhoopSettings | None = None) -> None:
        self.world = world
        self.settings = settings or WhoopSettings()
        self.oauth = FakeOAuthServer("whoop", world.clock, OAuthRules(
            access_lifetime=timedelta(seconds=3599), default_scopes=SCOPES, client_auth="body",
            refresh_scope="offline", min_state_length=8, scope_in_callback=True, token_type="bearer"))
        self.quota = FakeQuota(world.clock, [FakeWindow("minute", 60, self.settings.per_minute),
                                             FakeWindow("day", 86_400, self.settings.per_day)], world.person)
        self._lock = threading.Lock()

    def for_person(self, world: SandboxWorld) -> "FakeWhoop":
        """Another member's WHOOP: their own tokens and world, the app's settings and quota."""
        twin = FakeWhoop(world, self.settings)
        twin.quota = self.quota.for_person(world.person)
        return twin

    def delete(self, record_id: str) -> None:
        """The member deletes a record (a workout, a sleep): it is gone from every answer."""
        with self._lock:
            self.settings.deleted.add(record_id)

    def hold_scoring(self, day: date) -> None:
        """The night counting towards `day` is not scored yet (its sleep and recovery say PENDING_SCORE)."""
        with self._lock:
            self.settings.held.add(whoop_data.cycle_id(day))

    def release_scoring(self) -> None:
        """The strap has synced: every held night is scored."""
        with self._lock:
            self.settings.held.clear()

    def __call__(self, request: Request) -> Response:
        if request.path == "/oauth/oauth2/auth" and request.method == "GET":
            return self.oauth.authorize(request)
        if request.path == "/oauth/oauth2/token" and request.method == "POST":
            return self.oauth.token(request)
        if not request.path.startswith("/developer/"):
            return Response(404, b"default backend - 404", {"Content-Type": "text/plain; charset=utf-8"})
        token = request.bearer_token() or ""
        if self.oauth.check_access(token):
            return UNAUTHORIZED
        uses = self.quota.count()
        headers = self._quota_headers(uses)
        if self.quota.refuse(uses):
            return Response(429, b"", headers)
        answer = self._answer(request, token)
        answer.headers.update(headers)
        return answer

    def rate_limited(self, retry_after: int | None) -> Response:
        """A 429 as WHOOP sends it (headers, no body)."""
        headers = self._quota_headers(self.quota.count(charge=False))
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(429, b"", headers)

    def _quota_headers(self, uses: list[Any]) -> dict[str, str]:
        live = [u for u in uses if u.window.limit > 0]
        if not live:
            return {}
        closest = max(live, key=lambda u: u.used / u.window.limit)
        windows = ", ".join(f"{u.window.limit};window={u.window.seconds}" for u in live)
        return {"X-RateLimit-Limit": f"{closest.window.limit}, {windows}",
                "X-RateLimit-Remaining": str(max(0, closest.window.limit - closest.used)),
                "X-RateLimit-Reset": str(closest.resets_in_s)}

    def _answer(self, request: Request, token: str) -> Response:
        scopes = self.oauth.scopes_of(token)
        path = request.path.rstrip("/")
        if request.method == "DELETE" and path == "/developer/v2/user/access":
            self.oauth.revoke_token(token)
            return Response(204)
        if request.method != "GET":
            return Response(405, b"", {"Content-Type": "text/plain"})
        if path in COLLECTIONS:
            resource, scope = COLLECTIONS[path]
            return self._collection(request, resource) if scope in scopes else Response(403, b"")
        if path == "/developer/v2/user/profile/basic":
            return Response.json(200, whoop_data.profile(self.world)) if "read:profile" in scopes else Response(403, b"")
        if path == "/developer/v2/user/measurement/body":
            return (Response.json(200, whoop_data.body_measurement(self.world)) if "read:body_measurement" in scopes
                    else Response(403, b""))
        return self._by_id(path)

    def _collection(self, request: Request, resource: str) -> Response:
        try:
            limit = int(request.query.get("limit", "10"))
            start = _instant(request.query.get("start")) or datetime.min.replace(tzinfo=self.world.clock.now().tzinfo)
            end = _instant(request.query.get("end")) or self.world.clock.now()
            offset = _offset(request.query.get("nextToken"))
        except ValueError as err:
            return Response.json(400, {"message": str(err)})
        if not 1 <= limit <= 25:
            return Response.json(400, {"message": "limit must be between 1 and 25"})
        records = self._overlapping(resource, start, end)
        page = records[offset:offset + limit]
        body: dict[str, Any] = {"records": [self._shaped(r) for r in page]}
        if offset + limit < len(records):
            body["next_token"] = base64.b64encode(json.dumps({"$": "o@1", "o": offset + limit},
                                                             separators=(",", ":")).encode()).decode()
        return Response.json(200, body)

    def _overlapping(self, resource: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Records whose time overlaps [start, end) (recoveries: their sleep's), newest first."""
        tz = self.world.tz
        first = max(self.world.first_day(), (start.astimezone(tz) - timedelta(days=2)).date())
        last = min(self.world.today(), (end.astimezone(tz) + timedelta(days=2)).date())
        found = []
        day = first
        while day <= last:
            for record in whoop_data.GENERATORS[resource](self.world, day):
                if self._gone(record):
                    continue
                bounds = self._bounds(resource, record, day)
                if bounds is None:
                    continue
                begin, finish = bounds
                if (finish is None or finish > start) and begin < end:
                    found.append((begin, record))
            day += timedelta(days=1)
        return [record for _, record in sorted(found, key=lambda pair: pair[0], reverse=True)]

    def _bounds(self, resource: str, record: dict[str, Any], day: date) -> tuple[datetime, datetime | None] | None:
        if resource == "recoveries":  # filtered and sorted by its sleep
            sleep = next((s for s in whoop_data.sleeps(self.world, day) if s["id"] == record["sleep_id"]), None)
            return (_instant(sleep["start"]), _instant(sleep["end"])) if sleep else None  # type: ignore[return-value]
        return _instant(record["start"]), _instant(record.get("end"))  # type: ignore[return-value]

    def _gone(self, record: dict[str, Any]) -> bool:
        with self._lock:
            return str(record.get("id")) in self.settings.deleted or str(record.get("sleep_id")) in self.settings.deleted

    def _shaped(self, record: dict[str, Any]) -> dict[str, Any]:
        night = "sleep_id" in record or record.get("nap") is False  # a recovery, or a night's sleep
        with self._lock:
            held = night and record.get("cycle_id") in self.settings.held
        if held and record.get("score_state") == "SCORED":
            record = {**record, "score_state": "PENDING_SCORE", "score": None}
        if self.settings.score_absent and record.get("score") is None and "score_state" in record:
            return {k: v for k, v in record.items() if k != "score"}
        return record

    def _by_id(self, path: str) -> Response:
        """`/v2/cycle/{id}[/sleep|/recovery]`, `/v2/activity/sleep/{id}`, `/v2/activity/workout/{id}` (404 if unknown)."""
        parts = path.split("/")[3:]  # after /developer/v2
        today, first = self.world.today(), self.world.first_day()
        if parts[:1] == ["cycle"] and len(parts) >= 2 and parts[1].isdigit():
            day = date.fromordinal(int(parts[1]) - 1_500_000_000)
            if first <= day <= today:
                kind = parts[2] if len(parts) > 2 else "cycle"
                found = {"cycle": whoop_data.cycles, "sleep": lambda w, d: [s for s in whoop_data.sleeps(w, d) if not s["nap"]],
                         "recovery": whoop_data.recoveries}.get(kind, lambda w, d: [])(self.world, day)
                found = [r for r in found if not self._gone(r)]
                if found:
                    return Response.json(200, self._shaped(found[0]))
        if parts[:1] == ["activity"] and len(parts) == 3 and parts[1] in ("sleep", "workout"):
            generate = whoop_data.sleeps if parts[1] == "sleep" else whoop_data.workouts
            day = today
            while day >= first:
                for record in generate(self.world, day):
                    if record["id"] == parts[2] and not self._gone(record):
                        return Response.json(200, self._shaped(record))
                day -= timedelta(days=1)
        return Response(404, b"HTTP 404 Not Found", {"Content-Type": "text/plain"})


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.b64decode(token))["o"])
    except (ValueError, KeyError, TypeError):
        raise ValueError("nextToken is not one this server gave") from None
