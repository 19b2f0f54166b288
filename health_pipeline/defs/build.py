"""Assemble every definition from a validated configuration."""

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.defs.export.assets import build_export_asset
from health_pipeline.defs.fitbit.assets import fitbit_assets
from health_pipeline.defs.oura.assets import oura_assets
from health_pipeline.defs.partitions import daily_partitions
from health_pipeline.defs.resources import HealthPipelineResource
from health_pipeline.defs.tidy.assets import tidy_assets


def build_definitions(config: Config) -> dg.Definitions:
    """All assets, bound to a resource that re-reads the same config file inside each run."""
    partitions = daily_partitions(config)
    assets = [*oura_assets(partitions), *fitbit_assets(partitions), *tidy_assets(partitions),
              build_export_asset(partitions)]
    return dg.Definitions(
        assets=assets,
        resources={"health": HealthPipelineResource(config_path=str(config.path) if config.path else None)},
    )
