"""The Google Health API v4 fake follows google-health-api.md (discovery revision 20260527)."""

from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.fitbit.sandbox.api import ALL_SCOPES, SCOPE_PREFIX, GoogleSettings
from health_pipeline.sandbox.server import Sandbox

DAY = '"2026-11-09T00:00:00Z"'
NEXT = '"2026-11-10T00:00:00Z"'


@pytest.fixture
def auth(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.google_health.oauth.token_payload(ALL_SCOPES)['access_token']}"}


def url(sandbox: Sandbox, data_type: str, method: str = "") -> str:
    suffix = f":{method}" if method else ""
    return f"{sandbox.url('google-health')}/v4/users/me/dataTypes/{data_type}/dataPoints{suffix}"


def list_all(sandbox: Sandbox, auth: dict, data_type: str, flt: str | None, **params: Any) -> tuple[list[dict], int]:
    points, pages, token = [], 0, None
    while True:
        query = {**params, **({"filter": flt} if flt else {}), **({"pageToken": token} if token else {})}
        body = requests.get(url(sandbox, data_type), params=query, headers=auth, timeout=30).json()
        points.extend(body["dataPoints"])
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            return points, pages


def error_of(response: requests.Response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    reason = error["details"][0]["reason"] if error.get("details") else None
    return error["code"], error["status"], reason


LISTABLE = [t for t in gd.DATA_TYPES.values() if t.listable]


def filter_for(t: gd.DataType, lower: str, upper: str) -> str:
    member = {"interval": "interval.start_time", "sample": "sample_time.physical_time", "daily": "date"}.get(t.kind)
    if t.path == "sleep":
        member = "interval.end_time"
    if t.path == "exercise":
        member = "interval.civil_start_time"
        lower, upper = lower[:-2] + '"', upper[:-2] + '"'  # civil: no zone
    if t.kind == "daily":
        lower, upper = lower[:11] + '"', upper[:11] + '"'
    return f"{t.filter_name}.{member} >= {lower} AND {t.filter_name}.{member} < {upper}"


@pytest.mark.parametrize("data_type", LISTABLE, ids=lambda t: t.path)
def test_every_listable_type_lists_newest_first_with_int64_strings(sandbox: Sandbox, auth: dict, data_type: gd.DataType) -> None:
    lower, upper = '"2026-10-26T00:00:00Z"', '"2026-11-10T00:00:00Z"'
    points, _ = list_all(sandbox, auth, data_type.path, filter_for(data_type, lower, upper))
    assert points, f"{data_type.path}: nothing in two weeks"
    keys = {k for p in points for k in p}
    assert data_type.key in keys and "dataSource" in keys and not any(k.startswith("_") for k in keys)
    starts = [_start(p[data_type.key]) for p in points]
    assert starts == sorted(starts, reverse=True)
    if data_type.path in ("steps", "distance", "heart-rate", "daily-resting-heart-rate"):
        value = points[0][data_type.key]
        number = value.get("count") or value.get("millimeters") or value.get("beatsPerMinute")
        assert isinstance(number, str) and number.isdigit()


def _start(value: dict[str, Any]) -> str:
    if "interval" in value:
        return value["interval"]["startTime"]
    if "sampleTime" in value:
        return value["sampleTime"]["physicalTime"]
    return "%04d-%02d-%02d" % (value["date"]["year"], value["date"]["month"], value["date"]["day"])


def test_page_sizes_default_1440_capped_at_5000_live_and_25_for_sessions(sandbox: Sandbox, auth: dict) -> None:
    flt = f'heart_rate.sample_time.physical_time >= "2026-11-01T00:00:00Z" AND heart_rate.sample_time.physical_time < {NEXT}'
    first = requests.get(url(sandbox, "heart-rate"), params={"filter": flt}, headers=auth, timeout=30).json()
    assert len(first["dataPoints"]) == 1440 and first["nextPageToken"]
    big = requests.get(url(sandbox, "heart-rate"), params={"filter": flt, "pageSize": 10000}, headers=auth, timeout=30).json()
    assert len(big["dataPoints"]) == 5000  # live answers stop at 5000, whatever is asked
    everything, pages = list_all(sandbox, auth, "heart-rate", flt, pageSize=10000)
    assert pages == -(-len(everything) // 5000) and len({p["heartRate"]["sampleTime"]["physicalTime"] for p in everything}) == len(everything)
    sandbox.google_health.settings.max_page_size = 10000  # the documented maximum
    big = requests.get(url(sandbox, "heart-rate"), params={"filter": flt, "pageSize": 50000}, headers=auth, timeout=30).json()
    assert len(big["dataPoints"]) == 10000  # truncated to the maximum
    sleep = requests.get(url(sandbox, "sleep"), params={"pageSize": 100}, headers=auth, timeout=30).json()
    assert len(sleep["dataPoints"]) == 25 and sleep["nextPageToken"]


def test_a_page_token_only_works_with_the_same_request(sandbox: Sandbox, auth: dict) -> None:
    flt = f"steps.interval.start_time >= {DAY} AND steps.interval.start_time < {NEXT}"
    token = requests.get(url(sandbox, "steps"), params={"filter": flt, "pageSize": 5}, headers=auth, timeout=30).json()["nextPageToken"]
    changed = requests.get(url(sandbox, "steps"), params={"filter": flt, "pageSize": 6, "pageToken": token}, headers=auth, timeout=30)
    assert error_of(changed)[:2] == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("data_type", "flt", "reason"),
    [
        ("steps", 'total-calories.interval.start_time >= "2026-11-09T00:00:00Z"', "INVALID_DATA_POINT_FILTER"),
        ("steps", 'steps.interval.start_time >= "2026-11-09T00:00:00Z" AND steps.interval.civil_start_time < "2026-11-10"',
         "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS"),
        ("steps", f"steps.interval.start_time >= {NEXT} AND steps.interval.start_time < {DAY}", "INVALID_TIME_RANGE"),
        ("steps", f"steps.interval.start_time > {DAY}", "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR"),
        ("steps", f"steps.interval.start_time >= {DAY} OR steps.interval.start_time < {NEXT}",
         "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE"),
        ("steps", f"distance.interval.start_time >= {DAY}", "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH"),
        ("steps", f"steps.interval.end_time >= {DAY}", "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
        ("steps", "steps.interval.start_time >= yesterday", "INVALID_FILTER_FORMAT"),
        ("exercise", f"exercise.interval.start_time >= {DAY}", "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
    ],
)
def test_bad_filters_get_the_documented_reasons(sandbox: Sandbox, auth: dict, data_type: str, flt: str, reason: str) -> None:
    response = requests.get(url(sandbox, data_type), params={"filter": flt}, headers=auth, timeout=30)
    assert error_of(response) == (400, "INVALID_ARGUMENT", reason)


def test_daily_filters_accept_snake_and_camel_case(sandbox: Sandbox, auth: dict) -> None:
    for name in ("daily_resting_heart_rate", "dailyRestingHeartRate"):
        flt = f'{name}.date >= "2026-11-01" AND {name}.date < "2026-11-08"'
        points, _ = list_all(sandbox, auth, "daily-resting-heart-rate", flt)
        assert [p["dailyRestingHeartRate"]["date"]["day"] for p in points] == sorted(
            [p["dailyRestingHeartRate"]["date"]["day"] for p in points], reverse=True)
        assert all(1 <= p["dailyRestingHeartRate"]["date"]["day"] <= 7 for p in points) and points


@pytest.mark.parametrize("data_type", ["floors", "total-calories", "calories-in-heart-rate-zone"])
def test_list_is_refused_for_rollup_only_types(sandbox: Sandbox, auth: dict, data_type: str) -> None:
    assert error_of(requests.get(url(sandbox, data_type), headers=auth, timeout=30))[:2] == (400, "INVALID_ARGUMENT")


def test_reconcile_omits_the_data_source_and_names_identifiable_points(sandbox: Sandbox, auth: dict) -> None:
    flt = 'weight.sample_time.physical_time >= "2026-10-01T00:00:00Z"'
    body = requests.get(url(sandbox, "weight", "reconcile"), params={"filter": flt}, headers=auth, timeout=30).json()
    assert body["dataPoints"] and all("dataSource" not in p and p["dataPointName"].startswith("users/me/dataTypes/weight/dataPoints/")
                                      for p in body["dataPoints"])
    floors = requests.get(url(sandbox, "floors", "reconcile"), params={"filter": f"floors.interval.start_time >= {DAY}"},
                          headers=auth, timeout=30)
    assert floors.status_code == 200
    bad_family = requests.get(url(sandbox, "steps", "reconcile"), params={"dataSourceFamily": "all-sources"}, headers=auth, timeout=30)
    assert error_of(bad_family) == (400, "INVALID_ARGUMENT", "INVALID_DATA_POINT_DATA_SOURCE_FAMILY")


def test_daily_rollup_sums_each_local_day_and_keys_by_civil_date(sandbox: Sandbox, auth: dict) -> None:
    body = {"range": {"start": {"date": {"year": 2026, "month": 11, "day": 1}}, "end": {"date": {"year": 2026, "month": 11, "day": 7}}},
            "windowSizeDays": 1}
    points = requests.post(url(sandbox, "steps", "dailyRollUp"), json=body, headers=auth, timeout=30).json()["rollupDataPoints"]
    for point in points:
        day = date(**point["civilStartTime"]["date"])
        assert point["civilStartTime"]["time"] == {}
        minutes = gd.interval_points(sandbox.world, gd.DATA_TYPES["steps"], day)
        assert point["steps"]["countSum"] == str(sum(int(m["steps"].get("count", 0)) for m in minutes))
    assert [date(**p["civilStartTime"]["date"]).day for p in points][-1] == 7  # the end date is inclusive
    sandbox.google_health.settings = GoogleSettings(daily_rollup_end_inclusive=False)
    exclusive = requests.post(url(sandbox, "steps", "dailyRollUp"), json=body, headers=auth, timeout=30).json()["rollupDataPoints"]
    assert date(**exclusive[-1]["civilStartTime"]["date"]).day == 6


def test_rollup_windows_and_the_range_caps(sandbox: Sandbox, auth: dict) -> None:
    body = {"range": {"startTime": "2026-11-09T00:00:00Z", "endTime": "2026-11-09T06:00:00Z"}, "windowSize": "3600s"}
    points = requests.post(url(sandbox, "heart-rate", "rollUp"), json=body, headers=auth, timeout=30).json()["rollupDataPoints"]
    assert [p["startTime"] for p in points] == [f"2026-11-09T0{h}:00:00Z" for h in range(6)]
    assert all(p["heartRate"]["beatsPerMinuteMin"] <= p["heartRate"]["beatsPerMinuteAvg"] <= p["heartRate"]["beatsPerMinuteMax"] for p in points)
    too_long = {"range": {"startTime": "2026-10-20T00:00:00Z", "endTime": "2026-11-05T00:00:00Z"}, "windowSize": "86400s"}
    assert error_of(requests.post(url(sandbox, "heart-rate", "rollUp"), json=too_long, headers=auth, timeout=30)) == (
        400, "INVALID_ARGUMENT", "INVALID_TIME_RANGE")  # 14 days for heart-rate
    assert requests.post(url(sandbox, "steps", "rollUp"), json=too_long, headers=auth, timeout=30).status_code == 200  # 90 for steps
    bad_window = dict(body, windowSize="0.5s")
    assert requests.post(url(sandbox, "steps", "rollUp"), json=bad_window, headers=auth, timeout=30).status_code == 400
    octal = '{"range": {"start": {"date": {"year": 2026, "month": 02, "day": 1}}, "end": {"date": {"year": 2026, "month": 2, "day": 2}}}}'
    leading_zero = requests.post(url(sandbox, "steps", "dailyRollUp"), data=octal, headers={**auth, "Content-Type": "application/json"}, timeout=30)
    assert leading_zero.status_code == 400 and "Invalid JSON payload" in leading_zero.json()["error"]["message"]


def test_true_zeros_are_records_without_the_metric_field(sandbox: Sandbox, auth: dict) -> None:
    points, _ = list_all(sandbox, auth, "steps", f"steps.interval.start_time >= {DAY} AND steps.interval.start_time < {NEXT}")
    assert any("count" not in p["steps"] for p in points) and any("count" in p["steps"] for p in points)


def test_civil_times_omit_zero_members(sandbox: Sandbox, auth: dict) -> None:
    flt = 'steps.interval.civil_start_time >= "2026-11-09T00:00:00" AND steps.interval.civil_start_time < "2026-11-10"'
    points, _ = list_all(sandbox, auth, "steps", flt)
    times = [p["steps"]["interval"]["civilStartTime"]["time"] for p in points]
    assert all("seconds" not in t and "nanos" not in t for t in times)
    assert any("minutes" not in t for t in times) or all(t.get("minutes") for t in times)
    assert all(p["steps"]["interval"]["civilStartTime"]["date"] == {"year": 2026, "month": 11, "day": 9} for p in points)


def test_sleep_sessions_are_rewritten_once_processed(sandbox: Sandbox, auth: dict) -> None:
    from health_pipeline.sandbox.world import night_for

    night = night_for(sandbox.world, date(2026, 11, 10))
    assert night is not None
    sandbox.world.clock.advance(night.wake + timedelta(minutes=20) - sandbox.world.clock.now())  # just after waking
    flt = 'sleep.interval.end_time >= "2026-11-10T00:00:00Z"'
    early = requests.get(url(sandbox, "sleep"), params={"filter": flt}, headers=auth, timeout=30).json()["dataPoints"]
    sandbox.world.clock.advance(timedelta(hours=2))
    fresh = {"Authorization": f"Bearer {sandbox.google_health.oauth.token_payload(ALL_SCOPES)['access_token']}"}
    late = requests.get(url(sandbox, "sleep"), params={"filter": flt}, headers=fresh, timeout=30).json()["dataPoints"]
    assert [p["name"] for p in early] == [p["name"] for p in late] and len(late) == 1
    # proto3 JSON leaves out `processed: false` and the empty `stages`
    assert "processed" not in early[0]["sleep"]["metadata"] and "stages" not in early[0]["sleep"]
    assert early[0]["sleep"]["summary"] == {} and early[0]["sleep"]["metadata"]["mainSleep"] is True
    processed = late[0]["sleep"]
    assert processed["metadata"]["processed"] is True and processed["updateTime"] > early[0]["sleep"]["updateTime"]
    total = sum(int(s["minutes"]) for s in processed["summary"]["stagesSummary"])
    assert total == int(processed["summary"]["minutesInSleepPeriod"])


def test_auth_errors_scopes_and_the_per_user_rate_limit(sandbox: Sandbox, auth: dict) -> None:
    missing = requests.get(url(sandbox, "steps"), timeout=30)
    assert error_of(missing) == (401, "UNAUTHENTICATED", "CREDENTIALS_MISSING")
    invalid = requests.get(url(sandbox, "steps"), headers={"Authorization": "Bearer nope"}, timeout=30)
    assert invalid.status_code == 401 and 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    sleep_only = {"Authorization": f"Bearer {sandbox.google_health.oauth.token_payload(SCOPE_PREFIX + 'sleep.readonly')['access_token']}"}
    assert error_of(requests.get(url(sandbox, "steps"), headers=sleep_only, timeout=30)) == (
        403, "PERMISSION_DENIED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
    sandbox.google_health.settings = GoogleSettings(rate_limit_per_minute=3)
    codes = [requests.get(url(sandbox, "sleep"), headers=auth, timeout=30).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]  # the refused scope above counted too: the limit is the user's, all tokens
    assert error_of(requests.get(url(sandbox, "sleep"), headers=auth, timeout=30))[1:] == ("RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED")


def test_unknown_paths_get_an_html_404_and_unknown_types_a_400(sandbox: Sandbox, auth: dict) -> None:
    unknown = requests.get(f"{sandbox.url('google-health')}/v4/users/me/devices", headers=auth, timeout=30)
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("text/html")
    assert error_of(requests.get(url(sandbox, "resting-heart-rate"), headers=auth, timeout=30))[:2] == (400, "INVALID_ARGUMENT")
    wrong_verb = requests.post(url(sandbox, "steps", "reconcile"), headers=auth, timeout=30)
    assert wrong_verb.status_code == 404 and wrong_verb.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/1/user/-/activities/steps/date/2026-11-01/1d.json", "/1.2/user/-/sleep/date/2026-11-01.json",
                                  "/oauth2/token", "/oauth2/authorize"])
def test_the_legacy_fitbit_web_api_is_gone(sandbox: Sandbox, path: str) -> None:
    response = requests.get(f"{sandbox.url('google-health')}{path}", timeout=30)
    assert response.status_code == 410 and response.json()["success"] is False


def test_google_oauth_offline_access_non_rotating_refresh_and_partial_consent(sandbox: Sandbox) -> None:
    base = sandbox.url("google-health")
    sandbox.google_health.settings = GoogleSettings(granted_scopes={SCOPE_PREFIX + "sleep.readonly"})

    def authorize(**extra: str) -> str:
        params = {"response_type": "code", "client_id": "sandbox", "redirect_uri": "http://localhost:8484/callback",
                  "scope": ALL_SCOPES, "state": "s", **extra}
        location = requests.get(f"{base}/o/oauth2/v2/auth", params=params, allow_redirects=False, timeout=30).headers["Location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    exchange = {"grant_type": "authorization_code", "redirect_uri": "http://localhost:8484/callback",
                "client_id": "sandbox", "client_secret": "sandbox-secret"}
    online = requests.post(f"{base}/token", data={**exchange, "code": authorize()}, timeout=30).json()
    assert "refresh_token" not in online and online["expires_in"] == 3599
    offline = requests.post(f"{base}/token", data={**exchange, "code": authorize(access_type="offline", prompt="consent")}, timeout=30).json()
    assert offline["scope"] == SCOPE_PREFIX + "sleep.readonly"  # the user granted only sleep
    refresh = {"grant_type": "refresh_token", "refresh_token": offline["refresh_token"], "client_id": "sandbox",
               "client_secret": "sandbox-secret"}
    first = requests.post(f"{base}/token", data=refresh, timeout=30).json()
    second = requests.post(f"{base}/token", data=refresh, timeout=30).json()
    assert "refresh_token" not in first and first["access_token"] != second["access_token"]  # the refresh token stays valid
    revoked = requests.post(f"{base}/token", data={**refresh, "refresh_token": "nope"}, timeout=30)
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_heart_rate_density_is_a_knob(sandbox: Sandbox) -> None:
    day = date(2026, 11, 9)
    per_minute = gd.heart_rate_points(sandbox.world, day, 60)
    per_5s = gd.heart_rate_points(sandbox.world, day, 5)
    assert 1000 < len(per_minute) <= 1440 and len(per_5s) == pytest.approx(len(per_minute) * 12, rel=0.02)
    assert datetime.fromisoformat(per_5s[1]["heartRate"]["sampleTime"]["physicalTime"].replace("Z", "+00:00")) - \
        datetime.fromisoformat(per_5s[0]["heartRate"]["sampleTime"]["physicalTime"].replace("Z", "+00:00")) == timedelta(seconds=5)
    assert per_minute[0]["_t"].tzinfo == timezone.utc
