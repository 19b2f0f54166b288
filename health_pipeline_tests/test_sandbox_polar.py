"""The Polar fake answers as AccessLink v3 does (research: /work/research/polar.md), over real HTTP, with the
sandbox person's own workouts, nights, heart rate, minutes and weigh-ins."""

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.sandbox.server import FakeApi, Sandbox
from health_pipeline.sources.polar.sandbox import FAKE
from health_pipeline.sources.polar.sandbox import data as truth
from health_pipeline.sources.polar.sandbox.api import FakePolar, PolarSettings
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE

# The fake as a new client meets it: nobody registered yet (the sandbox's FAKE has the person registered
# since the world began).
UNREGISTERED = FakeApi(FAKE.mount, FakePolar, FAKE.config_text)

REDIRECT = "https://health.example.org/polar/callback"
USER = truth.USER_ID
BASIC = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)


@pytest.fixture
def sandbox(world: SandboxWorld) -> Iterator[Sandbox]:
    with Sandbox(world, fakes=[UNREGISTERED]) as running:
        yield running


@pytest.fixture
def auth(sandbox: Sandbox) -> dict[str, str]:
    """A user token of a person registered 60 days ago (so every upload of the window is served)."""
    sandbox.polar.register(FROZEN_NOW - timedelta(days=60))
    return bearer(sandbox)


def bearer(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.polar.oauth.token_payload('accesslink.read_all')['access_token']}"}


def get(sandbox: Sandbox, path: str, headers: dict[str, str], **params: str) -> requests.Response:
    return requests.get(f"{sandbox.url('polar')}/v3{path}", params=params, headers=headers, timeout=10)


def authorize(sandbox: Sandbox, **extra: str) -> str:
    answer = requests.get(f"{sandbox.url('polar')}/flow/oauth2/authorization", allow_redirects=False, timeout=10,
                          params={"response_type": "code", "client_id": SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT,
                                  "scope": "accesslink.read_all", "state": "xyz", **extra})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def exchange(sandbox: Sandbox, code: str, basic: bool = True, **form: str) -> requests.Response:
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **form}
    if not basic:
        body |= {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}
    return requests.post(f"{sandbox.url('polar')}/remote/v2/oauth2/token", data=body, auth=BASIC if basic else None,
                         headers={"Accept": "application/json;charset=UTF-8"}, timeout=10)


def seconds_of(duration: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    assert match, duration
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)


def utc_start(item: dict) -> datetime:
    """UTC = `start_time` - `start_time_utc_offset` (live evidence: the upload comes after the end)."""
    local = datetime.fromisoformat(item["start_time"]).replace(tzinfo=timezone.utc)
    return local - timedelta(minutes=item["start_time_utc_offset"])


# -- OAuth -----------------------------------------------------------------------------------

def test_the_token_comes_by_basic_auth_only_with_a_user_id_and_no_refresh_token(sandbox: Sandbox) -> None:
    code = authorize(sandbox)
    refused = exchange(sandbox, code, basic=False)
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_client"})
    answer = exchange(sandbox, code)  # the refused attempt did not use the code up
    assert answer.status_code == 200 and '"access_token":"' in answer.text  # compact JSON (a live client's regex)
    body = answer.json()
    assert list(body) == ["access_token", "token_type", "expires_in", "x_user_id"]
    assert (body["token_type"], body["expires_in"], body["x_user_id"]) == ("bearer", 31_535_999, USER)
    sandbox.world.clock.advance(timedelta(days=400))  # tokens never expire unless revoked
    assert get(sandbox, f"/users/{USER}", {"Authorization": f"Bearer {body['access_token']}"}).status_code == 204
    dropped = requests.post(f"{sandbox.url('polar')}/remote/v2/oauth2/token", auth=BASIC, timeout=10,
                            data={"grant_type": "authorization_code", "code": authorize(sandbox)})
    assert (dropped.status_code, dropped.json()) == (400, {"error": "invalid_grant"})  # redirect_uri must be repeated
    assert exchange(sandbox, code, grant_type="refresh_token").json() == {"error": "unsupported_grant_type"}
    scoped = requests.get(f"{sandbox.url('polar')}/flow/oauth2/authorization", allow_redirects=False, timeout=10,
                          params={"response_type": "code", "client_id": SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT,
                                  "scope": "everything", "state": "s1"})
    assert scoped.headers["Location"] == f"{REDIRECT}?error=invalid_scope&state=s1"


