"""Fake Polar AccessLink v3 under `/polar`: the API at `/polar/v3` (live: www.polaraccesslink.com/v3), Polar
Flow's authorization page at `/polar/flow/oauth2/authorization` (flow.polar.com/oauth2/authorization) and
Polar Remote's token endpoint at `/polar/remote/v2/oauth2/token` (polarremote.com/v2/oauth2/token).

As the live API answers (research: /work/research/polar.md, Polar's docs where nothing was captured):

- OAuth: the client authenticates with HTTP Basic only; the token answer is `access_token`, `token_type`
  `bearer`, `expires_in` 31535999 and `x_user_id`, with no refresh token, and tokens never expire
  unless revoked. A code works once: presenting it again is refused and deletes every token of the
  user. A code issued for a `redirect_uri` is refused (`invalid_grant`) when the exchange omits it.
  Errors are `{"error": "<code>"}` with status 400.
- The user must be registered (`POST /v3/users {"member-id"}`: 200 and the user, then 409 with an
  empty body). Until then every data endpoint answers 403 with an empty body (the docs' only refusal
  status for user data; a developer Q&A reports the same 403 for an unregistered user) and
  `GET /v3/users/{id}` answers 204 (the docs' "user not found").
  `DELETE /v3/users/{id}` de-registers (204) and revokes the token used.
- Exercises (`/v3/exercises[/{id}]`, and every transaction) only include uploads of the last 30 days
  made after the registration. Sleep, Nightly Recharge and the activity lists cover the last 28 days,
  activity and continuous-heart-rate ranges at most 28 days (activity `from` at most 365 days ago; 400
  otherwise), a day without data is 404 (sleep, recharge, continuous heart rate) or 204 (activity).
  `GET /v3/users/physical-info` is the profile now (the 2026 non-transactional endpoint).
- Transactions (physical information, exercises, activities): create 201 `{transaction-id, resource-uri}`
  or 204 when nothing new; list, items, `PUT` commits (200). At most 50 items; an uncommitted
  transaction lives 10 minutes on the sandbox clock (then 404), and its items come back in the next one.
  Registering also stores the profile as it is then, so the first physical-information transaction has
  that entry. `GET /v3/notifications` (client credentials) names each data type a transaction would
  fill, 204 when none.
- Quota (Polar's formula): 500 + 20 x registered users per 15 minutes (real time), 5000 + 100 x users
  per day (the sandbox clock's UTC day), said on every answer in `RateLimit-Usage`, `RateLimit-Limit`
  and `RateLimit-Reset` as "short, long"; 429 with an empty body over either.
- Other errors: a missing, unknown or revoked token 401, an unknown exercise 404, all with empty bodies.
- Each person has their own user id (`x_user_id`) and registers on their own; a `/v3/users/{user-id}`
  path naming someone else's id answers 403 with an empty body. The quota counts the registered users
  of every person, and `GET /v3/notifications` names every registered person's data.

Test hooks: `register(at)` registers the person as if they had done it at `at` (data uploaded since then
is served); `delete_exercise(id)` removes an exercise; `sync_exercise_at(id, at)` moves an exercise's
upload (a late sync); `settings` (`PolarSettings`) sets the quota, the continuous-heart-rate range
shape and the docs' kebab spelling of exercise details.
"""

import json
import re
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from health_pipeline.sandbox.http import Request, Response
from health_pipeline.sandbox import oauth
from health_pipeline.sandbox.oauth import FakeOAuthServer, OAuthRules
from health_pipeline.sandbox.quota import FakeQuota, FakeWindow, WindowUse
from health_pipeline.sandbox.world import DEFAULT_PERSON, SandboxWorld
from health_pipeline.sources.polar.sandbox import data as polar_data

