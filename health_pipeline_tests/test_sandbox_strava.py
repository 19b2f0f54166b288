"""The Strava fake answers as /work/research/strava.md says the live API v3 does: OAuth and its error bodies,
list ordering and paging, the SummaryActivity key order with absent fields, detail, laps, zones and
streams, the quota headers and 429, late uploads and the test hooks."""

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sandbox.server import FakeApi, Sandbox
from health_pipeline.sources.strava.sandbox import FAKE, api, data
from health_pipeline.sources.strava.sandbox.api import SCOPES, FakeStrava, StravaSettings
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE

REDIRECT = "http://localhost:8484/strava/callback"
CLIENT = {"client_id": "sandbox", "client_secret": "sandbox-secret"}
RATE_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"}
BAD_TOKEN = {"message": "Authorization Error", "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]}
RECORD_NOT_FOUND = {"message": "Record Not Found", "errors": [{"resource": "Activity", "field": "id", "code": "invalid"}]}
RATE_LIMITED = {"message": "Rate Limit Exceeded",
                "errors": [{"resource": "Application", "field": "overall rate limit", "code": "exceeded"}]}
SUMMARY_KEYS = [  # §4.2, in the order served
    "resource_state", "athlete", "name", "distance", "moving_time", "elapsed_time", "total_elevation_gain", "type",
    "sport_type", "workout_type", "device_name", "id", "start_date", "start_date_local", "timezone", "utc_offset",
    "location_city", "location_state", "location_country", "achievement_count", "kudos_count", "comment_count",
    "athlete_count", "photo_count", "map", "trainer", "commute", "manual", "private", "visibility", "flagged", "gear_id",
    "start_latlng", "end_latlng", "average_speed", "max_speed", "average_cadence", "average_watts", "max_watts",
    "weighted_average_watts", "device_watts", "kilojoules", "has_heartrate", "average_heartrate", "max_heartrate",
    "heartrate_opt_out", "display_hide_heartrate_option", "elev_high", "elev_low", "upload_id", "upload_id_str",
    "external_id", "from_accepted_tag", "pr_count", "total_photo_count", "has_kudoed", "suffer_score"]
POWER = ("average_watts", "max_watts", "weighted_average_watts", "device_watts", "kilojoules")

# Strava as a new application meets it: the default limits (the sandbox's FAKE has raised ones).
STRAVA_DEFAULTS = FakeApi(FAKE.mount, api.FakeStrava, FAKE.config_text)


def keys_without(*absent: str) -> list[str]:
    return [k for k in SUMMARY_KEYS if k not in absent]


@pytest.fixture
def strava(world: SandboxWorld) -> Iterator[Sandbox]:
    with Sandbox(world, fakes=[STRAVA_DEFAULTS]) as running:
        yield running


def fake(sandbox: Sandbox) -> FakeStrava:
    app: FakeStrava = sandbox.strava
    return app


def bearer(sandbox: Sandbox, scope: str = SCOPES) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake(sandbox).oauth.token_payload(scope)['access_token']}"}


def get(sandbox: Sandbox, path: str, headers: dict[str, str], **params: object) -> requests.Response:
    return requests.get(f"{sandbox.url('strava')}/api/v3{path}", params=params, headers=headers, timeout=30)


def token(sandbox: Sandbox, **form: str) -> requests.Response:
    return requests.post(f"{sandbox.url('strava')}/oauth/token", data=form, timeout=10)


