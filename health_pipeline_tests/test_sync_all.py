"""`health-pipeline sync` fetches every enabled provider, Withings and Hevy included, as one run:
with the sandbox over HTTP, a real VictoriaMetrics and a real Dagster home, as cron would run it."""

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test

from health_pipeline.cli import main, render_table, watermark_text
from health_pipeline.registry import load_config
from health_pipeline.config import Config
from health_pipeline.pipeline.resources import resources_for
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.hevy import position as hevy_position
from health_pipeline.sources.withings import position as withings_position
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.withings import client as withings
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import TIMEZONE, TODAY
from health_pipeline_tests.export_oracle import assert_exact
from health_pipeline.pipeline.cursor import build_cursor_sensor
from health_pipeline.registry import REGISTRY

withings_changes = build_cursor_sensor(REGISTRY.api("withings"))
hevy_changes = build_cursor_sensor(REGISTRY.api("hevy"))

WITHINGS = ["activity", "measures", "sleep_summary", "workouts"]
START = TODAY - timedelta(days=20)


def write_config(path: Path, sandbox: Sandbox, vm_url: str, extra: str = "") -> Config:
    w = sandbox.url("withings")
    path.write_text(f"""
[app]
timezone = "{TIMEZONE}"
user = "me"
{extra}

[withings]
enabled = true
start_date = "{START}"
base_url = "{w}"
authorize_url = "{w}/oauth2_user/authorize2"
token_url = "{w}/v2/oauth2"
client_id = "sandbox"
client_secret = "sandbox-secret"
redirect_uri = "https://health.example.org/withings/callback"

[hevy]
enabled = true
start_date = "{START}"
base_url = "{sandbox.url('hevy')}"
api_key = "sandbox-api-key"

[victoriametrics]
enabled = true
url = "{vm_url}"
""", encoding="utf-8")
    path.chmod(0o600)
    return load_config(path)


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, dagster_home: Path) -> Config:
    config = write_config(tmp_path / "health-pipeline.toml", sandbox, victoriametrics.url)
    assert main(["--config", str(config.path), "init"]) == 0
    authorize_with_sandbox(OAuthTokens(config.withings, RawStore(config.app.raw_db), withings.OAUTH))
    return config


