"""Fake Strava API v3 under `/strava`: the API at `/strava/api/v3/...`, OAuth at `/strava/oauth/...`.

As the live API answers (research: /work/research/strava.md):
- `/athlete/activities` takes `before` / `after` in epoch seconds (an `after` in milliseconds: 400
  `after`/`future`), `page` from 1 and `per_page` (30 by default, at most 200); newest first, but oldest
  first when only `after` is given; `[]` past the end. `/activities/{id}` and its `/laps`, `/zones` and
  `/streams` (keyed by type, no `type` member; a manual activity has none: 404 `Resource Not Found`);
  an unknown activity is 404 `Record Not Found`.
- errors are Strava's Fault bodies: a bad or expired bearer 401 `Authorization Error` (Athlete /
  access_token / invalid), a token without `activity:read` 401 (AccessToken / activity:read_permission /
  missing), an Inactive app (no owner subscription) 403 while OAuth keeps working.
- the app's quota: overall 200 a quarter hour and 2,000 a day, reads 100 and 1,000 (quarter hours
  aligned to the clock's :00/:15/:30/:45 in real time, days on the sandbox clock's UTC date). Every API
  answer but the streams carries `X-RateLimit-Limit/-Usage` and `X-ReadRateLimit-Limit/-Usage`
  (`"15-min,daily"`); streams still count. Over a limit: 429 `Rate Limit Exceeded` with field
  `overall rate limit`, which Strava also names when the read limit is the one exceeded (stravalib #446,
  a read-only run); a refused request still counts, as the docs say.
- OAuth: comma-separated scopes, the granted ones only on the redirect back; client credentials in the
  form (or JSON) body; token answers in Strava's key order with `expires_at` and no `scope`, 6-hour
  access tokens, the `athlete` on a code exchange only; a refresh while the access token has more than
  an hour left answers the same token. Refresh tokens: the same one comes back until a new access token
  is issued; then a new refresh token comes with it and the old one dies at once (the docs' "once a new
  refresh token is returned, the older one is invalidated immediately"; `refresh_tokens_rotate=False`
  keeps one refresh token for ever, as many long-lived scripts see). No rate-limit headers on
  `/oauth/token`; `/oauth/deauthorize` revokes and carries them; `/oauth/revoke` (Basic client
  credentials, since June 2026) answers an empty 200.

Test hooks: `delete(activity_id)`, `rename(activity_id, name)`, `edit(activity_id, **fields)` (e.g.
`private=True, visibility="only_me"`: then hidden from tokens without `activity:read_all`),
`live_activities()`, `activity_ids_for(day)`, `upload_time(activity_id)`; `StravaSettings` for the
quota, the list shape (`device_name_in_list`), the Inactive app, refresh-token rotation and the scopes the
person unticks on the consent page.
"""

import json
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox import oauth
from health_pipeline.sandbox.oauth import FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.quota import FakeQuota, FakeWindow, WindowUse
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sources.strava.sandbox import data as strava_data

SCOPES = "read,activity:read_all,profile:read_all"
ACTIVITY_SCOPES = {"activity:read", "activity:read_all"}
MS_EPOCH = 100_000_000_000  # an `after` this large is milliseconds (year 5138 in seconds)
MAX_PER_PAGE = 200
JSON = "application/json; charset=utf-8"


def fault(status: int, message: str, *errors: tuple[str, str, str]) -> Response:
    """Strava's Fault: `{"message", "errors": [{"resource", "field", "code"}]}`."""
    body = {"message": message, "errors": [{"resource": r, "field": f, "code": c} for r, f, c in errors]}
    return Response.json(status, body, {"Content-Type": JSON})


def answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response.json(status, payload, {"Content-Type": JSON, **(headers or {})})


BAD_TOKEN = ("Athlete", "access_token", "invalid")
RECORD_NOT_FOUND = ("Activity", "id", "invalid")
RATE_LIMITED = ("Application", "overall rate limit", "exceeded")
UNKNOWN_CLIENT = ("Application", "client_id", "invalid")


def _token_error(kind: str) -> tuple[int, object]:
    """The token endpoint's own bodies for what the shared OAuth server refuses (§2.3)."""
    errors = {"invalid_code": (400, "Bad Request", ("RequestToken", "code", "invalid")),
              "invalid_grant": (400, "Bad Request", ("RefreshToken", "refresh_token", "invalid"))}
    wrong_secret = (401, "Authorization Error", ("Application", "", "invalid"))
    status, message, (resource, name, code) = errors.get(kind, wrong_secret)
    return status, {"message": message, "errors": [{"resource": resource, "field": name, "code": code}]}


