"""Faults: a backfill through flaky providers, a run killed mid-window, VictoriaMetrics down during the
export, DuckDB held by another process. Nothing lost, nothing duplicated, and a clear message.

The oracle for "nothing lost" is a second sandbox with the same seed and frozen clock, synced with
no faults: both stores must hold exactly the same records and rows (the fault-free path is itself
checked against the sandbox's ground truth by the tidy-model and end-to-end tests), and the Oura
days are also checked against `truth` directly.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.cli import main
from health_pipeline.config import Config
from health_pipeline.dev.demo import all_asset_keys, authorize_with_sandbox, sandbox_config_text, write_sandbox_config
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.windows import local_midnight
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.faults import FaultPlan
from health_pipeline.sources.oura.sandbox.api import OuraSettings
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import SyncError, materialize_range
from health_pipeline.registry import ALL_TABLES
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY, WINDOW, ConfigFactory
from health_pipeline_tests.export_oracle import assert_exact

pytestmark = pytest.mark.slow

START, END = WINDOW
# the flaky backfill's days: twelve, the 25-hour day among them (two full syncs of every provider)
FLAKY = (date(2026, 10, 24), date(2026, 11, 4))


def raw_records(config: Config) -> dict[tuple[str, str, str], tuple[str | None, str, str | None]]:
    """(provider, resource, record id) -> (day, payload sha256, deleted_at): the raw store's content."""
    with RawStore(config.app.raw_db).connection() as conn:
        rows = conn.execute("SELECT provider, resource, record_id, day, payload_sha256, deleted_at FROM records")
        return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}


def tidy_tables(config: Config) -> dict[str, list[tuple]]:
    """Every tidy table's rows, sorted."""
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        return {name: sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in ALL_TABLES}


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def full_config(root: Path, sandbox: Sandbox, vm_url: str | None) -> Config:
    root.mkdir(parents=True, exist_ok=True)
    return write_sandbox_config(root / "health-pipeline.toml",
                                sandbox_config_text(sandbox, START, TIMEZONE, "me", vm_url))


def test_a_backfill_through_flaky_providers_ends_equal_to_a_fault_free_one(
    tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, instance: dg.DagsterInstance
) -> None:
    config = full_config(tmp_path / "faulty", sandbox, victoriametrics.url)
    for prefix in sandbox.providers:  # every registered source's fake
        sandbox.faults.set(prefix, FaultPlan(probabilities={"5xx": 0.10, "429": 0.05, "reset": 0.02}))
    sandbox.faults.script("strava", "ok", "expire")  # a 6-hour Strava token runs out mid-run: refreshed
    sandbox.faults.script("google-health", "ok", "ok", "ok", "expire")  # a token expires mid-run
    sandbox.faults.script("oura", "ok", "ok", "malformed")  # one page cut off mid-JSON

    began = time.monotonic()
    materialize_range(config, instance, all_asset_keys(config), *FLAKY)
    print(f"the faulty backfill took {time.monotonic() - began:.0f} s")

    faults = [e.fault for e in sandbox.log.entries() if e.fault]
    assert {"5xx", "429", "reset", "expire", "malformed"} <= set(faults), faults
    clean_world = SandboxWorld(seed=sandbox.world.seed, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    with sandbox_for(clean_world) as clean, dg.instance_for_test() as clean_instance:
        reference = full_config(tmp_path / "clean", clean, None)
        modelled = [k for k in all_asset_keys(reference) if k != dg.AssetKey("export_victoriametrics")]
        materialize_range(reference, clean_instance, modelled, *FLAKY)
        assert not [e for e in clean.log.entries() if e.fault]
    assert raw_records(config) == raw_records(reference)
    assert tidy_tables(config) == tidy_tables(reference)
    landed = {r.record_id: r.day for r in RawStore(config.app.raw_db).records("oura", "daily_activity")}
    assert landed == {d["id"]: d["day"] for d in truth.oura_daily_activity(sandbox.world, *FLAKY)}
    assert_exact(config)  # VictoriaMetrics holds exactly the tidy tables: one sample per series and time


def heartrate_days(sandbox: Sandbox, first: date, last: date) -> dict[str, int]:
    """Local day -> the number of Oura heart-rate samples the sandbox holds for it."""
    counts: dict[str, int] = {}
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        rows = truth.oura_heartrate(sandbox.world, local_midnight(day, sandbox.world.tz),
                                    local_midnight(day + timedelta(days=1), sandbox.world.tz))
        if rows:
            counts[day.isoformat()] = len(rows)
    return counts


def stored_heartrate_days(store: RawStore) -> dict[str, int]:
    return {r.day or "": len(json.loads(r.payload)) for r in store.records("oura", "heartrate")}


def test_a_run_killed_mid_window_leaves_whole_chunks_and_the_next_run_completes(
    tmp_path: Path, make_config: ConfigFactory, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config()
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["--config", str(config.path), "init"]) == 0
    store = RawStore(config.app.raw_db)
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    sandbox.oura.settings = OuraSettings(heartrate_page_size=100_000)  # one request per 30-day chunk
    # The first heartrate request is answered at once; the second (the next chunk) is held 60 s.
    sandbox.faults.set("oura", FaultPlan(script=deque(["ok", "slow"]), slow_s=60, only_paths_containing="heartrate"))
    start, end = TODAY - timedelta(days=59), TODAY
    first_chunk_end = start + timedelta(days=29)
    command = [sys.executable, "-m", "health_pipeline.cli", "--config", str(config.path), "sync",
               "--start", start.isoformat(), "--end", end.isoformat()]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not [e for e in sandbox.log.entries("oura", "heartrate") if e.fault == "slow"]:
            assert child.poll() is None, (child.stdout.read() if child.stdout else b"").decode()
            assert time.monotonic() < deadline, "the second heartrate chunk was never asked for"
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)  # mid-window: the second chunk is in flight
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    expected = heartrate_days(sandbox, start, end)
    assert stored_heartrate_days(store) == {d: n for d, n in expected.items() if d <= first_chunk_end.isoformat()}
    state = store.sync_state("oura", "heartrate")
    assert state is not None and state[1]["landed_through"] == first_chunk_end.isoformat()

    sandbox.faults.clear()
    assert main(["--config", str(config.path), "sync", "--start", start.isoformat(), "--end", end.isoformat()]) == 0
    assert stored_heartrate_days(store) == expected
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT ts) FROM heart_rate WHERE provider = 'oura'").fetchone()
    assert total == distinct == sum(expected.values())
    # The killed run no longer claims its pool slots: it is marked failed, saying why.
    with dg.DagsterInstance.get() as dagster:
        runs = {run.status: run for run in dagster.get_runs()}
        assert sorted(s.value for s in runs) == ["FAILURE", "SUCCESS"]
        killed = runs[dg.DagsterRunStatus.FAILURE]
        assert killed.tags["health/pid"] == str(child.pid)
        (failure,) = [e for e in dagster.all_logs(killed.run_id) if e.dagster_event_type == dg.DagsterEventType.RUN_FAILURE]
        assert f"(pid {child.pid}) is gone" in (failure.message or "")
        assert dagster.event_log_storage.get_concurrency_run_ids() == set()


