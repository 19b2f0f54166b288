"""The export against a real VictoriaMetrics: every metric exact through revisions, deletions and
relabelling; SyncBit's names; refusals (short retention, a stopped server); basic auth and TLS."""

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from health_pipeline.registry import load_config
from health_pipeline.config import Config
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.registry import TABLES
from health_pipeline.sync import SyncError, downstream_keys, materialize_range, raw_asset_keys
from health_pipeline_tests.conftest import TIMEZONE, ConfigFactory
from health_pipeline_tests.export_oracle import assert_exact, changed_series, held, midnight_ms, selector
from health_pipeline_tests.tidy_setup import all_providers_config, run_range

TZ = ZoneInfo(TIMEZONE)
NOW = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)  # the night ending 10 Nov is scored, not yet re-scored
START, END = date(2026, 11, 4), date(2026, 11, 10)
FIRST = date(2026, 10, 12)
SENTINEL = "vm-Pa55-sentinel-7f3a"


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(seed=7, days=30, timezone=TIMEZONE, clock=SandboxClock(NOW))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def key(name: str, **labels: str) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted({"__name__": name, "user": "me", **labels}.items()))



def everything(config: Config) -> list[str]:
    return [k.to_user_string() for a in build_definitions(config).assets or [] for k in a.keys]  # type: ignore[union-attr]


