"""Assemble every definition from a validated configuration and the source registry."""

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.pipeline.export.assets import build_export_asset
from health_pipeline.pipeline.follow import build_follow_sensor
from health_pipeline.pipeline.partitions import daily_partitions
from health_pipeline.pipeline.resources import resources_for
from health_pipeline.pipeline.schedules import build_schedules
from health_pipeline.pipeline.tidy.assets import tidy_assets
from health_pipeline.sources import IMPORTERS, SOURCES


def build_definitions(config: Config) -> dg.Definitions:
    """All assets, bound to resources that re-read the same config file inside each run."""
    partitions = daily_partitions(config)
    raw = [asset for source in SOURCES for asset in source.build_assets(config.provider(source.name), partitions)]
    imports = [asset for importer in IMPORTERS for asset in importer.build_assets(config.importer(importer.name))]
    landed = {key.to_user_string() for asset in [*raw, *imports] for key in asset.keys}
    assets = [*raw, *imports, *tidy_assets(partitions, landed),
              build_export_asset(partitions, config.victoriametrics.syncbit_compat)]
    jobs, schedules = build_schedules(config)
    follow_job, follow = build_follow_sensor(config, {key for asset in raw for key in asset.keys}, partitions)
    return dg.Definitions(
        assets=assets,
        jobs=[*jobs, follow_job],
        schedules=schedules,
        sensors=[*(sensor for source in SOURCES for sensor in source.build_sensors()), follow],
        resources=resources_for(str(config.path) if config.path else None),
        # Every run executes its steps in one process. The tidy steps and the export share the
        # single-slot `duckdb` pool and run one at a time anyway; a subprocess per step spent
        # seconds importing Dagster and the project each, so a two-day `recent_days` run took
        # 230-250 s instead of 7-9 s on two cores.
        executor=dg.in_process_executor,
    )
