"""A run reads the config file once, and refuses to run with a file that changed since the definitions it
was launched from were built (it would disagree with their partitions, assets and schedules silently)."""

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run

from health_pipeline.pipeline import resources
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.registry import load_config
from health_pipeline.sync import SyncError, materialize_range

IMPORT = dg.AssetKey("import_fitbit_takeout")  # an asset that needs no provider: no path set, it imports nothing


def _write(tmp_path: Path, user: str) -> Path:
    path = tmp_path / "health-pipeline.toml"
    path.write_text(f'[app]\ntimezone = "Europe/Berlin"\nuser = "{user}"\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\n',
                    encoding="utf-8")
    return path


def test_a_run_reads_the_config_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(_write(tmp_path, "me"))
    reads = []
    original = resources.load_config
    monkeypatch.setattr(resources, "load_config", lambda path, registry: reads.append(path) or original(path, registry))
    with dg.instance_for_test() as instance:
        result = materialize_range(config, instance, [IMPORT, dg.AssetKey("daily_activity"), dg.AssetKey("daily_summary")],
                                   date(2026, 11, 1), date(2026, 11, 2))
    assert result.assets == ["import_fitbit_takeout", "daily_activity", "daily_summary"]
    assert reads == [str(config.path)]  # one read for three steps and their five resources


def test_a_cli_run_of_a_config_edited_since_it_was_loaded_fails_saying_to_reload(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "me"))
    _write(tmp_path, "someone-else")  # edited after the definitions were built
    with dg.instance_for_test() as instance, pytest.raises(SyncError) as failed:
        materialize_range(config, instance, [IMPORT], date(2026, 11, 1), date(2026, 11, 1))
    assert str(failed.value).endswith(
        f"failed: import_fitbit_takeout: {config.path} changed since the code location loaded it: reload the "
        "definitions (Deployment > Reload in the UI, or restart `dagster dev`), then run again")


def _run_in_a_worker(tmp_path: Path, edit_before_it_starts: bool) -> dg.DagsterRun:
    """A run created from definitions loaded now (as the UI or the daemon creates it), then executed by a
    worker that loads the definitions again from the file as it is when the worker starts."""
    launched = build_definitions(load_config(_write(tmp_path, "me")))
    with dg.instance_for_test() as instance:
        job = launched.resolve_implicit_global_asset_job_def().get_subset(asset_selection={IMPORT})
        run = instance.create_run_for_job(job_def=job, run_config={})
        if edit_before_it_starts:
            _write(tmp_path, "someone-else")
        worker = build_definitions(load_config(tmp_path / "health-pipeline.toml"))
        execute_run(InMemoryJob(worker.resolve_implicit_global_asset_job_def().get_subset(asset_selection={IMPORT})),
                    run, instance)
        finished = instance.get_run_by_id(run.run_id)
        assert finished is not None
        failures = [e.dagster_event.event_specific_data.error for e in instance.all_logs(run.run_id)  # type: ignore[union-attr]
                    if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE]
        finished.failures = failures  # type: ignore[attr-defined]
        return finished


@pytest.mark.slow  # a Dagster run
def test_a_worker_refuses_a_run_launched_from_definitions_of_an_older_file(tmp_path: Path) -> None:
    run = _run_in_a_worker(tmp_path, edit_before_it_starts=True)
    assert run.status == dg.DagsterRunStatus.FAILURE
    [error] = run.failures  # type: ignore[attr-defined]
    assert "changed since the code location loaded it: reload the definitions" in str(error.cause or error)


@pytest.mark.slow  # a Dagster run
def test_a_worker_runs_a_run_whose_file_did_not_change(tmp_path: Path) -> None:
    assert _run_in_a_worker(tmp_path, edit_before_it_starts=False).status == dg.DagsterRunStatus.SUCCESS
