"""Secrets never leak: a full run with sentinel secrets, then every place the product writes is searched.

The sandbox is given sentinel credentials (OAuth client secret, Withings signing secret, Hevy API
key), VictoriaMetrics a sentinel basic-auth password, and the config takes them from the
environment. The run goes through the CLI (init, status, doctor, a sync refused by
VictoriaMetrics for a wrong sentinel password, the sync again, rebuild, lineage) and the
change-driven providers, under a few faults so retries, refreshes and failures are recorded too.
Then the sentinels and every token the sandbox minted are looked for in the Dagster instance
(event log, runs and their config, compute logs: every file under DAGSTER_HOME), the raw store
except `oauth_tokens`, the DuckDB file, VictoriaMetrics' series and labels, and all CLI output.
"""

import re
import sqlite3
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from health_pipeline.cli import main
from health_pipeline.dev.demo import all_asset_keys, sandbox_config_text, write_sandbox_config
from health_pipeline.instance.home import open_instance
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.hevy.sandbox import api as sandbox_hevy
from health_pipeline.sandbox import oauth as sandbox_oauth
from health_pipeline.sandbox.oauth import FakeOAuthServer
from health_pipeline.sources.withings.sandbox import api as sandbox_withings
from health_pipeline.sandbox.faults import FaultPlan
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sync import materialize_range
from health_pipeline_tests.conftest import TIMEZONE, TODAY

pytestmark = pytest.mark.slow

CLIENT_SECRET = "sentinel-client-secret-0f3a9c"
API_KEY = "sentinel-hevy-key-7d21e4"
VM_PASSWORD = "sentinel-vm-password-b58e13"
WRONG_PASSWORD = "sentinel-wrong-password-49ac02"
START, END = TODAY - timedelta(days=6), TODAY


