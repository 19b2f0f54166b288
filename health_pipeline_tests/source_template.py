"""The tests a new source starts from: copy to `test_<name>.py` and replace each `TODO`.

Written here for Oura, the reference daily source, so it runs as it is (`pytest
health_pipeline_tests/source_template.py`); a change-driven source follows
`test_sensors.py` for its sensor instead of the backfill. The registry's contract
(`test_source_registry.py`) already runs for the new source; these add what only it knows:
its client's requests and records against the sandbox, and one backfill through Dagster with
exact values from the sandbox's ground truth.
"""

from datetime import date
from pathlib import Path

from health_pipeline.config import Config
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.registry import REGISTRY
from health_pipeline.sources.oura.sandbox import truth  # TODO: the new source's ground truth (its sandbox_data)
from health_pipeline.storage.duckdb_store import TidyStore, scalar
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.sync import materialize_range
from health_pipeline_tests.conftest import TIMEZONE

NAME = "oura"  # TODO: the new source's name
RESOURCE = "daily_activity"  # TODO: one of its daily resources
START, END = date(2026, 10, 1), date(2026, 10, 7)


def sandbox_config(tmp_path: Path, sandbox: Sandbox) -> Config:
    """Every source against the sandbox (each writes its own section; the OAuth ones authorised)."""
    return write_sandbox_config(tmp_path / "health-pipeline.toml", sandbox_config_text(sandbox, START, TIMEZONE, "me"))


def expected_records(sandbox: Sandbox) -> list[dict]:
    """TODO: what the sandbox holds for RESOURCE over START..END, from the source's data generator."""
    return truth.oura_daily_activity(sandbox.world, START, END)


def test_the_client_fetches_the_window_with_one_request(tmp_path: Path, sandbox: Sandbox) -> None:
    config = sandbox_config(tmp_path, sandbox)
    source = REGISTRY.api(NAME)
    client = source.build_client(config.provider(NAME), config.app, RawStore(config.app.raw_db))
    sandbox.log.clear()
    records = [r for chunk in client.fetch_window(RESOURCE, START, END) for r in chunk.records]
    assert [r.payload for r in records] == expected_records(sandbox)
    assert len(sandbox.log.entries(NAME)) == client.requests_made == 1  # TODO: its request count


def test_a_backfill_lands_and_models_exactly_the_truth(tmp_path: Path, sandbox: Sandbox) -> None:
    import dagster as dg

    from health_pipeline.naming import landing_key

    config = sandbox_config(tmp_path, sandbox)
    with dg.instance_for_test() as instance:  # raises SyncError, naming the failed steps, if the run fails
        materialize_range(config, instance, [landing_key(NAME, RESOURCE), dg.AssetKey("daily_activity")], START, END)
    days = (END - START).days + 1
    assert len(RawStore(config.app.raw_db).records(NAME, RESOURCE)) == len(expected_records(sandbox)) == days
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        # TODO: the tidy table(s) it feeds, with exact values
        assert scalar(conn, "SELECT count(*) FROM daily_activity WHERE provider = ?", [NAME]) == days
        steps = conn.execute("SELECT steps FROM daily_activity WHERE provider = ? ORDER BY day", [NAME]).fetchall()
    assert [row[0] for row in steps] == [d["steps"] for d in expected_records(sandbox)]
