"""The Oura fake behaves as provider-apis.md §1 says the real API does (the slice's endpoints)."""

from datetime import date, datetime, timedelta

import pytest
import requests

from health_pipeline.sandbox import truth
from health_pipeline.sandbox.oura import OuraSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE


@pytest.fixture
def token(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.oura.oauth.token_payload('daily heartrate')['access_token']}"}


def get(sandbox: Sandbox, path: str, headers: dict[str, str], **params: str) -> requests.Response:
    return requests.get(f"{sandbox.url('oura')}/v2/usercollection/{path}", params=params, headers=headers, timeout=10)


def test_daily_activity_answers_the_envelope_with_both_bounds_inclusive_on_day(sandbox: Sandbox, token: dict) -> None:
    response = get(sandbox, "daily_activity", token, start_date="2026-10-20", end_date="2026-10-29")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"data", "next_token"} and body["next_token"] is None
    expected = truth.oura_daily_activity(sandbox.world, date(2026, 10, 20), date(2026, 10, 29))
    assert body["data"] == expected
    assert [d["day"] for d in body["data"]][0] >= "2026-10-20" and body["data"][-1]["day"] <= "2026-10-29"


@pytest.mark.parametrize("repeat_dates", [False, True])
def test_next_token_paging_works_with_or_without_the_original_dates(
    sandbox: Sandbox, token: dict, repeat_dates: bool
) -> None:
    sandbox.oura.settings = OuraSettings(daily_page_size=7)
    params = {"start_date": "2026-10-01", "end_date": "2026-10-31"}
    pages, body = [], get(sandbox, "daily_activity", token, **params).json()
    pages.append(body["data"])
    while body["next_token"]:
        extra = params if repeat_dates else {}
        body = get(sandbox, "daily_activity", token, next_token=body["next_token"], **extra).json()
        pages.append(body["data"])
    assert all(len(page) <= 7 for page in pages) and len(pages) >= 4
    assert [d for page in pages for d in page] == truth.oura_daily_activity(sandbox.world, date(2026, 10, 1), date(2026, 10, 31))


def test_heartrate_takes_datetimes_with_an_encoded_offset_and_ignores_start_date(sandbox: Sandbox, token: dict) -> None:
    start, end = "2026-11-01T00:00:00+01:00", "2026-11-02T00:00:00+01:00"
    rows = get(sandbox, "heartrate", token, start_datetime=start, end_datetime=end).json()["data"]
    assert rows == truth.oura_heartrate(sandbox.world, datetime.fromisoformat(start), datetime.fromisoformat(end))
    assert 200 < len(rows) <= 288 and all(r["timestamp"].endswith("+00:00") for r in rows)
    assert {r["source"] for r in rows} <= {"awake", "rest", "sleep", "workout"}
    # the trap in the reference: dates instead of datetimes silently answer nothing
    assert get(sandbox, "heartrate", token, start_date="2026-11-01", end_date="2026-11-02").json() == {
        "data": [], "next_token": None
    }
    # a raw '+' decodes to a space: FastAPI's 422
    bad = requests.get(f"{sandbox.url('oura')}/v2/usercollection/heartrate?start_datetime=2026-11-01T00:00:00+01:00",
                       headers=token, timeout=10)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "start_datetime"]


def test_heartrate_pages_by_instant(sandbox: Sandbox, token: dict) -> None:
    sandbox.oura.settings = OuraSettings(heartrate_page_size=100)
    params = {"start_datetime": "2026-11-01T00:00:00+01:00", "end_datetime": "2026-11-03T00:00:00+01:00"}
    body = get(sandbox, "heartrate", token, **params).json()
    rows = list(body["data"])
    while body.get("next_token"):
        body = get(sandbox, "heartrate", token, next_token=body["next_token"]).json()
        rows.extend(body["data"])
    assert rows == truth.oura_heartrate(
        sandbox.world, datetime.fromisoformat(params["start_datetime"]), datetime.fromisoformat(params["end_datetime"])
    )


def test_the_25_hour_daylight_saving_day_has_a_longer_heartrate_day(world: SandboxWorld) -> None:
    assert world.day_length_s(date(2026, 10, 25)) == 25 * 3600
    assert world.day_length_s(date(2026, 3, 29)) == 23 * 3600
    assert world.day_length_s(date(2026, 10, 26)) == 24 * 3600


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "Not authenticated"), ({"Authorization": "Bearer nope"}, "Invalid or revoked access token")],
)
def test_requests_without_a_valid_bearer_token_get_401_with_detail(sandbox: Sandbox, headers: dict, detail: str) -> None:
    response = get(sandbox, "daily_activity", headers)
    assert response.status_code == 401 and response.json() == {"detail": detail}


