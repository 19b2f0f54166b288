"""The Withings fake follows provider-apis.md §2: POST + action, statuses inside HTTP 200, paging, OAuth."""

import time
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sources.withings.sandbox.api import WithingsSettings, signature

REDIRECT = "https://health.example.org/withings/callback"


@pytest.fixture
def token(sandbox: Sandbox) -> str:
    return str(sandbox.withings.oauth.token_payload("user.metrics,user.activity,user.sleepevents")["access_token"])


def post(sandbox: Sandbox, path: str, token: str | None = None, as_query: bool = False, **params: object) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{sandbox.url('withings')}{path}"
    response = requests.post(url, params=params if as_query else None, data=None if as_query else params,
                             headers=headers, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    return response.json()


def epoch(day: date, hour: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc).timestamp())


def test_errors_are_statuses_inside_a_200(sandbox: Sandbox, token: str) -> None:
    assert post(sandbox, "/measure", "bad-token", action="getmeas") == {
        "status": 401, "body": {},
        "error": "XRequestID: Not provided invalid_token: The access token provided is invalid"}
    assert post(sandbox, "/measure", token, action="nope")["status"] == 2554
    both = post(sandbox, "/v2/measure", token, action="getactivity", startdateymd="2026-11-01",
                enddateymd="2026-11-02", lastupdate=1)
    assert both["status"] == 503 and both["error"].startswith("Invalid Params:")
    assert requests.post(f"{sandbox.url('withings')}/nowhere", timeout=10).status_code == 404


def test_getmeas_groups_scale_values_and_page_with_an_integer_more(sandbox: Sandbox, token: str) -> None:
    sandbox.withings.settings = WithingsSettings(measure_page_size=10)
    params = {"action": "getmeas", "category": 1, "startdate": epoch(date(2026, 10, 1)), "enddate": epoch(date(2026, 11, 10), 23)}
    groups, offset = [], 0
    while True:
        body = post(sandbox, "/measure", token, as_query=True, offset=offset, **params)["body"]
        assert body.get("more", 0) in (0, 1) and body["timezone"] == "Europe/Berlin"
        groups.extend(body["measuregrps"])
        if not body.get("more"):
            assert "more" not in body and "offset" not in body  # the last page says nothing of paging
            break
        offset = body["offset"]
    expected = [g.group for day in [date(2026, 9, 30) + timedelta(days=i) for i in range(43)]
                for g in withings_data.measure_groups(sandbox.world, day)
                if params["startdate"] <= g.group["date"] <= params["enddate"]]
    assert groups == expected and len(groups) > 20
    weigh_in = next(g for g in groups if any(m["type"] == 1 for m in g["measures"]))
    # a Body Scan group: whole-body types, fat-free and fat mass twice at position 7, the segments
    assert {m["type"] for m in weigh_in["measures"]} == {1, 5, 6, 8, 11, 76, 77, 88, 168, 169, 170, 173, 174, 175}
    assert [m.get("position") for m in weigh_in["measures"] if m["type"] in (5, 8)] == [7, 7, 7, 7]
    assert {m["position"] for m in weigh_in["measures"] if m["type"] == 173} == {2, 3, 10, 11, 12}
    assert "timezone" not in weigh_in and weigh_in["modelid"] == 10 and "model_id" not in weigh_in
    weight = next(m for m in weigh_in["measures"] if m["type"] == 1)
    assert weight["unit"] == -3 and 60 < weight["value"] * 10 ** weight["unit"] < 100
    pressure = [g for g in groups if {m["type"] for m in g["measures"]} == {9, 10, 11}]
    assert pressure, "no blood pressure in six weeks"
    only_weight = post(sandbox, "/measure", token, meastypes="1", **params)["body"]["measuregrps"]
    assert only_weight and all([m["type"] for m in g["measures"]] == [1] for g in only_weight)
    assert post(sandbox, "/measure", token, **{**params, "category": 2})["body"]["measuregrps"] == []


