"""The repo is a `dg` project: `dg check defs`, `dg list defs` and `dg launch` of a range work."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.instance.home import ensure_instance_settings
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.duckdb_store import TidyStore, scalar
from health_pipeline_tests.conftest import TIMEZONE

REPO = Path(__file__).resolve().parent.parent
DG = Path(sys.executable).with_name("dg")

pytestmark = pytest.mark.slow


def dg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DG), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def setup(tmp_path: Path, sandbox: Sandbox):  # type: ignore[no-untyped-def]
    today = sandbox.world.today()
    config = write_sandbox_config(tmp_path / "health-pipeline.toml",
                                  sandbox_config_text(sandbox, today - timedelta(days=30), TIMEZONE, "dg"))
    home = tmp_path / "dagster_home"
    ensure_instance_settings(home)
    env = {**os.environ, "HEALTH_PIPELINE_CONFIG": str(config.path), "DAGSTER_HOME": str(home)}
    return config, env


def test_dg_checks_and_lists_the_same_definitions_as_the_registry(setup) -> None:  # type: ignore[no-untyped-def]
    config, env = setup
    checked = dg("check", "defs", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "All definitions loaded successfully." in checked.stdout + checked.stderr
    listed = dg("list", "defs", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    expected = build_definitions(config).resolve_asset_graph().get_all_asset_keys()
    assert {a["asset_key"] for a in found["assets"]} == {k.to_user_string() for k in expected}
    assert {s["name"] for s in found["sensors"]} >= {"withings_changes", "hevy_changes", "tidy_follows_raw"}


def test_dg_launch_backfills_a_range_in_one_run(setup, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    config, env = setup
    end = sandbox.world.today() - timedelta(days=1)
    start = end - timedelta(days=6)
    sandbox.log.clear()
    launched = dg("launch", "--assets", "oura_daily_activity,daily_activity",
                  "--partition-range", f"{start}...{end}", env=env)
    assert launched.returncode == 0, launched.stderr[-2000:]
    records = config.raw_store().records("oura", "daily_activity", start_day=start, end_day=end)
    assert sorted({r.day for r in records}) == [(start + timedelta(days=i)).isoformat() for i in range(7)]
    assert len(sandbox.log.entries("oura")) == 1  # one run, one request for the whole range
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        assert scalar(conn, "SELECT count(*) FROM daily_activity WHERE provider = 'oura' AND day BETWEEN ? AND ?",
                      [start, end]) == 7