@pytest.fixture
def sentinel_sandbox(world: SandboxWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox, accepting only the sentinel client secret and API key."""
    monkeypatch.setattr(sandbox_oauth, "SANDBOX_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setattr(sandbox_withings, "SANDBOX_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setattr(sandbox_hevy, "SANDBOX_API_KEY", API_KEY)
    with sandbox_for(world) as running:
        yield running


def minted_tokens(sandbox: Sandbox) -> list[str]:
    """Every token every fake's OAuth server issued (the API-key source has none)."""
    return [t for app in sandbox.apps.values() if isinstance(getattr(app, "oauth", None), FakeOAuthServer)
            for t in app.oauth.minted_tokens()]


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def raw_store_text(path: Path) -> str:
    """Every row of every raw-store table except `oauth_tokens`, as text."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert "records" in tables and "oauth_tokens" in tables
        return "\n".join(repr(row) for table in tables if table != "oauth_tokens"
                         for row in conn.execute(f'SELECT * FROM "{table}"'))


def duckdb_hits(path: Path, pattern: str) -> dict[str, int]:
    """table.column -> rows whose text matches `pattern`, over every column of every table."""
    hits: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as conn:
        columns = conn.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
        assert len(columns) > 50
        for table, column in columns:
            found = conn.execute(f'SELECT count(*) FROM "{table}" WHERE regexp_matches(CAST("{column}" AS VARCHAR), ?)',
                                 [pattern]).fetchone()
            if found and found[0]:
                hits[f"{table}.{column}"] = found[0]
    return hits


def victoriametrics_text(server: LocalVictoriaMetrics) -> str:
    """Every series VictoriaMetrics holds (labels and samples) and every label name and value."""
    auth = ("health", VM_PASSWORD)
    requests.get(f"{server.url}/internal/force_flush", auth=auth, timeout=10).raise_for_status()
    exported = requests.get(f"{server.url}/api/v1/export", params={"match[]": '{__name__=~".+"}'}, auth=auth, timeout=60)
    exported.raise_for_status()
    names = requests.get(f"{server.url}/api/v1/labels", auth=auth, timeout=10).json()["data"]
    values = [requests.get(f"{server.url}/api/v1/label/{name}/values", auth=auth, timeout=10).text for name in names]
    return "\n".join([exported.text, *names, *values])


def test_after_a_full_run_no_secret_is_anywhere_but_the_token_store(
    tmp_path: Path, sentinel_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = sentinel_sandbox
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for section in ("OURA", "FITBIT", "WITHINGS"):
        monkeypatch.setenv(f"HEALTH_PIPELINE_{section}_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("HEALTH_PIPELINE_HEVY_API_KEY", API_KEY)
    monkeypatch.setenv("HEALTH_PIPELINE_VICTORIAMETRICS_PASSWORD", WRONG_PASSWORD)
    vm_args = ["-httpAuth.username=health", f"-httpAuth.password={VM_PASSWORD}"]
    with LocalVictoriaMetrics(tmp_path / "vm", extra_args=vm_args) as server:
        text = sandbox_config_text(sandbox, START, TIMEZONE, "me", server.url)
        text = text.replace('client_secret = "sandbox-secret"\n', "").replace('api_key = "sandbox-api-key"\n', "")
        text = text.replace(f'url = "{server.url}"\n', f'url = "{server.url}"\nusername = "health"\n')
        config = write_sandbox_config(tmp_path / "health-pipeline.toml", text)
        cli = ["--config", str(config.path)]
        span = ["--start", START.isoformat(), "--end", END.isoformat()]

        assert main([*cli, "init"]) == 0
        assert main([*cli, "status"]) == 0
        assert main([*cli, "doctor"]) == 1  # VictoriaMetrics refuses the wrong password: reported, not echoed
        assert main([*cli, "sync", *span]) == 1  # ... and the export fails on it
        monkeypatch.setenv("HEALTH_PIPELINE_VICTORIAMETRICS_PASSWORD", VM_PASSWORD)
        sandbox.faults.set("oura", FaultPlan(probabilities={"5xx": 0.2}))
        sandbox.faults.script("google-health", "ok", "expire")  # a refresh mid-run
        assert main([*cli, "sync", *span]) == 0
        with open_instance(config) as instance:  # the change-driven providers, as their sensors run them
            materialize_range(config, instance, all_asset_keys(config), START, END)
        assert main([*cli, "rebuild", *span]) == 0
        assert main([*cli, "lineage", "health_steps"]) == 0
        assert main([*cli, "doctor"]) == 0
        vm_text = victoriametrics_text(server)

    output = capfd.readouterr()
    faults = {e.fault for e in sandbox.log.entries() if e.fault}
    assert {"5xx", "expire"} <= faults, faults
    tokens = minted_tokens(sandbox)
    assert len(tokens) >= 13  # six authorisations (Polar: an access token only) and at least one refresh
    with sqlite3.connect(config.app.raw_db) as conn:
        stored = [t for row in conn.execute("SELECT access_token, refresh_token FROM oauth_tokens") for t in row if t]
    # access and refresh tokens of Oura, Fitbit, Withings, WHOOP and Strava; Polar's access token alone
    assert len(stored) == 11 and set(stored) <= set(tokens)  # the token store is where they live ...
    secrets = [CLIENT_SECRET, API_KEY, VM_PASSWORD, WRONG_PASSWORD, *tokens]

    places = {f"dagster_home/{name}": data.decode("utf-8", "replace") for name, data in files_under(home).items()}
    assert any("event_logs" in name or name.endswith("runs.db") for name in places), sorted(places)
    places |= {
        "raw store (except oauth_tokens)": raw_store_text(config.app.raw_db),
        "duckdb file": config.app.duckdb.read_bytes().decode("utf-8", "replace"),
        "victoriametrics": vm_text,
        "stdout": output.out,
        "stderr": output.err,
        "log records": caplog.text,
    }
    leaks = {place: [s[:12] for s in secrets if s in text] for place, text in places.items()}
    assert {place: found for place, found in leaks.items() if found} == {}
    assert duckdb_hits(config.app.duckdb, "|".join(map(re.escape, secrets))) == {}
    # ... and the searches had something to search
    assert "health_steps" in vm_text and '"user":"me"' in vm_text
    assert "health_steps" in output.out and "HTTP 401 (check [victoriametrics] username and password)" in output.out
    assert "HTTP 401 (check [victoriametrics] username and password)" in output.err  # the refused sync
    assert len(places["raw store (except oauth_tokens)"]) > 100_000

    raw_files = [p for p in config.app.raw_db.parent.iterdir() if p.name.startswith(config.app.raw_db.name)]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in raw_files} == {p.name: 0o600 for p in raw_files}
