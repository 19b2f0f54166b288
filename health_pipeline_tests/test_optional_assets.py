"""Optional dense data: Fitbit raw heart-rate samples, Withings intraday and high-frequency sleep."""

import json
from datetime import date, timedelta

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.withings import client as withings
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.windows import local_midnight
from health_pipeline.sources.fitbit.sandbox import data as google_data
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import materialize_range
from health_pipeline_tests.conftest import TODAY, ConfigFactory

DAYS = (date(2026, 11, 3), date(2026, 11, 4))


def optional_config(make_config: ConfigFactory, sandbox: Sandbox) -> Config:
    g, w = sandbox.url("google-health"), sandbox.url("withings")
    start = (TODAY - timedelta(days=30)).isoformat()
    config = make_config(extra=f"""
[fitbit]
enabled = true
start_date = "{start}"
base_url = "{g}"
authorize_url = "{g}/o/oauth2/v2/auth"
token_url = "{g}/token"
client_id = "sandbox"
client_secret = "sandbox-secret"
heart_rate_samples = true

[withings]
enabled = true
start_date = "{start}"
base_url = "{w}"
authorize_url = "{w}/oauth2_user/authorize2"
token_url = "{w}/v2/oauth2"
client_id = "sandbox"
client_secret = "sandbox-secret"
redirect_uri = "https://health.example.org/cb"
intraday = true
high_frequency_sleep = true
""")
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.fitbit, store, google_health.OAUTH))
    authorize_with_sandbox(OAuthTokens(config.withings, store, withings.OAUTH))
    return config


def test_switched_on_dense_data_lands_one_record_per_local_day(make_config: ConfigFactory, sandbox: Sandbox) -> None:
    config = optional_config(make_config, sandbox)
    keys = [dg.AssetKey(k) for k in ("fitbit_heart_rate_samples", "withings_intraday", "withings_sleep_hf")]
    with dg.instance_for_test() as instance:
        result = materialize_range(config, instance, keys, *DAYS)
    store = RawStore(config.app.raw_db)
    tz = config.app.tz
    samples = {r.day: json.loads(r.payload) for r in store.records("fitbit", "heart-rate-samples")}
    assert list(samples) == [d.isoformat() for d in DAYS]
    for day in DAYS:
        expected = [{k: v for k, v in p.items() if not k.startswith("_")} for p in google_data.heart_rate_points(sandbox.world, day, 60)]
        assert samples[day.isoformat()] == expected
    intraday = {r.day: json.loads(r.payload) for r in store.records("withings", "intraday")}
    for day in DAYS:
        assert intraday[day.isoformat()] == withings_data.intraday_minutes(
            sandbox.world, local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))
    sleep = {r.day: json.loads(r.payload) for r in store.records("withings", "sleep_hf")}
    assert set(sleep) <= {d.isoformat() for d in DAYS} and sleep
    assert result.metadata["withings_intraday"]["requests"] == 2  # one request per day: the API's 24-hour cap
