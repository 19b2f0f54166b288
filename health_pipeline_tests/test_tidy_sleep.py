"""sleep_sessions: Oura and Fitbit nights and naps, exactly as the sandbox knows them."""

import json
from datetime import date, datetime, timedelta, timezone

import dagster as dg

from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import materialize_range
from health_pipeline_tests.conftest import TODAY, ConfigFactory

START, END = date(2026, 10, 20), date(2026, 11, 9)  # holds the 25-hour night of 25 October


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_sleep_sessions_hold_every_night_and_nap_from_both_providers(make_config: ConfigFactory, sandbox: Sandbox) -> None:
    g = sandbox.url("google-health")
    config = make_config(extra=f"""
[fitbit]
enabled = true
start_date = "{(TODAY - timedelta(days=59)).isoformat()}"
base_url = "{g}"
authorize_url = "{g}/o/oauth2/v2/auth"
token_url = "{g}/token"
client_id = "sandbox"
client_secret = "sandbox-secret"
""")
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    authorize_with_sandbox(OAuthTokens(config.fitbit, store, google_health.OAUTH))
    keys = [dg.AssetKey("oura_sleep"), dg.AssetKey("fitbit_sleep"), dg.AssetKey("sleep_sessions")]
    with dg.instance_for_test() as instance:
        result = materialize_range(config, instance, keys, START, END)
    assert result.metadata["sleep_sessions"]["modelled_oura"] == "26 rows in the window"

    documents = truth.oura_documents(sandbox.world, "sleep", START, END)
    assert {d["type"] for d in documents} >= {"long_sleep", "late_nap", "rest"}  # the sandbox has all kinds
    expected_oura = sorted(
        ("oura", d["id"], date.fromisoformat(d["day"]), ts(d["bedtime_start"]), ts(d["bedtime_end"]),
         None if d["type"] is None else d["type"] == "long_sleep",  # a null type: kind unknown
         d["time_in_bed"], d["total_sleep_duration"], d["deep_sleep_duration"], d["light_sleep_duration"],
         d["rem_sleep_duration"], d["awake_time"], d["average_heart_rate"], d["lowest_heart_rate"],
         None if d["average_hrv"] is None else float(d["average_hrv"]))
        for d in documents if d["type"] not in ("deleted", "rest")
    )
    expected_fitbit = []
    for offset in range((END - START).days + 1):
        for point in gd.sleep_points(sandbox.world, START + timedelta(days=offset)):
            value = point["sleep"]
            minutes = {s["type"]: int(s["minutes"]) * 60 for s in value["summary"]["stagesSummary"]}
            expected_fitbit.append((
                "fitbit", point["name"], START + timedelta(days=offset), ts(value["interval"]["startTime"]),
                ts(value["interval"]["endTime"]), value["metadata"]["mainSleep"],  # naps are not main
                int(value["summary"]["minutesInSleepPeriod"]) * 60,
                int(value["summary"]["minutesAsleep"]) * 60, minutes["DEEP"], minutes["LIGHT"], minutes["REM"],
                int(value["summary"]["minutesAwake"]) * 60, None, None, None))
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        rows = conn.execute("SELECT * EXCLUDE (person) FROM sleep_sessions ORDER BY provider DESC, sleep_id").fetchall()
        stage_sums = conn.execute(
            "SELECT count(*) FROM sleep_sessions WHERE deep_s + light_s + rem_s <> asleep_s").fetchone()
    assert [r for r in rows if r[0] == "oura"] == sorted(expected_oura, key=lambda r: r[1])
    assert [r for r in rows if r[0] == "fitbit"] == sorted(expected_fitbit, key=lambda r: r[1])
    assert stage_sums == (0,)  # stages add up to the time asleep, for both providers
    nights = [r for r in rows if r[0] == "oura" and r[2] == date(2026, 10, 25) and r[5]]
    assert len(nights) == 1 and json.dumps(str(nights[0][3]))  # the DST night is one main sleep
