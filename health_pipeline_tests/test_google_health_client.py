"""The Google Health client against the sandbox: fewest requests per type, exact records, caps, consent."""

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from health_pipeline.registry import parse_config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.fitbit import client as gh
from health_pipeline.providers.errors import ProviderRetired
from health_pipeline.providers.http import ProviderHTTP
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.fitbit.sandbox.api import GoogleSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore

TZ = ZoneInfo("Europe/Berlin")


def make_client(sandbox: Sandbox, tmp_path, granted: set[str] | None = None) -> gh.GoogleHealthClient:  # type: ignore[no-untyped-def]
    base = sandbox.url("google-health")
    config = parse_config({
        "app": {"raw_db": str(tmp_path / "raw.sqlite")},
        "fitbit": {"enabled": True, "client_id": "sandbox", "client_secret": "sandbox-secret", "base_url": base,
                   "authorize_url": f"{base}/o/oauth2/v2/auth", "token_url": f"{base}/token"}}, None)
    store = RawStore(config.app.raw_db)
    store.init()
    sandbox.google_health.settings = GoogleSettings(granted_scopes=granted)
    tokens = OAuthTokens(config.fitbit, store, gh.OAUTH)
    authorize_with_sandbox(tokens)
    return gh.GoogleHealthClient(config.fitbit, tokens, TZ, ProviderHTTP("fitbit"))


@pytest.fixture
def client(sandbox: Sandbox, tmp_path) -> gh.GoogleHealthClient:  # type: ignore[no-untyped-def]
    return make_client(sandbox, tmp_path)


def records(client: gh.GoogleHealthClient, resource: str, start: date, end: date) -> list:  # type: ignore[type-arg]
    return [r for chunk in client.fetch_window(resource, start, end) for r in chunk.records]


def test_daily_steps_come_from_day_rollups_in_the_fewest_requests(client: gh.GoogleHealthClient, sandbox: Sandbox) -> None:
    sandbox.log.clear()
    start, end = date(2026, 9, 12), date(2026, 11, 10)  # 60 days: one request
    steps = records(client, "steps", start, end)
    calls = sandbox.log.entries("google-health", "dailyRollUp")
    assert len(calls) == 1
    expected = {}
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        minutes = gd.interval_points(sandbox.world, gd.DATA_TYPES["steps"], day)
        if minutes:
            expected[day.isoformat()] = str(sum(int(m["steps"].get("count", 0)) for m in minutes))
    assert {r.record_id: r.payload["steps"]["countSum"] for r in steps} == expected
    assert calls[0].body["range"] == {"start": {"date": {"year": 2026, "month": 9, "day": 12}},
                                      "end": {"date": {"year": 2026, "month": 11, "day": 11}}}


@pytest.mark.parametrize("endpoint", list(gh.CATALOGUE.values()), ids=lambda e: e.resource)
def test_every_data_type_fetches_within_its_caps(client: gh.GoogleHealthClient, sandbox: Sandbox, endpoint: gh.GoogleEndpoint) -> None:
    sandbox.log.clear()
    start, end = date(2026, 10, 12), date(2026, 11, 10)  # 30 days
    fetched = records(client, endpoint.resource, start, end)
    assert fetched and len({r.record_id for r in fetched}) == len(fetched)
    assert all(start.isoformat() <= r.day <= end.isoformat() for r in fetched)
    calls = sandbox.log.entries("google-health", "/dataTypes/")
    for call in calls:
        if call.body and "range" in call.body:
            rng = call.body["range"]
            if "startTime" in rng:
                span = datetime.fromisoformat(rng["endTime"].replace("Z", "+00:00")) - datetime.fromisoformat(rng["startTime"].replace("Z", "+00:00"))
                assert span <= timedelta(days=endpoint.max_window_days, hours=1)
            else:
                days = (gh._civil_date(rng["end"]["date"]) - gh._civil_date(rng["start"]["date"])).days + 1
                assert days <= endpoint.max_window_days
    if endpoint.method == "dailyRollUp":
        assert len(calls) == math.ceil(30 / (endpoint.max_window_days - 1))
    if endpoint.resource == "heart-rate":  # 14-day chunks, pages of 10000 one-minute points
        expected_calls = 0
        for first, last in [(start, start + timedelta(days=13)), (start + timedelta(days=14), start + timedelta(days=27)),
                            (start + timedelta(days=28), end)]:
            samples = sum(len(gd.heart_rate_points(sandbox.world, first + timedelta(days=i), 60))
                          for i in range((last - first).days + 1))
            expected_calls += max(1, math.ceil(samples / 10000))
        assert len(calls) == expected_calls
        assert sum(len(r.payload) for r in fetched) == sum(
            len(gd.heart_rate_points(sandbox.world, start + timedelta(days=i), 60)) for i in range(30))


def test_sleep_sessions_count_on_their_wake_up_day(client: gh.GoogleHealthClient, sandbox: Sandbox) -> None:
    nights = records(client, "sleep", date(2026, 10, 1), date(2026, 11, 10))

    expected = {}
    for offset in range(41):
        day = date(2026, 10, 1) + timedelta(days=offset)
        for point in gd.sleep_points(sandbox.world, day):  # the night and the day's nap, if any
            expected[point["name"]] = day.isoformat()
    assert len(expected) > 41 and {r.record_id: r.day for r in nights} == expected
    pages = sandbox.log.entries("google-health", "/sleep/")
    assert len(pages) == math.ceil(len(expected) / 25) and all(p.params["pageSize"] == "25" for p in pages)


def test_a_scope_not_granted_skips_the_type_without_a_request(sandbox: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(sandbox, tmp_path, granted={gh.ACTIVITY_SCOPE})
    sandbox.log.clear()
    with pytest.raises(gh.ScopeNotGranted, match="daily-resting-heart-rate: the scope .*health_metrics.* was not granted"):
        records(client, "daily-resting-heart-rate", date(2026, 11, 1), date(2026, 11, 5))
    assert sandbox.log.entries("google-health") == []
    assert records(client, "steps", date(2026, 11, 1), date(2026, 11, 5))


def test_an_expired_token_is_refreshed_and_the_refresh_token_kept(client: gh.GoogleHealthClient, sandbox: Sandbox) -> None:
    before = client.tokens.store.token("fitbit")
    sandbox.google_health.oauth.expire_access_tokens()
    assert records(client, "daily-resting-heart-rate", date(2026, 11, 1), date(2026, 11, 5))
    after = client.tokens.store.token("fitbit")
    assert before is not None and after is not None
    assert after.refresh_token == before.refresh_token and after.access_token != before.access_token
    assert after.scope == before.scope  # Google omits the scope on refresh; the granted set is kept


def test_a_legacy_fitbit_configuration_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = parse_config({"fitbit": {"enabled": True, "client_id": "x", "client_secret": "y",
                                      "base_url": "https://api.fitbit.com"}}, None)
    with pytest.raises(ProviderRetired, match="legacy Fitbit Web API"):
        gh.GoogleHealthClient(config.fitbit, OAuthTokens(config.fitbit, RawStore(tmp_path / "r.sqlite"), gh.OAUTH), TZ)


def test_google_429_is_backed_off(client: gh.GoogleHealthClient, sandbox: Sandbox) -> None:
    sandbox.faults.script("google-health", "429")
    assert records(client, "steps", date(2026, 11, 1), date(2026, 11, 3))
    assert client.http.rate_limited_waits == 1
    assert [e.status for e in sandbox.log.entries("google-health", "dailyRollUp")] == [429, 200]
