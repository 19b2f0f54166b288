"""The health-sync import asset: its records land under the Oura, Withings and Hevy resources."""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from health_pipeline.config import Config
from health_pipeline.naming import landing_key
from health_pipeline.pipeline.imports import build_import_asset, progress_hook_or_log
from health_pipeline.pipeline.resources import RawStoreResource
from health_pipeline.sources.health_sync.database import DatabaseError
from health_pipeline.sources.health_sync.importer import OURA_DOCUMENTS, import_health_sync
from health_pipeline.sources.health_sync.settings import HealthSyncConfig

TAKE_TOKENS_TAG = "health/take_tokens"


def _run(context: dg.AssetExecutionContext, config: Config, path: Path, raw_store: RawStoreResource) -> dict[str, object]:
    take = config.importer("health_sync").take_tokens or context.run.tags.get(TAKE_TOKENS_TAG) == "true"
    try:
        summary = import_health_sync(path, raw_store.store(), config.app.tz, take_tokens=take,
                                     progress=progress_hook_or_log(context, path))
    except DatabaseError as err:
        raise dg.Failure(str(err), allow_retries=False) from None
    for line in summary.lines():
        context.log.info(line)
    if summary.tokens_taken:
        context.log.warning(f"took the {', '.join(summary.tokens_taken)} tokens: stop health-sync now")
    _mark_oura_days(context, config, summary.oura_done_through,
                    [r for (p, r) in summary.resources if p == "oura" and (r in OURA_DOCUMENTS or r == "heartrate")])
    return summary.as_metadata()


def _mark_oura_days(context: dg.AssetExecutionContext, config: Config, through: date | None, resources: list[str]) -> None:
    """The Oura days health-sync had fetched (up to its last sync less its 7-day overlap) recorded as
    materialized for the resources it had, so `sync` and the schedules ask only for the rest."""
    if through is None:
        return
    first = config.provider("oura").start_date
    day = first
    while day <= through:
        for resource in resources:
            context.log_event(dg.AssetMaterialization(asset_key=landing_key("oura", resource), partition=day.isoformat(),
                                                      metadata={"imported_from": "health-sync"}))
        day += timedelta(days=1)


def import_assets(settings: HealthSyncConfig) -> list[dg.AssetsDefinition]:
    return [build_import_asset(
        "health_sync", "health-sync database",
        "a health-sync SQLite file (Python or Node release): its Oura, Withings and Hevy records land under our "
        "resources and ids (no provider is asked), its Hevy deletions as tombstones, its data-time watermarks as "
        "ours; the tidy tables model them like synced data.", _run)]
