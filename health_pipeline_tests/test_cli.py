"""The `health-pipeline` command: init, sync, rebuild, status, sandbox serve, and bad arguments."""

import os
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from health_pipeline.cli import main
from health_pipeline.config import Config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics, free_port
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import TODAY, WINDOW, ConfigFactory
from health_pipeline.registry import ALL_TABLES


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def config(make_config: ConfigFactory, victoriametrics: LocalVictoriaMetrics, dagster_home: Path) -> Config:
    config = make_config(vm_url=victoriametrics.url)
    assert main(["--config", str(config.path), "init"]) == 0
    authorize_with_sandbox(OAuthTokens(config.oura, RawStore(config.app.raw_db), oura.OAUTH))
    return config


def cli(capsys: pytest.CaptureFixture[str], config: Config, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config.path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_init_creates_both_stores_and_registers_the_pools(
    make_config: ConfigFactory, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config()
    code, out, _ = cli(capsys, config, "init")
    assert code == 0
    assert out.splitlines()[0] == f"dagster.yaml written to {dagster_home} (telemetry off, pools, run queue)"
    out = "\n".join(out.splitlines()[1:]) + "\n"
    assert stat.S_IMODE(config.app.raw_db.stat().st_mode) == 0o600
    with duckdb.connect(str(config.app.duckdb), read_only=True) as conn:
        assert {r[0] for r in conn.execute("SHOW TABLES").fetchall()} == {*ALL_TABLES, "_tidy_state", "rejected_values", "origin_disagreements"}
    assert out.splitlines() == [
        f"raw store:  {config.app.raw_db}",
        f"tidy store: {config.app.duckdb}",
        f"dagster:    history in SQLite in {dagster_home}; pools oura_api, fitbit_api, withings_api, hevy_api, whoop_api, strava_api, polar_api, "
        "raw_store, duckdb (limit 1 each)",
    ]
    with dg.DagsterInstance.get() as instance:
        assert instance.event_log_storage.get_concurrency_info("withings_api").slot_count == 1


def test_sync_a_range_then_what_is_due_then_rebuild_without_calling_the_provider(
    config: Config, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    start, end = WINDOW
    code, out, err = cli(capsys, config, "sync", "--start", start.isoformat(), "--end", end.isoformat())
    assert (code, err) == (0, "")
    assert out.splitlines()[0].endswith(f": {start} .. {end}")
    assert "oura_daily_activity: window=2026-10-12..2026-11-10, requests=1," in out

    # "what is due": everything never materialized since start_date, through today
    today = datetime.now(config.app.tz).date()
    code, out, _ = cli(capsys, config, "sync")
    assert code == 0 and out.splitlines()[0].endswith(f": {config.oura.start_date} .. {today}")
    # now only yesterday and today are due (they are refreshed for late syncs and revisions)
    code, out, _ = cli(capsys, config, "sync", "--provider", "oura")
    assert code == 0 and out.splitlines()[0].endswith(f": {today - timedelta(days=1)} .. {today}")
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == 3

    with duckdb.connect(str(config.app.duckdb), read_only=True) as conn:
        before = conn.execute("SELECT * FROM daily_activity ORDER BY day").fetchall()
    config.app.duckdb.unlink()
    requests_before = len(sandbox.log.entries())
    code, out, _ = cli(capsys, config, "rebuild")
    assert code == 0
    assert len(sandbox.log.entries()) == requests_before  # no provider was called
    with dg.DagsterInstance.get() as instance:  # change-driven sources are re-modelled regardless
        assert instance.get_runs(limit=1)[0].tags["health/rebuild"] == "full"
    with duckdb.connect(str(config.app.duckdb), read_only=True) as conn:
        assert conn.execute("SELECT * FROM daily_activity ORDER BY day").fetchall() == before
    assert len(before) == len(truth.oura_daily_activity(sandbox.world, config.oura.start_date, TODAY))


def test_status_reports_providers_tokens_and_what_landed(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, config, "sync", "--start", "2026-11-01", "--end", "2026-11-10")
    code, out, _ = cli(capsys, config, "status")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"config: {config.path}"
    assert any(line.startswith("oura       yes      2026-09-12  token present, expires ") for line in lines)
    assert "fitbit     no       2024-01-01  -" in lines
    daily = next(line for line in lines if line.startswith("oura       daily_activity"))
    records = RawStore(config.app.raw_db).records("oura", "daily_activity")
    assert daily.split()[2:5] == [str(len(records)), "0", f"{records[0].day}..{records[-1].day}"]
    assert "sandbox-secret" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--start", "2026-11-01"], "--start and --end go together"),
        (["sync", "--start", "2026-11-10", "--end", "2026-11-01"], "--start 2026-11-10 is after --end 2026-11-01"),
        (["sync", "--start", "2020-01-01", "--end", "2020-01-02"], "--start 2020-01-01 is before the earliest configured start_date 2026-09-12"),
        (["sync", "--start", "2026-11-01", "--end", "2999-01-01"], "--end 2999-01-01 is in the future"),
        (["sync", "--provider", "fitbit"], "--provider fitbit: disabled in the config ([fitbit] enabled = false)"),
        (["rebuild", "--end", "2026-11-01"], "--start and --end go together"),
    ],
)
def test_bad_ranges_and_providers_are_one_line_errors_with_exit_2(
    make_config: ConfigFactory, dagster_home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    config = make_config()
    code, out, err = cli(capsys, config, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"health-pipeline: error: {message}") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["sync", "--start", "yesterday", "--end", "2026-11-01"], "argument --start: not a date (expected YYYY-MM-DD): 'yesterday'"),
        (["sync", "--provider", "garmin"], "argument --provider: invalid choice: 'garmin'"),
        (["sandbox", "serve", "--port", "99999"], "argument --port: port out of range 0-65535: 99999"),
        (["sandbox", "serve", "--days", "0"], "argument --days: must be at least 1: 0"),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_usage(capsys: pytest.CaptureFixture[str], args: list[str], fragment: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_sync_with_nothing_enabled_says_what_to_do(
    tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("[app]\ntimezone = \"UTC\"\n")
    assert main(["--config", str(path), "sync"]) == 2
    assert capsys.readouterr().err == (
        "health-pipeline: error: no provider is enabled; enable one in the config "
        "(e.g. [oura] enabled = true)\n"
    )


def test_sandbox_serve_serves_on_the_given_port_until_interrupted() -> None:
    port = free_port()
    # A shell's background job (`pytest &`) ignores SIGINT, and so would the child it starts;
    # give the child Ctrl-C as a terminal would (a handled signal is reset to the default at exec).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "health_pipeline.cli", "sandbox", "serve", "--port", str(port), "--days", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
    finally:
        signal.signal(signal.SIGINT, inherited)
    try:
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline and response is None:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/oura/v2/usercollection/daily_activity", timeout=1)
            except requests.ConnectionError:
                time.sleep(0.05)  # polling the child's readiness with a deadline
        assert response is not None and response.status_code == 401
        assert response.json() == {"detail": "Not authenticated"}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"  oura           http://127.0.0.1:{port}/oura" in out.splitlines()
