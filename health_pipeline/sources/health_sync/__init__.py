"""A health-sync database (the Python or Node release of the tool this project replaces), moved into the
raw store under the Oura, Withings and Hevy resources, without asking any provider again."""

from typing import Any

from health_pipeline.sources.base import Importer
from health_pipeline.sources.health_sync.settings import HealthSyncConfig


def _assets(settings: HealthSyncConfig) -> list[Any]:
    from health_pipeline.sources.health_sync.assets import import_assets

    return import_assets(settings)


IMPORTER = Importer(
    name="health_sync",
    title="health-sync database",
    settings=HealthSyncConfig,
    build_assets=_assets,
    lands_as=("oura", "withings", "hevy"),
    help="a health-sync SQLite database (health.sqlite): its Oura, Withings and Hevy records, no provider asked",
)