def cli(capsys: pytest.CaptureFixture[str], config: Config, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--config", str(config.path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def requests(sandbox: Sandbox) -> Counter[str]:
    """Data requests per provider and endpoint (`withings getmeas`, `hevy /v1/workouts/events`)."""
    return Counter(f"{e.provider} {e.params.get('action') or e.path}" for e in sandbox.log.entries()
                   if e.params.get("action") != "requesttoken")


def tidy(config: Config, sql: str, params: list[object] | None = None) -> list[tuple]:
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def tick(sensor: dg.SensorDefinition, config: Config) -> dg.SensorResult:
    with dg.DagsterInstance.get() as instance, \
            dg.build_sensor_context(instance=instance, resources=resources_for(config)) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_sync_with_only_withings_and_hevy_enabled_lands_both_and_exports_them(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, config, "sync")
    assert (code, err) == (0, "")
    store = RawStore(config.app.raw_db)
    assert all(store.records("withings", r) and withings_position(store, r) for r in WITHINGS)
    landed = {r.record_id for r in store.records("hevy", "workouts")}
    assert landed == {w["id"] for w in sandbox.hevy.live_workouts() if w["start_time"][:10] >= START.isoformat()}
    assert hevy_position(store) is not None
    assert {provider.split()[0] for provider in requests(sandbox)} == {"withings", "hevy"}
    assert "withings_measures: first_sync=True" in out and "hevy_workouts: first_sync=True" in out
    held = assert_exact(config)
    names = {key.split(",")[0] for key in held if "provider=withings" in key or "provider=hevy" in key}
    assert {"__name__=health_body_weight_kg", "__name__=health_steps", "__name__=health_sleep_seconds",
            "__name__=health_training_volume_kg", "__name__=health_workout_duration_seconds"} <= names
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs()  # one run, as the UI shows it
        assert run.tags["health/fetch.withings"] == run.tags["health/fetch.hevy"] == "true"
        assert "health/fetch.oura" not in run.tags


def test_a_repeated_sync_asks_each_change_driven_resource_once_and_writes_nothing(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, config, "sync")[0] == 0
    sandbox.log.clear()
    code, out, _ = cli(capsys, config, "sync")
    assert code == 0
    assert requests(sandbox) == Counter({"withings getmeas": 1, "withings getactivity": 1, "withings getworkouts": 1,
                                         "withings getsummary": 1, "hevy /v1/workouts/events": 1})
    export = next(line for line in out.splitlines() if line.strip().startswith("export_victoriametrics:"))
    assert "samples_appended=0," in export and "samples_rewritten=0," in export  # VictoriaMetrics untouched
    assert "records_new=0, records_changed=0" in next(line for line in out.splitlines() if "withings_measures:" in line)


def test_a_workout_deleted_at_hevy_leaves_the_tidy_tables_and_victoriametrics_after_the_next_sync(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, config, "sync")[0] == 0
    victim = max((w for w in sandbox.hevy.live_workouts() if w["start_time"][:10] >= START.isoformat()),
                 key=lambda w: w["start_time"])
    before = assert_exact(config)
    sandbox.world.clock.advance(timedelta(minutes=30))
    sandbox.hevy.delete_workout(victim["id"])
    assert cli(capsys, config, "sync")[0] == 0
    assert tidy(config, "SELECT count(*) FROM workouts WHERE workout_id = ?", [victim["id"]]) == [(0,)]
    assert tidy(config, "SELECT count(*) FROM workout_sets WHERE workout_id = ?", [victim["id"]]) == [(0,)]
    after = assert_exact(config)
    start_ms = int(datetime.fromisoformat(victim["start_time"]).timestamp() * 1000)
    duration = [k for k in before if k.startswith("__name__=health_workout_duration_seconds,") and "provider=hevy" in k]
    assert any(start_ms in before[k] for k in duration) and not any(start_ms in after.get(k, {}) for k in duration)


def test_provider_hevy_alone_fetches_only_hevy(config: Config, sandbox: Sandbox,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.log.clear()
    code, out, err = cli(capsys, config, "sync", "--provider", "hevy")
    assert (code, err) == (0, "")
    assert {key.split()[0] for key in requests(sandbox)} == {"hevy"}
    store = RawStore(config.app.raw_db)
    assert store.records("hevy", "workouts") and all(not store.records("withings", r) for r in WITHINGS)
    assert "withings_" not in out
    code, _, _ = cli(capsys, config, "sync", "--provider", "withings", "--provider", "hevy")  # repeatable
    assert code == 0 and all(store.records("withings", r) for r in WITHINGS)


def test_a_window_sync_covers_withings_and_hevy_and_the_next_sensor_tick_finds_nothing_new(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, config, "sync")[0] == 0
    store = RawStore(config.app.raw_db)
    watermarks = {r: withings_position(store, r) for r in WITHINGS}
    hevy_before = hevy_position(store)
    sandbox.world.clock.advance(timedelta(days=2))  # new weigh-ins, nights, workouts at both providers
    authorize_with_sandbox(OAuthTokens(config.withings, store, withings.OAUTH))  # its 3-hour token: a fresh one
    start, end = TODAY - timedelta(days=4), TODAY + timedelta(days=1)
    sandbox.log.clear()
    code, out, err = cli(capsys, config, "sync", "--start", start.isoformat(), "--end", end.isoformat())
    assert (code, err) == (0, "")
    asked = requests(sandbox)
    # the window by dates (getmeas by instant), then what changed since the watermark
    assert asked["withings getactivity"] == asked["withings getsummary"] == asked["withings getmeas"] == 2
    windowed = [e for e in sandbox.log.entries("withings") if e.params.get("action") == "getactivity"][0]
    assert (windowed.params["startdateymd"], windowed.params["enddateymd"]) == (start.isoformat(), end.isoformat())
    assert asked["hevy /v1/workouts"] >= 1 and asked["hevy /v1/workouts/events"] == 1
    days = {r.day for r in store.records("withings", "activity")}
    assert {(start + timedelta(days=i)).isoformat() for i in range(6)} <= days
    assert all(withings_position(store, r) >= watermarks[r] for r in WITHINGS)  # never backwards
    assert hevy_position(store) >= hevy_before  # type: ignore[operator]
    sandbox.log.clear()
    assert tick(withings_changes, config).skip_reason.skip_message == "nothing changed at Withings since the last landed sync"  # type: ignore[union-attr]
    assert tick(hevy_changes, config).skip_reason.skip_message == "no workout changed at Hevy since the last landed event"  # type: ignore[union-attr]
    assert requests(sandbox) == Counter({"withings getmeas": 1, "withings getactivity": 1, "withings getworkouts": 1,
                                         "withings getsummary": 1, "hevy /v1/workouts/events": 1})


def test_a_sync_waits_for_a_sensor_run_holding_the_provider_then_refuses_in_one_line(
    tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, dagster_home: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "short.toml", sandbox, victoriametrics.url, extra="lock_wait_s = 1")
    assert main(["--config", str(config.path), "init"]) == 0
    authorize_with_sandbox(OAuthTokens(config.withings, RawStore(config.app.raw_db), withings.OAUTH))
    with dg.DagsterInstance.get() as instance:
        held = create_run_for_test(instance, job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
                                   tags={"health/provider": "withings", "dagster/sensor_name": "withings_changes"})
    sandbox.log.clear()
    code, out, err = cli(capsys, config, "sync")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"health-pipeline: withings: waiting for run {held.run_id[:8]} (the withings_changes sensor) to finish fetching it",
        f"health-pipeline: error: withings: run {held.run_id[:8]} (the withings_changes sensor) is still fetching it "
        "after 1 s ([app] lock_wait_s); try again when it has finished"]
    assert sandbox.log.entries() == []  # nothing was fetched
    with dg.DagsterInstance.get() as instance:
        assert [r.run_id for r in instance.get_runs()] == [held.run_id]


def test_a_sync_goes_on_once_the_sensor_run_has_finished(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    with dg.DagsterInstance.get() as instance:
        held = create_run_for_test(instance, job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
                                   tags={"health/provider": "hevy", "dagster/sensor_name": "hevy_changes"})

        def finish() -> None:
            with dg.DagsterInstance.get() as other:
                other.report_run_failed(other.get_run_by_id(held.run_id))  # type: ignore[arg-type]

        threading.Timer(1.5, finish).start()
    code, out, err = cli(capsys, config, "sync")
    assert code == 0
    assert err.splitlines() == [f"health-pipeline: hevy: waiting for run {held.run_id[:8]} (the hevy_changes sensor) "
                                "to finish fetching it"]
    assert RawStore(config.app.raw_db).records("hevy", "workouts")


def test_a_sensor_skips_while_a_cli_sync_fetches_its_provider(config: Config, dagster_home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        create_run_for_test(instance, job_name="__ephemeral_asset_job__", status=DagsterRunStatus.STARTED,
                            tags={"health/trigger": "cli", "health/fetch.withings": "true", "health/fetch.hevy": "true"})
    for sensor, name in ((withings_changes, "Withings"), (hevy_changes, "Hevy")):
        result = tick(sensor, config)
        assert not result.run_requests and result.skip_reason.skip_message == f"a {name} run is queued or running"  # type: ignore[union-attr]


def test_status_shows_change_driven_watermarks_as_times_in_aligned_columns(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, config, "sync")[0] == 0
    code, out, _ = cli(capsys, config, "status")
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("provider") and "resource" in line)
    table = lines[header:]
    store = RawStore(config.app.raw_db)
    measures = next(line for line in table if line.split()[:2] == ["withings", "measures"])
    stamp = datetime.fromtimestamp(withings_position(store, "measures") or 0, timezone.utc)
    assert f"{stamp:%Y-%m-%d %H:%M:%S} UTC" in measures
    workouts = next(line for line in table if line.split()[:2] == ["hevy", "workouts"])
    assert f"{hevy_position(store):%Y-%m-%d %H:%M:%S} UTC" in workouts
    column = table[0].index("watermark")  # every row's watermark starts under its header
    assert all(line[column - 1] == " " and line[column] != " " for line in table[1:]), table


def test_the_status_table_widens_for_a_long_resource_name() -> None:
    text = render_table(["provider", "resource", "records"], [["withings", "a_resource_name_of_forty_two_characters__", "3"],
                                                              ["hevy", "workouts", "12"]], widths=[10, 18, 8], right={2})
    rows = text.splitlines()
    assert {len(r) for r in rows} == {len(rows[0])} and rows[1].endswith("       3") and rows[2].endswith("      12")
    assert watermark_text("1794291600") == "2026-11-10 06:20:00 UTC"
    assert watermark_text("2026-11-08T19:02:11.204000+00:00") == "2026-11-08 19:02:11 UTC"
    assert watermark_text("2026-11-09") == "2026-11-09" and watermark_text(None) == "-"
