"""The Oura client against the sandbox over HTTP: exact records, padding, chunking, token refresh."""

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.errors import ReauthorizationNeeded
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.windows import local_midnight
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.server import Sandbox
from health_pipeline_tests.conftest import TIMEZONE

TZ = ZoneInfo(TIMEZONE)


@pytest.fixture
def client(oura_tokens: OAuthTokens) -> oura.OuraClient:
    return oura.OuraClient(oura_tokens.config, oura_tokens, TZ)


def fetch(client: oura.OuraClient, resource: str, start: date, end: date) -> list[oura.FetchedChunk]:
    return list(client.fetch_window(resource, start, end))


def test_daily_activity_for_a_window_equals_the_truth_and_pads_the_request_by_a_day(
    client: oura.OuraClient, sandbox: Sandbox
) -> None:
    sandbox.log.clear()
    start, end = date(2026, 10, 12), date(2026, 11, 10)
    [chunk] = fetch(client, "daily_activity", start, end)
    expected = truth.oura_daily_activity(sandbox.world, start, end)
    assert [(r.record_id, r.day, r.payload) for r in chunk.records] == [(d["id"], d["day"], d) for d in expected]
    [request] = sandbox.log.entries("oura")
    assert request.params == {"start_date": "2026-10-11", "end_date": "2026-11-11"}
    assert client.requests_made == 1


def test_heartrate_rows_are_grouped_into_one_record_per_local_day(client: oura.OuraClient, sandbox: Sandbox) -> None:
    sandbox.log.clear()
    start, end = date(2026, 10, 24), date(2026, 10, 26)  # the 25-hour day in the middle
    [chunk] = fetch(client, "heartrate", start, end)
    for record in chunk.records:
        day = date.fromisoformat(record.day)
        expected = truth.oura_heartrate(sandbox.world, local_midnight(day, TZ), local_midnight(day + timedelta(days=1), TZ))
        assert record.record_id == record.day and record.payload == expected
    assert [r.day for r in chunk.records] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    [request] = sandbox.log.entries("oura")
    assert request.params == {"start_datetime": "2026-10-24T00:00:00+02:00", "end_datetime": "2026-10-27T00:00:00+01:00"}


def test_long_ranges_are_chunked_and_no_request_exceeds_the_endpoint_window(client: oura.OuraClient, sandbox: Sandbox) -> None:
    sandbox.log.clear()
    start, end = date(2026, 3, 1), date(2026, 11, 10)  # 255 days
    daily = fetch(client, "daily_activity", start, end)
    hr = fetch(client, "heartrate", start, end)
    assert [(c.start, c.end) for c in daily][:2] == [(date(2026, 3, 1), date(2026, 5, 29)), (date(2026, 5, 30), date(2026, 8, 27))]
    assert len(daily) == 3 and len(hr) == 9  # ceil(255 / 90), ceil(255 / 30)
    for entry in sandbox.log.entries("oura", "daily_activity"):
        span = date.fromisoformat(entry.params["end_date"]) - date.fromisoformat(entry.params["start_date"])
        assert span.days + 1 <= oura.CATALOGUE["daily_activity"].max_window_days
    for entry in sandbox.log.entries("oura", "heartrate"):
        if "start_datetime" in entry.params:
            span = datetime.fromisoformat(entry.params["end_datetime"]) - datetime.fromisoformat(entry.params["start_datetime"])
            assert span <= timedelta(days=30, hours=1)
    covered = [r.day for c in daily for r in c.records]
    assert covered == [d["day"] for d in truth.oura_daily_activity(sandbox.world, start, end)]