def test_lastupdate_returns_only_groups_created_or_modified_since(sandbox: Sandbox, token: str) -> None:
    everything = post(sandbox, "/measure", token, action="getmeas", lastupdate=0)["body"]["measuregrps"]
    cutoff = sorted(g["modified"] for g in everything)[-3]
    newer = post(sandbox, "/measure", token, action="getmeas", lastupdate=cutoff)["body"]["measuregrps"]
    assert [g["grpid"] for g in newer] == [g["grpid"] for g in everything if g["modified"] > cutoff]
    newest = max(g["modified"] for g in everything)
    sandbox.world.clock.advance(timedelta(days=2))  # a new morning weigh-in (on the 12th); the token expired
    fresh = str(sandbox.withings.oauth.token_payload("user.metrics")["access_token"])
    later = post(sandbox, "/measure", fresh, action="getmeas", lastupdate=newest)["body"]["measuregrps"]
    expected = [g.group for day in (date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12))
                for g in withings_data.measure_groups(sandbox.world, day) if g.group["modified"] > newest]
    assert later == expected and len(later) >= 1


def test_v2_activity_workouts_and_sleep_page_with_a_boolean_more(sandbox: Sandbox, token: str) -> None:
    sandbox.withings.settings = WithingsSettings(v2_page_size=7)
    params = {"startdateymd": "2026-10-01", "enddateymd": "2026-11-09"}
    for path, action, key in [("/v2/measure", "getactivity", "activities"), ("/v2/measure", "getworkouts", "series"),
                              ("/v2/sleep", "getsummary", "series")]:
        items, offset = [], 0
        while True:
            body = post(sandbox, path, token, action=action, offset=offset, **params)["body"]
            assert isinstance(body["more"], bool)
            items.extend(body[key])
            if not body["more"]:
                break
            offset = body["offset"]
        assert items and all("2026-10-01" <= i["date"] <= "2026-11-09" for i in items), action
    summary = post(sandbox, "/v2/sleep", token, action="getsummary", data_fields="sleep_efficiency,total_sleep_time",
                   startdateymd="2026-11-05", enddateymd="2026-11-05")["body"]["series"][0]
    assert set(summary["data"]) == {"sleep_efficiency", "total_sleep_time"} and 0 < summary["data"]["sleep_efficiency"] <= 1
    default = post(sandbox, "/v2/sleep", token, action="getsummary", startdateymd="2026-11-05", enddateymd="2026-11-05")
    assert "sleep_efficiency" not in default["body"]["series"][0]["data"]  # most fields only when named


def test_a_sleep_summary_completes_and_changes_after_the_night(sandbox: Sandbox, token: str) -> None:
    sandbox.world.clock.advance(timedelta(hours=-6))  # just after waking on the 10th
    today = {"startdateymd": "2026-11-10", "enddateymd": "2026-11-10"}
    [early] = post(sandbox, "/v2/sleep", token, action="getsummary", **today)["body"]["series"]
    sandbox.world.clock.advance(timedelta(hours=6))
    [late] = post(sandbox, "/v2/sleep", token, action="getsummary", **today)["body"]["series"]
    assert (early["completed"], late["completed"]) == (False, True) and late["modified"] > early["modified"]
    assert post(sandbox, "/v2/sleep", token, action="getsummary", lastupdate=early["modified"])["body"]["series"] == [late]


def test_intraday_and_high_frequency_sleep_return_at_most_24_hours(sandbox: Sandbox, token: str) -> None:
    start = epoch(date(2026, 11, 3))
    series = post(sandbox, "/v2/measure", token, action="getintradayactivity", startdate=start,
                  enddate=start + 3 * 86400)["body"]["series"]
    stamps = sorted(map(int, series))
    assert stamps and stamps[0] >= start and stamps[-1] < start + 86400
    assert any("steps" in s for s in series.values()) and all("heart_rate" in s for s in series.values())
    sleep = post(sandbox, "/v2/sleep", token, action="get", startdate=start, enddate=start + 2 * 86400)["body"]
    assert isinstance(sleep["series"], list) and sleep["series"]
    assert all(start <= s["startdate"] < start + 86400 and s["state"] in (0, 1, 2, 3) for s in sleep["series"])
    assert post(sandbox, "/v2/sleep", token, action="get")["status"] == 503


