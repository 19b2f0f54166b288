"""The Withings client against the sandbox: statuses not HTTP codes, paging, 601, 24-hour windows."""

import json
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from health_pipeline.registry import parse_config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.withings import client as withings
from health_pipeline.providers.http import ProviderHTTP
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sources.withings.sandbox.api import WithingsSettings
from health_pipeline.storage.raw_store import RawStore

TZ = ZoneInfo("Europe/Berlin")
REDIRECT = "https://health.example.org/withings/callback"


@pytest.fixture
def client(sandbox: Sandbox, tmp_path) -> withings.WithingsClient:  # type: ignore[no-untyped-def]
    base = sandbox.url("withings")
    config = parse_config({
        "app": {"raw_db": str(tmp_path / "raw.sqlite")},
        "withings": {"enabled": True, "client_id": "sandbox", "client_secret": "sandbox-secret", "base_url": base,
                     "authorize_url": f"{base}/oauth2_user/authorize2", "token_url": f"{base}/v2/oauth2",
                     "redirect_uri": REDIRECT}}, None)
    store = RawStore(config.app.raw_db)
    store.init()
    tokens = OAuthTokens(config.withings, store, withings.OAUTH)
    authorize_with_sandbox(tokens)
    http = ProviderHTTP("withings", limit_signal=withings.rate_limit_signal(0.2))
    return withings.WithingsClient(config.withings, tokens, TZ, http)


def truth_groups(sandbox: Sandbox, start: date, end: date) -> dict[str, dict]:
    first = int(datetime.combine(start, datetime.min.time(), TZ).timestamp())
    last = int(datetime.combine(end + timedelta(days=1), datetime.min.time(), TZ).timestamp()) - 1
    return {str(g.group["grpid"]): g.group for d in range(-1, (end - start).days + 2)
            for g in withings_data.measure_groups(sandbox.world, start + timedelta(days=d))
            if first <= g.group["date"] <= last}


def test_measures_of_a_window_page_by_offset_and_equal_the_truth(client: withings.WithingsClient, sandbox: Sandbox) -> None:
    sandbox.withings.settings = WithingsSettings(measure_page_size=7)
    records = client.window("measures", date(2026, 10, 1), date(2026, 11, 10))
    expected = truth_groups(sandbox, date(2026, 10, 1), date(2026, 11, 10))
    assert {r.record_id: r.payload for r in records} == expected
    # asked by instant with a day of padding each side, the groups outside the window left out
    padded = truth_groups(sandbox, date(2026, 9, 30), date(2026, 11, 11))
    assert len(padded) > len(expected) and len(sandbox.log.entries("withings", "/measure")) == -(-len(padded) // 7)
    weigh_in = next(r for r in records if any(m["type"] == 1 for m in r.payload["measures"]))
    assert weigh_in.day == datetime.fromtimestamp(weigh_in.payload["date"], timezone.utc).astimezone(TZ).date().isoformat()


def test_lastupdate_sync_returns_only_changes(client: withings.WithingsClient, sandbox: Sandbox) -> None:
    everything = client.changed_since("measures", 0)
    newest = max(r.payload["modified"] for r in everything)
    assert client.changed_since("measures", newest) == []
    sandbox.world.clock.advance(timedelta(days=2))
    later = client.changed_since("measures", newest)
    assert later and all(r.payload["modified"] > newest for r in later)


@pytest.mark.parametrize("resource", ["activity", "workouts", "sleep_summary"])
def test_v2_services_page_with_a_boolean_more(client: withings.WithingsClient, sandbox: Sandbox, resource: str) -> None:
    sandbox.withings.settings = WithingsSettings(v2_page_size=5)
    records = client.window(resource, date(2026, 10, 1), date(2026, 11, 9))
    assert len(records) >= 10 and all("2026-10-01" <= r.day <= "2026-11-09" for r in records)
    assert len({r.record_id for r in records}) == len(records)
    if resource == "sleep_summary":
        assert 0 < records[0].payload["data"]["sleep_efficiency"] <= 1  # named in data_fields


def test_status_601_is_waited_out(client: withings.WithingsClient, sandbox: Sandbox) -> None:
    sandbox.faults.script("withings", "429")  # Withings' own answer: status 601 in an HTTP 200
    started = time.monotonic()
    records = client.window("activity", date(2026, 11, 1), date(2026, 11, 3))
    expected = sum(len(withings_data.activities(sandbox.world, date(2026, 11, d))) for d in (1, 2, 3))
    assert time.monotonic() - started >= 0.2 and len(records) == expected
    assert client.http.rate_limited_waits == 1


def test_an_expired_token_is_refreshed_once_through_the_envelope(client: withings.WithingsClient, sandbox: Sandbox) -> None:
    before = client.tokens.store.token("withings")
    sandbox.withings.oauth.expire_access_tokens()
    expected = sum(len(withings_data.activities(sandbox.world, date(2026, 11, d))) for d in (1, 2, 3))
    assert len(client.window("activity", date(2026, 11, 1), date(2026, 11, 3))) == expected
    after = client.tokens.store.token("withings")
    assert before is not None and after is not None and after.refresh_token != before.refresh_token


def test_bad_parameters_become_a_bad_request(client: withings.WithingsClient) -> None:
    from health_pipeline.providers.errors import BadRequest

    with pytest.raises(BadRequest, match=r"getactivity: status 503: Invalid Params"):
        client.call("/v2/measure", "getactivity", {"startdateymd": "2026-11-01", "enddateymd": "2026-11-02", "lastupdate": 5})


def test_intraday_and_sleep_are_fetched_24_hours_at_a_time(client: withings.WithingsClient, sandbox: Sandbox) -> None:
    start = datetime(2026, 11, 2, tzinfo=timezone.utc)
    series = client.intraday(start, start + timedelta(days=3))
    assert series == withings_data.intraday_minutes(sandbox.world, start, start + timedelta(days=3))
    calls = sandbox.log.entries("withings", "/v2/measure")
    assert len(calls) == 3 and all(int(c.params["enddate"]) - int(c.params["startdate"]) <= 86400 for c in calls)
    segments = client.sleep_segments(start, start + timedelta(days=2))
    assert segments == withings_data.sleep_segments(sandbox.world, start, start + timedelta(days=2))


def test_configured_meastypes_are_what_getmeas_asks_for(client: withings.WithingsClient, sandbox: Sandbox) -> None:

    from health_pipeline.pipeline.cursor import sync_changes
    from health_pipeline.registry import REGISTRY

    client.config = client.config.model_copy(update=dict(meastypes=(1, 6)))
    outcome = sync_changes(REGISTRY.api("withings"), client, client.tokens.store, "measures", date(2026, 11, 1),
                           date(2026, 11, 10))
    [call] = sandbox.log.entries("withings", "/measure")
    assert call.params["meastypes"] == "1,6" and call.params["category"] == "1"
    stored = client.tokens.store.records("withings", "measures")
    assert outcome.counts.new == len(stored) and stored
    assert all({m["type"] for m in json.loads(r.payload)["measures"]} <= {1, 6} for r in stored)
