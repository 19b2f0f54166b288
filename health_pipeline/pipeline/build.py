"""Assemble every definition from a validated configuration."""

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.export.assets import build_export_asset
from health_pipeline.pipeline.follow import build_follow_sensor
from health_pipeline.sources.fitbit.assets import fitbit_assets, fitbit_optional_assets
from health_pipeline.sources.hevy.assets import hevy_assets
from health_pipeline.sources.oura.assets import oura_assets, oura_profile_assets
from health_pipeline.pipeline.schedules import build_schedules
from health_pipeline.sources.hevy.sensor import hevy_changes
from health_pipeline.sources.withings.sensor import withings_changes
from health_pipeline.sources.withings.assets import withings_assets, withings_optional_assets
from health_pipeline.pipeline.partitions import daily_partitions
from health_pipeline.pipeline.resources import HealthPipelineResource
from health_pipeline.pipeline.tidy.assets import tidy_assets


def build_definitions(config: Config) -> dg.Definitions:
    """All assets, bound to a resource that re-reads the same config file inside each run."""
    partitions = daily_partitions(config)
    raw = [*oura_assets(partitions), *oura_profile_assets(), *fitbit_assets(partitions), *withings_assets(),
           *hevy_assets(), *fitbit_optional_assets(partitions, config.fitbit.option("heart_rate_samples")),
           *withings_optional_assets(partitions, config.withings.option("intraday"),
                                     config.withings.option("high_frequency_sleep"))]
    landed = {key.to_user_string() for asset in raw for key in asset.keys}
    assets = [*raw, *tidy_assets(partitions, landed),
              build_export_asset(partitions, config.victoriametrics.syncbit_compat)]
    jobs, schedules = build_schedules(config)
    follow_job, follow = build_follow_sensor(config, {key for asset in raw for key in asset.keys}, partitions)
    return dg.Definitions(
        assets=assets,
        jobs=[*jobs, follow_job],
        schedules=schedules,
        sensors=[withings_changes, hevy_changes, follow],
        resources={"health": HealthPipelineResource(config_path=str(config.path) if config.path else None)},
        # Every run executes its steps in one process. The tidy steps and the export share the
        # single-slot `duckdb` pool and run one at a time anyway; a subprocess per step spent
        # seconds importing Dagster and the project each, so a two-day `recent_days` run took
        # 230-250 s instead of 7-9 s on two cores.
        executor=dg.in_process_executor,
    )