MOUNT = "polar"
SCOPE = "accesslink.read_all"
TOKEN_EXPIRES_IN = 31_535_999  # the docs' value; the same docs say tokens never expire
TRANSACTION_LIFETIME = timedelta(minutes=10)
TRANSACTION_MAX_ITEMS = 50
UPLOAD_WINDOW = timedelta(days=30)
LIST_DAYS = 28  # sleep, Nightly Recharge, the activity list; also the longest range
OLDEST_DAYS = 365  # activities: `from` at most this old
# transaction kind -> (the list's key, the items' path segment, the pull notification's data type)
KINDS = {"physical-information": ("physical-informations", "physical-informations", "PHYSICAL_INFORMATION"),
         "exercise": ("exercises", "exercises", "EXERCISE"),
         "activity": ("activity-log", "activities", "ACTIVITY_SUMMARY")}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class PolarSettings:
    """Knobs for the quota and for behaviour the evidence leaves open."""

    per_15min: int | None = None  # None: Polar's formula, 500 + 20 x registered users; 0 turns it off
    per_day: int | None = None  # None: 5000 + 100 x registered users; 0 turns it off
    # `GET /v3/users/continuous-heart-rate?from&to`: "heart_rates" ({"heart_rates": [day, ...]}, what two
    # live clients read), "list" (a bare list of days) or "object" (the docs' single day object: the first day)
    heart_rate_range_shape: str = "heart_rates"
    docs_spelling: bool = False  # exercise details as the docs spell them (`running-index`, `lower-limit`, ...)
    deleted: set[str] = field(default_factory=set)  # exercise ids the person deleted
    synced_at: dict[str, datetime] = field(default_factory=dict)  # exercise id -> when its upload happens


@dataclass
class _Registration:
    member_id: str
    at: datetime
    snapshot: int  # the physical-information entry stored at registration


@dataclass
class _Transaction:
    id: int
    kind: str
    items: tuple[int, ...]
    created: datetime
    committed: bool = False


