"""The registry: every source, one line each, and the composition root that hands them to the framework.

Only entry points import this module: the Dagster definitions, the CLI, the sandbox server, the demo,
tests and benchmarks. Everything below it (config loading, the pipeline builders, the tidy
catalogue, lineage, the sandbox) receives the registry as an argument and never names a source.

Adding a source: write its package (health_pipeline/sources/<name>/, see the README's "Adding a
source"), then add it to the import line and to `REGISTRY` below. The order is the order sources are
listed in (config file, `status`, tidy tables): API sources first, then the imports.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from health_pipeline import config as loader
from health_pipeline.config import Config
from health_pipeline.declarations import Registry
from health_pipeline.sources import (apple_health, fitbit, fitbit_takeout, garmin_export, health_sync, hevy, oura, polar,
                                    strava, whoop, withings)
from health_pipeline.tidy.catalog import TidyTable, all_tables_of, tables_of

REGISTRY = Registry((
    oura.SOURCE,
    fitbit.SOURCE,
    withings.SOURCE,
    hevy.SOURCE,
    whoop.SOURCE,
    strava.SOURCE,
    polar.SOURCE,
    fitbit_takeout.SOURCE,
    garmin_export.SOURCE,
    health_sync.SOURCE,
    apple_health.SOURCE,
))

TABLES: dict[str, TidyTable] = tables_of(REGISTRY)  # the tidy tables with the sources feeding them
ALL_TABLES: dict[str, TidyTable] = all_tables_of(REGISTRY)  # and daily_summary
POOLS: tuple[str, ...] = REGISTRY.pools


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """The configuration of the registered sources (see health_pipeline/config.py for where it is found)."""
    return loader.load_config(path, REGISTRY)


def parse_config(data: dict[str, Any], path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Validate parsed TOML into the configuration of the registered sources."""
    return loader.parse_config(data, path, REGISTRY, environ)