def test_a_reused_code_is_refused_and_deletes_every_token_of_the_user(sandbox: Sandbox) -> None:
    first_code = authorize(sandbox)
    first = exchange(sandbox, first_code).json()["access_token"]
    second = exchange(sandbox, authorize(sandbox)).json()["access_token"]
    for token in (first, second):
        assert get(sandbox, f"/users/{USER}", {"Authorization": f"Bearer {token}"}).status_code == 204
    again = exchange(sandbox, first_code)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})
    for token in (first, second, "made-up"):
        gone = get(sandbox, "/exercises", {"Authorization": f"Bearer {token}"})
        assert (gone.status_code, gone.content) == (401, b"")
    assert get(sandbox, "/exercises", {}).status_code == 401


# -- users -------------------------------------------------------------------------------------

def test_data_needs_a_registered_user_and_a_second_registration_conflicts(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    for path in ("/exercises", "/users/sleep", f"/users/{USER}/physical-information-transactions",
                 "/users/continuous-heart-rate/2026-11-08", "/users/physical-info"):
        refused = get(sandbox, path, headers)
        assert (refused.status_code, refused.content) == (403, b""), path
    assert get(sandbox, f"/users/{USER}", headers).status_code == 204  # not found
    assert requests.get(f"{sandbox.url('polar')}/v3/notifications", auth=BASIC, timeout=10).status_code == 204
    registered = requests.post(f"{sandbox.url('polar')}/v3/users", json={"member-id": "member-1"}, headers=headers,
                               timeout=10)
    assert registered.status_code == 200
    user = {"polar-user-id": USER, "member-id": "member-1", "registration-date": "2026-11-10T12:00:00.000Z",
            "first-name": "Sandbox", "last-name": "Person", "birthdate": "1990-05-17", "gender": "MALE",
            "weight": round(tracker.weigh_in(sandbox.world, date(2026, 11, 8)).kg, 1), "height": 180.0, "extra-info": []}
    assert registered.json() == user and isinstance(registered.json()["weight"], float)
    conflict = requests.post(f"{sandbox.url('polar')}/v3/users", json={"member-id": "member-2"}, headers=headers,
                             timeout=10)
    assert (conflict.status_code, conflict.content) == (409, b"")
    assert get(sandbox, f"/users/{USER}", headers).json() == user
    assert get(sandbox, "/exercises", headers).json() == []  # only uploads made after registering are served
    assert requests.delete(f"{sandbox.url('polar')}/v3/users/{USER}", headers=headers, timeout=10).status_code == 204
    assert get(sandbox, f"/users/{USER}", headers).status_code == 401  # de-registering revoked the token
    fresh = bearer(sandbox)
    xml = "<register><member-id>member-3</member-id></register>"
    again = requests.post(f"{sandbox.url('polar')}/v3/users", data=xml, timeout=10,
                          headers={**fresh, "Content-Type": "application/xml"})
    assert again.status_code == 200 and again.json()["member-id"] == "member-3"


# -- exercises ---------------------------------------------------------------------------------

def test_exercises_are_the_uploads_of_the_last_30_days_in_the_live_shape(sandbox: Sandbox, auth: dict) -> None:
    items = get(sandbox, "/exercises", auth).json()
    world = sandbox.world
    days = [day for day in (world.first_day() + timedelta(days=n) for n in range(60)) if tracker.exercise(world, day)]
    expected = [truth.exercise(world, day) for day in days]
    served = [e for e in expected if e.synced_at >= FROZEN_NOW - timedelta(days=30)]
    assert [i["id"] for i in items] == [e.id for e in sorted(served, key=lambda e: e.synced_at)] and len(items) == 15
    old = next(e for e in expected if e.synced_at < FROZEN_NOW - timedelta(days=30) and e.day == date(2026, 10, 5))
    assert get(sandbox, f"/exercises/{old.id}", auth).status_code == 404  # uploaded 36 days ago
    for item, found in zip(items, sorted(served, key=lambda e: e.synced_at)):
        session = tracker.exercise(world, found.day)
        assert utc_start(item) == session.start
        assert int(seconds_of(item["duration"])) == (session.end - session.start).total_seconds()
        assert re.fullmatch(r"PT\d+\.\d{3}S", item["duration"]) and item["upload_time"].endswith("Z")
        assert datetime.fromisoformat(item["upload_time"]) > session.end
        if item["device"] == truth.FLOW_APP:
            assert item["heart_rate"] == {} and "calories" not in item and "device_id" not in item
        else:
            assert item["heart_rate"]["average"] == session.avg_hr_bpm
    [run] = [i for i in items if i["start_time"].startswith("2026-11-07")]
    session = tracker.exercise(world, date(2026, 11, 7))
    assert run == {
        "id": "VseMLsJI", "upload_time": "2026-11-07T08:39:51Z", "polar_user": f"https://www.polaraccesslink.com/v3/users/{USER}",
        "device": "Polar Grit X Pro", "device_id": "4E21A7C9", "start_time": "2026-11-07T08:16:00",
        "start_time_utc_offset": 60, "duration": run["duration"], "distance": float(session.minutes * 160),
        "heart_rate": {"average": session.avg_hr_bpm, "maximum": run["heart_rate"]["maximum"]}, "sport": "RUNNING",
        "has_route": True, "detailed_sport_info": "RUNNING", "calories": round(session.kcal),
        "running_index": run["running_index"], "fat_percentage": run["fat_percentage"],
        "carbohydrate_percentage": run["carbohydrate_percentage"], "protein_percentage": run["protein_percentage"],
        "training_load_pro": run["training_load_pro"]}
    assert run["fat_percentage"] + run["carbohydrate_percentage"] + run["protein_percentage"] == 100
    assert set(run["training_load_pro"]) == {"cardio-load", "cardio-load-interpretation", "muscle-load",
                                             "muscle-load-interpretation", "perceived-load",
                                             "perceived-load-interpretation", "user-rpe"}
    [app] = [i for i in items if i["device"] == truth.FLOW_APP]
    assert app["start_time"].startswith("2026-10-13") and app["heart_rate"] == {}
    assert get(sandbox, "/exercises/nosuchid", auth).status_code == 404


def test_an_exercise_inlines_samples_zones_and_route_on_request(sandbox: Sandbox, auth: dict) -> None:
    world = sandbox.world
    found = truth.exercise(world, date(2026, 10, 31))
    plain = get(sandbox, f"/exercises/{found.id}", auth).json()
    assert not {"samples", "heart_rate_zones", "route"} & set(plain)
    full = get(sandbox, f"/exercises/{found.id}", auth, samples="true", zones="true", route="true").json()
    assert {k: v for k, v in full.items() if k not in ("samples", "heart_rate_zones", "route")} == plain
    heart = [s for s in full["samples"] if s["sample_type"] == 0]
    assert [(s["recording_rate"], s["sample_type"]) for s in full["samples"]] == [(1, 0), (1, 1), (1, 10)]
    bpms = [int(v) for v in heart[0]["data"].split(",")]
    beats = [b.bpm for b in tracker.heart_rate(world, found.day, 1) if found.start <= b.at < found.session.end]
    assert len(bpms) == len(beats) == found.session.minutes * 60
    dropped = [i for i, (got, real) in enumerate(zip(bpms, beats)) if got != real]
    assert dropped and all(bpms[i] == 0 for i in dropped) and dropped == list(range(dropped[0], dropped[-1] + 1))
    zones = full["heart_rate_zones"]
    assert [z["index"] for z in zones] == [0, 1, 2, 3, 4] and set(zones[0]) == {"index", "lower_limit", "upper_limit", "in_zone"}
    assert sum(seconds_of(z["in_zone"]) for z in zones) == len([b for b in bpms if b > 0])
    assert full["route"][0]["time"].startswith("PT0.") and set(full["route"][0]) == {"latitude", "longitude", "time",
                                                                                       "satellites", "fix"}
    sandbox.polar.settings.docs_spelling = True
    docs = get(sandbox, f"/exercises/{found.id}", auth, samples="true", zones="true").json()
    assert "running-index" in docs and "running_index" not in docs
    assert docs["samples"][0]["sample-type"] == "0" and "lower-limit" in docs["heart_rate_zones"][0]


def test_a_late_sync_and_a_deletion(sandbox: Sandbox, auth: dict) -> None:
    world = sandbox.world
    late = truth.exercise(world, date(2026, 9, 23))
    assert late.late and timedelta(days=1) <= late.synced_at - late.session.end <= timedelta(days=3)
    found = truth.exercise(world, date(2026, 11, 8))
    sandbox.polar.sync_exercise_at(found.id, FROZEN_NOW + timedelta(hours=30))
    assert found.id not in [i["id"] for i in get(sandbox, "/exercises", auth).json()]
    chr_before = get(sandbox, "/users/continuous-heart-rate/2026-11-08", auth).json()["heart_rate_samples"]
    world.clock.advance(timedelta(hours=31))
    synced = get(sandbox, f"/exercises/{found.id}", auth).json()
    assert synced["upload_time"] == "2026-11-11T18:00:00Z"
    chr_after = get(sandbox, "/users/continuous-heart-rate/2026-11-08", auth).json()["heart_rate_samples"]
    assert len(chr_after) == len(chr_before) + found.session.minutes * 60  # the workout's 1-second run came with it
    transaction = requests.post(f"{sandbox.url('polar')}/v3/users/{USER}/exercise-transactions", headers=auth, timeout=10)
    links = requests.get(transaction.json()["resource-uri"], headers=auth, timeout=10).json()["exercises"]
    assert links[-1].endswith(f"/exercises/{found.number}")
    sandbox.polar.delete_exercise(found.id)
    assert found.id not in [i["id"] for i in get(sandbox, "/exercises", auth).json()]
    assert get(sandbox, f"/exercises/{found.id}", auth).status_code == 404
    assert requests.get(links[-1], headers=auth, timeout=10).status_code == 204  # deleted since the transaction began


# -- sleep, recharge, continuous heart rate ---------------------------------------------------

def test_a_night_has_the_worlds_stages_and_heart_rate(sandbox: Sandbox, auth: dict) -> None:
    world = sandbox.world
    night = night_for(world, date(2026, 11, 9))
    onset = next(i for i, s in enumerate(night.stages) if s != "awake")
    body = get(sandbox, "/users/sleep/2026-11-09", auth).json()
    asleep_from = night.bed + timedelta(minutes=5 * onset)
    assert body["sleep_start_time"] == asleep_from.astimezone(world.tz).isoformat() == "2026-11-08T22:17:00+01:00"
    assert body["sleep_end_time"] == night.wake.astimezone(world.tz).isoformat()
    assert (body["light_sleep"], body["deep_sleep"], body["rem_sleep"], body["unrecognized_sleep_stage"]) == (
        night.seconds["light"], night.seconds["deep"], night.seconds["rem"], 0)
    assert body["long_interruption_duration"] == night.seconds["awake"] - onset * 300
    assert body["total_interruption_duration"] == body["long_interruption_duration"] + body["short_interruption_duration"]
    assert body["heart_rate_samples"] == {
        b.at.astimezone(world.tz).strftime("%H:%M"): b.bpm
        for d in (date(2026, 11, 8), date(2026, 11, 9)) for b in tracker.heart_rate(world, d, 300)
        if asleep_from <= b.at < night.wake}
    assert list(body["hypnogram"].items())[0] == ("22:17", 2) and set(body["hypnogram"].values()) <= {0, 1, 2, 3, 4}
    assert body["polar_user"] == f"https://www.polaraccesslink.com/v3/users/{USER}"
    nights = get(sandbox, "/users/sleep", auth).json()["nights"]
    assert [n["date"] for n in nights][0] == "2026-10-14" and nights[-1]["date"] == "2026-11-10"  # the last 28 days
    assert get(sandbox, "/users/sleep/2026-10-11", auth).status_code == 200  # older nights by date
    unanalysed = get(sandbox, "/users/sleep/2026-10-09", auth).json()
    assert (unanalysed["sleep_charge"], unanalysed["continuity"], unanalysed["continuity_class"]) == (-1, 0.0, 0)
    assert unanalysed["unrecognized_sleep_stage"] > 0 and unanalysed["light_sleep"] == 0
    for missing in ("2026-10-23", "2026-11-11"):  # the watch was off; not slept yet
        assert get(sandbox, f"/users/sleep/{missing}", auth).status_code == 404
    assert get(sandbox, "/users/sleep/2026-13-01", auth).status_code == 400
    recharge = get(sandbox, "/users/nightly-recharge/2026-11-09", auth).json()
    hrv = tracker.vitals(world, date(2026, 11, 9), "daily-heart-rate-variability")
    assert (recharge["heart_rate_avg"], recharge["heart_rate_variability_avg"]) == (hrv.non_rem_hr_bpm, round(hrv.hrv_ms))
    assert recharge["breathing_rate_avg"] == tracker.vitals(world, date(2026, 11, 9), "daily-respiratory-rate").breaths_per_min
    assert get(sandbox, "/users/nightly-recharge/2026-10-09", auth).status_code == 404  # not analysed
    recharges = get(sandbox, "/users/nightly-recharge", auth).json()["recharges"]
    assert recharges[0]["date"] >= "2026-10-14" and "2026-10-09" not in [r["date"] for r in recharges]


def test_continuous_heart_rate_is_five_minutely_with_the_workouts_second_by_second_run(sandbox: Sandbox, auth: dict) -> None:
    world = sandbox.world
    day = date(2026, 10, 31)
    body = get(sandbox, "/users/continuous-heart-rate/2026-10-31", auth).json()
    assert list(body) == ["polar_user", "date", "heart_rate_samples"]
    assert body["polar_user"] == f"https://polaraccesslink.com/v3/users/{USER}" and body["date"] == "2026-10-31"
    found = tracker.exercise(world, day)
    five = [b for b in tracker.heart_rate(world, day, 300) if not found.start <= b.at < found.end]
    dense = [b for b in tracker.heart_rate(world, day, 1) if found.start <= b.at < found.end]
    expected = sorted(five + dense, key=lambda b: b.at)
    samples = body["heart_rate_samples"]
    assert [s["sample_time"] for s in samples] == [b.at.astimezone(world.tz).strftime("%H:%M:%S") for b in expected]
    differing = [(s["heart_rate"], b.bpm) for s, b in zip(samples, expected) if s["heart_rate"] != b.bpm]
    assert differing and all(got == 0 for got, _ in differing)  # the sensor lost contact for a few seconds
    dst = get(sandbox, "/users/continuous-heart-rate/2026-10-25", auth).json()["heart_rate_samples"]
    times = [s["sample_time"] for s in dst]
    assert len(dst) == 300 and times.count("02:00:00") == 2  # a 25-hour day in device-local time
    assert get(sandbox, "/users/continuous-heart-rate/2026-10-23", auth).status_code == 404  # not worn
    ranged = get(sandbox, "/users/continuous-heart-rate", auth, **{"from": "2026-10-22", "to": "2026-10-25"}).json()
    assert [d["date"] for d in ranged["heart_rates"]] == ["2026-10-22", "2026-10-24", "2026-10-25"]
    assert ranged["heart_rates"][-1]["heart_rate_samples"] == dst
    assert get(sandbox, "/users/continuous-heart-rate", auth, **{"from": "2026-10-01", "to": "2026-10-29"}).status_code == 400
    assert get(sandbox, "/users/continuous-heart-rate", auth, **{"from": "2026-10-22"}).status_code == 400


# -- daily activity ----------------------------------------------------------------------------

def test_daily_activity_starts_at_local_midnight_and_ranges_are_limited(sandbox: Sandbox, auth: dict) -> None:
    world = sandbox.world
    days = get(sandbox, "/users/activities/", auth, **{"from": "2026-11-08", "to": "2026-11-09"}).json()
    minutes = tracker.minutes(world, date(2026, 11, 8))
    assert [d["start_time"] for d in days] == ["2026-11-08T00:00", "2026-11-09T00:00"]
    assert days[0]["end_time"] == "2026-11-08T23:59:59" and "samples" not in days[0]
    assert days[0]["steps"] == sum(m.steps or 0 for m in minutes)
    assert days[0]["active_calories"] == round(sum(m.active_kcal for m in minutes))
    assert seconds_of(days[0]["active_duration"]) == 60 * sum(1 for m in minutes if m.level != "SEDENTARY")
    assert isinstance(days[0]["daily_activity"], float) and isinstance(days[0]["distance_from_steps"], float)
    listed = get(sandbox, "/users/activities", auth).json()
    assert listed[0]["start_time"] == "2026-10-14T00:00" and listed[-1]["start_time"] == "2026-11-10T00:00"
    one = get(sandbox, "/users/activities/2026-11-08", auth, steps="true").json()
    assert one["samples"]["steps"]["total_steps"] == days[0]["steps"] and set(one["samples"]) == {"date", "steps"}
    assert get(sandbox, "/users/activities/2026-10-23", auth).status_code == 204  # not worn
    for bad in ({"from": "2026-10-01", "to": "2026-10-29"}, {"from": "2025-11-01", "to": "2025-11-02"},
                {"from": "2026-11-09", "to": "2026-11-08"}, {"to": "2026-11-08"}):
        assert get(sandbox, "/users/activities", auth, **bad).status_code == 400, bad
    # `to` defaults to today: 28 days, less the 23rd (not worn)
    assert len(get(sandbox, "/users/activities", auth, **{"from": "2026-10-14"}).json()) == 27


# -- physical information ----------------------------------------------------------------------

def test_a_physical_information_transaction_is_listed_read_committed_and_then_empty(sandbox: Sandbox) -> None:
    world = sandbox.world
    sandbox.polar.register(datetime(2026, 10, 20, tzinfo=timezone.utc))
    headers = bearer(sandbox)
    url = f"{sandbox.url('polar')}/v3/users/{USER}/physical-information-transactions"
    notified = requests.get(f"{sandbox.url('polar')}/v3/notifications", auth=BASIC, timeout=10).json()
    assert notified == {"available-user-data": [{"user-id": USER, "data-type": "PHYSICAL_INFORMATION", "url": url},
                                                {"user-id": USER, "data-type": "EXERCISE", "url": url.replace(
                                                    "physical-information", "exercise")},
                                                {"user-id": USER, "data-type": "ACTIVITY_SUMMARY", "url": url.replace(
                                                    "physical-information", "activity")}]}
    created = requests.post(url, headers=headers, timeout=10)
    assert created.status_code == 201 and list(created.json()) == ["transaction-id", "resource-uri"]
    first = created.json()["resource-uri"]
    assert first == f"{url}/{created.json()['transaction-id']}"
    links = requests.get(first, headers=headers, timeout=10).json()["physical-informations"]
    weigh_ins = [tracker.weigh_in(world, day) for day in (date(2026, 10, 25), date(2026, 11, 1), date(2026, 11, 8))]
    entries = [requests.get(link, headers=headers, timeout=10).json() for link in links]
    assert [e["created"] for e in entries] == ["2026-10-20T00:00:00.000Z"] + [
        w.at.strftime("%Y-%m-%dT%H:%M:%S.000Z") for w in weigh_ins]  # the profile at registration, then each weigh-in
    assert [e["weight"] for e in entries[1:]] == [round(w.kg, 1) for w in weigh_ins]
    assert set(entries[0]) == {"id", "transaction-id", "created", "polar-user", "weight", "height", "maximum-heart-rate",
                               "resting-heart-rate", "aerobic-threshold", "anaerobic-threshold", "vo2-max", "weight-source"}
    assert requests.post(url, headers=headers, timeout=10).status_code == 204  # everything is in the open transaction
    world.clock.advance(timedelta(minutes=11))  # uncommitted: it expires, and its items come back
    assert requests.get(first, headers=headers, timeout=10).status_code == 404
    assert requests.get(links[0], headers=headers, timeout=10).status_code == 404
    second = requests.post(url, headers=headers, timeout=10).json()["resource-uri"]
    again = requests.get(second, headers=headers, timeout=10).json()["physical-informations"]
    assert [link.rsplit("/", 1)[1] for link in again] == [link.rsplit("/", 1)[1] for link in links]
    committed = requests.put(second, headers=headers, timeout=10)
    assert (committed.status_code, committed.content) == (200, b"")
    assert requests.post(url, headers=headers, timeout=10).status_code == 204  # nothing new
    assert requests.get(second, headers=headers, timeout=10).status_code == 404
    world.clock.advance(timedelta(days=5))  # Sunday the 15th: a new weigh-in
    newest = requests.post(url, headers=headers, timeout=10).json()["resource-uri"]
    [link] = requests.get(newest, headers=headers, timeout=10).json()["physical-informations"]
    assert requests.get(link, headers=headers, timeout=10).json()["weight"] == round(
        tracker.weigh_in(world, date(2026, 11, 15)).kg, 1)
    profile = get(sandbox, "/users/physical-info", headers).json()
    assert profile["weight"] == round(tracker.weigh_in(world, date(2026, 11, 15)).kg, 1)
    assert profile["modified"] == "2026-11-15T07:30:00.000Z" and profile["sleep_goal"] == "PT8H"


# -- quota and errors --------------------------------------------------------------------------

def test_the_quota_follows_the_registered_users_and_answers_429_over_it(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    answer = get(sandbox, f"/users/{USER}", headers)
    assert (answer.headers["RateLimit-Usage"], answer.headers["RateLimit-Limit"]) == ("1, 1", "500, 5000")
    assert answer.headers["RateLimit-Reset"] == "900, 43200"  # 15 minutes from now; the sandbox's midnight
    sandbox.polar.register()
    assert get(sandbox, "/exercises", headers).headers["RateLimit-Limit"] == "520, 5100"  # one registered user
    sandbox.polar.settings = PolarSettings(per_15min=4)
    assert get(sandbox, "/exercises", headers).headers["RateLimit-Usage"] == "3, 3"
    assert get(sandbox, "/exercises", headers).status_code == 200
    refused = get(sandbox, "/exercises", headers)
    assert (refused.status_code, refused.content) == (429, b"")
    assert refused.headers["RateLimit-Usage"] == "5, 5" and refused.headers["RateLimit-Limit"] == "4, 5100"
    sandbox.faults.script("polar", "429")
    injected = get(sandbox, "/exercises", headers)
    assert (injected.status_code, injected.headers["Retry-After"], injected.headers["RateLimit-Limit"]) == (429, "1", "4, 5100")


def test_a_late_synced_exercise_appears_only_once_the_watch_has_synced() -> None:
    late = truth.exercise(SandboxWorld(seed=7, days=90, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW)), date(2026, 9, 23))
    world = SandboxWorld(seed=7, days=30, timezone=TIMEZONE, clock=SandboxClock(late.session.end + timedelta(hours=1)))
    with Sandbox(world, fakes=[UNREGISTERED]) as sandbox:
        sandbox.polar.register(late.session.start - timedelta(days=2))
        headers = bearer(sandbox)
        assert late.id not in [i["id"] for i in get(sandbox, "/exercises", headers).json()]
        world.clock.advance(late.synced_at - world.clock.now() + timedelta(seconds=1))
        [item] = [i for i in get(sandbox, "/exercises", headers).json() if i["id"] == late.id]
        assert item["upload_time"] == late.synced_at.strftime("%Y-%m-%dT%H:%M:%SZ") and utc_start(item) == late.start


def test_activity_and_exercise_transactions_hold_finished_days_and_synced_exercises(sandbox: Sandbox) -> None:
    world = sandbox.world
    sandbox.polar.register(datetime(2026, 11, 6, tzinfo=timezone.utc))
    headers = bearer(sandbox)
    base = f"{sandbox.url('polar')}/v3/users/{USER}"
    activities = requests.post(f"{base}/activity-transactions", headers=headers, timeout=10).json()["resource-uri"]
    log = requests.get(activities, headers=headers, timeout=10).json()["activity-log"]
    summaries = [requests.get(link, headers=headers, timeout=10).json() for link in log]
    assert [s["date"] for s in summaries] == ["2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08", "2026-11-09"]
    minutes = tracker.minutes(world, date(2026, 11, 9))
    assert summaries[-1] | {"created": "", "transaction-id": 0} == {
        "id": truth.activity_number(date(2026, 11, 9)), "polar-user": f"https://www.polaraccesslink.com/v3/users/{USER}",
        "transaction-id": 0, "date": "2026-11-09", "created": "", "calories": summaries[-1]["calories"],
        "active-calories": round(sum(m.active_kcal for m in minutes)),
        "duration": summaries[-1]["duration"], "active-steps": sum(m.steps or 0 for m in minutes)}
    steps = requests.get(f"{log[-1]}/step-samples", headers=headers, timeout=10).json()
    assert sum(s["steps"] for s in steps["samples"]) == summaries[-1]["active-steps"]
    assert requests.put(activities, headers=headers, timeout=10).status_code == 200
    exercises = requests.post(f"{base}/exercise-transactions", headers=headers, timeout=10).json()["resource-uri"]
    links = requests.get(exercises, headers=headers, timeout=10).json()["exercises"]
    assert [int(link.rsplit("/", 1)[1]) for link in links] == [
        truth.exercise(world, date(2026, 11, day)).number for day in (7, 8)]  # uploaded since registering
    link = links[-1]
    item = requests.get(link, headers=headers, timeout=10).json()
    found = truth.exercise(world, date(2026, 11, 8))
    assert (item["id"], item["upload-time"], item["duration"]) == (found.number, "2026-11-08T12:42:30.000Z", "PT39M0.148S")
    assert item["start-time"] == "2026-11-08T12:47:00" and item["heart-rate"]["average"] == found.session.avg_hr_bpm
    zones = requests.get(f"{link}/heart-rate-zones", headers=headers, timeout=10).json()["zone"]
    assert set(zones[0]) == {"index", "lower-limit", "upper-limit", "in-zone"}
    assert requests.get(f"{link}/samples", headers=headers, timeout=10).json() == {"samples": [f"{link}/samples/0"]}
    assert requests.get(f"{link}/samples/0", headers=headers, timeout=10).json()["sample-type"] == "0"
    assert requests.put(exercises, headers=headers, timeout=10).status_code == 200
    waiting = requests.get(f"{sandbox.url('polar')}/v3/notifications", auth=BASIC, timeout=10).json()
    assert [d["data-type"] for d in waiting["available-user-data"]] == ["PHYSICAL_INFORMATION"]  # still uncollected
    assert requests.get(f"{sandbox.url('polar')}/v3/notifications", headers=headers, timeout=10).status_code == 401