def authorize(sandbox: Sandbox, scope: str = SCOPES) -> dict[str, list[str]]:
    redirect = requests.get(f"{sandbox.url('strava')}/oauth/authorize", params={
        "client_id": "sandbox", "redirect_uri": REDIRECT, "response_type": "code", "approval_prompt": "auto",
        "scope": scope, "state": "s1"}, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith(REDIRECT + "?")
    return parse_qs(urlsplit(redirect.headers["Location"]).query)


def epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def clear_of_a_quarter_hour() -> None:
    """Wait out the last seconds of a real quarter hour, so the 15-minute counts cannot reset mid-test."""
    if time.time() % 900 > 890:
        time.sleep(900 - time.time() % 900 + 0.5)


# -- OAuth ----------------------------------------------------------------------------------------------------


def test_the_code_flow_answers_strava_shapes_with_the_scope_only_on_the_redirect(strava: Sandbox) -> None:
    fake(strava).settings.unchecked_scopes = frozenset({"profile:read_all"})
    callback = authorize(strava)
    assert callback["state"] == ["s1"] and callback["scope"] == ["read,activity:read_all"]
    exchange = token(strava, code=callback["code"][0], grant_type="authorization_code", **CLIENT)
    assert exchange.status_code == 200 and not RATE_HEADERS & set(exchange.headers)
    body = exchange.json()
    assert list(body) == ["token_type", "expires_at", "expires_in", "refresh_token", "access_token", "athlete"]
    assert body["token_type"] == "Bearer" and body["expires_in"] == 21600
    assert body["expires_at"] == int(FROZEN_NOW.timestamp()) + 21600
    athlete = body["athlete"]
    assert athlete["resource_state"] == 2 and athlete["id"] == data.athlete_id(strava.world)
    assert list(athlete) == ["id", "username", "resource_state", "firstname", "lastname", "bio", "city", "state",
                             "country", "sex", "premium", "summit", "created_at", "updated_at", "badge_type_id",
                             "weight", "profile_medium", "profile", "friend", "follower"]
    again = token(strava, code=callback["code"][0], grant_type="authorization_code", **CLIENT)
    assert again.status_code == 400 and again.json() == {
        "message": "Bad Request", "errors": [{"resource": "RequestToken", "field": "code", "code": "invalid"}]}
    # the token works; its scope lacks profile:read_all, unticked on the consent page
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert get(strava, "/athlete", headers).json()["resource_state"] == 3
    assert get(strava, "/athlete/zones", headers).json() == {"message": "Authorization Error", "errors": [
        {"resource": "AccessToken", "field": "profile:read_all_permission", "code": "missing"}]}


def test_a_refresh_reuses_a_token_with_over_an_hour_left_and_then_rotates_both(strava: Sandbox) -> None:
    first = token(strava, code=authorize(strava)["code"][0], grant_type="authorization_code", **CLIENT).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **CLIENT}
    same = token(strava, **refresh).json()
    assert list(same) == ["token_type", "access_token", "expires_at", "expires_in", "refresh_token"]
    assert (same["access_token"], same["refresh_token"], same["expires_at"]) == (
        first["access_token"], first["refresh_token"], first["expires_at"])

    strava.world.clock.advance(timedelta(hours=5, seconds=1))  # 59:59 left: a new access token
    fresh = token(strava, **refresh).json()
    assert fresh["access_token"] != first["access_token"] and fresh["expires_in"] == 21600
    assert fresh["refresh_token"] != first["refresh_token"]
    dead = token(strava, **refresh)
    assert dead.status_code == 400 and dead.json() == {
        "message": "Bad Request", "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}]}
    # both access tokens work until they expire
    for access in (first["access_token"], fresh["access_token"]):
        assert get(strava, "/athlete/zones", {"Authorization": f"Bearer {access}"}).status_code == 200
    strava.world.clock.advance(timedelta(hours=1))
    assert get(strava, "/athlete/zones", {"Authorization": f"Bearer {first['access_token']}"}).json() == BAD_TOKEN

    fake(strava).settings.refresh_tokens_rotate = False
    strava.world.clock.advance(timedelta(hours=6))
    kept = token(strava, grant_type="refresh_token", refresh_token=fresh["refresh_token"], **CLIENT).json()
    assert kept["refresh_token"] == fresh["refresh_token"] and kept["access_token"] != fresh["access_token"]


def test_the_token_endpoint_tells_an_unknown_client_from_a_wrong_secret(strava: Sandbox) -> None:
    unknown = {"message": "Bad Request", "errors": [{"resource": "Application", "field": "client_id", "code": "invalid"}]}
    for form in ({"client_id": "nobody", "client_secret": "x", "grant_type": "refresh_token"},
                 {"client_id": "sandbox", "grant_type": "refresh_token"}, {**CLIENT}, {}):
        answer = token(strava, **form)
        assert (answer.status_code, answer.json()) == (400, unknown)
    wrong = token(strava, client_id="sandbox", client_secret="wrong", grant_type="refresh_token", refresh_token="r")
    assert wrong.status_code == 401 and wrong.json() == {
        "message": "Authorization Error", "errors": [{"resource": "Application", "field": "", "code": "invalid"}]}
    basic = requests.post(f"{strava.url('strava')}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "r"},
                          auth=("sandbox", "sandbox-secret"), timeout=10)
    assert basic.status_code == 400  # client credentials go in the body


def test_deauthorize_revokes_and_answers_the_token_with_the_quota(strava: Sandbox) -> None:
    headers = bearer(strava)
    access = headers["Authorization"].split()[1]
    answer = requests.post(f"{strava.url('strava')}/oauth/deauthorize", data={"access_token": access}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"access_token": access}
    assert answer.headers["X-RateLimit-Usage"] == "1,1"
    assert get(strava, "/athlete", headers).json() == BAD_TOKEN


# -- errors ---------------------------------------------------------------------------------------------------


def test_api_errors_are_strava_fault_bodies(strava: Sandbox) -> None:
    assert get(strava, "/athlete", {}).status_code == 401
    assert get(strava, "/athlete", {"Authorization": "Bearer nope"}).json() == BAD_TOKEN
    read_only = bearer(strava, "read")
    assert get(strava, "/athlete", read_only).status_code == 200
    missing = get(strava, "/athlete/activities", read_only)
    assert missing.status_code == 401 and missing.json() == {"message": "Authorization Error", "errors": [
        {"resource": "AccessToken", "field": "activity:read_permission", "code": "missing"}]}
    headers = bearer(strava)
    unknown = get(strava, "/activities/12345", headers)
    assert unknown.status_code == 404 and unknown.json() == RECORD_NOT_FOUND
    in_ms = get(strava, "/athlete/activities", headers, after=int(FROZEN_NOW.timestamp()) * 1000)
    assert in_ms.status_code == 400 and in_ms.json() == {
        "message": "Bad Request", "errors": [{"resource": "Application", "field": "after", "code": "future"}]}
    strava.world.clock.advance(timedelta(hours=6))
    assert get(strava, "/athlete", headers).json() == BAD_TOKEN


def test_an_inactive_app_gets_403_on_the_api_while_refresh_still_works(strava: Sandbox) -> None:
    first = token(strava, code=authorize(strava)["code"][0], grant_type="authorization_code", **CLIENT).json()
    fake(strava).settings.inactive = True
    refused = get(strava, "/athlete/activities", {"Authorization": f"Bearer {first['access_token']}"}, per_page=1)
    assert refused.status_code == 403 and refused.json() == {
        "message": "Forbidden", "errors": [{"resource": "Application", "field": "Status", "code": "Inactive"}]}
    assert token(strava, grant_type="refresh_token", refresh_token=first["refresh_token"], **CLIENT).status_code == 200


# -- the activity list ----------------------------------------------------------------------------------------


def test_the_list_is_newest_first_but_oldest_first_with_after_alone(strava: Sandbox) -> None:
    headers = bearer(strava)
    everything = get(strava, "/athlete/activities", headers, per_page=200).json()
    starts = [epoch(i["start_date"]) for i in everything]
    assert everything == fake(strava).live_activities() and starts == sorted(starts, reverse=True) and len(everything) == 25
    assert get(strava, "/athlete/activities", headers).json() == everything  # 30 a page by default

    after = starts[10]
    forward = get(strava, "/athlete/activities", headers, after=after, per_page=4).json()
    assert [i["id"] for i in forward] == [i["id"] for i in everything[9::-1]][:4]  # ascending, `after` excluded
    second = get(strava, "/athlete/activities", headers, after=after, per_page=4, page=2).json()
    assert [i["id"] for i in second] == [i["id"] for i in everything[9::-1]][4:8]
    window = get(strava, "/athlete/activities", headers, after=starts[12], before=starts[3]).json()
    assert [i["id"] for i in window] == [i["id"] for i in everything[4:12]]  # descending, both bounds excluded
    assert get(strava, "/athlete/activities", headers, per_page=10, page=3).json() == everything[20:]
    assert get(strava, "/athlete/activities", headers, per_page=10, page=4).json() == []


def test_per_page_is_capped_not_refused(strava: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.MAX_PER_PAGE == 200
    monkeypatch.setattr(api, "MAX_PER_PAGE", 7)  # the person has 25 activities: see the cap work on fewer
    answer = get(strava, "/athlete/activities", bearer(strava), per_page=500)
    assert answer.status_code == 200 and len(answer.json()) == 7


def test_list_items_leave_out_what_an_activity_lacks_in_the_served_order(strava: Sandbox) -> None:
    items = {i["sport_type"]: i for i in get(strava, "/athlete/activities", bearer(strava), per_page=50).json()}
    run, weights, walk, yoga, ride = (items[k] for k in ("Run", "WeightTraining", "Walk", "Yoga", "Ride"))
    assert list(run) == keys_without()
    assert list(weights) == keys_without("average_cadence", *POWER, "elev_high", "elev_low")
    assert list(walk) == keys_without("workout_type", *POWER)
    assert list(yoga) == keys_without("workout_type", "device_name", "average_cadence", *POWER, "average_heartrate",
                                      "max_heartrate", "elev_high", "elev_low", "upload_id_str", "suffer_score")
    assert list(ride) == keys_without("device_name", "average_cadence", *POWER, "average_heartrate", "max_heartrate",
                                      "elev_high", "elev_low", "upload_id_str", "suffer_score")
    assert (run["workout_type"], weights["workout_type"], ride["workout_type"]) == (0, 30, 10)
    assert weights["trainer"] is True and weights["start_latlng"] == [] and weights["map"]["summary_polyline"] == ""
    assert weights["total_elevation_gain"] == 0 and isinstance(weights["total_elevation_gain"], int)
    assert (yoga["manual"], yoga["upload_id"], yoga["external_id"], yoga["max_speed"]) == (True, None, None, 0)
    assert yoga["has_heartrate"] is False and yoga["display_hide_heartrate_option"] is False
    assert run["kilojoules"] == round(run["average_watts"] * run["moving_time"] / 1000, 1)
    assert run["device_name"] == "Garmin Forerunner 265" and run["gear_id"] == "g17260533"
    assert len(run["start_latlng"]) == 2 and run["map"]["summary_polyline"]
    assert all("calories" not in i and "description" not in i for i in items.values())


def test_times_follow_the_zone_at_the_start_with_the_standard_offset_in_brackets(strava: Sandbox) -> None:
    for item in fake(strava).live_activities():
        start = datetime.strptime(item["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        zone = strava.world.tz_at(start)
        local = start.astimezone(zone)
        assert item["utc_offset"] == (local.utcoffset() or timedelta(0)).total_seconds()
        assert item["start_date_local"] == local.strftime("%Y-%m-%dT%H:%M:%SZ")
        bracket = "(GMT+01:00) Europe/Berlin" if zone.key == TIMEZONE else "(GMT-05:00) America/New_York"
        assert item["timezone"] == bracket
    offsets = {(i["timezone"], i["utc_offset"]) for i in fake(strava).live_activities()}
    assert offsets == {("(GMT+01:00) Europe/Berlin", 3600.0), ("(GMT+01:00) Europe/Berlin", 7200.0),
                       ("(GMT-05:00) America/New_York", -14400.0)}


def test_the_2025_shape_names_the_device_only_in_the_detail(strava: Sandbox) -> None:
    fake(strava).settings.device_name_in_list = False
    headers = bearer(strava)
    item = get(strava, "/athlete/activities", headers, per_page=1).json()[0]
    assert "device_name" not in item
    detail = get(strava, f"/activities/{item['id']}", headers).json()
    assert list(detail).index("device_name") == list(detail).index("hide_from_home") + 1


# -- one activity ----------------------------------------------------------------------------------------------


def test_a_run_detail_laps_zones_and_streams_agree_with_the_tracker(strava: Sandbox) -> None:
    headers = bearer(strava)
    run = next(i for i in fake(strava).live_activities() if i["sport_type"] == "Run")
    detail = get(strava, f"/activities/{run['id']}", headers).json()
    listed = {k: v for k, v in run.items() if k not in ("resource_state", "map")}
    assert {k: detail[k] for k in listed} == listed and detail["resource_state"] == 3
    assert list(detail)[len(run):] == [
        "description", "calories", "perceived_exertion", "prefer_perceived_exertion", "segment_efforts", "splits_metric",
        "splits_standard", "laps", "best_efforts", "gear", "photos", "stats_visibility", "hide_from_home", "embed_token",
        "available_zones"]
    assert list(detail["map"]) == ["id", "polyline", "resource_state", "summary_polyline"]
    start = datetime.strptime(run["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    end = start + timedelta(seconds=run["elapsed_time"])
    day = strava.world.day_of(start)
    workout = tracker.exercise(strava.world, day)
    assert workout is not None and (workout.start, workout.end) == (start, end) and detail["calories"] == workout.kcal
    assert detail["available_zones"] == ["heartrate", "pace"] and detail["gear"]["id"] == run["gear_id"]

    streams = get(strava, f"/activities/{run['id']}/streams", headers,
                  keys="time,heartrate,latlng,altitude,moving,velocity_smooth,cadence,watts,temp", key_by_type="true")
    assert streams.status_code == 200 and not RATE_HEADERS & set(streams.headers)
    body = streams.json()
    assert list(body) == ["distance", "altitude", "cadence", "heartrate", "latlng", "moving", "time", "velocity_smooth", "watts"]
    beats = [b for b in tracker.heart_rate(strava.world, day, 1) if start <= b.at < end]
    assert body["heartrate"]["data"] == [b.bpm for b in beats]
    assert body["time"]["data"] == [int((b.at - start).total_seconds()) for b in beats]
    assert body["heartrate"] == {"data": body["heartrate"]["data"], "series_type": "distance",
                                 "original_size": len(beats), "resolution": "high"}
    assert run["average_heartrate"] == round(sum(b.bpm for b in beats) / len(beats), 1)
    assert run["max_heartrate"] == float(max(b.bpm for b in beats))
    assert run["distance"] == body["distance"]["data"][-1] and run["moving_time"] == sum(body["moving"]["data"])
    assert list(get(strava, f"/activities/{run['id']}/streams", headers, key_by_type="true").json()) == ["distance"]

    laps = get(strava, f"/activities/{run['id']}/laps", headers).json()
    assert laps == detail["laps"] and len(laps) == len(detail["splits_metric"]) >= 2
    assert list(laps[0]) == ["id", "resource_state", "name", "activity", "athlete", "elapsed_time", "moving_time",
                             "start_date", "start_date_local", "distance", "average_speed", "max_speed", "lap_index",
                             "split", "start_index", "end_index", "total_elevation_gain", "average_cadence",
                             "device_watts", "average_watts", "average_heartrate", "max_heartrate", "pace_zone"]
    assert laps[0]["start_index"] == 0 and laps[-1]["end_index"] == len(beats) - 1
    assert round(sum(lap["distance"] for lap in laps), 1) == pytest.approx(run["distance"], abs=0.1)

    zones = get(strava, f"/activities/{run['id']}/zones", headers).json()
    assert [z["type"] for z in zones] == ["heartrate", "pace"]
    heart, pace = zones
    buckets = heart["distribution_buckets"]
    assert [(b["min"], b["max"]) for b in buckets] == [(0, 113), (114, 141), (142, 155), (156, 169), (170, -1)]
    assert sum(b["time"] for b in buckets) == float(len(beats)) and all(isinstance(b["time"], float) for b in buckets)
    assert heart["score"] == run["suffer_score"] and list(heart) == [
        "score", "distribution_buckets", "type", "resource_state", "sensor_based", "points", "custom_zones"]
    assert list(pace["distribution_buckets"][0]) == ["max", "min", "time"] and pace["distribution_buckets"][-1]["max"] == -1
    assert sum(b["time"] for b in pace["distribution_buckets"]) == run["moving_time"]
    assert "points" not in pace and isinstance(pace["score"], int)


def test_weights_and_manual_activities_have_what_they_record(strava: Sandbox) -> None:
    headers = bearer(strava)
    items = {i["sport_type"]: i for i in fake(strava).live_activities()}
    weights, yoga = items["WeightTraining"], items["Yoga"]
    detail = get(strava, f"/activities/{weights['id']}", headers).json()
    assert "splits_metric" not in detail and detail["available_zones"] == ["heartrate"] and len(detail["laps"]) == 1
    assert detail["laps"][0]["elapsed_time"] == weights["elapsed_time"] and "pace_zone" not in detail["laps"][0]
    streams = get(strava, f"/activities/{weights['id']}/streams", headers, keys="time,heartrate,latlng", key_by_type="true")
    assert list(streams.json()) == ["distance", "heartrate", "time"] and set(streams.json()["distance"]["data"]) == {0.0}

    manual = get(strava, f"/activities/{yoga['id']}", headers).json()
    assert manual["laps"] == [] and manual["available_zones"] == [] and "device_name" not in manual
    assert get(strava, f"/activities/{yoga['id']}/zones", headers).json() == []
    missing = get(strava, f"/activities/{yoga['id']}/streams", headers, keys="time", key_by_type="true")
    assert missing.status_code == 404 and missing.json() == {"message": "Resource Not Found", "errors": []}


def test_athlete_and_zones(strava: Sandbox) -> None:
    headers = bearer(strava)
    athlete = get(strava, "/athlete", headers).json()
    assert athlete["resource_state"] == 3 and athlete["measurement_preference"] == "meters" and "email" not in athlete
    runs = [i for i in fake(strava).live_activities() if i["sport_type"] == "Run"]
    assert athlete["shoes"] == [{"id": "g17260533", "primary": True, "name": "ASICS Novablast 4", "nickname": None,
                                 "resource_state": 2, "retired": False,
                                 "distance": 214_500 + int(sum(r["distance"] for r in runs)),
                                 "converted_distance": round((214_500 + int(sum(r["distance"] for r in runs))) / 1000, 1)}]
    assert get(strava, "/athlete/zones", headers).json() == {"heart_rate": {"custom_zones": False, "zones": [
        {"min": 0, "max": 113}, {"min": 113, "max": 141}, {"min": 141, "max": 155}, {"min": 155, "max": 169},
        {"min": 169, "max": -1}]}}


# -- quota ------------------------------------------------------------------------------------------------------


def test_every_answer_but_streams_says_the_usage_and_streams_still_count(strava: Sandbox) -> None:
    clear_of_a_quarter_hour()
    headers = bearer(strava)
    first = get(strava, "/athlete/zones", headers)
    assert {k: first.headers[k] for k in RATE_HEADERS} == {
        "X-RateLimit-Limit": "200,2000", "X-RateLimit-Usage": "1,1",
        "X-ReadRateLimit-Limit": "100,1000", "X-ReadRateLimit-Usage": "1,1"}
    yoga = next(i for i in fake(strava).live_activities() if i["sport_type"] == "Yoga")
    assert not RATE_HEADERS & set(get(strava, f"/activities/{yoga['id']}/streams", headers, keys="time").headers)
    assert get(strava, "/athlete/zones", headers).headers["X-ReadRateLimit-Usage"] == "3,3"
    assert get(strava, "/athlete/zones", {"Authorization": "Bearer nope"}).status_code == 401  # no app: not counted
    assert get(strava, "/athlete/zones", headers).headers["X-RateLimit-Usage"] == "4,4"


def test_over_the_read_limit_is_a_429_and_the_day_renews_at_utc_midnight(strava: Sandbox) -> None:
    clear_of_a_quarter_hour()
    fake(strava).settings = StravaSettings(read_per_15min=3)
    headers = bearer(strava, "read,profile:read_all")
    assert [get(strava, "/athlete/zones", headers).status_code for _ in range(3)] == [200, 200, 200]
    refused = get(strava, "/athlete/zones", headers)
    assert refused.status_code == 429 and refused.json() == RATE_LIMITED
    assert (refused.headers["X-ReadRateLimit-Limit"], refused.headers["X-ReadRateLimit-Usage"]) == ("3,1000", "4,4")

    fake(strava).settings = StravaSettings(read_per_day=5)
    assert get(strava, "/athlete/zones", headers).headers["X-ReadRateLimit-Usage"] == "5,5"
    assert get(strava, "/athlete/zones", headers).status_code == 429
    strava.world.clock.advance(timedelta(hours=12, seconds=1))  # past midnight UTC on the sandbox clock
    headers = bearer(strava, "read,profile:read_all")  # the old token has expired
    renewed = get(strava, "/athlete/zones", headers)
    assert renewed.status_code == 200 and renewed.headers["X-ReadRateLimit-Usage"] == "7,1"
    fake(strava).settings = StravaSettings(read_per_day=0)  # a window turned off: no read headers at all
    assert "X-ReadRateLimit-Usage" not in get(strava, "/athlete/zones", headers).headers

    injected = fake(strava).rate_limited(1)
    assert injected.status == 429 and injected.headers["Retry-After"] == "1"
    assert injected.headers["X-RateLimit-Usage"] == "8,2" and injected.body.startswith(b'{"message":"Rate Limit')


# -- the account over time ---------------------------------------------------------------------------------------


def test_a_late_upload_appears_only_once_uploaded(world: SandboxWorld) -> None:
    long_ago = SandboxWorld(seed=world.seed, days=240, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    late = next(a for d in range(240) for a in data.activities(long_ago, FROZEN_NOW.date() - timedelta(days=d))
                if a.uploaded_at - a.end > timedelta(days=2))
    assert late.uploaded_at - late.end <= timedelta(days=5)
    then = SandboxWorld(seed=world.seed, days=8, timezone=TIMEZONE, clock=SandboxClock(late.end + timedelta(hours=1)))
    with Sandbox(then, fakes=[STRAVA_DEFAULTS]) as sandbox:
        headers = bearer(sandbox)
        assert late.id in fake(sandbox).activity_ids_for(late.day) and fake(sandbox).upload_time(late.id) == late.uploaded_at
        assert late.id not in [i["id"] for i in get(sandbox, "/athlete/activities", headers).json()]
        assert get(sandbox, f"/activities/{late.id}", headers).json() == RECORD_NOT_FOUND
        then.clock.advance(late.uploaded_at - then.clock.now())
        headers = bearer(sandbox)  # days later: a fresh token
        assert late.id in [i["id"] for i in get(sandbox, "/athlete/activities", headers).json()]
        assert get(sandbox, f"/activities/{late.id}", headers).status_code == 200


def test_delete_and_rename_hooks(strava: Sandbox) -> None:
    headers = bearer(strava)
    first, second = fake(strava).live_activities()[:2]
    fake(strava).rename(first["id"], "Heavy squats")
    assert get(strava, "/athlete/activities", headers, per_page=1).json()[0]["name"] == "Heavy squats"
    assert get(strava, f"/activities/{first['id']}", headers).json()["name"] == "Heavy squats"
    fake(strava).delete(second["id"])
    assert second["id"] not in [i["id"] for i in get(strava, "/athlete/activities", headers).json()]
    for tail in ("", "/laps", "/zones", "/streams?keys=time"):
        gone = requests.get(f"{strava.url('strava')}/api/v3/activities/{second['id']}{tail}", headers=headers, timeout=10)
        assert (gone.status_code, gone.json()) == (404, RECORD_NOT_FOUND)
    fake(strava).edit(first["id"], private=True, visibility="only_me")
    without_private = bearer(strava, "read,activity:read")
    assert first["id"] not in [i["id"] for i in get(strava, "/athlete/activities", without_private).json()]
    assert get(strava, f"/activities/{first['id']}", without_private).status_code == 404
    assert get(strava, f"/activities/{first['id']}", headers).json()["visibility"] == "only_me"
