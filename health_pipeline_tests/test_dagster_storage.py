"""The pooled SQLite event log: the same history as Dagster's own, across processes and wipes."""

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from health_pipeline.instance.storage import PooledSqliteEventLogStorage
from health_pipeline.instance.home import ensure_instance_settings, instance_in

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-02-01")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def counted(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


def materialize(instance: dg.DagsterInstance, start: str, end: str) -> dg.ExecuteInProcessResult:
    return dg.materialize([counted], instance=instance, tags={
        "dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end})


def days(first: int, last: int) -> set[str]:
    return {f"2026-01-{d:02d}" for d in range(first, last + 1)}


def test_our_instance_settings_use_it_and_a_range_run_records_every_partition(tmp_path: Path) -> None:
    with instance_in(tmp_path / "home") as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        assert materialize(instance, "2026-01-01", "2026-01-10").success
        assert instance.get_materialized_partitions(counted.key) == days(1, 10)
        assert (tmp_path / "home" / "history" / "runs" / "index.db").exists()


def test_another_process_writing_is_seen_through_the_open_connections(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with instance_in(home) as instance:
        assert materialize(instance, "2026-01-01", "2026-01-03").success
        script = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            from pathlib import Path
            from health_pipeline.instance.home import instance_in
            from test_dagster_storage import materialize
            with instance_in(Path({str(home)!r})) as other:
                assert materialize(other, "2026-01-04", "2026-01-06").success
        """)
        subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
        assert instance.get_materialized_partitions(counted.key) == days(1, 6)
        assert len(instance.get_runs()) == 2


def test_history_written_by_dagsters_default_storage_reads_the_same(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as default:
        assert type(default.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert materialize(default, "2026-01-01", "2026-01-05").success
    assert ensure_instance_settings(home)
    with instance_in(home) as pooled:
        assert isinstance(pooled.event_log_storage, PooledSqliteEventLogStorage)
        assert pooled.get_materialized_partitions(counted.key) == days(1, 5)
        assert materialize(pooled, "2026-01-06", "2026-01-07").success
        assert pooled.get_materialized_partitions(counted.key) == days(1, 7)


def test_a_wipe_closes_the_connections_to_the_deleted_run_databases(tmp_path: Path) -> None:
    with instance_in(tmp_path / "home") as instance:
        assert materialize(instance, "2026-01-01", "2026-01-02").success
        instance.wipe()
        assert instance.get_materialized_partitions(counted.key) == set()
        result = materialize(instance, "2026-01-03", "2026-01-03")
        assert result.success
        assert instance.get_materialized_partitions(counted.key) == {"2026-01-03"}
        assert [r.dagster_event_type for r in instance.all_logs(result.run_id)][-1] == dg.DagsterEventType.RUN_SUCCESS


def _history(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str | None, str | None, str]]:
    """A run's events as (event type, partition, message): what the UI's run and partition views read."""
    return [(r.dagster_event_type, r.dagster_event.partition if r.dagster_event else None, r.user_message)
            for r in instance.all_logs(run_id)]


def stock_run(home: Path) -> tuple[str, list[dg.EventLogEntry], list[tuple[str | None, str | None, str]], Any]:
    """A ten-day range run on Dagster's stock SQLite storage in `home`, stored one event at a time
    (set DAGSTER_EVENT_BATCH_SIZE=0): its run id, its events, their history and the asset's entry."""
    home.mkdir()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as stock:
        run_id = materialize(stock, "2026-01-01", "2026-01-10").run_id
        return (run_id, list(stock.all_logs(run_id)), _history(stock, run_id),
                stock.get_asset_records([counted.key])[0].asset_entry)


def test_a_batch_stores_the_same_history_as_dagsters_one_by_one_writes(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    run_id, events, expected, _ = stock_run(tmp_path / "stock")
    with instance_in(tmp_path / "home") as pooled:
        storage = pooled.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        storage.store_event_batch(events)
        assert _history(pooled, run_id) == expected
        assert pooled.get_materialized_partitions(counted.key) == days(1, 10)
        materialization = pooled.get_latest_materialization_event(counted.key)
        assert materialization is not None and materialization.run_id == run_id


def test_a_failing_batch_keeps_nothing_so_dagster_can_store_it_one_by_one(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "false")  # a planned event per day
    run_id, events, _, _ = stock_run(tmp_path / "stock")
    with instance_in(tmp_path / "home") as pooled:
        storage = pooled.event_log_storage
        original = storage._store_asset_event
        calls: list[int] = []

        def fifth_fails(*args: object, **kwargs: object) -> None:
            calls.append(1)
            if len(calls) == 5:
                raise RuntimeError("disk full")
            original(*args, **kwargs)

        monkeypatch.setattr(storage, "_store_asset_event", fifth_fails)
        with pytest.raises(RuntimeError, match="disk full"):
            storage.store_event_batch(events)
        assert len(calls) == 5
        assert list(pooled.all_logs(run_id)) == []
        assert pooled.get_materialized_partitions(counted.key) == set()
        storage.store_event_batch(events)  # the sixth call onwards succeeds: all of it lands
        assert len(calls) == 5 + 20  # ten planned and ten materialized events, each mirrored once
        assert pooled.get_materialized_partitions(counted.key) == days(1, 10)


def test_with_batching_on_a_range_run_stores_its_events_in_batches(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    with instance_in(tmp_path / "home") as instance:
        storage = instance.event_log_storage
        sizes: list[int] = []
        original = storage.store_event_batch
        monkeypatch.setattr(storage, "store_event_batch", lambda events: (sizes.append(len(events)), original(events)))
        result = materialize(instance, "2026-01-01", "2026-01-31")
        assert result.success
        assert max(sizes) >= 31  # the step's 31 materializations went in one batch
        assert instance.get_materialized_partitions(counted.key) == days(1, 31)
        runs = {r.run_id for r in instance.fetch_materializations(counted.key, limit=100).records}
        assert runs == {result.run_id}


def test_a_batch_of_materializations_is_inserted_at_once_with_the_same_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    run_id, events, expected, expected_entry = stock_run(tmp_path / "stock")
    with instance_in(tmp_path / "home") as pooled:
        storage = pooled.event_log_storage
        entries: list[str] = []
        original = storage._store_asset_event
        monkeypatch.setattr(storage, "_store_asset_event", lambda conn, event, event_id: (
            entries.append(event.dagster_event.partition), original(conn, event, event_id)))
        groups: list[list[dg.EventLogEntry]] = []  # consecutive events of one type, as Dagster batches
        for event in events:
            if groups and groups[-1][-1].dagster_event_type == event.dagster_event_type:
                groups[-1].append(event)
            else:
                groups.append([event])
        materializations = [g for g in groups if g[0].dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
        assert [len(g) for g in materializations] == [10]
        for group in groups:
            entries.clear()
            storage.store_event_batch(group)
            if group is materializations[0]:
                assert entries == ["2026-01-10"]  # the asset's entry written once, from its last event
        assert _history(pooled, run_id) == expected
        assert pooled.get_materialized_partitions(counted.key) == days(1, 10)
        entry = pooled.get_asset_records([counted.key])[0].asset_entry
        assert entry.last_run_id == expected_entry.last_run_id == run_id
        latest = entry.last_materialization
        assert latest is not None and latest.dagster_event is not None
        assert latest.dagster_event.partition == "2026-01-10"
        by_partition = {r.event_log_entry.dagster_event.partition: r.storage_id
                        for r in pooled.fetch_materializations(counted.key, limit=100).records}
        assert entry.last_materialization_record is not None
        assert entry.last_materialization_record.storage_id == by_partition["2026-01-10"] == max(by_partition.values())
