"""A Dagster home kept in a real PostgreSQL server (Debian's package, on loopback) through
dagster-postgres: `init --postgres`, `doctor`, a CLI sync and a backfill launched through the UI,
with every partition materialized by its run; and the one-line refusals when it cannot work."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from health_pipeline.cli import main
from health_pipeline.config import Config
from health_pipeline.dev.dagster_dev import DagsterDev
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.instance.home import ensure_instance_settings, instance_in
from health_pipeline.dev.local_postgres import LocalPostgres
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics, free_port
from health_pipeline.sandbox.server import Sandbox
from health_pipeline_tests.conftest import TIMEZONE, TODAY
from health_pipeline_tests.dagster_ui import poll, stop_automation, wait_for_daemon
from health_pipeline_tests.tidy_setup import all_providers_config

URL_ENV = "DAGSTER_POSTGRES_URL"


@pytest.fixture
def postgres() -> Iterator[LocalPostgres]:
    with LocalPostgres() as server:
        yield server


def _config(tmp_path: Path, sandbox: Sandbox, vm_url: str | None = None) -> Config:
    extra = f'[victoriametrics]\nenabled = true\nurl = "{vm_url}"\n' if vm_url else ""
    return all_providers_config(tmp_path / "health-pipeline.toml", sandbox, TODAY - timedelta(days=20), TIMEZONE,
                                extra=extra)


def _daily_assets(config: Config) -> list[dg.AssetKey]:
    defs = build_definitions(config)
    return sorted(key for asset in defs.assets or [] if isinstance(asset, dg.AssetsDefinition) and asset.partitions_def
                  for key in asset.keys)


def _partition_runs(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, str]:
    """partition -> the run of its latest materialization."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1000).records
    runs: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r.storage_id):
        partition = record.event_log_entry.dagster_event.partition  # type: ignore[union-attr]
        runs[str(partition)] = record.run_id
    return runs


def _rows(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    finally:
        conn.close()


@pytest.mark.slow
def test_init_doctor_and_a_sync_keep_every_partition_in_postgres(
        tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics, postgres: LocalPostgres,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, sandbox, victoriametrics.url)
    home = tmp_path / "dagster-home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv(URL_ENV, postgres.url)
    args = ["--config", str(config.path)]

    assert main([*args, "init", "--postgres"]) == 0
    out = capsys.readouterr().out
    assert f"dagster.yaml written to {home} (telemetry off, pools, run queue, history in Postgres at " \
           "$DAGSTER_POSTGRES_URL)" in out
    assert f"dagster:    history in Postgres at {postgres.url}; pools oura_api," in out
    assert "postgres:" in (home / "dagster.yaml").read_text() and postgres.url not in (home / "dagster.yaml").read_text()

    assert main([*args, "doctor"]) == 0
    doctor = capsys.readouterr().out
    assert f"ok      dagster instance      history in Postgres at {postgres.url}: answers" in doctor

    first, last = TODAY - timedelta(days=4), TODAY - timedelta(days=1)
    assert main([*args, "sync", "--start", first.isoformat(), "--end", last.isoformat()]) == 0
    days = {(first + timedelta(days=i)).isoformat() for i in range(4)}
    with instance_in(home) as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        daily = _daily_assets(config)
        assert len(daily) > 40
        for key in daily:
            assert _partition_runs(instance, key) == {day: run.run_id for day in days}, key.to_user_string()
        # one planned event per asset with the partition subset, not one per partition and asset
        planned = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=10_000).records
        assert len(planned) == len({p.event_log_entry.dagster_event.asset_key for p in planned})  # type: ignore[union-attr]
        logged = len(instance.all_logs(run.run_id))
        assert concurrency_keys(instance) >= {"oura_api", "fitbit_api", "withings_api", "hevy_api", "raw_store", "duckdb"}
    # the events are rows of Postgres, and no SQLite history file was made in the home
    assert _rows(postgres.url, "SELECT count(*) FROM event_logs WHERE run_id = %s", run.run_id) == [(logged,)]
    assert sorted(p.name for p in home.rglob("*.db")) == []


def concurrency_keys(instance: dg.DagsterInstance) -> set[str]:
    return set(instance.event_log_storage.get_concurrency_keys())


BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
PARTITION_STATS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { ... on AssetNode {
  partitionStats { numMaterialized numFailed numMaterializing numPartitions } } } }"""


@pytest.mark.slow
def test_a_backfill_launched_through_the_ui_lands_every_partition_with_its_run(
        tmp_path: Path, sandbox: Sandbox, postgres: LocalPostgres, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, sandbox)
    assert config.path is not None
    home = tmp_path / "dagster-home"
    assert ensure_instance_settings(home, postgres=True)
    monkeypatch.setenv(URL_ENV, postgres.url)
    first = TODAY - timedelta(days=20)
    days = [(first + timedelta(days=i)).isoformat() for i in range(2, 7)]
    keys = ["oura_daily_activity", "fitbit_steps"]
    with DagsterDev(home, config.path, port=0) as ui:
        wait_for_daemon(ui)
        stop_automation(ui)
        answer = ui.graphql(BACKFILL, {"params": {
            "assetSelection": [{"path": [key]} for key in keys], "partitionNames": days}})["launchPartitionBackfill"]
        assert answer["__typename"] == "LaunchBackfillSuccess", answer
        status = poll(lambda: (s := backfill_status(ui, answer["backfillId"])) != "REQUESTED" and s,
                      "the backfill to finish", ui, 600)
        assert status == "COMPLETED_SUCCESS"
        with instance_in(home) as instance:
            (run,) = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": answer["backfillId"]}))
            assert run.status == dg.DagsterRunStatus.SUCCESS
            for key in keys:
                assert _partition_runs(instance, dg.AssetKey(key)) == {day: run.run_id for day in days}
        for key in keys:
            stats = ui.graphql(PARTITION_STATS, {"key": {"path": [key]}})["assetNodeOrError"]["partitionStats"]
            partitions = build_definitions(config).resolve_assets_def(key).partitions_def
            assert partitions is not None
            assert stats == {"numMaterialized": 5, "numFailed": 0, "numMaterializing": 0,
                             "numPartitions": len(partitions.get_partition_keys())}, key


def backfill_status(ui: DagsterDev, backfill_id: str) -> str:
    """The backfill's status as the UI shows it (REQUESTED while it runs)."""
    answer = ui.graphql("query($id: String!) { partitionBackfillOrError(backfillId: $id) { "
                        "... on PartitionBackfill { status } } }", {"id": backfill_id})
    return str(answer["partitionBackfillOrError"]["status"])


def test_init_postgres_refuses_what_cannot_work(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, sandbox)
    args = ["--config", str(config.path), "init", "--postgres"]
    home = tmp_path / "dagster-home"
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv(URL_ENV, raising=False)

    def refusal() -> str:
        assert main(args) == 2
        return capsys.readouterr().err.strip()

    assert refusal() == ("health-pipeline: error: --postgres writes Dagster's settings into $DAGSTER_HOME: set "
                         "DAGSTER_HOME to the folder for them (the Dagster processes must see the same value)")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert refusal() == ("health-pipeline: error: --postgres needs $DAGSTER_POSTGRES_URL: set it to "
                         "postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DATABASE")
    monkeypatch.setenv(URL_ENV, "postgresql://me:s3cret@db.example:5432/dagster")
    assert refusal() == ("health-pipeline: error: $DAGSTER_POSTGRES_URL: postgresql://me:***@db.example:5432/dagster "
                         "names no driver: write postgresql+psycopg2://db.example:5432/dagster (with the user and "
                         "password), the driver dagster-postgres installs")
    assert not home.exists()
    assert ensure_instance_settings(home)  # a SQLite home already there
    before = (home / "dagster.yaml").read_text()
    monkeypatch.setenv(URL_ENV, "postgresql+psycopg2://me:s3cret@db.example:5432/dagster")
    assert refusal() == (f"health-pipeline: error: {home / 'dagster.yaml'} keeps Dagster's history in SQLite files: "
                         "to switch, move that file away (or use a new DAGSTER_HOME) and run init --postgres again")
    assert (home / "dagster.yaml").read_text() == before


def test_a_postgres_home_without_its_url_or_its_server_stops_a_sync_in_one_line(
        tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, sandbox)
    home = tmp_path / "dagster-home"
    assert ensure_instance_settings(home, postgres=True)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(URL_ENV, raising=False)
    sandbox.log.clear()
    args = ["--config", str(config.path), "sync"]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        f"health-pipeline: error: {home / 'dagster.yaml'} keeps Dagster's history in Postgres, but "
        "$DAGSTER_POSTGRES_URL is not set: set it to the database's URL")
    port = free_port()  # nothing listens there
    monkeypatch.setenv(URL_ENV, f"postgresql+psycopg2://dagster:s3cret@127.0.0.1:{port}/dagster")
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"health-pipeline: error: Postgres at postgresql+psycopg2://dagster:***@127.0.0.1:{port}/"
                          "dagster does not answer: ")
    assert err.endswith("(Dagster's history, from $DAGSTER_POSTGRES_URL)") and "s3cret" not in err
    assert len(err.splitlines()) == 1
    assert sandbox.log.entries() == []  # nothing was fetched