def export_meta(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    meta = result.asset_materializations_for_node("export_victoriametrics")[-1].metadata
    return {k: getattr(v, "value", v) for k, v in meta.items()}


def vm_config(url: str, more: str = "") -> str:
    return f'[victoriametrics]\nenabled = true\nurl = "{url}"\n{more}\n'


def test_every_metric_stays_exact_through_revisions_deletions_and_relabelling(
    tmp_path: Path, world: SandboxWorld, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics,
    instance: dg.DagsterInstance,
) -> None:
    path = tmp_path / "health-pipeline.toml"
    config = all_providers_config(path, sandbox, FIRST, TIMEZONE, vm_config(victoriametrics.url, "syncbit_compat = true"))

    first = run_range(config, instance, everything(config), START, END)
    assert first.success
    # each day's materialization carries the export's figures, not another copy of the metrics' lineage
    assert not {"dagster/column_schema", "dagster/column_lineage"} & set(export_meta(first))
    before = assert_exact(config)
    names = {k.split(",")[0].removeprefix("__name__=") for k in before}
    assert {"health_steps", "health_heart_rate_bpm", "health_heart_rate_zone_seconds", "health_sleep_seconds",
            "health_sleep_sample_hrv_ms", "health_sleep_score", "health_readiness_score", "health_hrv_ms",
            "health_body_weight_kg", "health_workout_duration_seconds", "health_training_volume_kg",
            "health_summary_steps", "fitbit_steps_total", "fitbit_distance_km", "fitbit_calories_total",
            "fitbit_active_minutes", "fitbit_floors_total", "fitbit_elevation_meters",
            "fitbit_resting_heart_rate_bpm", "fitbit_heart_rate_zone_minutes",
            "fitbit_heart_rate_zone_calories"} <= names
    assert export_meta(first)["samples_appended"] == sum(map(len, before.values()))

    # SyncBit's names carry the Google Health data with SyncBit's labels and units
    day = date(2026, 11, 8)
    minutes = gd.minutes(world, day)
    steps = sum(m.steps or 0 for m in minutes)
    assert before[key("fitbit_steps_total", device="charge6")][midnight_ms(day, TZ)] == steps
    assert before[key("fitbit_distance_km", device="charge6")][midnight_ms(day, TZ)] == steps * 762 / 1000 / 1000
    cardio = sum(1 for m in minutes if m.zone == "CARDIO" and m.level != "SEDENTARY")
    assert before[key("fitbit_heart_rate_zone_minutes", device="charge6", zone="cardio")][midnight_ms(day, TZ)] == cardio
    assert before[key("health_steps", provider="fitbit")][midnight_ms(day, TZ)] == steps

    # a second run changes nothing; Withings and Hevy, unchanged, are not even compared
    again = run_range(config, instance, everything(config), START, END)
    meta = export_meta(again)
    assert (meta["samples_appended"], meta["samples_rewritten"]) == (0, 0)
    assert 0 < meta["samples_unchanged"] < sum(map(len, before.values()))  # type: ignore[operator]
    scopes = str(meta["scopes"])
    assert "- daily_summary/*: all days" in scopes and "- heart_rate/fitbit: 2026-11-04..2026-11-10" in scopes
    changing = [f"{s.table}/{s.provider}:" for t in TABLES.values() for s in t.sources if s.driver == "changes"]
    assert len(changing) == 17 and not [c for c in changing if c in scopes]
    assert held(config) == before

    # Oura re-scores the night ending on END: the sleep score is corrected, nothing else moves
    night = night_for(world, END)
    assert night is not None
    world.clock.advance(night.rescored_at - world.clock.now() + timedelta(minutes=1))
    rescored = run_range(config, instance, everything(config), END, END)
    assert rescored.success
    after = assert_exact(config)
    [daily_sleep] = truth.oura_documents(world, "daily_sleep", END, END)
    score = key("health_sleep_score", provider="oura")
    assert after[score][midnight_ms(END, TZ)] == daily_sleep["score"] != before[score][midnight_ms(END, TZ)]
    corrected = set(export_meta(rescored)["series_corrected"])  # type: ignore[arg-type]
    assert selector(score) in corrected
    assert corrected == {selector(k) for k in changed_series(before, after)}

    # a Hevy workout from before the window is deleted: its samples leave VictoriaMetrics
    victim = next(w for w in sandbox.hevy.live_workouts()
                  if datetime.fromisoformat(w["start_time"].replace("Z", "+00:00")).astimezone(TZ).date() < START)
    started = int(datetime.fromisoformat(victim["start_time"].replace("Z", "+00:00")).timestamp() * 1000)
    duration = key("health_workout_duration_seconds", provider="hevy", activity="strength_training")
    assert started in after[duration]
    world.clock.advance(timedelta(minutes=5))
    sandbox.hevy.delete_workout(victim["id"])
    world.clock.advance(timedelta(minutes=5))
    deleted = run_range(config, instance, everything(config), END, END)
    assert deleted.success
    final = assert_exact(config)
    assert started not in final[duration]
    assert selector(duration) in export_meta(deleted)["series_corrected"]  # type: ignore[operator]

    # SyncBit's names switched off: those series go; a new user label: every series moves to it
    config = all_providers_config(path, sandbox, FIRST, TIMEZONE, vm_config(victoriametrics.url))
    assert run_range(config, instance, ["export_victoriametrics"], END, END).success
    assert not any(k.startswith("__name__=fitbit_") for k in assert_exact(config))
    path.write_text(path.read_text().replace('user = "me"', 'user = "renamed"'))
    config = load_config(path)
    assert run_range(config, instance, ["export_victoriametrics"], END, END).success
    relabelled = assert_exact(config)
    assert relabelled and all(",user=renamed" in k for k in relabelled)


def oura_config(make_config: ConfigFactory, url: str, extra: str = "") -> Config:
    config = make_config(vm_url=url, extra=extra)
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    return config


def sync(config: Config, instance: dg.DagsterInstance, start: date = START, end: date = END):  # type: ignore[no-untyped-def]
    return materialize_range(config, instance, raw_asset_keys(config, None) + downstream_keys(config), start, end)


def test_a_server_keeping_too_little_history_gets_a_clear_refusal_and_nothing_is_written(
    tmp_path: Path, make_config: ConfigFactory, instance: dg.DagsterInstance,
) -> None:
    with LocalVictoriaMetrics(tmp_path / "short", retention="7d") as short:
        config = oura_config(make_config, short.url)
        # the samples the server would drop end where its retention begins (real time, less a day of margin)
        limits = {(datetime.now(timezone.utc) - timedelta(days=6)).date()}
        with pytest.raises(SyncError) as refused:
            sync(config, instance)
        limits.add((datetime.now(timezone.utc) - timedelta(days=6)).date())  # the run may cross midnight
        assert re.search(
            rf"export_victoriametrics: VictoriaMetrics at {short.url} keeps 7 days of data, so it would silently "
            # the first sample: 2026-11-04 00:00 in Berlin, 23:00 UTC the day before
            rf"drop the samples from 2026-11-03 to ({'|'.join(str(d) for d in limits)}); restart it with "
            r"-retentionPeriod=100y", str(refused.value))
        assert held(config) == {}
        with TidyStore(config.app.duckdb).connect(read_only=True) as conn:  # the window stays pending
            assert conn.execute("SELECT count(*) FROM _vm_days").fetchone() == (0,)
            assert ("daily_activity", "oura", START, END, "me") in conn.execute("SELECT * FROM _vm_pending").fetchall()


def test_an_export_that_failed_is_caught_up_by_the_next_run_whatever_its_window(
    make_config: ConfigFactory, victoriametrics: LocalVictoriaMetrics, instance: dg.DagsterInstance,
) -> None:
    config = oura_config(make_config, victoriametrics.url)
    victoriametrics.stop()
    with pytest.raises(SyncError, match=r"export_victoriametrics: cannot reach VictoriaMetrics at http://127\.0\.0\.1:\d+ "
                                        r"\(ConnectionError\); is it running\? Nothing was recorded as written"):
        sync(config, instance)
    victoriametrics.start()
    result = sync(config, instance, END, END)  # today only: the failed week is pending and goes too
    got = assert_exact(config)
    assert {ts for ts in got[key("health_steps", provider="oura")]} == {midnight_ms(START + timedelta(days=i), TZ)
                                                                         for i in range(7)}
    assert result.metadata["export_victoriametrics"]["samples_appended"] == sum(map(len, got.values()))


def _dagster_storage_text(instance: dg.DagsterInstance) -> str:
    from dagster._serdes import serialize_value

    parts = []
    for run in instance.get_runs():
        parts += [serialize_value(run), *(serialize_value(e) for e in instance.all_logs(run.run_id))]
    return "\n".join(parts)


def test_basic_auth_works_and_the_password_never_shows(
    tmp_path: Path, make_config: ConfigFactory, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    args = ["-httpAuth.username=health", f"-httpAuth.password={SENTINEL}"]
    with LocalVictoriaMetrics(tmp_path / "auth", extra_args=args) as server:
        monkeypatch.setenv("HEALTH_PIPELINE_VICTORIAMETRICS_PASSWORD", "wrong-password")
        wrong = oura_config(make_config, server.url, 'username = "health"')
        with pytest.raises(SyncError, match=r"answered \w+ /\S+ with HTTP 401 \(check \[victoriametrics\] "
                                            r"username and password\)") as failure:
            sync(wrong, instance)
        assert "wrong-password" not in str(failure.value)

        monkeypatch.setenv("HEALTH_PIPELINE_VICTORIAMETRICS_PASSWORD", SENTINEL)
        config = make_config(vm_url=server.url, extra='username = "health"')
        result = sync(config, instance)
        exported = result.metadata["export_victoriametrics"]
        # the refused import left its series dirty: they are written whole now
        assert exported["samples_appended"] + exported["samples_rewritten"] == sum(map(len, assert_exact(config).values()))

    captured = capsys.readouterr()
    seen = [_dagster_storage_text(instance), captured.out, captured.err, caplog.text, repr(result.metadata),
            (tmp_path / "health-pipeline.toml").read_text()]
    assert [SENTINEL in text for text in seen] == [False] * len(seen)
    assert "health" in repr(result.metadata)  # the run was searched, not empty


def test_tls_with_a_private_certificate_needs_its_ca_bundle(
    tmp_path: Path, make_config: ConfigFactory, instance: dg.DagsterInstance,
) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test certificate (apt-get install -y openssl)"
    cert, key_file = tmp_path / "vm.crt", tmp_path / "vm.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key_file), "-out", str(cert)],
                   check=True, capture_output=True)
    with LocalVictoriaMetrics(tmp_path / "tls", tls=(cert, key_file)) as server:
        assert server.url.startswith("https://")
        untrusted = oura_config(make_config, server.url)
        with pytest.raises(SyncError, match=r"presented a certificate that could not be verified; set "
                                            r"\[victoriametrics\] ca_bundle to the CA certificate"):
            sync(untrusted, instance, END, END)
        config = make_config(vm_url=server.url, extra=f'ca_bundle = "{cert}"')
        sync(config, instance, END, END)
        assert key("health_steps", provider="oura") in assert_exact(config)
