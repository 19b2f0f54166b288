"""The sandbox serves many people: `login_hint` on each authorize page names the person, their tokens (and
Hevy key) bring every request back to their own deterministic world, a token never reads another person's
user, and the quotas are counted for the app and per person with their peaks kept."""

import threading
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, hours_apart, stable_uuid
from health_pipeline.sources.oura.sandbox import truth as oura_truth
from health_pipeline.sources.polar.sandbox import data as polar_data
from health_pipeline.sources.strava.sandbox import data as strava_data
from health_pipeline.sources.whoop.sandbox import data as whoop_data
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY

REDIRECT = "http://127.0.0.1:8765/callback"
CLIENT = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}
BASIC = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)


@pytest.fixture
def people(world: SandboxWorld) -> Iterator[Sandbox]:
    with sandbox_for(world) as running:
        yield running


def authorize(url: str, person: str | None, **params: str) -> str:
    """The code the authorize page redirects back with, for `person` (None: no login_hint)."""
    query = {"response_type": "code", "client_id": SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT, "state": "state-123",
             **params, **({"login_hint": person} if person is not None else {})}
    answer = requests.get(url, params=query, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def token(url: str, code: str, auth: tuple[str, str] | None = None) -> dict:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **({} if auth else CLIENT)}
    answer = requests.post(url, data=form, auth=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


# ---- worlds (no server) -------------------------------------------------------------------------


def test_each_person_has_a_deterministic_world_of_their_own_and_me_is_the_default(world: SandboxWorld) -> None:
    alice, bob = world.for_person("alice"), world.for_person("bob")
    assert world.for_person("me") is world
    assert (alice.person, alice.timezone, alice.travel_timezone) == ("alice", "Australia/Sydney", "Asia/Tokyo")
    assert (bob.timezone, bob.travel_timezone) == ("America/Sao_Paulo", "America/Los_Angeles")
    # a trip is at most six hours from home (as Berlin-New York): a longer jump would overlap two nights
    for person in (f"p{i}" for i in range(200)):
        someone = world.for_person(person)
        assert someone.travel_timezone is None or hours_apart(someone.timezone, someone.travel_timezone) <= 6
    assert (alice.seed, bob.seed) == (57345115736324, 118689239219036)
    assert round(alice.weight_kg(TODAY), 3) == 80.261 and round(bob.weight_kg(TODAY), 3) == 79.858
    assert round(world.weight_kg(TODAY), 3) == 80.446 and (world.seed, world.timezone) == (7, TIMEZONE)
    assert alice.clock is world.clock and alice.days == world.days == 60
    again = SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW)).for_person("alice")
    assert (again.seed, again.timezone, again.plan(TODAY)) == (alice.seed, alice.timezone, alice.plan(TODAY))
    assert alice.for_person("bob").seed == bob.seed  # the household's seed, whoever asks
    with pytest.raises(ValueError, match="not a person id"):
        world.for_person("Alice Smith")


# ---- every provider, over HTTP ------------------------------------------------------------------


def test_oura_answers_each_person_from_their_own_world(people: Sandbox) -> None:
    base = people.url("oura")
    day = TODAY - timedelta(days=2)
    answers = {}
    for person in ("alice", None, "me"):
        tokens = token(f"{base}/oauth/token", authorize(f"{base}/oauth/authorize", person))
        answer = requests.get(f"{base}/v2/usercollection/daily_activity", headers=bearer(tokens["access_token"]),
                              params={"start_date": day.isoformat(), "end_date": day.isoformat()}, timeout=10)
        answers[person] = answer.json()["data"]
        assert people.person_of_token(tokens["access_token"]) == people.person_of_token(tokens["refresh_token"]) == (
            person or "me")
    alice = people.world_for("alice")
    assert answers["alice"] == oura_truth.oura_documents(alice, "daily_activity", day, day) != answers[None]
    assert answers[None] == answers["me"] == oura_truth.oura_documents(people.world, "daily_activity", day, day)
    assert people.world_for("alice") is alice and alice.timezone == "Australia/Sydney"
    served = {e.person for e in people.log.entries("oura", "/v2/usercollection/")}
    assert served == {"alice", "me"}


