"""The Oura fake behaves as provider-apis.md §1 says the real API does (the slice's endpoints)."""

from datetime import date, datetime, timedelta

import pytest
import requests

from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sources.oura.sandbox.api import SCOPES, OuraSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE


@pytest.fixture
def token(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.oura.oauth.token_payload(' '.join(SCOPES))['access_token']}"}


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


ALL_DAILY = [
    "daily_activity", "daily_readiness", "daily_sleep", "sleep", "sleep_time", "daily_spo2", "daily_stress",
    "daily_resilience", "daily_cardiovascular_age", "vO2_max", "workout", "session", "tag", "enhanced_tag",
    "rest_mode_period",
]


@pytest.mark.parametrize("name", ALL_DAILY)
def test_every_date_keyed_collection_serves_its_documents_and_pages(sandbox: Sandbox, token: dict, name: str) -> None:
    sandbox.oura.settings = OuraSettings(daily_page_size=5)
    start, end = date(2026, 9, 15), date(2026, 11, 10)
    params = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    body = get(sandbox, name, token, **params).json()
    served = list(body["data"])
    while body["next_token"]:
        body = get(sandbox, name, token, next_token=body["next_token"], **params).json()
        served.extend(body["data"])
    expected = truth.oura_documents(sandbox.world, name, start, end)
    assert served == expected
    assert expected, f"{name} has no documents in 8 weeks: the generator is too sparse to test"
    assert len({d["id"] for d in served}) == len(served)


def test_sleep_documents_are_consistent_and_include_naps_and_excluded_types(sandbox: Sandbox) -> None:
    documents = truth.oura_documents(sandbox.world, "sleep", date(2026, 9, 15), date(2026, 11, 10))
    assert {d["type"] for d in documents} >= {"long_sleep", "late_nap", "rest"}
    for d in documents:
        stages = {"1": 0, "2": 0, "3": 0, "4": 0}
        for code in d["sleep_phase_5_min"]:
            stages[code] += 300
        assert (d["deep_sleep_duration"], d["light_sleep_duration"], d["rem_sleep_duration"], d["awake_time"]) == (
            stages["1"], stages["2"], stages["3"], stages["4"])
        assert d["total_sleep_duration"] == d["time_in_bed"] - d["awake_time"]
        assert len(d["heart_rate"]["items"]) == len(d["sleep_phase_5_min"]) and d["heart_rate"]["interval"] == 300
    assert any(None in d["heart_rate"]["items"] for d in documents)  # gaps are nulls, not zeros


def test_a_night_is_re_scored_hours_after_waking(world: SandboxWorld) -> None:
    world.clock.advance(timedelta(hours=-6))  # 06:00 UTC on the 10th: just after waking
    today = date(2026, 11, 10)
    [early] = [d for d in truth.oura_documents(world, "sleep", today, today) if d["type"] == "long_sleep"]
    assert early["sleep_analysis_reason"] == "foreground_sleep_analysis"
    world.clock.advance(timedelta(hours=12))
    [late] = [d for d in truth.oura_documents(world, "sleep", today, today) if d["type"] == "long_sleep"]
    assert late["id"] == early["id"] and late["sleep_analysis_reason"] == "bedtime_edit"
    assert late["deep_sleep_duration"] == early["deep_sleep_duration"] + 300
    assert late["light_sleep_duration"] == early["light_sleep_duration"] - 300


def test_personal_info_is_unwrapped_and_ring_configuration_takes_no_dates(sandbox: Sandbox, token: dict) -> None:
    info = get(sandbox, "personal_info", token).json()
    assert set(info) == {"id", "age", "weight", "height", "biological_sex", "email"}
    rings = get(sandbox, "ring_configuration", token).json()
    assert rings["next_token"] is None and rings["data"][0]["hardware_type"] == "gen3"


def test_a_single_document_by_id_or_404(sandbox: Sandbox, token: dict) -> None:
    [document] = truth.oura_documents(sandbox.world, "daily_readiness", date(2026, 11, 3), date(2026, 11, 3))
    assert get(sandbox, f"daily_readiness/{document['id']}", token).json() == document
    missing = get(sandbox, "daily_readiness/nope", token)
    assert missing.status_code == 404 and missing.json() == {"detail": "Document not found"}


def test_a_scope_not_granted_gets_403(sandbox: Sandbox) -> None:
    only_daily = {"Authorization": f"Bearer {sandbox.oura.oauth.token_payload('daily')['access_token']}"}
    assert get(sandbox, "daily_activity", only_daily).status_code == 200
    denied = get(sandbox, "heartrate", only_daily)
    assert denied.status_code == 403 and denied.json() == {"detail": "Missing scope: heartrate"}


def test_over_the_rate_limit_answers_429_with_oura_headers(sandbox: Sandbox, token: dict) -> None:
    sandbox.oura.settings = OuraSettings(rate_limit=2, rate_window_s=60)
    assert [get(sandbox, "daily_activity", token).status_code for _ in range(2)] == [200, 200]
    limited = get(sandbox, "daily_activity", token)
    assert limited.status_code == 429 and limited.json() == {"detail": "Rate limit exceeded"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == "2" and limited.headers["X-RateLimit-Window"] == "60"
    assert limited.headers["X-RateLimit-Tier"] == "token" and int(limited.headers["X-RateLimit-Reset"]) > 0


def test_the_end_date_is_midnight_switch_drops_the_last_day(sandbox: Sandbox, token: dict) -> None:
    sandbox.oura.settings = OuraSettings(end_date_is_midnight=True)
    days = [d["day"] for d in get(sandbox, "daily_stress", token, start_date="2026-11-01", end_date="2026-11-05").json()["data"]]
    assert days and max(days) <= "2026-11-04"
    full = get(sandbox, "daily_stress", token, start_date="2026-11-01", end_date="2026-11-05T23:59:59").json()["data"]
    assert max(d["day"] for d in full) == "2026-11-05"


def test_a_late_sync_revises_yesterday_after_the_next_wake_up(world: SandboxWorld) -> None:
    from health_pipeline.sandbox.world import night_for

    yesterday, today = date(2026, 11, 9), date(2026, 11, 10)
    night = night_for(world, today)
    assert night is not None
    world.clock.advance(night.wake - timedelta(minutes=30) - world.clock.now())  # still asleep
    [before] = truth.oura_documents(world, "daily_activity", yesterday, yesterday)
    world.clock.advance(timedelta(hours=1))  # awake: the app syncs the evening
    [after] = truth.oura_documents(world, "daily_activity", yesterday, yesterday)
    assert after["id"] == before["id"] and after["steps"] > before["steps"]
    world.clock.advance(timedelta(days=1))
    [settled] = truth.oura_documents(world, "daily_activity", yesterday, yesterday)
    assert settled == after