@dataclass
class StravaSettings:
    """The quota (0 turns a window off, and a header pair with an off window is left out) and the
    behaviours the evidence leaves open or that change over time."""

    overall_per_15min: int = 200
    overall_per_day: int = 2_000
    read_per_15min: int = 100
    read_per_day: int = 1_000
    device_name_in_list: bool = True  # the 2026 list shape; False: only the detail names the device (2025)
    inactive: bool = False  # the owner has no subscription: 403 on the API, OAuth still works
    refresh_tokens_rotate: bool = True  # a new access token brings a new refresh token, the old one dies
    unchecked_scopes: frozenset[str] = field(default_factory=frozenset)  # unticked on the consent page


class _BadParameter(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class FakeStrava:
    """The Strava app mounted at `/strava`."""

    def __init__(self, world: SandboxWorld, settings: StravaSettings | None = None) -> None:
        self.world = world
        self.settings = settings or StravaSettings()
        self.oauth = FakeOAuthServer("strava", world.clock, self._oauth_rules())
        self.quota = FakeQuota(world.clock, [
            FakeWindow("overall-15min", 900, 0, aligned=True), FakeWindow("overall-day", 86_400, 0),
            FakeWindow("read-15min", 900, 0, aligned=True), FakeWindow("read-day", 86_400, 0)], world.person)
        self._deleted: set[int] = set()
        self._edits: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def for_person(self, world: SandboxWorld) -> "FakeStrava":
        """Another athlete's Strava: their own tokens, edits and world; the app's settings and quota."""
        twin = FakeStrava(world, self.settings)
        twin.quota = self.quota.for_person(world.person)
        return twin

    # -- test hooks ---------------------------------------------------------------------------------------

    def delete(self, activity_id: int) -> None:
        """The athlete deletes an activity: gone from lists; detail, laps, zones and streams answer 404."""
        with self._lock:
            self._deleted.add(activity_id)

    def rename(self, activity_id: int, name: str) -> None:
        """The athlete edits the title (in the list and the detail)."""
        self.edit(activity_id, name=name)

    def edit(self, activity_id: int, **fields: Any) -> None:
        """The athlete edits an activity: each field replaces the served one (list and detail)."""
        with self._lock:
            self._edits.setdefault(activity_id, {}).update(fields)

    def activity_ids_for(self, day: date) -> list[int]:
        """Every activity the person did on a local day, uploaded yet or not, deleted or not."""
        return [a.id for a in strava_data.activities(self.world, day)]

    def upload_time(self, activity_id: int) -> datetime | None:
        """When an activity appears on Strava (None for an id the person has no activity under)."""
        found = self._activity(activity_id, uploaded_only=False)
        return found.uploaded_at if found is not None else None

    def live_activities(self) -> list[dict[str, Any]]:
        """Every activity uploaded by now and not deleted, as `/athlete/activities` lists it to a token
        with `activity:read_all`, newest first."""
        return [self._summary(a) for a in self._uploaded()]

    # -- the account at the clock ---------------------------------------------------------------------------

    def _uploaded(self) -> list[strava_data.Activity]:
        now = self.world.clock.now()
        with self._lock:
            deleted = set(self._deleted)
        found = []
        day = self.world.first_day()
        while day <= self.world.today():
            found += [a for a in strava_data.activities(self.world, day) if a.uploaded_at <= now and a.id not in deleted]
            day += timedelta(days=1)
        return sorted(found, key=lambda a: a.start, reverse=True)

    def _activity(self, activity_id: int, uploaded_only: bool = True) -> strava_data.Activity | None:
        day = strava_data.day_of_id(activity_id)
        if day is None or not self.world.has_day(day):
            return None
        with self._lock:
            if uploaded_only and activity_id in self._deleted:
                return None
        for found in strava_data.activities(self.world, day):
            if found.id == activity_id and (not uploaded_only or found.uploaded_at <= self.world.clock.now()):
                return found
        return None

    def _edits_of(self, activity_id: int) -> dict[str, Any]:
        with self._lock:
            return dict(self._edits.get(activity_id, {}))

    def _summary(self, activity: strava_data.Activity) -> dict[str, Any]:
        return strava_data.summary(self.world, activity, self.settings.device_name_in_list) | self._edits_of(activity.id)

    def _shoe_distance(self) -> int:
        runs = [a for a in self._uploaded() if a.sport == "Run"]
        return strava_data.SHOE["base_m"] + int(sum(self._summary(a)["distance"] for a in runs))

    def _athlete(self, detailed: bool) -> dict[str, Any]:
        uploaded = self._uploaded()
        latest = max((a.uploaded_at for a in uploaded), default=None)
        return strava_data.athlete(self.world, detailed, self._shoe_distance() if detailed else 0, latest)

    # -- HTTP -------------------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/oauth/authorize" and request.method == "GET":
            return self._authorize(request)
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if path == "/oauth/deauthorize" and request.method == "POST":
            return self._deauthorize(request)
        if path == "/oauth/revoke" and request.method == "POST":
            return self._revoke(request)
        if not path.startswith("/api/v3/"):
            return fault(404, "Resource Not Found")
        token = request.bearer_token() or request.param("access_token")  # the query form works until 2027
        if self.oauth.check_access(token):
            return fault(401, "Authorization Error", BAD_TOKEN)
        if self.settings.inactive:
            return fault(403, "Forbidden", ("Application", "Status", "Inactive"))
        uses = self._count()
        headers = self._quota_headers(uses)
        if self.quota.refuse(uses):
            return _limited(headers)
        reply = self._api(request, path.removeprefix("/api/v3"), token or "")
        if not path.endswith("/streams"):  # the live streams answer has no rate-limit headers (§8)
            reply.headers.update(headers)
        return reply

    def rate_limited(self, retry_after: int | None) -> Response:
        """A 429 as Strava sends it (the fault injector's), with the usage so far."""
        headers = self._quota_headers(self._count(charge=False))
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return _limited(headers)

    def _count(self, charge: bool = True) -> list[WindowUse]:
        s = self.settings
        limits = (s.overall_per_15min, s.overall_per_day, s.read_per_15min, s.read_per_day)
        for window, limit in zip(self.quota.windows, limits):
            window.limit = limit  # the settings may have changed since the last request
        return self.quota.count(charge)

    @staticmethod
    def _quota_headers(uses: list[WindowUse]) -> dict[str, str]:
        headers = {}
        for prefix, (short, day) in (("X-RateLimit", uses[0:2]), ("X-ReadRateLimit", uses[2:4])):
            if short.window.limit and day.window.limit:
                headers[f"{prefix}-Limit"] = f"{short.window.limit},{day.window.limit}"
                headers[f"{prefix}-Usage"] = f"{short.used},{day.used}"
        return headers

    def _api(self, request: Request, path: str, token: str) -> Response:
        if request.method != "GET":
            return fault(404, "Resource Not Found")
        scopes = self.oauth.scopes_of(token)
        if path == "/athlete":
            return answer(200, self._athlete(detailed=True))
        if path == "/athlete/zones":
            if "profile:read_all" not in scopes:
                return fault(401, "Authorization Error", ("AccessToken", "profile:read_all_permission", "missing"))
            return answer(200, strava_data.athlete_zones())
        parts = path.strip("/").split("/")
        if path == "/athlete/activities" or parts[0] == "activities":
            if not scopes & ACTIVITY_SCOPES:
                return fault(401, "Authorization Error", ("AccessToken", "activity:read_permission", "missing"))
        if path == "/athlete/activities":
            return self._list(request, scopes)
        if parts[0] == "activities" and len(parts) in (2, 3):
            return self._one(request, parts, scopes)
        return fault(404, "Resource Not Found")

    def _list(self, request: Request, scopes: set[str]) -> Response:
        try:
            before, after = _number(request, "before"), _number(request, "after")
            page, per_page = _number(request, "page") or 1, _number(request, "per_page") or 30
        except _BadParameter as bad:
            return fault(400, "Bad Request", ("Application", bad.name, "invalid"))
        if after is not None and after >= MS_EPOCH:
            return fault(400, "Bad Request", ("Application", "after", "future"))
        page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
        items = [item for item in (self._summary(a) for a in self._uploaded())
                 if self._visible(item, scopes)
                 and (after is None or _epoch(item["start_date"]) > after)
                 and (before is None or _epoch(item["start_date"]) < before)]
        if after is not None and before is None:
            items.reverse()  # `after` alone walks forward in time, oldest first (§4.1)
        return answer(200, items[(page - 1) * per_page:page * per_page])

    @staticmethod
    def _visible(item: dict[str, Any], scopes: set[str]) -> bool:
        return item.get("visibility") != "only_me" or "activity:read_all" in scopes

    def _one(self, request: Request, parts: list[str], scopes: set[str]) -> Response:
        activity = self._activity(int(parts[1])) if parts[1].isdigit() else None
        edits = self._edits_of(activity.id) if activity is not None else {}
        if activity is None or not self._visible(edits, scopes):
            return fault(404, "Record Not Found", RECORD_NOT_FOUND)
        what = parts[2] if len(parts) == 3 else ""
        if what == "":
            return answer(200, strava_data.detail(self.world, activity, self.settings.device_name_in_list,
                                                  self._shoe_distance(), edits))
        if what == "laps":
            return answer(200, strava_data.laps(self.world, activity, edits.get("visibility", "everyone")))
        if what == "zones":
            return answer(200, strava_data.zones(self.world, activity))
        if what == "streams":
            recorded = strava_data.track(self.world, activity)
            if recorded is None:
                return fault(404, "Resource Not Found")
            keys = [k.strip() for k in request.query.get("keys", "").split(",") if k.strip()]
            return answer(200, strava_data.streams(recorded, keys, request.query.get("key_by_type", "") == "true"))
        return fault(404, "Resource Not Found")

    # -- OAuth ------------------------------------------------------------------------------------------------

    def _oauth_rules(self) -> OAuthRules:
        rotate = self.settings.refresh_tokens_rotate
        return OAuthRules(
            access_lifetime=timedelta(hours=6), token_type="Bearer", default_scopes="read", client_auth="body",
            scope_in_callback=True, reuse_access_for=timedelta(hours=1), error_body=_token_error,
            # rotating: the old refresh token dies once the new one has been handed out (a zero grace)
            rotate_refresh_tokens=rotate, rotation_grace=timedelta(0) if rotate else None)

    def _authorize(self, request: Request) -> Response:
        query = request.query
        if query.get("client_id") != oauth.SANDBOX_CLIENT_ID:
            return fault(400, "Bad Request", UNKNOWN_CLIENT)
        if urlsplit(query.get("redirect_uri") or "").scheme not in ("http", "https"):
            return fault(400, "Bad Request", ("Application", "redirect_uri", "invalid"))
        if query.get("response_type") != "code":
            return fault(400, "Bad Request", ("Application", "response_type", "invalid"))
        asked = [s.strip() for s in (query.get("scope") or "read").split(",") if s.strip()]
        # the person may untick scopes on the consent page, but not `read`
        granted = [s for s in asked if s == "read" or s not in self.settings.unchecked_scopes]
        return self.oauth.authorize(replace(request, query={**query, "scope": ",".join(granted)}))

    def _token(self, request: Request) -> Response:
        request = _json_body_as_form(request)
        grant = request.param("grant_type")
        if (request.param("client_id") != oauth.SANDBOX_CLIENT_ID or not request.param("client_secret")
                or grant not in ("authorization_code", "refresh_token")):
            return fault(400, "Bad Request", UNKNOWN_CLIENT)
        if request.param("client_secret") != oauth.SANDBOX_CLIENT_SECRET:
            return fault(401, "Authorization Error", ("Application", "", "invalid"))
        self.oauth.rules = self._oauth_rules()  # the settings may have changed
        issued = self.oauth.token(request, client_verified=True)
        if issued.status != 200:
            return Response(issued.status, issued.body, {"Content-Type": JSON})
        given = json.loads(issued.body)
        expires_in = int(given["expires_in"])
        expires_at = int(self.world.clock.now().timestamp()) + expires_in
        if grant == "authorization_code":
            return answer(200, {"token_type": "Bearer", "expires_at": expires_at, "expires_in": expires_in,
                                "refresh_token": given["refresh_token"], "access_token": given["access_token"],
                                "athlete": self._athlete(detailed=False)})
        return answer(200, {"token_type": "Bearer", "access_token": given["access_token"], "expires_at": expires_at,
                            "expires_in": expires_in, "refresh_token": given["refresh_token"]})

    def _deauthorize(self, request: Request) -> Response:
        """`POST /oauth/deauthorize`: revokes every token of the athlete for the app, answers the one used."""
        token = request.param("access_token") or request.bearer_token()
        if self.oauth.check_access(token):
            return fault(401, "Authorization Error", BAD_TOKEN)
        uses = self._count()
        headers = self._quota_headers(uses)
        if self.quota.refuse(uses):
            return _limited(headers)
        self.oauth.revoke_all()
        return answer(200, {"access_token": token}, headers)

    def _revoke(self, request: Request) -> Response:
        """`POST /oauth/revoke` (since June 2026): Basic client credentials, the `token` in the body; an empty 200."""
        if request.basic_auth() != (oauth.SANDBOX_CLIENT_ID, oauth.SANDBOX_CLIENT_SECRET):
            return answer(401, {"message": "Authorization Error", "errors": []})
        if request.param("token"):
            self.oauth.revoke_all()  # revoking either token revokes the other: this app serves one athlete
        return Response(200, b"")


def _limited(headers: dict[str, str]) -> Response:
    resource, name, code = RATE_LIMITED
    return answer(429, {"message": "Rate Limit Exceeded",
                        "errors": [{"resource": resource, "field": name, "code": code}]}, headers)


def _number(request: Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(float(raw))
    except ValueError:
        raise _BadParameter(name) from None


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def _json_body_as_form(request: Request) -> Request:
    """The token endpoint also takes its fields as a JSON body."""
    if request.form or "json" not in (request.header("content-type") or ""):
        return request
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return request
    return replace(request, form={k: str(v) for k, v in body.items()}) if isinstance(body, dict) else request