def test_victoriametrics_down_during_the_export_then_back_gets_everything_pending(
    tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, instance: dg.DagsterInstance
) -> None:
    config = full_config(tmp_path, sandbox, victoriametrics.url)
    victoriametrics.stop()
    with pytest.raises(SyncError, match=r"export_victoriametrics: cannot reach VictoriaMetrics at http://127\.0\.0\.1:\d+"):
        materialize_range(config, instance, all_asset_keys(config), START, END)
    assert tidy_tables(config)["daily_activity"]  # everything upstream of the export landed

    victoriametrics.start()
    # The next export run covers only today (as the schedule's would); what the failed one left is written too.
    materialize_range(config, instance, [dg.AssetKey("export_victoriametrics")], END, END)
    held = assert_exact(config)
    days = truth.oura_daily_activity(sandbox.world, START, END)
    assert len(held["__name__=health_steps,provider=oura,user=me"]) == len(days) > 20


def test_duckdb_held_by_another_process_waits_then_fails_with_a_clear_line(
    tmp_path: Path, make_config: ConfigFactory, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(extra="")
    text = config.path.read_text().replace('user = "me"', 'user = "me"\nlock_wait_s = 2')
    config.path.write_text(text)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["--config", str(config.path), "init"]) == 0
    store = RawStore(config.app.raw_db)
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.read()", str(config.app.duckdb)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        capsys.readouterr()
        began = time.monotonic()
        code = main(["--config", str(config.path), "sync", "--start", START.isoformat(), "--end", END.isoformat()])
        waited = time.monotonic() - began
        out, err = capsys.readouterr()
    finally:
        holder.communicate("", timeout=30)
    assert code == 1 and "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert f"{config.app.duckdb} is locked by another process" in line and "stayed locked for 2 s" in line
    assert waited >= 2
    days = len(truth.oura_daily_activity(sandbox.world, START, END))
    assert len(store.records("oura", "daily_activity")) == days > 20  # the landing did not wait on DuckDB

    assert main(["--config", str(config.path), "sync", "--start", START.isoformat(), "--end", END.isoformat()]) == 0
    assert len(tidy_tables(config)["daily_activity"]) == days