class FakePolar:
    """The Polar app mounted at `/polar`."""

    def __init__(self, world: SandboxWorld, settings: PolarSettings | None = None,
                 registered_since_start: bool = False) -> None:
        self.world = world
        self.settings = settings or PolarSettings()
        self.oauth = FakeOAuthServer("polar", world.clock, OAuthRules(
            access_lifetime=timedelta(days=36_500), default_scopes=SCOPE, client_auth="basic",
            issue_refresh_tokens=False, extra_token_fields=lambda payload: {"x_user_id": polar_data.user_id(world)},
            error_body=_oauth_error))
        self.quota = FakeQuota(world.clock, [FakeWindow("15 minutes", 900, 0), FakeWindow("24 hours", 86_400, 0)])
        self._lock = threading.RLock()
        self._registration: _Registration | None = None
        self._registrations = 0
        self._codes: dict[str, str | None] = {}  # authorization code -> the redirect_uri it was issued for
        self._used_codes: set[str] = set()
        self._transactions: dict[int, _Transaction] = {}
        self._committed: dict[str, set[int]] = {kind: set() for kind in KINDS}
        self._next_transaction = 179_880
        self._household = [self]  # every person's app: the quota and the notifications are the client's
        self._registered_since_start = registered_since_start
        if registered_since_start:
            member = "sandbox-person" if world.person == DEFAULT_PERSON else f"sandbox-{world.person}"
            self.register(at=world.local_midnight(world.first_day()), member_id=member)

    def for_person(self, world: SandboxWorld) -> "FakePolar":
        """Another person's Polar: their own token, registration, transactions and world; the client's settings,
        quota and household."""
        twin = FakePolar(world, self.settings, self._registered_since_start)
        twin.quota = self.quota.for_person(world.person)
        twin._household = self._household
        self._household.append(twin)
        return twin

    # -- test hooks --------------------------------------------------------------------------

    def register(self, at: datetime | None = None, member_id: str = "sandbox-person") -> dict[str, Any]:
        """Register the person as if they had at `at` (default now): data uploaded since is served."""
        with self._lock:
            self._registrations += 1
            self._registration = _Registration(member_id, at or self.world.clock.now(), 600_000_000 + self._registrations)
            return polar_data.user(self.world, member_id, self._registration.at)

    @property
    def registered(self) -> bool:
        with self._lock:
            return self._registration is not None

    def delete_exercise(self, exercise_id: str) -> None:
        """The person deletes an exercise: gone from every list, 404 by id, 204 as a transaction item."""
        with self._lock:
            self.settings.deleted.add(exercise_id)

    def sync_exercise_at(self, exercise_id: str, at: datetime) -> None:
        """The watch uploads this exercise at `at` instead (a late sync: it is absent until then)."""
        with self._lock:
            self.settings.synced_at[exercise_id] = at

    def rate_limited(self, retry_after: int | None) -> Response:
        """A 429 as Polar sends it (the rate headers, no body; Retry-After only from the fault injector)."""
        headers = self._quota_headers(self._count(charge=False))
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(429, b"", headers)

    # -- dispatch ----------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/flow/oauth2/authorization" and request.method == "GET":
            return self._authorize(request)
        if path == "/remote/v2/oauth2/token" and request.method == "POST":
            return self._token(request)
        if not path.startswith("/v3/"):
            return Response(404, b"")
        token = ""
        if path == "/v3/notifications":  # client credentials, not a user's token
            if request.basic_auth() != (oauth.SANDBOX_CLIENT_ID, oauth.SANDBOX_CLIENT_SECRET):
                return Response(401, b"")
        else:
            token = request.bearer_token() or ""
            if self.oauth.check_access(token):
                return Response(401, b"")
        uses = self._count()
        headers = self._quota_headers(uses)
        if self.quota.refuse(uses):
            return Response(429, b"", headers)
        answer = self._answer(request, path, token)
        answer.headers.update(headers)
        return answer

    def _answer(self, request: Request, path: str, token: str) -> Response:
        parts = path.split("/")[2:]
        method = request.method
        if parts == ["notifications"] and method == "GET":
            return self._notifications(request)
        if parts == ["users"] and method == "POST":
            return self._register_request(request)
        if len(parts) == 2 and parts[0] == "users" and parts[1].isdigit():
            return self._user(request, int(parts[1]), token)
        with self._lock:
            registration = self._registration
        if registration is None:
            return Response(403, b"")
        if parts[0] == "exercises" and method == "GET" and len(parts) <= 2:
            return self._exercises(request, registration, parts[1] if len(parts) == 2 else None)
        if parts[0] != "users" or len(parts) < 2:
            return Response(404, b"")
        if parts[1].isdigit():
            if int(parts[1]) != polar_data.user_id(self.world):
                return Response(403, b"")
            return self._transaction_request(request, registration, parts[2:])
        if method != "GET":
            return Response(405, b"")
        return self._daily(request, parts[1], parts[2:])

    # -- OAuth -------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        scope = request.query.get("scope")
        redirect_uri = request.query.get("redirect_uri")
        if scope is not None and scope != SCOPE and redirect_uri:
            params = {"error": "invalid_scope", **({"state": request.query["state"]} if "state" in request.query else {})}
            return Response.redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}")
        response = self.oauth.authorize(request)
        codes = parse_qs(urlsplit(response.headers.get("Location", "")).query).get("code")
        if codes:
            with self._lock:
                self._codes[codes[0]] = redirect_uri
        return response

    def _token(self, request: Request) -> Response:
        if request.basic_auth() != (oauth.SANDBOX_CLIENT_ID, oauth.SANDBOX_CLIENT_SECRET):
            return Response.json(*_oauth_error("invalid_client"))
        grant_type = request.param("grant_type")
        if grant_type != "authorization_code":
            return Response.json(400, {"error": "unsupported_grant_type" if grant_type else "invalid_request"})
        code = request.param("code") or ""
        with self._lock:
            reused = code in self._used_codes
            issued = code in self._codes
            redirect_uri = self._codes.pop(code, None)
            if issued:
                self._used_codes.add(code)
        if reused:  # the docs: "the request will be denied and ALL issued tokens will be deleted"
            self.oauth.revoke_all()
            return Response.json(*_oauth_error("invalid_grant"))
        if issued and redirect_uri and request.param("redirect_uri") is None:
            return Response.json(*_oauth_error("invalid_grant"))  # live: redirect_uri must be repeated
        response = self.oauth.token(request, client_verified=True)
        if response.status != 200:
            return response
        payload = json.loads(response.body)
        return Response.json(200, {"access_token": payload["access_token"], "token_type": "bearer",
                                    "expires_in": TOKEN_EXPIRES_IN, "x_user_id": payload["x_user_id"]})

    # -- users -------------------------------------------------------------------------------

    def _register_request(self, request: Request) -> Response:
        member_id = _member_id(request.body)
        if not member_id:
            return Response(400, b"")
        # another person's registration is looked at before taking this one's lock (two registering at once)
        taken = any(person._member_id() == member_id for person in list(self._household) if person is not self)
        with self._lock:
            if self._registration is not None or taken:
                return Response(409, b"")  # "already registered or duplicated member-id"; no body seen live
            return Response.json(200, self.register(member_id=member_id))

    def _member_id(self) -> str | None:
        with self._lock:
            return self._registration.member_id if self._registration is not None else None

    def _user(self, request: Request, user_id: int, token: str) -> Response:
        with self._lock:
            registration = self._registration
        if user_id != polar_data.user_id(self.world) and any(
                person.registered and polar_data.user_id(person.world) == user_id for person in list(self._household)):
            return Response(403, b"")  # another registered person's user: not this token's to read or delete
        if request.method == "GET":
            if registration is None or user_id != polar_data.user_id(self.world):
                return Response(204)  # "no content when user with given userId is not found"
            return Response.json(200, polar_data.user(self.world, registration.member_id, registration.at))
        if request.method == "DELETE":
            if registration is None or user_id != polar_data.user_id(self.world):
                return Response(403, b"")
            with self._lock:
                self._registration = None
                self._transactions.clear()
                self._committed = {kind: set() for kind in KINDS}
            self.oauth.revoke_token(token)  # de-registering revokes the user's token
            return Response(204)
        return Response(405, b"")

    # -- non-transactional data --------------------------------------------------------------

    def _exercises(self, request: Request, registration: _Registration, exercise_id: str | None) -> Response:
        found = self.visible_exercises(registration)
        flags = {name: request.query.get(name) == "true" for name in ("samples", "zones", "route")}
        spelling = self.settings.docs_spelling
        if exercise_id is None:
            return Response.json(200, [polar_data.exercise_summary(self.world, e, docs_spelling=spelling, **flags)
                                       for e in found])
        match = next((e for e in found if e.id == exercise_id), None)
        if match is None:
            return Response(404, b"")
        return Response.json(200, polar_data.exercise_summary(self.world, match, docs_spelling=spelling, **flags))

    def visible_exercises(self, registration: _Registration | None = None) -> list[polar_data.PolarExercise]:
        """The exercises served now: uploaded in the last 30 days, after the registration, not deleted;
        oldest upload first."""
        registration = registration or self._registration
        if registration is None:
            return []
        now = self.world.clock.now()
        found = []
        day = self.world.first_day()
        while day <= self.world.today():
            exercise = polar_data.exercise(self.world, day)
            day += timedelta(days=1)
            if exercise is None:
                continue
            with self._lock:
                deleted = exercise.id in self.settings.deleted
                synced_at = self.settings.synced_at.get(exercise.id, exercise.synced_at)
            if not deleted and max(registration.at, now - UPLOAD_WINDOW) <= synced_at <= now:
                found.append(replace(exercise, synced_at=synced_at))
        return sorted(found, key=lambda e: e.synced_at)

    def _daily(self, request: Request, resource: str, rest: list[str]) -> Response:
        today = self.world.today()
        last_days = [today - timedelta(days=n) for n in range(LIST_DAYS - 1, -1, -1)]
        if resource == "physical-info" and not rest:
            return Response.json(200, polar_data.physical_info(self.world))
        if resource == "sleep":
            if not rest:
                return Response.json(200, {"nights": _each(polar_data.sleep, self.world, last_days)})
            if rest == ["available"]:
                return Response.json(200, {"available": _each(polar_data.available_sleep, self.world, last_days)})
            return _one_day(polar_data.sleep, self.world, rest, Response(404, b""))
        if resource == "nightly-recharge":
            if not rest:
                return Response.json(200, {"recharges": _each(polar_data.nightly_recharge, self.world, last_days)})
            return _one_day(polar_data.nightly_recharge, self.world, rest, Response(404, b""))
        if resource == "continuous-heart-rate":
            if rest:
                return _one_day(self._continuous_heart_rate, self.world, rest, Response(404, b""))
            return self._heart_rate_range(request)
        if resource == "activities":
            return self._activities(request, rest, last_days)
        return Response(404, b"")

    def _continuous_heart_rate(self, world: SandboxWorld, day: date) -> dict[str, Any] | None:
        """The day's continuous heart rate, the workout's 1-second run shown once its (maybe moved) sync happened."""
        exercise = polar_data.exercise(world, day)
        with self._lock:
            synced_at = self.settings.synced_at.get(exercise.id) if exercise is not None else None
        return polar_data.continuous_heart_rate(world, day, synced_at)

    def _heart_rate_range(self, request: Request) -> Response:
        days = _date_range(request.query.get("from"), request.query.get("to"))
        if days is None:
            return Response(400, b"")
        found = _each(self._continuous_heart_rate, self.world, days)
        shape = self.settings.heart_rate_range_shape
        if shape == "list":
            return Response.json(200, found)
        if shape == "object":
            return Response.json(200, found[0]) if found else Response(404, b"")
        return Response.json(200, {"heart_rates": found})

    def _activities(self, request: Request, rest: list[str], last_days: list[date]) -> Response:
        samples_only = rest[:1] == ["samples"]
        rest = rest[1:] if samples_only else rest
        flags = {"steps": request.query.get("steps") == "true", "zones": request.query.get("activity_zones") == "true",
                 "stamps": request.query.get("inactivity_stamps") == "true"}

        def one(world: SandboxWorld, day: date) -> dict[str, Any] | None:
            if samples_only:
                return polar_data.activity_samples(world, day)
            return polar_data.activity(world, day, **flags)

        oldest = self.world.today() - timedelta(days=OLDEST_DAYS)
        if rest:
            if len(rest) != 1 or not _DATE.fullmatch(rest[0]) or date.fromisoformat(rest[0]) < oldest:
                return Response(400, b"")
            return _one_day(one, self.world, rest, Response(204))
        if "from" not in request.query and "to" not in request.query:
            return Response.json(200, _each(one, self.world, last_days))
        days = _date_range(request.query.get("from"), request.query.get("to") or self.world.today().isoformat())
        if days is None or days[0] < oldest:
            return Response(400, b"")
        return Response.json(200, _each(one, self.world, days))

    # -- transactions ------------------------------------------------------------------------

    def _transaction_request(self, request: Request, registration: _Registration, rest: list[str]) -> Response:
        if not rest or not rest[0].endswith("-transactions") or rest[0][:-len("-transactions")] not in KINDS:
            return Response(404, b"")
        kind = rest[0][:-len("-transactions")]
        if len(rest) == 1:
            return self._create(request, registration, kind) if request.method == "POST" else Response(405, b"")
        if not rest[1].isdigit():
            return Response(404, b"")
        with self._lock:
            transaction = self._live(kind, int(rest[1]))
            if transaction is None:
                return Response(404, b"")  # unknown, committed, or expired ("disbanded")
            if len(rest) == 2 and request.method == "PUT":
                transaction.committed = True
                self._committed[kind].update(transaction.items)
                return Response(200, b"")
        if len(rest) == 2 and request.method == "GET":
            segment = KINDS[kind][1]
            base = f"{_base_url(request)}/users/{polar_data.user_id(self.world)}/{kind}-transactions/{transaction.id}/{segment}"
            return Response.json(200, {KINDS[kind][0]: [f"{base}/{item}" for item in transaction.items]})
        if len(rest) >= 4 and rest[2] == KINDS[kind][1] and rest[3].isdigit() and request.method == "GET":
            number = int(rest[3])
            if number not in transaction.items:
                return Response(404, b"")
            return self._item(request, registration, transaction, number, rest[4:])
        return Response(404, b"")

    def _live(self, kind: str, transaction_id: int) -> _Transaction | None:
        transaction = self._transactions.get(transaction_id)
        if (transaction is None or transaction.kind != kind or transaction.committed
                or transaction.created + TRANSACTION_LIFETIME <= self.world.clock.now()):
            return None
        return transaction

    def _candidates(self, registration: _Registration, kind: str) -> list[tuple[datetime, int]]:
        """(uploaded at, item id) of the items a new transaction of `kind` would hold, oldest first."""
        now = self.world.clock.now()
        found: list[tuple[datetime, int]] = []
        if kind == "physical-information":
            found.append((registration.at, registration.snapshot))
            found += [(w.at, 700_000_000 + w.at.toordinal()) for w in polar_data.weigh_ins(self.world)
                      if registration.at <= w.at <= now]
        elif kind == "exercise":
            found += [(e.synced_at, e.number) for e in self.visible_exercises(registration)]
        else:
            day = max(self.world.first_day(), (now - UPLOAD_WINDOW).date() - timedelta(days=1))
            while day < self.world.today():
                synced = polar_data.activity_synced_at(self.world, day)
                if max(registration.at, now - UPLOAD_WINDOW) <= synced <= now and polar_data.activity(self.world, day):
                    found.append((synced, polar_data.activity_number(day)))
                day += timedelta(days=1)
        with self._lock:
            locked = {item for t in self._transactions.values() if self._live(t.kind, t.id) for item in t.items}
            done = self._committed[kind]
            return sorted(pair for pair in found if pair[1] not in done and pair[1] not in locked)

    def _create(self, request: Request, registration: _Registration, kind: str) -> Response:
        with self._lock:
            items = self._candidates(registration, kind)[:TRANSACTION_MAX_ITEMS]
            if not items:
                return Response(204)
            transaction = _Transaction(self._next_transaction, kind, tuple(number for _, number in items),
                                       self.world.clock.now())
            self._transactions[transaction.id] = transaction
            self._next_transaction += 1
        uri = f"{_base_url(request)}/users/{polar_data.user_id(self.world)}/{kind}-transactions/{transaction.id}"
        return Response.json(201, {"transaction-id": transaction.id, "resource-uri": uri})

    def _item(self, request: Request, registration: _Registration, transaction: _Transaction, number: int,
              rest: list[str]) -> Response:
        world, tid = self.world, transaction.id
        if transaction.kind == "physical-information":
            if rest:
                return Response(404, b"")
            at = registration.at if number == registration.snapshot else next(
                (w.at for w in polar_data.weigh_ins(world) if 700_000_000 + w.at.toordinal() == number), None)
            return Response.json(200, polar_data.physical_information(world, number, at, tid)) if at else Response(204)
        if transaction.kind == "activity":
            day = date.fromordinal(number - 500_000_000)
            body = {(): lambda: polar_data.transactional_activity(world, day, tid),
                    ("step-samples",): lambda: polar_data.step_samples(world, day),
                    ("zone-samples",): lambda: polar_data.zone_samples(world, day)}.get(tuple(rest))
            if body is None:
                return Response(404, b"")
            found = body()
            return Response.json(200, found) if found else Response(204)
        exercise = next((e for e in self.visible_exercises(registration) if e.number == number), None)
        if exercise is None:
            return Response(204)  # deleted since the transaction was made
        if not rest:
            return Response.json(200, polar_data.transactional_exercise(world, exercise, tid))
        if rest == ["heart-rate-zones"]:
            zones = polar_data.heart_rate_zones(world, exercise, "kebab")
            return Response.json(200, {"zone": zones}) if zones else Response(204)
        if rest[0] == "samples" and len(rest) <= 2:
            series = polar_data.exercise_samples(world, exercise, docs_spelling=True,
                                                 types=(int(rest[1]),) if len(rest) == 2 and rest[1].isdigit() else None)
            if len(rest) == 2:
                return Response.json(200, series[0]) if series else Response(204)
            base = f"{_base_url(request)}/users/{polar_data.user_id(self.world)}/exercise-transactions/{tid}/exercises/{number}/samples"
            return Response.json(200, {"samples": [f"{base}/{s['sample-type']}" for s in series]}) if series else Response(204)
        if rest in (["fit"], ["gpx"], ["tcx"]):
            return Response(204)  # the sandbox has no files ("no FIT available for exercise")
        return Response(404, b"")

    def _notifications(self, request: Request) -> Response:
        """`GET /v3/notifications`: one entry per registered person and data type that a new transaction would
        fill; 204 if none."""
        available = [entry for person in list(self._household) for entry in person._available(request)]
        return Response.json(200, {"available-user-data": available}) if available else Response(204)

    def _available(self, request: Request) -> list[dict[str, Any]]:
        with self._lock:
            registration = self._registration
        if registration is None:
            return []
        user = polar_data.user_id(self.world)
        return [{"user-id": user, "data-type": KINDS[kind][2], "url": f"{_base_url(request)}/users/{user}/{kind}-transactions"}
                for kind in KINDS if self._candidates(registration, kind)]

    # -- quota -------------------------------------------------------------------------------

    def _count(self, charge: bool = True) -> list[WindowUse]:
        """Count a request against today's limits: Polar's formula over the registered users, unless set."""
        users = sum(1 for person in list(self._household) if person.registered)
        short, long = self.settings.per_15min, self.settings.per_day
        self.quota.windows[0].limit = 500 + 20 * users if short is None else short
        self.quota.windows[1].limit = 5000 + 100 * users if long is None else long
        return self.quota.count(charge)

    def _quota_headers(self, uses: list[WindowUse]) -> dict[str, str]:
        short, long = uses
        return {"RateLimit-Usage": f"{short.used}, {long.used}",
                "RateLimit-Limit": f"{short.window.limit}, {long.window.limit}",
                "RateLimit-Reset": f"{short.resets_in_s}, {long.resets_in_s}"}


