"""The Dagster settings a long backfill needs reach every process that runs our code, and what the
planned-event subset costs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster import AssetPartitionStatus

from health_pipeline.cli import main
from health_pipeline.dev.dagster_dev import DagsterDev
from health_pipeline.instance.settings import DAGSTER_SETTINGS, apply_dagster_settings
from health_pipeline.instance.home import instance_in

REPO = Path(__file__).parent.parent


def test_the_settings_are_dagsters_batching_and_planned_subsets() -> None:
    assert DAGSTER_SETTINGS == {"DAGSTER_EVENT_BATCH_SIZE": "1000",
                                "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}


def test_applying_keeps_a_users_own_value() -> None:
    environ = {"DAGSTER_EVENT_BATCH_SIZE": "0", "PATH": "/bin"}
    apply_dagster_settings(environ)
    assert environ == {"DAGSTER_EVENT_BATCH_SIZE": "0", "PATH": "/bin",
                       "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}


def _assignments(text: str, pattern: str) -> dict[str, str]:
    return {name: value for name, value in re.findall(pattern, text) if name.startswith("DAGSTER_E")}


def test_the_repos_env_file_and_the_docker_image_carry_the_same_settings() -> None:
    dotenv = (REPO / ".env").read_text(encoding="utf-8")
    assert _assignments(dotenv, r"(?m)^([A-Z_]+)=(\S+)$") == DAGSTER_SETTINGS
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert _assignments(dockerfile, r"\b([A-Z_]+)=(\S+?)(?:\s|$)") == DAGSTER_SETTINGS


def _without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in DAGSTER_SETTINGS}


def test_loading_the_definitions_applies_them(tmp_path: Path) -> None:
    config = tmp_path / "health-pipeline.toml"
    config.write_text('[app]\ntimezone = "UTC"\n[oura]\nenabled = true\nstart_date = "2026-01-01"\n'
                      'client_id = "x"\nclient_secret = "y"\n', encoding="utf-8")
    config.chmod(0o600)
    script = ("import os, health_pipeline.definitions\n"
              f"print(*(os.environ.get(n) for n in {list(DAGSTER_SETTINGS)!r}))")
    env = {**_without_settings(), "HEALTH_PIPELINE_CONFIG": str(config), "DAGSTER_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    assert out.split() == ["1000", "true"]


def test_the_cli_applies_them_before_any_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DAGSTER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert main(["--config", str(tmp_path / "missing.toml"), "status"]) == 2
    assert {name: os.environ.get(name) for name in DAGSTER_SETTINGS} == DAGSTER_SETTINGS


def test_dagster_dev_and_its_daemon_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DAGSTER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    env = DagsterDev(tmp_path, tmp_path / "health-pipeline.toml").environment()
    assert {name: env[name] for name in DAGSTER_SETTINGS} == DAGSTER_SETTINGS


DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-07")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def fails_after_planning(context: dg.AssetExecutionContext) -> None:
    raise RuntimeError("provider down")


def _statuses_after_a_failed_range_run(home: Path) -> dict[str, AssetPartitionStatus | None]:
    with instance_in(home) as instance:
        result = dg.materialize([fails_after_planning], instance=instance, raise_on_error=False, tags={
            "dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-06"})
        assert not result.success
        statuses = instance.get_status_by_partition(fails_after_planning.key, DAYS.get_partition_keys(), DAYS)
        assert statuses is not None
        return dict(statuses)


def test_the_cost_of_planned_subsets_a_failed_range_runs_partitions_show_missing_not_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    days = DAYS.get_partition_keys()
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "false")
    assert _statuses_after_a_failed_range_run(tmp_path / "stock") == {day: AssetPartitionStatus.FAILED for day in days}
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    assert _statuses_after_a_failed_range_run(tmp_path / "subset") == {day: None for day in days}
