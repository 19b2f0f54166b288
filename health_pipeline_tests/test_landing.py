"""Landing a partition range: one transaction per chunk, resumable retries, revisions replace."""

from datetime import date, timedelta

import dagster as dg
import pytest

from health_pipeline.pipeline.landing import resume_start
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sources.oura.sandbox.api import OuraSettings
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import SyncError, materialize_range
from health_pipeline_tests.conftest import ConfigFactory

D = date(2026, 10, 1)


@pytest.mark.parametrize(
    ("detail", "runs", "expected"),
    [
        ({}, {"r1"}, D),  # nothing landed yet
        ({"run_id": "r0", "landed_through": "2026-10-30"}, {"r1"}, D),  # another run's progress: start over
        ({"run_id": "r1", "landed_through": "2026-10-30"}, {"r1"}, date(2026, 10, 31)),  # a retry resumes
        ({"run_id": "r1", "landed_through": "2026-10-30"}, {"r2", "r1"}, date(2026, 10, 31)),  # re-execution of r1
        ({"run_id": "r1", "landed_through": "2026-11-29"}, {"r1"}, date(2026, 11, 30)),  # all landed: nothing left
        ({"run_id": "r1", "landed_through": "2026-09-01"}, {"r1"}, D),  # progress outside this window
    ],
)
def test_where_a_retried_run_resumes(detail: dict, runs: set[str], expected: date) -> None:
    assert resume_start(detail, runs, D, date(2026, 11, 29)) == expected


def test_a_run_failing_mid_window_keeps_whole_chunks_and_records_its_progress(
    make_config: ConfigFactory, sandbox: Sandbox
) -> None:
    config = make_config()
    store = RawStore(config.app.raw_db)
    store.init()
    tokens = OAuthTokens(config.oura, store, oura.OAUTH)
    authorize_with_sandbox(tokens)
    sandbox.oura.settings = OuraSettings(heartrate_page_size=100000)  # one request per 30-day chunk
    sandbox.faults.script("oura", "ok", "revoke")  # the second chunk's request: access revoked
    start, end = date(2026, 9, 12), date(2026, 11, 10)  # 60 days: two chunks of 30
    with dg.instance_for_test() as instance, pytest.raises(SyncError, match="oura_heartrate: oura: "):
        materialize_range(config, instance, [dg.AssetKey("oura_heartrate")], start, end)
    # the first chunk landed whole, in its own transaction; the failed second left nothing behind
    first_chunk_end = start + timedelta(days=29)
    days = sorted(r.day for r in store.records("oura", "heartrate"))
    assert days == [d.isoformat() for d in (start + timedelta(days=i) for i in range(30))
                    if truth.oura_heartrate(sandbox.world, *_day_bounds(sandbox, d))]
    state = store.sync_state("oura", "heartrate")
    assert state is not None and state[1]["landed_through"] == first_chunk_end.isoformat()


def _day_bounds(sandbox: Sandbox, day: date):  # type: ignore[no-untyped-def]
    from health_pipeline.providers.windows import local_midnight

    return local_midnight(day, sandbox.world.tz), local_midnight(day + timedelta(days=1), sandbox.world.tz)


def test_a_re_scored_night_replaces_the_stored_sleep_on_the_next_refresh(make_config: ConfigFactory, sandbox: Sandbox) -> None:
    from health_pipeline.sandbox.world import night_for

    config = make_config()
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.oura, store, oura.OAUTH))
    today = date(2026, 11, 10)
    night = night_for(sandbox.world, today)
    assert night is not None
    sandbox.world.clock.advance(night.wake + timedelta(minutes=30) - sandbox.world.clock.now())
    key = [dg.AssetKey("oura_sleep")]
    with dg.instance_for_test() as instance:
        first = materialize_range(config, instance, key, today - timedelta(days=6), today)
        sandbox.world.clock.advance(timedelta(hours=9))  # Oura re-analyses the night
        trailing = materialize_range(config, instance, key, today - timedelta(days=6), today)
    assert first.metadata["oura_sleep"]["records_new"] > 0
    meta = trailing.metadata["oura_sleep"]
    assert (meta["records_new"], meta["records_changed"]) == (0, 1)
    assert meta["records_unchanged"] == first.metadata["oura_sleep"]["records_new"] - 1
    [stored] = [r for r in store.records("oura", "sleep", start_day=today, end_day=today)
                if '"long_sleep"' in r.payload]
    [truth_doc] = [d for d in truth.oura_documents(sandbox.world, "sleep", today, today) if d["type"] == "long_sleep"]
    assert '"sleep_analysis_reason":"bedtime_edit"' in stored.payload and truth_doc["sleep_analysis_reason"] == "bedtime_edit"