def _oauth_error(kind: str) -> tuple[int, object]:
    """Polar Remote's error answers: status 400 and the bare OAuth code (no description)."""
    return 400, {"error": "invalid_client" if kind == "invalid_client" else "invalid_grant"}


def _member_id(body: bytes) -> str | None:
    """`member-id` from the JSON or the XML registration body (the docs show both)."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        value = json.loads(text).get("member-id") if text.startswith("{") else (
            ElementTree.fromstring(text).findtext("member-id") if text.startswith("<") else None)
    except (ValueError, AttributeError, ElementTree.ParseError):
        return None
    return str(value).strip() if value else None


def _base_url(request: Request) -> str:
    """The sandbox's own API root, for the links a client follows (resource-uri, item URLs)."""
    return f"http://{request.header('host') or '127.0.0.1'}/{MOUNT}/v3"


def _each(generate: Any, world: SandboxWorld, days: list[date]) -> list[dict[str, Any]]:
    return [found for day in days if (found := generate(world, day)) is not None]


def _one_day(generate: Any, world: SandboxWorld, rest: list[str], empty: Response) -> Response:
    if len(rest) != 1 or not _DATE.fullmatch(rest[0]):
        return Response(400, b"") if len(rest) == 1 else Response(404, b"")
    try:
        day = date.fromisoformat(rest[0])
    except ValueError:
        return Response(400, b"")
    found = generate(world, day)
    return empty if found is None else Response.json(200, found)


def _date_range(start: str | None, end: str | None) -> list[date] | None:
    """The days from `start` to `end`, both included; None when either is missing or malformed, the
    range is backwards or longer than 28 days (400)."""
    if not start or not end or not _DATE.fullmatch(start) or not _DATE.fullmatch(end):
        return None
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return None
    if last < first or (last - first).days >= LIST_DAYS:
        return None
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
