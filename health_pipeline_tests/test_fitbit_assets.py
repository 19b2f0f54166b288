"""Fitbit landing assets: every Google Health data type backfilled over a range in one Dagster run."""

from collections import Counter
from datetime import date, timedelta

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.naming import landing_key
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.windows import days_in
from health_pipeline.sources.fitbit.sandbox.api import SCOPE_PREFIX, GoogleSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import materialize_range, raw_asset_keys
from health_pipeline_tests.conftest import WINDOW, ConfigFactory


def fitbit_config(make_config: ConfigFactory, sandbox: Sandbox) -> Config:
    g = sandbox.url("google-health")
    return make_config(extra=f"""
[fitbit]
enabled = true
start_date = "{(WINDOW[0] - timedelta(days=30)).isoformat()}"
base_url = "{g}"
authorize_url = "{g}/o/oauth2/v2/auth"
token_url = "{g}/token"
client_id = "sandbox"
client_secret = "sandbox-secret"
""")


def test_a_30_day_backfill_of_every_fitbit_type_is_one_run_with_the_fewest_requests(
    make_config: ConfigFactory, sandbox: Sandbox
) -> None:
    sandbox.google_health.settings = GoogleSettings(granted_scopes={
        google_health.ACTIVITY_SCOPE, google_health.SLEEP_SCOPE, google_health.METRICS_SCOPE})
    config = fitbit_config(make_config, sandbox)
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.fitbit, store, google_health.OAUTH))
    sandbox.log.clear()
    with dg.instance_for_test() as instance:
        result = materialize_range(config, instance, raw_asset_keys(config, ["fitbit"]), *WINDOW)
        assert len(instance.get_runs()) == 1
        for endpoint in google_health.CATALOGUE.values():
            assert instance.get_materialized_partitions(landing_key("fitbit", endpoint.resource)) == {
                d.isoformat() for d in days_in(*WINDOW)}
    paths = Counter(e.path.rsplit("/", 2)[-2] + ("" if ":" not in e.path else ":" + e.path.split(":")[-1])
                    for e in sandbox.log.entries("google-health", "/v4/"))
    for endpoint in google_health.CATALOGUE.values():
        meta = result.metadata[landing_key("fitbit", endpoint.resource).to_user_string()]
        assert meta["records_new"] > 0, endpoint.resource
        assert meta["requests"] == sum(n for p, n in paths.items() if p.startswith(endpoint.resource + "/")
                                       or p.split(":")[0] == endpoint.resource), endpoint.resource
    assert result.metadata["fitbit_steps"]["requests"] == 1  # 30 days: one dailyRollUp
    assert result.metadata["fitbit_sleep"]["requests"] == 2  # 25 sessions a page
    days = store.records("fitbit", "steps")
    assert [r.day for r in days] == sorted(r.day for r in days) and len(days) <= 30


def test_a_data_type_whose_scope_was_not_granted_is_skipped_not_failed(make_config: ConfigFactory, sandbox: Sandbox) -> None:
    sandbox.google_health.settings = GoogleSettings(granted_scopes={google_health.ACTIVITY_SCOPE})
    config = fitbit_config(make_config, sandbox)
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.fitbit, store, google_health.OAUTH))
    keys = [landing_key("fitbit", "steps"), landing_key("fitbit", "daily-resting-heart-rate")]
    with dg.instance_for_test() as instance:
        result = materialize_range(config, instance, keys, date(2026, 11, 1), date(2026, 11, 5))
    skipped = result.metadata["fitbit_daily_resting_heart_rate"]
    assert skipped["skipped"].startswith("fitbit: daily-resting-heart-rate: the scope "
                                         f"{SCOPE_PREFIX}health_metrics_and_measurements.readonly was not granted")
    assert skipped["requests"] == 0
    assert result.metadata["fitbit_steps"]["records_new"] == 5
    assert store.records("fitbit", "daily-resting-heart-rate") == []


@pytest.mark.parametrize("resource", ["heart-rate", "sleep"])
def test_re_landing_a_range_rewrites_nothing(make_config: ConfigFactory, sandbox: Sandbox, resource: str) -> None:
    config = fitbit_config(make_config, sandbox)
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.fitbit, store, google_health.OAUTH))
    with dg.instance_for_test() as instance:
        first = materialize_range(config, instance, [landing_key("fitbit", resource)], date(2026, 11, 1), date(2026, 11, 7))
        again = materialize_range(config, instance, [landing_key("fitbit", resource)], date(2026, 11, 1), date(2026, 11, 7))
    key = landing_key("fitbit", resource).to_user_string()
    assert first.metadata[key]["records_new"] == 7 if resource == "heart-rate" else first.metadata[key]["records_new"] > 0
    assert (again.metadata[key]["records_new"], again.metadata[key]["records_changed"]) == (0, 0)
    assert again.metadata[key]["records_unchanged"] == first.metadata[key]["records_new"]
