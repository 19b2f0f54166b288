"""The Dagster project loads, and every asset follows the design's rules (pools, single-run backfills)."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

import pytest

from health_pipeline.instance.home import register_pools
from health_pipeline.instance.internals import instance_from_home
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.registry import ALL_TABLES, POOLS, REGISTRY, TABLES, parse_config

REPO = Path(__file__).parent.parent


@pytest.fixture
def defs() -> dg.Definitions:
    config = parse_config({"app": {"timezone": "Europe/Berlin"}, "oura": {
        "enabled": True, "start_date": "2025-03-01", "client_id": "x", "client_secret": "y"}}, None)
    return build_definitions(config)


def test_definitions_are_loadable(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


OURA_DATED = [
    "daily_activity", "daily_readiness", "daily_sleep", "sleep", "sleep_time", "daily_spo2", "daily_stress",
    "daily_resilience", "daily_cardiovascular_age", "vO2_max", "workout", "session", "enhanced_tag",
    "rest_mode_period", "heartrate",
]


FITBIT_TYPES = [
    "steps", "distance", "floors", "altitude", "total-calories", "active-energy-burned", "active-minutes",
    "active-zone-minutes", "time-in-heart-rate-zone", "calories-in-heart-rate-zone", "heart-rate",
    "daily-resting-heart-rate", "daily-heart-rate-variability", "daily-oxygen-saturation", "daily-respiratory-rate",
    "daily-sleep-temperature-derivations", "sleep", "exercise", "weight", "body-fat",
]


WHOOP_DATED = ["cycles", "recoveries", "sleeps", "workouts"]
POLAR_DATED = ["sleep", "nightly_recharge", "activities", "continuous_heart_rate"]


UNPARTITIONED = {
    "oura_personal_info": "oura_api", "oura_ring_configuration": "oura_api",
    "whoop_profile": "whoop_api", "whoop_body_measurement": "whoop_api",
    "strava_activities": "strava_api", "strava_athlete": "strava_api", "strava_athlete_zones": "strava_api",
    "strava_activity_detail": "strava_api", "strava_activity_laps": "strava_api", "strava_activity_zones": "strava_api",
    "polar_exercises": "polar_api", "polar_physical_information": "polar_api", "polar_user": "polar_api",
    "withings_measures": "withings_api", "withings_activity": "withings_api", "withings_workouts": "withings_api",
    "withings_sleep_summary": "withings_api",
    "hevy_workouts": "hevy_api", "hevy_routines": "hevy_api", "hevy_exercise_templates": "hevy_api",
}


def test_the_asset_graph_has_one_asset_per_oura_endpoint_and_the_slice_downstream(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    parents = {key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
               for key in graph.get_all_asset_keys()}
    assert parents == {
        **{key: [] for key in UNPARTITIONED},
        # Strava's follow-ups, one per activity (streams only when switched on)
        **{f"strava_activity_{f}": ["strava_activities"] for f in ("detail", "laps", "zones")},
        "import_fitbit_takeout": [], "import_garmin_export": [], "import_health_sync": [], "import_apple_health": [],
        **{f"oura_{resource}": [] for resource in OURA_DATED},
        **{f"fitbit_{t.replace('-', '_')}": [] for t in FITBIT_TYPES},
        **{f"whoop_{resource}": [] for resource in WHOOP_DATED},
        **{f"polar_{resource}": [] for resource in POLAR_DATED},
        **{table.name: sorted({a for s in table.sources if s.option is None for a in s.raw_assets}
                              | ({"import_health_sync"} if {"oura", "withings", "hevy", "whoop", "strava"}
                                 & {s.provider for s in table.sources} else set()))
           for table in TABLES.values()},  # switched-off options (Withings intraday) are not upstream
        "daily_summary": ["body_measurements", "daily_activity", "daily_scores", "daily_vitals", "sleep_sessions",
                          "workout_sets"],
        "export_victoriametrics": sorted(ALL_TABLES),  # every tidy table has an exported metric
    }
    assert parents["daily_activity"] == ["fitbit_active_energy_burned", "fitbit_active_minutes", "fitbit_altitude",
                                         "fitbit_daily_resting_heart_rate", "fitbit_distance", "fitbit_floors",
                                         "fitbit_steps", "fitbit_total_calories", "import_apple_health",
                                         "import_fitbit_takeout", "import_garmin_export", "import_health_sync",
                                         "oura_daily_activity", "polar_activities",
                                         "whoop_cycles", "whoop_recoveries", "withings_activity"]


def test_the_export_asset_shows_each_metrics_tidy_columns_as_column_lineage(defs: dg.Definitions) -> None:
    spec = next(a for a in defs.assets or [] if a.key.to_user_string() == "export_victoriametrics")
    metadata = spec.specs_by_key[spec.key].metadata  # type: ignore[union-attr]
    lineage = metadata["dagster/column_lineage"].deps_by_column
    deps = {name: sorted((d.asset_key.to_user_string(), d.column_name) for d in found) for name, found in lineage.items()}
    assert deps["health_steps"] == [("daily_activity", "steps")]
    assert deps["health_training_volume_kg"] == [("workout_sets", "reps"), ("workout_sets", "weight_kg")]
    assert deps["health_activity_seconds"] == [("daily_activity", c) for c in ("light_s", "moderate_s", "sedentary_s",
                                                                              "vigorous_s")]
    assert deps["health_summary_body_weight_kg"] == [("daily_summary", "weight_kg")]
    assert "fitbit_steps_total" not in deps  # SyncBit's names only when syncbit_compat is on
    columns = {c.name: c.description for c in metadata["dagster/column_schema"].columns}
    assert set(columns) == set(deps) and len(columns) == 92
    assert columns["health_heart_rate_bpm"] == (
        "Heart-rate samples. [bpm] Labels: provider, user. Stamped at the sample's instant. "
        "Lineage: heart_rate.bpm <- oura_heartrate.[].bpm (GET /v2/usercollection/heartrate); "
        "fitbit_heart_rate.[].heartRate.beatsPerMinuteAvg (POST /v4/users/me/dataTypes/heart-rate/dataPoints:rollUp); "
        "withings_intraday.{epoch}.heart_rate (POST /v2/measure action=getintradayactivity); "
        "strava_activity_streams.heartrate.data (GET /activities/{id}/streams); "
        "polar_continuous_heart_rate.heart_rate_samples[].heart_rate (GET /users/continuous-heart-rate); "
        "import_fitbit_takeout.rows[].value.bpm (Fitbit export: heart_rate files); "
        "import_fitbit_takeout.rows[].beats per minute (Fitbit export: google_heart_rate files); "
        "import_garmin_export.samples[][1] (Garmin export: monitoring files); "
        "import_garmin_export.samples[][1] (Garmin export: activity_fit files); "
        "import_apple_health.records[].value (Apple Health export: heart_rate files); "
        "import_apple_health.records[].unit (Apple Health export: heart_rate files).")


def test_every_asset_is_daily_partitioned_single_run_pooled_grouped_and_described(defs: dg.Definitions) -> None:
    pools = {**{f"oura_{r}": "oura_api" for r in OURA_DATED},
             **{f"fitbit_{t.replace('-', '_')}": "fitbit_api" for t in FITBIT_TYPES},
             **{f"whoop_{r}": "whoop_api" for r in WHOOP_DATED},
             **{f"polar_{r}": "polar_api" for r in POLAR_DATED},
             **{table: "duckdb" for table in ALL_TABLES}, "export_victoriametrics": "duckdb"}
    for assets_def in defs.assets or []:
        assert isinstance(assets_def, dg.AssetsDefinition)
        name = assets_def.key.to_user_string()
        if name.startswith("import_"):  # an import reads a whole export
            assert assets_def.partitions_def is None and assets_def.op.pool == "raw_store"
            assert assets_def.group_names_by_key[assets_def.key] == "imports"
            assert assets_def.specs_by_key[assets_def.key].description
            continue
        if name in UNPARTITIONED:  # change-driven or refreshed whole
            assert assets_def.partitions_def is None and assets_def.op.pool == UNPARTITIONED[name]
            assert assets_def.specs_by_key[assets_def.key].description and assets_def.op.retry_policy is not None
            assert assets_def.group_names_by_key[assets_def.key] == name.split("_")[0]
            continue
        partitions = assets_def.partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition)
        assert partitions.timezone == "Europe/Berlin" and partitions.start.strftime("%Y-%m-%d") == "2025-03-01"
        assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()
        assert assets_def.op.pool == pools[name]
        assert assets_def.specs_by_key[assets_def.key].description
        assert assets_def.group_names_by_key[assets_def.key] in {"oura", "fitbit", "whoop", "polar", "tidy", "export"}
        assert assets_def.op.retry_policy is not None


def test_sensors_and_schedules_are_on_by_default(defs: dg.Definitions) -> None:
    assert {s.name: s.default_status for s in defs.sensors or []} == {
        "withings_changes": dg.DefaultSensorStatus.RUNNING, "hevy_changes": dg.DefaultSensorStatus.RUNNING,
        "whoop_unsettled": dg.DefaultSensorStatus.RUNNING, "strava_changes": dg.DefaultSensorStatus.RUNNING,
        "polar_changes": dg.DefaultSensorStatus.RUNNING,
        "tidy_follows_raw": dg.DefaultSensorStatus.RUNNING}
    assert {s.name for s in defs.schedules or []} == {"recent_days", "trailing_week", "reference_daily"}
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in defs.schedules or [])


def test_every_job_runs_its_steps_in_one_process(defs: dg.Definitions) -> None:
    jobs = defs.get_repository_def().get_all_jobs()  # the schedules' and sensors' jobs and the UI's "Materialize"
    assert {"daily_providers", "reference_data", "model_and_export", "__ASSET_JOB"} <= {job.name for job in jobs}
    assert all(job.executor_def is dg.in_process_executor for job in jobs)


def test_resources_carry_no_secret(defs: dg.Definitions) -> None:
    resources = defs.resources or {}
    # the config (read once per run), one per store, one for VictoriaMetrics, one client per source, and
    # how imports report progress; none holds more than paths, names and the config's fingerprint
    assert set(resources) == {"config", "raw_store", "tidy_store", "victoriametrics", "import_progress",
                              *REGISTRY.api_names()}
    allowed = {"path", "config_fingerprint", "config", "source", "database", "connection_config"}
    for key, resource in resources.items():
        values = dict(getattr(resource, "data", None) or {})  # the config: configured when the run starts
        values.update({name: getattr(resource, name) for name in getattr(type(resource), "model_fields", {})
                       if name not in ("data", "resource_cls")})
        assert set(values) <= allowed, key
        assert "y" not in {str(value) for name, value in values.items() if name != "config"}, key  # the secret


def test_each_asset_names_the_resources_it_uses(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    uses = {key.to_user_string(): graph.get(key).assets_def.required_resource_keys - {"io_manager"}
            for key in graph.get_all_asset_keys()}
    assert uses["oura_daily_activity"] == {"raw_store", "oura"}
    assert uses["oura_personal_info"] == {"raw_store", "oura"}
    assert uses["hevy_workouts"] == {"raw_store", "hevy"}
    assert uses["withings_measures"] == {"raw_store", "withings"}
    assert uses["daily_activity"] == {"raw_store", "tidy_store"}
    assert uses["daily_summary"] == {"tidy_store"}
    assert uses["export_victoriametrics"] == {"raw_store", "tidy_store", "victoriametrics"}  # whose series: the people


def test_dagster_yaml_sets_the_instance_up_as_designed(tmp_path: Path) -> None:
    instance = instance_from_home(tmp_path / "home", config_dir=REPO)
    cwd = os.getcwd()
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.event_log_storage).__name__ == "PooledSqliteEventLogStorage"
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        settings = instance.get_settings("telemetry")
        assert settings == {"enabled": False}
    finally:
        os.chdir(cwd)
        instance.dispose()


def test_init_registers_each_pool_with_limit_one() -> None:
    with dg.instance_for_test() as instance:
        register_pools(instance, POOLS)
        limits = {pool: instance.event_log_storage.get_concurrency_info(pool).slot_count for pool in POOLS}
    assert limits == dict.fromkeys(
        ("oura_api", "fitbit_api", "withings_api", "hevy_api", "whoop_api", "strava_api", "polar_api", "raw_store", "duckdb"), 1
    )


def test_dagster_cli_loads_the_workspace_from_the_repo_root(tmp_path: Path) -> None:
    env = {**os.environ, "HEALTH_PIPELINE_CONFIG": str(REPO / "health-pipeline.example.toml"),
           "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Validation successful for code location health_pipeline" in result.stdout + result.stderr


def test_the_packaged_instance_settings_match_the_repos_dagster_yaml() -> None:
    import yaml

    from health_pipeline.instance.home import instance_settings

    home = Path("/srv/dagster")
    repo = yaml.safe_load((REPO / "dagster.yaml").read_text())
    packaged = yaml.safe_load(instance_settings(home))
    paths = {"run_storage", "event_log_storage", "schedule_storage", "local_artifact_storage", "compute_logs"}
    assert {k: v for k, v in repo.items() if k not in paths} == {k: v for k, v in packaged.items() if k not in paths}
    assert packaged["event_log_storage"] == {**repo["event_log_storage"], "config": {"base_dir": "/srv/dagster/history/runs"}}