def test_an_expired_access_token_gets_401(sandbox: Sandbox, token: dict) -> None:
    sandbox.oura.oauth.expire_access_tokens()
    assert get(sandbox, "daily_activity", token).json() == {"detail": "Access token has expired"}


def test_bad_parameters_get_oura_error_bodies(sandbox: Sandbox, token: dict) -> None:
    bad_date = get(sandbox, "daily_activity", token, start_date="yesterday")
    assert bad_date.status_code == 422
    assert bad_date.json()["detail"][0]["loc"] == ["query", "start_date"]
    reversed_range = get(sandbox, "daily_activity", token, start_date="2026-11-02", end_date="2026-11-01")
    assert reversed_range.status_code == 400 and reversed_range.json() == {"detail": "Start date is greater than end date"}
    assert get(sandbox, "no_such_thing", token).status_code == 404


def test_oauth_code_flow_and_single_use_refresh_tokens(sandbox: Sandbox) -> None:
    base = sandbox.url("oura")
    redirect = requests.get(f"{base}/oauth/authorize", params={
        "response_type": "code", "client_id": "sandbox", "redirect_uri": "http://localhost:8484/callback", "state": "s1",
    }, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith("http://localhost:8484/callback?code=") and location.endswith("&state=s1")
    code = location.split("code=")[1].split("&")[0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost:8484/callback",
            "client_id": "sandbox", "client_secret": "sandbox-secret"}
    token = requests.post(f"{base}/oauth/token", data=form, timeout=10).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 86400
    assert requests.post(f"{base}/oauth/token", data=form, timeout=10).json()["error"] == "invalid_grant"  # code reused

    refresh = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    rotated = requests.post(f"{base}/oauth/token", data=refresh, auth=("sandbox", "sandbox-secret"), timeout=10)
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != token["refresh_token"]
    reused = requests.post(f"{base}/oauth/token", data=refresh, auth=("sandbox", "sandbox-secret"), timeout=10)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    wrong_client = requests.post(f"{base}/oauth/token", data={**refresh, "client_id": "x", "client_secret": "y"}, timeout=10)
    assert wrong_client.status_code == 401


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    def world(seed: int) -> SandboxWorld:
        return SandboxWorld(seed=seed, days=30, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))

    window = (date(2026, 11, 1), date(2026, 11, 9))
    assert truth.oura_daily_activity(world(1), *window) == truth.oura_daily_activity(world(1), *window)
    assert truth.oura_daily_activity(world(1), *window) != truth.oura_daily_activity(world(2), *window)


def test_data_stops_at_the_clock_and_advancing_it_brings_the_rest_of_the_day(world: SandboxWorld) -> None:
    today = FROZEN_NOW.astimezone(world.tz).date()
    start, end = datetime.combine(today, datetime.min.time(), world.tz), FROZEN_NOW + timedelta(days=1)
    before = truth.oura_heartrate(world, start, end)
    assert max(datetime.fromisoformat(r["timestamp"]) for r in before) <= FROZEN_NOW
    steps_before = truth.oura_daily_activity(world, today, today)[0]["steps"]
    world.clock.advance(timedelta(hours=6))
    assert len(truth.oura_heartrate(world, start, end)) > len(before)
    assert truth.oura_daily_activity(world, today, today)[0]["steps"] > steps_before
    assert truth.oura_daily_activity(world, today + timedelta(days=1), today + timedelta(days=1)) == []


def test_unknown_prefixes_get_an_html_404_and_every_request_is_logged(sandbox: Sandbox, token: dict) -> None:
    response = requests.get(f"{sandbox.base_url}/fitbit/1/user/-/profile.json", timeout=10)
    assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/html")
    get(sandbox, "daily_activity", token, start_date="2026-11-01", end_date="2026-11-02")
    entries = sandbox.log.entries()
    assert [(e.provider, e.method, e.path, e.status) for e in entries] == [
        ("fitbit", "GET", "/1/user/-/profile.json", 404),
        ("oura", "GET", "/v2/usercollection/daily_activity", 200),
    ]
    assert entries[1].params == {"start_date": "2026-11-01", "end_date": "2026-11-02"}