def test_withings_google_whoop_and_strava_know_the_person_by_the_token(people: Sandbox) -> None:
    alice = people.world_for("alice")
    # Withings: the person's userid, their zone and their weigh-ins
    base = people.url("withings")
    code = authorize(f"{base}/oauth2_user/authorize2", "alice", scope="user.metrics")
    body = requests.post(f"{base}/v2/oauth2", data={"action": "requesttoken", "grant_type": "authorization_code",
                                                    "code": code, "redirect_uri": REDIRECT, **CLIENT}, timeout=10).json()["body"]
    assert body["userid"] == withings_data.user_id(alice) != withings_data.user_id(people.world) == "13371337"
    day = TODAY - timedelta(days=1)
    groups = requests.post(f"{base}/measure", headers=bearer(body["access_token"]), timeout=10, data={
        "action": "getmeas", "startdate": int(alice.local_midnight(day).timestamp()),
        "enddate": int(alice.local_midnight(day + timedelta(days=1)).timestamp()) - 1}).json()["body"]
    assert groups["timezone"] == "Australia/Sydney"
    assert groups["measuregrps"] == [g.group for g in withings_data.measure_groups(alice, day)]
    # ... and a `userid` that is not the token's person's is refused
    crossed = requests.post(f"{base}/measure", headers=bearer(body["access_token"]), timeout=10,
                            data={"action": "getmeas", "userid": "13371337"}).json()
    assert crossed["status"] == 401 and "13371337" in crossed["error"]

    # Google Health: the person's settings and identity; `users/{someone else}` is refused
    base = people.url("google-health")
    tokens = token(f"{base}/token", authorize(f"{base}/o/oauth2/v2/auth", "alice", access_type="offline",
                                               scope="https://www.googleapis.com/auth/googlehealth.profile.readonly"))
    settings = requests.get(f"{base}/v4/users/me/settings", headers=bearer(tokens["access_token"]), timeout=10).json()
    assert settings["timeZone"] == "Australia/Sydney"
    identity = requests.get(f"{base}/v4/users/me/identity", headers=bearer(tokens["access_token"]), timeout=10).json()
    assert identity["healthUserId"] == "sandbox-health-user-alice"
    other = requests.get(f"{base}/v4/users/sandbox-health-user/settings", headers=bearer(tokens["access_token"]), timeout=10)
    assert other.status_code == 403 and other.json()["error"]["status"] == "PERMISSION_DENIED"

    # WHOOP: the member's profile, and a refreshed token is still theirs
    base = people.url("whoop")
    tokens = token(f"{base}/oauth/oauth2/token", authorize(f"{base}/oauth/oauth2/auth", "alice", scope="offline read:profile"))
    refreshed = requests.post(f"{base}/oauth/oauth2/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **CLIENT}).json()
    assert people.person_of_token(refreshed["access_token"]) == people.person_of_token(refreshed["refresh_token"]) == "alice"
    profile = requests.get(f"{base}/developer/v2/user/profile/basic", headers=bearer(refreshed["access_token"]), timeout=10)
    assert profile.json()["user_id"] == whoop_data.user_id(alice) != whoop_data.USER_ID
    assert profile.json()["email"] == "alice@example.org"

    # Strava: the athlete of the code exchange and of /athlete
    base = people.url("strava")
    tokens = token(f"{base}/oauth/token", authorize(f"{base}/oauth/authorize", "alice", scope="read,activity:read_all"))
    assert tokens["athlete"]["id"] == strava_data.athlete_id(alice) != strava_data.athlete_id(people.world)
    athlete = requests.get(f"{base}/api/v3/athlete", headers=bearer(tokens["access_token"]), timeout=10).json()
    assert athlete["id"] == strava_data.athlete_id(alice)
    mine = requests.get(f"{base}/api/v3/athlete/activities", headers=bearer(tokens["access_token"]), timeout=10,
                        params={"per_page": 200}).json()
    hers = {a.id for back in range(alice.days) for a in strava_data.activities(alice, TODAY - timedelta(days=back))}
    assert mine and {a["id"] for a in mine} <= hers
    assert people.person_of_token(tokens["access_token"]) == "alice"


def test_polar_registers_each_person_and_refuses_another_persons_user(people: Sandbox) -> None:
    base = people.url("polar")
    alice, bob = people.world_for("alice"), people.world_for("bob")
    tokens = token(f"{base}/remote/v2/oauth2/token", authorize(f"{base}/flow/oauth2/authorization", "alice",
                                                              scope="accesslink.read_all"), auth=BASIC)
    alice_id, bob_id = polar_data.user_id(alice), polar_data.user_id(bob)
    assert tokens["x_user_id"] == alice_id != polar_data.USER_ID
    user = requests.get(f"{base}/v3/users/{alice_id}", headers=bearer(tokens["access_token"]), timeout=10)
    assert user.status_code == 200 and user.json()["member-id"] == "sandbox-alice"
    assert user.json()["weight"] == polar_data.weight_at(alice, alice.clock.now())
    people.app("polar", "bob")  # bob has used the client since the world began, as everyone in the sandbox
    for method in ("GET", "DELETE"):
        crossed = requests.request(method, f"{base}/v3/users/{bob_id}", headers=bearer(tokens["access_token"]), timeout=10)
        assert crossed.status_code == 403 and crossed.content == b""
    info = requests.get(f"{base}/v3/users/physical-info", headers=bearer(tokens["access_token"]), timeout=10).json()
    assert info == polar_data.physical_info(alice)
    # Polar's quota formula counts the registered users of every person (me, alice, bob)
    limits = requests.get(f"{base}/v3/users/{alice_id}", headers=bearer(tokens["access_token"]), timeout=10)
    assert limits.headers["RateLimit-Limit"] == f"{500 + 20 * 3}, {5000 + 100 * 3}"


def test_hevy_keys_name_the_person(people: Sandbox) -> None:
    base = people.url("hevy")
    info = requests.get(f"{base}/v1/user/info", headers={"api-key": "sandbox-api-key-alice"}, timeout=10).json()["data"]
    alice = people.world_for("alice")
    assert info == {"id": stable_uuid(alice.seed, "hevy", "user"), "name": "sandbox_alice",
                    "url": "https://hevy.com/user/sandbox_alice"}
    count = requests.get(f"{base}/v1/workouts/count", headers={"api-key": "sandbox-api-key-alice"}, timeout=10).json()
    assert count == {"workout_count": len(people.app("hevy", "alice").live_workouts())}
    mine = requests.get(f"{base}/v1/user/info", headers={"api-key": "sandbox-api-key"}, timeout=10).json()["data"]
    assert mine["name"] == "sandbox_person" and mine["id"] == stable_uuid(people.world.seed, "hevy", "user")
    assert requests.get(f"{base}/v1/user/info", headers={"api-key": "sandbox-api-key-no one"}, timeout=10).status_code == 401
    assert people.person_of_token("sandbox-api-key-alice") == "alice" and people.person_of_token("nope") is None
    assert [e.person for e in people.log.entries("hevy")] == ["alice", "alice", "me", "me"]


def test_a_login_hint_that_is_no_person_id_is_refused(people: Sandbox) -> None:
    answer = requests.get(f"{people.url('oura')}/oauth/authorize", timeout=10, allow_redirects=False, params={
        "response_type": "code", "client_id": SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT, "login_hint": "Not Valid"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_quota_peaks_count_the_app_and_each_person_across_threads(people: Sandbox) -> None:
    base = people.url("whoop")
    people.whoop.quota.windows[0].limit = 30  # the app's minute: shared by everyone
    access = {person: token(f"{base}/oauth/oauth2/token",
                            authorize(f"{base}/oauth/oauth2/auth", person, scope="read:profile"))["access_token"]
              for person in ("alice", "bob")}
    statuses: dict[str, list[int]] = {}

    def hammer(person: str) -> None:
        with requests.Session() as session:
            statuses[person] = [session.get(f"{base}/developer/v2/user/profile/basic", headers=bearer(access[person]),
                                            timeout=10).status_code for _ in range(20)]

    threads = [threading.Thread(target=hammer, args=(person,)) for person in access]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses["alice"] + statuses["bob"]) == [200] * 30 + [429] * 10
    peaks, refusals = people.quota_peaks(), people.quota_refusals()
    assert peaks[("whoop", None, "minute")] == 40 and peaks[("whoop", None, "day")] == 40
    assert refusals == {("whoop", None, "minute"): 10}
    # Google's per-user window is counted per person, its project window for all
    google = people.url("google-health")
    for person, calls in (("alice", 3), ("bob", 2)):
        granted = token(f"{google}/token", authorize(f"{google}/o/oauth2/v2/auth", person, access_type="offline",
                                                     scope="https://www.googleapis.com/auth/googlehealth.profile.readonly"))
        for _ in range(calls):
            assert requests.get(f"{google}/v4/users/me/settings", headers=bearer(granted["access_token"]),
                                timeout=10).status_code == 200
    peaks = people.quota_peaks()
    assert (peaks[("google-health", "alice", "minute per user")], peaks[("google-health", "bob", "minute per user")],
            peaks[("google-health", None, "minute per project")]) == (3, 2, 5)