def test_an_expired_access_token_mid_fetch_is_refreshed_once_and_the_fetch_completes(
    client: oura.OuraClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    old = client.tokens.store.token("oura")
    assert old is not None
    sandbox.oura.oauth.expire_access_tokens()
    start, end = date(2026, 11, 1), date(2026, 11, 10)
    [chunk] = fetch(client, "daily_activity", start, end)
    assert len(chunk.records) == len(truth.oura_daily_activity(sandbox.world, start, end))
    assert client.tokens.refreshes == 1 and sandbox.oura.oauth.refresh_count == 1
    new = client.tokens.store.token("oura")
    assert new is not None and new.refresh_token != old.refresh_token and new.access_token != old.access_token
    statuses = [e.status for e in sandbox.log.entries("oura")][-3:]
    assert statuses == [401, 200, 200]  # refused, token refresh, retried page
    for secret in (old.access_token, old.refresh_token, new.access_token, new.refresh_token, "sandbox-secret"):
        assert secret not in caplog.text


def test_a_revoked_grant_asks_the_user_to_authorise_again(client: oura.OuraClient, sandbox: Sandbox) -> None:
    sandbox.oura.oauth.revoke_all()
    with pytest.raises(ReauthorizationNeeded) as caught:
        fetch(client, "daily_activity", date(2026, 11, 1), date(2026, 11, 2))
    assert str(caught.value) == (
        "oura: the refresh token was refused (invalid_grant); run `health-pipeline auth oura` again"
    )


@pytest.mark.parametrize("endpoint", [e for e in oura.CATALOGUE.values() if e.kind == "document"], ids=lambda e: e.resource)
def test_every_dated_endpoint_lands_exactly_the_truth(client: oura.OuraClient, sandbox: Sandbox, endpoint: oura.OuraEndpoint) -> None:
    start, end = date(2026, 9, 15), date(2026, 11, 10)
    records = [r for chunk in fetch(client, endpoint.resource, start, end) for r in chunk.records]
    expected = truth.oura_documents(sandbox.world, endpoint.resource if endpoint.resource != "vO2_max" else "vO2_max", start, end)
    assert sorted((r.record_id, r.day) for r in records) == sorted((d["id"], d[endpoint.day_field]) for d in expected)
    assert {r.record_id: r.payload for r in records} == {d["id"]: d for d in expected}


def test_profile_endpoints_have_no_dates(client: oura.OuraClient, sandbox: Sandbox) -> None:
    [person] = client.fetch_profile("personal_info")
    assert person.day is None and person.payload["biological_sex"] == "male"
    [ring] = client.fetch_profile("ring_configuration")
    assert ring.payload["hardware_type"] == "gen3"
    with pytest.raises(ValueError, match="has no dates"):
        list(client.fetch_window("personal_info", date(2026, 11, 1), date(2026, 11, 2)))


def test_a_429_with_retry_after_is_waited_out_and_the_wait_is_measured(client: oura.OuraClient, sandbox: Sandbox) -> None:
    import time as clock

    sandbox.faults.script("oura", "429")  # Retry-After: 1
    started = clock.monotonic()
    [chunk] = fetch(client, "daily_stress", date(2026, 11, 1), date(2026, 11, 5))
    assert clock.monotonic() - started >= 1.0
    assert chunk.records and client.http.rate_limited_waits == 1
    assert [e.status for e in sandbox.log.entries("oura")][-2:] == [429, 200]


def test_a_wait_longer_than_allowed_fails_with_a_resumable_error(oura_tokens: OAuthTokens, sandbox: Sandbox) -> None:
    from health_pipeline.providers.errors import RateLimited
    from health_pipeline.providers.http import provider_http

    impatient = oura.OuraClient(oura_tokens.config, oura_tokens, TZ, provider_http("oura", 1000, max_wait_s=0.5))
    sandbox.faults.script("oura", "429")
    with pytest.raises(RateLimited) as caught:
        fetch(impatient, "daily_stress", date(2026, 11, 1), date(2026, 11, 5))
    assert str(caught.value) == ("oura: rate limited; the provider asks to wait 1 s, more than the allowed 0.5 s. "
                                 "Nothing already landed is lost: re-run later to resume")


def test_5xx_resets_and_timeouts_are_retried_with_backoff(oura_tokens: OAuthTokens, sandbox: Sandbox) -> None:
    from health_pipeline.providers.http import ProviderHTTP, RetrySettings
    from health_pipeline.sandbox.faults import FaultPlan

    waits: list[float] = []
    http = ProviderHTTP("oura", RetrySettings(read_timeout_s=0.5, backoff_base_s=0.01), sleep=waits.append)
    client = oura.OuraClient(oura_tokens.config, oura_tokens, TZ, http)
    sandbox.faults.set("oura", FaultPlan(hang_s=1.5))
    sandbox.faults.script("oura", "5xx", "reset", "timeout")
    sandbox.log.clear()
    [chunk] = fetch(client, "daily_stress", date(2026, 11, 1), date(2026, 11, 5))
    assert [d["id"] for d in (r.payload for r in chunk.records)] == [
        d["id"] for d in truth.oura_documents(sandbox.world, "daily_stress", date(2026, 11, 1), date(2026, 11, 5))]
    assert [(e.status, e.fault) for e in sandbox.log.entries("oura")] == [(503, "5xx"), (0, "reset"), (0, "timeout"), (200, None)]
    # exponential with jitter: each wait lies in [base * 2^(n-1) / 2, base * 2^(n-1)]
    assert len(waits) == 3
    assert 0.005 <= waits[0] <= 0.01 <= waits[1] <= 0.02 <= waits[2] <= 0.04
    assert client.requests_made == 4


def test_a_provider_down_for_good_fails_with_a_clear_error(oura_tokens: OAuthTokens, sandbox: Sandbox) -> None:
    from health_pipeline.providers.errors import ProviderUnavailable
    from health_pipeline.providers.http import ProviderHTTP, RetrySettings
    from health_pipeline.sandbox.faults import FaultPlan

    client = oura.OuraClient(oura_tokens.config, oura_tokens, TZ,
                             ProviderHTTP("oura", RetrySettings(attempts=3), sleep=lambda _: None))
    sandbox.faults.set("oura", FaultPlan(probabilities={"5xx": 1.0}))
    with pytest.raises(ProviderUnavailable) as caught:
        fetch(client, "daily_stress", date(2026, 11, 1), date(2026, 11, 5))
    assert str(caught.value) == (f"oura: {sandbox.url('oura')}/v2/usercollection/daily_stress answered HTTP 503 3 times "
                                 "in a row; the provider may be down, re-run later")
