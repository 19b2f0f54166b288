"""`health-pipeline doctor` against the sandbox, a real VictoriaMetrics, and real store files."""

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from health_pipeline.cli import main
from health_pipeline.config import Config
from health_pipeline.instance.home import ensure_instance_settings
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sandbox.server import Sandbox
from health_pipeline_tests.conftest import TIMEZONE, TODAY
from health_pipeline_tests.tidy_setup import all_providers_config


def setup(tmp_path: Path, sandbox: Sandbox, vm_url: str) -> Config:
    return all_providers_config(tmp_path / "health-pipeline.toml", sandbox, TODAY - timedelta(days=20), TIMEZONE,
                                extra=f'[victoriametrics]\nenabled = true\nurl = "{vm_url}"\n')


def doctor(config: Config, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[list[str]]]:
    """Exit status and the table's rows as [status, check, detail-or-fix...] split on two spaces."""
    code = main(["--config", str(config.path), "doctor"])
    out = capsys.readouterr().out
    rows = [[part.strip() for part in line.split("  ") if part.strip()] for line in out.splitlines()[1:] if line]
    return code, rows


def test_a_healthy_setup_passes_with_one_cheap_request_per_provider(
        tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = setup(tmp_path, sandbox, victoriametrics.url)
    sandbox.log.clear()
    code, rows = doctor(config, capsys)
    assert code == 0
    assert [(r[0], r[1]) for r in rows[:-1]] == [
        ("ok", "config"), ("ok", "raw store"), ("ok", "tidy store"), ("ok", "dagster instance"),
        ("ok", "oura credentials"), ("ok", "oura API"), ("ok", "fitbit credentials"), ("ok", "fitbit API"),
        ("ok", "withings credentials"), ("ok", "withings API"), ("ok", "hevy credentials"), ("ok", "hevy API"),
        ("ok", "whoop credentials"), ("ok", "whoop API"), ("ok", "strava credentials"), ("ok", "strava API"),
        ("ok", "polar credentials"), ("ok", "polar API"), ("ok", "victoriametrics")]
    assert rows[-1] == ["all is well"]
    assert rows[-2][2].endswith("healthy, retention 100 years")
    assert [(e.provider, e.method, e.path) for e in sandbox.log.entries()] == [
        ("oura", "GET", "/v2/usercollection/personal_info"),
        ("google-health", "POST", "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp"),
        ("withings", "POST", "/measure"),
        ("hevy", "GET", "/v1/user/info"),
        ("whoop", "GET", "/developer/v2/user/profile/basic"),
        ("strava", "GET", "/api/v3/athlete"),
        ("polar", "GET", "/v3/users/47052118"),
    ]


def test_each_problem_gets_its_fix_and_a_failing_exit_status(
        tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster-home"
    assert ensure_instance_settings(home, postgres=True)  # a Postgres-backed home, its URL not set
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
    with LocalVictoriaMetrics(tmp_path / "short", retention="7d") as short:
        config = setup(tmp_path, sandbox, short.url)
        assert config.path is not None
        config.path.chmod(0o644)
        with sqlite3.connect(config.app.raw_db) as conn:
            conn.execute("DELETE FROM oauth_tokens WHERE provider = 'withings'")
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
             " time.sleep(120)", str(config.app.duckdb)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            code, rows = doctor(config, capsys)
        finally:
            holder.kill()
            holder.wait()
    assert code == 1
    by_check = {r[1]: r for r in rows if len(r) > 2 and r[0] in ("ok", "warn", "FAIL")}
    fixes = {rows[i - 1][1]: r[0] for i, r in enumerate(rows) if r and r[0].startswith("fix: ")}
    assert by_check["config"][0] == "warn" and fixes["config"] == f"fix: chmod 600 {config.path}"
    assert by_check["tidy store"][0] == "FAIL"
    assert fixes["tidy store"] == "fix: wait for the run to finish or close that program"
    assert by_check["withings credentials"][:3] == ["FAIL", "withings credentials", "no token"]
    assert fixes["withings credentials"] == "fix: health-pipeline auth withings"
    assert "withings API" not in by_check  # no request without a token
    assert by_check["victoriametrics"][0] == "FAIL" and "retention 7 days is shorter than the history" in \
        by_check["victoriametrics"][2]
    assert fixes["victoriametrics"].startswith("fix: restart VictoriaMetrics with -retentionPeriod=100y")
    assert by_check["oura API"][0] == "ok" and by_check["hevy API"][0] == "ok"
    assert by_check["dagster instance"][:3] == [
        "FAIL", "dagster instance", f"{home / 'dagster.yaml'} keeps Dagster's history in Postgres, but "
        "$DAGSTER_POSTGRES_URL is not set: set it to the database's URL"]
    assert fixes["dagster instance"] == ("fix: set DAGSTER_POSTGRES_URL=postgresql+psycopg2://USER:PASSWORD@HOST:PORT/"
                                        "DATABASE for every Dagster process (deploy/README.md)")
    assert rows[-1] == ["5 problems found"]


def test_a_broken_config_stops_at_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "health-pipeline.toml"
    path.write_text("[oura]\nenabled = yes\n", encoding="utf-8")
    code = main(["--config", str(path), "doctor"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[1].startswith("FAIL    config  ") and "not valid TOML" in out[1]
    assert out[2].strip() == "fix: fix the file (health-pipeline.example.toml lists every key)"
    assert out[-1] == "1 problem found"