def test_over_120_requests_a_minute_gets_status_601(sandbox: Sandbox, token: str) -> None:
    sandbox.withings.settings = WithingsSettings(rate_limit_per_minute=3)
    statuses = [post(sandbox, "/v2/measure", token, action="getactivity", startdateymd="2026-11-01",
                     enddateymd="2026-11-01")["status"] for _ in range(4)]
    assert statuses == [0, 0, 0, 601]


def test_oauth_code_lives_30_seconds_tokens_3_hours_and_refresh_tokens_rotate(sandbox: Sandbox) -> None:
    base = sandbox.url("withings")
    authorize = {"response_type": "code", "client_id": "sandbox", "redirect_uri": REDIRECT,
                 "scope": "user.metrics,user.activity", "state": "st"}
    assert requests.get(f"{base}/oauth2_user/authorize2", params={**authorize, "state": ""},
                        allow_redirects=False, timeout=10).status_code == 400

    def code() -> str:
        location = requests.get(f"{base}/oauth2_user/authorize2", params=authorize, allow_redirects=False, timeout=10).headers["Location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    form = {"action": "requesttoken", "grant_type": "authorization_code", "client_id": "sandbox",
            "client_secret": "sandbox-secret", "redirect_uri": REDIRECT}
    stale = code()
    sandbox.world.clock.advance(timedelta(seconds=31))
    assert post(sandbox, "/v2/oauth2", **form, code=stale)["status"] == 503
    granted = post(sandbox, "/v2/oauth2", **form, code=code())
    assert granted["status"] == 0
    body = granted["body"]
    assert body["expires_in"] == 10800 and body["token_type"] == "Bearer" and body["userid"] == "13371337"

    def refresh(refresh_token: str) -> dict:
        return post(sandbox, "/v2/oauth2", action="requesttoken", grant_type="refresh_token", client_id="sandbox",
                    client_secret="sandbox-secret", refresh_token=refresh_token)

    def use(access_token: str) -> int:
        return int(post(sandbox, "/v2/measure", access_token, action="getactivity",
                        startdateymd="2026-11-01", enddateymd="2026-11-01")["status"])

    second = refresh(body["refresh_token"])["body"]
    assert second["refresh_token"] != body["refresh_token"]
    assert use(second["access_token"]) == 0
    # the old refresh token dies as soon as the new access token is used
    assert refresh(body["refresh_token"]) == {"status": 503, "body": {}, "error": "Invalid Params: invalid refresh token"}
    third = refresh(second["refresh_token"])["body"]
    # ...or 8 hours after the rotation, used or not (the access token itself lives 3 hours)
    sandbox.world.clock.advance(timedelta(hours=3, seconds=1))
    assert use(third["access_token"]) == 401
    sandbox.world.clock.advance(timedelta(hours=5))
    assert refresh(second["refresh_token"])["status"] == 503
    assert refresh(third["refresh_token"])["status"] == 0


def test_nonce_and_signature_protocol(sandbox: Sandbox) -> None:
    stamp = str(int(time.time()))
    nonce_answer = post(sandbox, "/v2/signature", action="getnonce", client_id="sandbox", timestamp=stamp,
                        signature=signature("getnonce", "sandbox", stamp))
    assert nonce_answer["status"] == 0
    nonce = nonce_answer["body"]["nonce"]
    bad = post(sandbox, "/v2/signature", action="getnonce", client_id="sandbox", timestamp=stamp, signature="00")
    assert bad["status"] == 503
    payload = sandbox.withings.oauth.token_payload("user.metrics")
    signed = {"action": "requesttoken", "grant_type": "refresh_token", "client_id": "sandbox", "nonce": nonce,
              "signature": signature("requesttoken", "sandbox", nonce), "refresh_token": payload["refresh_token"]}
    assert post(sandbox, "/v2/oauth2", **signed)["status"] == 0
    assert post(sandbox, "/v2/oauth2", **signed)["status"] == 503  # a nonce is single use
