"""Assemble every definition from a validated configuration and the registry it was loaded with.

Each API source's declared resources become landing assets by the shared builders (daily,
snapshot, cursor, each with the source's pool and client), its cursor a sensor; each import source
an import asset; then every tidy table, the export, the schedules and the follow-up sensor.
"""

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.declarations import ApiSource
from health_pipeline.pipeline.cursor import build_cursor_asset, build_cursor_sensor
from health_pipeline.pipeline.export.assets import build_export_asset
from health_pipeline.pipeline.follow import build_follow_sensor
from health_pipeline.pipeline.follow_ups import build_follow_up_asset
from health_pipeline.pipeline.imports import build_import_asset
from health_pipeline.pipeline.landing import build_daily_landing_asset
from health_pipeline.pipeline.partitions import daily_partitions
from health_pipeline.pipeline.resources import ImportProgress, resources_for
from health_pipeline.pipeline.revisits import build_revisit_sensor
from health_pipeline.pipeline.schedules import build_schedules
from health_pipeline.pipeline.snapshots import build_snapshot_asset
from health_pipeline.pipeline.tidy.assets import tidy_assets


def landing_assets(source: ApiSource, config: Config, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """An API source's landing assets: its daily resources switched on, its snapshots, its cursor's resources,
    its follow-ups switched on."""
    settings = config.provider(source.name)
    return [*(build_daily_landing_asset(source, daily, partitions) for daily in source.daily_resources(settings)),
            *(build_snapshot_asset(source, snapshot) for snapshot in source.snapshots),
            *(build_cursor_asset(source, resource) for resource in (source.cursor.resources if source.cursor else ())),
            *(build_follow_up_asset(source, follow_up) for follow_up in source.follow_up_resources(settings))]


def build_definitions(config: Config, progress: ImportProgress | None = None) -> dg.Definitions:
    """All assets of `config.registry`'s sources, bound to resources that read the same config file
    once per run (`progress`: how imports report how far they read; default: to the run's log)."""
    registry = config.registry
    partitions = daily_partitions(config)
    raw = [asset for source in registry.apis for asset in landing_assets(source, config, partitions)]
    imports = [build_import_asset(source) for source in registry.imports]
    landed = {key.to_user_string() for asset in [*raw, *imports] for key in asset.keys}
    assets = [*raw, *imports, *tidy_assets(registry, partitions, landed),
              build_export_asset(registry, partitions, config.victoriametrics.syncbit_compat)]
    jobs, schedules = build_schedules(config)
    follow_job, follow = build_follow_sensor(config, {key for asset in [*raw, *imports] for key in asset.keys},
                                             partitions)
    return dg.Definitions(
        assets=assets,
        jobs=[*jobs, follow_job],
        schedules=schedules,
        sensors=[*(build_cursor_sensor(source, config.provider(source.name))
                   for source in registry.apis if source.cursor is not None),
                 *(build_revisit_sensor(source, config.provider(source.name)) for source in registry.apis
                   if any(r.unsettled for r in source.daily_resources(config.provider(source.name)))),
                 follow],
        resources=resources_for(config, progress),
        # Every run executes its steps in one process. The tidy steps and the export share the
        # single-slot `duckdb` pool and run one at a time anyway; a subprocess per step spent
        # seconds importing Dagster and the project each, so a two-day `recent_days` run took
        # 230-250 s instead of 7-9 s on two cores.
        executor=dg.in_process_executor,
    )
